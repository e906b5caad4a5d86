/* env.c: what the commands share: git, settings, DEST and workdir. */
#include "commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "exitcodes.h"
#include "msg.h"
#include "quote.h"

static void settings_parse(struct settings *s, const char *text)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "sidecar.destination", offsetof(struct settings, destination) },
		{ "sidecar.workdir", offsetof(struct settings, workdir) },
		{ "sidecar.mode", offsetof(struct settings, mode) },
		{ "sidecar.maxwait", offsetof(struct settings, max_wait) },
		{ "sidecar.persist", offsetof(struct settings, persist) },
	};
	/* --get-regexp -z: "key\nvalue\0" per entry; later entries win */
	for (const char *p = text; *p; p += strlen(p) + 1) {
		const char *nl = strchr(p, '\n');
		size_t klen = nl ? (size_t)(nl - p) : strlen(p);
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			if (strlen(keys[i].key) == klen && strncmp(keys[i].key, p, klen) == 0) {
				char **slot = (char **)((char *)s + keys[i].off);
				free(*slot);
				*slot = xstrdup(nl ? nl + 1 : "");
			}
		}
	}
}

static int setting_duration(const char *key, const char *val, long long *ms)
{
	if (parse_duration(val, ms) < 0) {
		error("invalid duration '%s' in git config %s: use 500ms, 2s, 90 or 1m30s", val, key);
		return SC_USAGE;
	}
	return 0;
}

int env_init(struct env *e, struct args *a)
{
	struct buf out = BUF_INIT;
	const char *git = getenv("SIDECAR_GIT");
	int rc;

	memset(e, 0, sizeof *e);
	e->a = a;
	e->git.prog = git && *git ? git : "git";
	if (a->chdir && chdir(a->chdir) < 0)
		return fail("cannot change to '%s': %s", a->chdir, strerror(errno));

	rc = git_run(&e->git, &out, NULL, "config", "-z", "--get-regexp", "^sidecar\\.", (char *)NULL);
	if (rc == SC_NOTFOUND || rc == SC_NOEXEC) {
		buf_free(&out);
		return git_exec_failure(&e->git, rc);
	}
	if (rc == 0 && out.s) {
		buf_add(&out, "\0", 1);	/* double NUL ends the list */
		settings_parse(&e->cfg, out.s);
	}
	buf_free(&out);

	struct buf err = BUF_INIT;
	if (git_run(&e->git, &out, &err, "rev-parse", "--show-toplevel", "--absolute-git-dir",
		    (char *)NULL) == 0 && strchr(buf_str(&out), '\n')) {
		char *nl = strchr(out.s, '\n');
		*nl = '\0';
		e->toplevel = xstrdup(out.s);
		e->gitdir = xstrdup(nl + 1);
	}
	buf_free(&out);
	buf_free(&err);

	if (!(a->set & (1u << OPT_MAX_WAIT)) && e->cfg.max_wait &&
	    (rc = setting_duration("sidecar.maxWait", e->cfg.max_wait, &a->conn.max_wait_ms)))
		return rc;
	if (!(a->set & (1u << OPT_PERSIST)) && e->cfg.persist &&
	    (rc = setting_duration("sidecar.persist", e->cfg.persist, &a->conn.persist_ms)))
		return rc;
	const char *ssh = getenv("SIDECAR_SSH");
	a->conn.ssh = ssh && *ssh ? ssh : "ssh";
	return 0;
}

void env_free(struct env *e)
{
	free(e->cfg.destination);
	free(e->cfg.workdir);
	free(e->cfg.mode);
	free(e->cfg.max_wait);
	free(e->cfg.persist);
	free(e->toplevel);
	free(e->gitdir);
}

const char *env_dest(struct env *e)
{
	const char *d = getenv("SIDECAR_DEST");
	if (e->a->positional.n)
		return e->a->positional.v[0];
	if (d && *d)
		return d;
	return e->cfg.destination;
}

const char *env_workdir(struct env *e)
{
	if (e->a->workdir)
		return e->a->workdir;
	if (e->cfg.workdir && *e->cfg.workdir)
		return e->cfg.workdir;
	if (e->toplevel) {
		const char *slash = strrchr(e->toplevel, '/');
		return slash && slash[1] ? slash + 1 : e->toplevel;
	}
	return NULL;
}

int env_conn(struct env *e, struct conn *c)
{
	const char *dest = env_dest(e);

	memset(c, 0, sizeof *c);	/* conn_free is safe whatever happens */
	if (e->a->positional.n > 1) {
		error("unexpected argument '%s'; put a remote command after '--'",
		      e->a->positional.v[1]);
		return SC_USAGE;
	}
	if (!dest) {
		error("no destination: name one, set SIDECAR_DEST, or run 'sidecar use DEST'");
		return SC_USAGE;
	}
	return conn_init(c, &e->a->conn, dest);
}

void env_conn_done(struct env *e, struct conn *c)
{
	/* only a master this command started: others may be using theirs */
	if (e->a->conn.persist_ms == 0 && c->ctl_path && c->started_master)
		conn_disconnect(c);
}

void remote_cd(struct buf *cmd, const char *workdir, const char *dest)
{
	struct buf msg = BUF_INIT;

	if (strcmp(workdir, "~") == 0)
		workdir = ".";
	else if (strncmp(workdir, "~/", 2) == 0)
		workdir += 2;
	buf_addf(&msg, "sidecar: workspace %s does not exist on %s; run 'sidecar sync' first",
		 workdir, dest);
	buf_adds(cmd, "cd -- \"${HOME:-/}\" && cd -- ");
	sh_quote(cmd, workdir);
	buf_adds(cmd, " 2>/dev/null || { printf '%s\\n' ");
	sh_quote(cmd, msg.s);
	buf_adds(cmd, " >&2; exit 1; }; ");
	buf_free(&msg);
}
