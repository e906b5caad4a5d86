/* cmd_config.c: use, current and forget: the remembered destination. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "err.h"
#include "json.h"
#include "msg.h"

static int need_repo(struct env *e, const char *cmd)
{
	if (e->toplevel)
		return 0;
	error("%s: not inside a git repository (settings live in its git config)", cmd);
	return ERR_FAIL;
}

static enum err cmd_use(struct env *e)
{
	struct args *a = e->a;
	int rc;

	if ((rc = need_repo(e, "use")))
		return rc;
	if (a->positional.n != 1) {
		error("use needs exactly one destination: sidecar use [-w PATH] DEST");
		return ERR_USAGE;
	}
	const char *dest = a->positional.v[0];
	if (!*dest || dest[0] == '-') {
		error("strange destination '%s' blocked: it would be read as an option", dest);
		return ERR_USAGE;
	}
	rc = git_run(&e->git, NULL, NULL, "config", "sidecar.destination", dest, (char *)NULL);
	if (rc == 0 && a->workdir)
		rc = git_run(&e->git, NULL, NULL, "config", "sidecar.workdir", a->workdir, (char *)NULL);
	else if (rc == 0)
		git_run(&e->git, NULL, NULL, "config", "--unset", "sidecar.workdir", (char *)NULL);
	if (rc)
		return error("cannot write git config");
	/* what the next command resolves: -w, else the repository's name */
	{
		const char *name = strrchr(e->toplevel, '/');
		info("using %s (workdir %s) for this repository", dest,
		     a->workdir ? a->workdir : name && name[1] ? name + 1 : e->toplevel);
	}
	return 0;
}

static enum err cmd_current(struct env *e)
{
	const char *dest = e->set->remembered;
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
		return ERR_FAIL;
	}
	return 0;
}

static enum err cmd_forget(struct env *e)
{
	int rc;

	if ((rc = need_repo(e, "forget")))
		return rc;
	git_run(&e->git, NULL, NULL, "config", "--unset", "sidecar.destination", (char *)NULL);
	git_run(&e->git, NULL, NULL, "config", "--unset", "sidecar.workdir", (char *)NULL);
	info("forgot the destination of this repository");
	return 0;
}

const struct cmd_entry cmd_use_entry = {
	.name = "use",
	.synopsis = "[-w PATH] DEST",
	.summary = "remember DEST (and workdir) for this repository",
	.options = (const enum opt_id[]){ OPT_WORKDIR, OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY,
	.run = cmd_use,
};

const struct cmd_entry cmd_current_entry = {
	.name = "current",
	.synopsis = "[--json]",
	.summary = "print the remembered DEST and workdir",
	.options = (const enum opt_id[]){ OPT_JSON, OPT_NONE },
	.flags = CMD_REPOSITORY,
	.run = cmd_current,
};

const struct cmd_entry cmd_forget_entry = {
	.name = "forget",
	.synopsis = "",
	.summary = "forget the remembered DEST and workdir",
	.options = (const enum opt_id[]){ OPT_NONE },
	.flags = CMD_REPOSITORY,
	.run = cmd_forget,
};
