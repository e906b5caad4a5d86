/* cmd_config.c: use, current and forget: the remembered destination. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "exitcodes.h"
#include "json.h"
#include "msg.h"

static int need_repo(struct env *e, const char *cmd)
{
	if (e->toplevel)
		return 0;
	error("%s: not inside a git repository (settings live in its git config)", cmd);
	return SC_FAIL;
}

int cmd_use(struct env *e)
{
	struct args *a = e->a;
	int rc;

	if ((rc = need_repo(e, "use")))
		return rc;
	if (a->positional.n != 1) {
		error("use needs exactly one destination: sidecar use [-w PATH] DEST");
		return SC_USAGE;
	}
	const char *dest = a->positional.v[0];
	if (!*dest || dest[0] == '-') {
		error("strange destination '%s' blocked: it would be read as an option", dest);
		return SC_USAGE;
	}
	rc = git_run(&e->git, NULL, NULL, "config", "sidecar.destination", dest, (char *)NULL);
	if (rc == 0 && a->workdir)
		rc = git_run(&e->git, NULL, NULL, "config", "sidecar.workdir", a->workdir, (char *)NULL);
	else if (rc == 0)
		git_run(&e->git, NULL, NULL, "config", "--unset", "sidecar.workdir", (char *)NULL);
	if (rc)
		return fail("cannot write git config");
	info("using %s (workdir %s) for this repository", dest,
	     a->workdir ? a->workdir : env_workdir(e));
	return 0;
}

int cmd_current(struct env *e)
{
	const char *dest = e->cfg.destination;
	const char *wd = env_workdir(e);

	if (e->a->json) {
		struct buf b = BUF_INIT;
		buf_addc(&b, '{');
		json_kv_str(&b, "destination", dest);
		json_kv_str(&b, "workdir", wd);
		buf_addc(&b, '}');
		printf("%s\n", b.s);
		buf_free(&b);
	} else if (dest) {
		printf("%s\t%s\n", dest, wd ? wd : "");
	}
	if (!dest) {
		if (!e->a->json)
			error("no destination remembered; run 'sidecar use DEST'");
		return SC_FAIL;
	}
	return 0;
}

int cmd_forget(struct env *e)
{
	int rc;

	if ((rc = need_repo(e, "forget")))
		return rc;
	git_run(&e->git, NULL, NULL, "config", "--unset", "sidecar.destination", (char *)NULL);
	git_run(&e->git, NULL, NULL, "config", "--unset", "sidecar.workdir", (char *)NULL);
	info("forgot the destination of this repository");
	return 0;
}
