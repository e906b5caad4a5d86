/*
 * env.c: what the commands share: git, the settings (resolved once, in
 * settings_resolve), DEST, the workdir and the connection options.
 */
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "err.h"
#include "interrupt.h"
#include "msg.h"
#include "quote.h"
#include "refs.h"
#include "rundir.h"
#include "sync.h"

const char *settings_git(env_lookup env)
{
	const char *git = env("SIDECAR_GIT");
	return git && *git ? git : "git";
}

/* The value of git config KEY (lowercase, as -z prints it): the last one wins. */
static const char *config_value(const char *config, const char *key)
{
	const char *val = NULL;
	size_t klen = strlen(key);

	/* --get-regexp -z: "key\nvalue\0" per entry, local after global */
	for (const char *p = config; p && *p; p += strlen(p) + 1) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n == klen && strncmp(p, key, n) == 0)
			val = nl ? nl + 1 : "";
	}
	return val;
}

/*
 * A list: the option's values when it was given, else every value of git
 * config KEY, global ones first.
 */
static void pick_list(struct strv *out, const struct strv *opt, const char *config,
		      const char *key)
{
	size_t klen = strlen(key);

	if (opt->n) {
		strv_pushv(out, (const char *const *)opt->v);
		return;
	}
	for (const char *p = config; p && *p; p += strlen(p) + 1) {
		const char *nl = strchr(p, '\n');
		if (nl && (size_t)(nl - p) == klen && strncmp(p, key, klen) == 0 && nl[1])
			strv_push(out, nl + 1);
	}
}

/* option, then environment, then git config; the first that is set. */
static struct setting pick(const char *opt, const char *opt_name, const char *envval,
			   const char *env_name, const char *cfg, const char *cfg_name)
{
	if (opt)
		return (struct setting){ opt, opt_name };
	if (envval && *envval)
		return (struct setting){ envval, env_name };
	if (cfg && *cfg)
		return (struct setting){ cfg, cfg_name };
	return (struct setting){ NULL, NULL };
}

void settings_resolve(struct settings *s, const struct args *a, env_lookup env,
		      const char *config, const char *toplevel)
{
	const char *ssh = env("SIDECAR_SSH");

	memset(s, 0, sizeof *s);
	s->dest = pick(a->positional.n ? a->positional.v[0] : NULL, "DEST",
		       env("SIDECAR_DEST"), "SIDECAR_DEST",
		       config_value(config, "sidecar.destination"), "git config sidecar.destination");
	s->workdir = pick(a->workdir, "--workdir", NULL, NULL,
			  config_value(config, "sidecar.workdir"), "git config sidecar.workdir");
	if (!s->workdir.value && toplevel) {
		const char *slash = strrchr(toplevel, '/');
		s->workdir.value = slash && slash[1] ? slash + 1 : toplevel;
		s->workdir.from = "the repository's name";
	}
	s->mode = pick(a->mode, "--mode", NULL, NULL,
		       config_value(config, "sidecar.mode"), "git config sidecar.mode");
	if (!s->mode.value)
		s->mode = (struct setting){ "snapshot", "the default" };
	s->depth = pick(a->depth, "--depth", NULL, NULL,
			config_value(config, "sidecar.depth"), "git config sidecar.depth");
	if (!s->depth.value)
		s->depth = (struct setting){ "1", "the default" };
	s->submodules = pick(a->no_submodules ? "false" : NULL, "--no-submodules", NULL, NULL,
			     config_value(config, "sidecar.submodules"), "git config sidecar.submodules");
	if (!s->submodules.value)
		s->submodules = (struct setting){ "true", "the default" };
	s->max_wait = pick(a->max_wait, "--max-wait", NULL, NULL,
			   config_value(config, "sidecar.maxwait"), "git config sidecar.maxWait");
	s->auth_wait = pick(a->auth_wait, "--auth-wait", NULL, NULL,
			    config_value(config, "sidecar.authwait"), "git config sidecar.authWait");
	s->persist = pick(a->persist, "--persist", NULL, NULL,
			  config_value(config, "sidecar.persist"), "git config sidecar.persist");
	pick_list(&s->include, &a->include, config, "sidecar.include");
	pick_list(&s->exclude, &a->exclude, config, "sidecar.exclude");
	s->remembered = config_value(config, "sidecar.destination");
	s->ssh = ssh && *ssh ? ssh : "ssh";
	s->git = settings_git(env);
}

void settings_free(struct settings *s)
{
	strv_free(&s->include);
	strv_free(&s->exclude);
}

enum err setting_duration(const struct setting *st, long long dflt, long long *ms)
{
	*ms = dflt;
	if (!st->value)
		return 0;
	if (parse_duration(st->value, ms) < 0) {
		error("invalid duration '%s' in %s: use 500ms, 2s, 90 or 1m30s", st->value, st->from);
		return ERR_USAGE;
	}
	return 0;
}

/* path, made absolute from the current directory when it is relative. */
static char *absolute(const char *path)
{
	struct buf b = BUF_INIT;
	char cwd[4096];

	if (path[0] != '/' && getcwd(cwd, sizeof cwd))
		buf_addf(&b, "%s/", cwd);
	buf_adds(&b, path);
	return b.s;
}

static const char *lookup(const char *name)
{
	return getenv(name);
}

enum err env_init(struct env *e, struct args *a, const struct cmd_entry *cmd)
{
	struct git_job config, where;
	int rc;

	memset(e, 0, sizeof *e);
	e->remote_status = -1;
	e->a = a;
	e->set = &e->resolved;
	e->git.prog = settings_git(lookup);
	if (!(cmd->flags & CMD_REPOSITORY)) {
		settings_resolve(&e->resolved, a, lookup, NULL, NULL);
		return 0;
	}
	if (a->chdir && chdir(a->chdir) < 0)
		return error("cannot change to '%s': %s", a->chdir, strerror(errno));

	/* one git config for every setting and the two of git's the scan needs,
	 * and where the repository is, at once */
	if ((rc = git_spawn(&e->git, &config, "config", "-z", "--get-regexp",
			    "^(sidecar\\.|core\\.(excludesfile|autocrlf)$)", (char *)NULL)))
		return git_cannot_run(&e->git, rc);
	/* outside a repository it fails, and then nothing is set */
	git_spawn(&e->git, &where, "rev-parse", "--show-toplevel", "--absolute-git-dir",
		  "--git-common-dir", (char *)NULL);
	rc = git_wait(&config);
	if (rc == 0 && config.out.s) {
		buf_add(&config.out, "\0", 1);	/* double NUL ends the list */
		e->config = config.out.s;	/* kept: the settings point into it */
		config.out = (struct buf)BUF_INIT;
	} else if (rc != 1) {
		fputs(buf_str(&config.err), stderr);	/* a broken config file, say */
	}
	git_job_free(&config);
	if (git_wait(&where) == 0 && strchr(buf_str(&where.out), '\n')) {
		char *nl = strchr(where.out.s, '\n'), *common;
		*nl = '\0';
		e->toplevel = xstrdup(where.out.s);
		e->gitdir = xstrdup(nl + 1);
		if ((common = strchr(e->gitdir, '\n'))) {
			*common++ = '\0';
			e->commondir = absolute(common);
		}
	}
	git_job_free(&where);
	settings_resolve(&e->resolved, a, lookup, e->config, e->toplevel);
	e->repo.toplevel = e->toplevel;
	e->repo.gitdir = e->gitdir;
	e->repo.commondir = e->commondir ? e->commondir : e->gitdir;
	e->repo.excludes_file = config_value(e->config, "core.excludesfile");
	e->repo.autocrlf = config_value(e->config, "core.autocrlf");
	e->repo.include = &e->resolved.include;
	e->repo.exclude = &e->resolved.exclude;
	return 0;
}

void env_free(struct env *e)
{
	settings_free(&e->resolved);
	strv_free(&e->dests);
	free(e->rundir);
	free(e->toplevel);
	free(e->gitdir);
	free(e->commondir);
	free(e->config);
}

const char *env_rundir(struct env *e)
{
	if (!e->rundir)
		e->rundir = rundir();
	return e->rundir;
}

/* A destination named once, in the order given. */
static void add_dest(struct strv *dests, const char *d, size_t n)
{
	for (size_t i = 0; i < dests->n; i++)
		if (strlen(dests->v[i]) == n && strncmp(dests->v[i], d, n) == 0)
			return;
	strv_pushf(dests, "%.*s", (int)n, d);
}

/* The words of text, split at blanks and newlines; a line from # on is a comment. */
static void add_words(struct strv *dests, const char *text)
{
	const char *p = text;

	while (*p) {
		size_t n;
		p += strspn(p, " \t\r\n");
		if (*p == '#') {
			p += strcspn(p, "\n");
			continue;
		}
		n = strcspn(p, " \t\r\n");
		if (n)
			add_dest(dests, p, n);
		p += n;
	}
}

enum err env_dests(struct env *e, struct strv *dests)
{
	const struct args *a = e->a;

	for (size_t i = 0; i < a->positional.n; i++)
		add_dest(dests, a->positional.v[i], strlen(a->positional.v[i]));
	if (a->dest_file) {
		struct buf text = BUF_INIT;
		int rc = strcmp(a->dest_file, "-") == 0 ? buf_read_fd(&text, 0) :
			 buf_read_file(&text, a->dest_file);
		if (rc < 0) {
			error("cannot read --dest-file %s: %s", a->dest_file, strerror(errno));
			buf_free(&text);
			return ERR_USAGE;
		}
		add_words(dests, buf_str(&text));
		buf_free(&text);
		if (!dests->n) {
			error("--dest-file %s names no destination", a->dest_file);
			return ERR_USAGE;
		}
	}
	if (!dests->n && e->set->dest.value)
		add_words(dests, e->set->dest.value);
	for (size_t i = 0; dests->n > 1 && i < dests->n; i++)
		if (conn_check_dest(dests->v[i]))
			return ERR_USAGE;	/* before any copy starts */
	return 0;
}

const char *env_dest(struct env *e)
{
	return e->set->dest.value;
}

const char *env_workdir(struct env *e)
{
	return e->set->workdir.value;
}

/* The connection's settings into e->conn_opts, checked; may_start: the ones of starting it too. */
static enum err conn_settings(struct env *e, int may_start)
{
	enum err rc = ERR_OK;

	e->conn_opts = e->a->conn;
	e->conn_opts.ssh = e->set->ssh;
	if (!(e->conn_opts.ctl_dir = env_rundir(e)))
		return ERR_FAIL;
	if (may_start &&
	    ((rc = setting_duration(&e->set->max_wait, e->a->conn.max_wait_ms,
				    &e->conn_opts.max_wait_ms)) ||
	     (rc = setting_duration(&e->set->auth_wait, e->a->conn.auth_wait_ms,
				    &e->conn_opts.auth_wait_ms)) ||
	     (rc = setting_duration(&e->set->persist, e->a->conn.persist_ms,
				    &e->conn_opts.persist_ms))))
		return rc;
	return ERR_OK;
}

enum err env_targets(struct env *e, long *jobs)
{
	enum err rc;

	if ((rc = parse_jobs(e->a->jobs, jobs)) || (rc = env_dests(e, &e->dests)))
		return rc;
	if (e->dests.n > 1)
		return conn_settings(e, 1);	/* once, before any copy starts */
	if (e->dests.n == 1 && !e->a->positional.n)
		e->resolved.dest.value = e->dests.v[0];	/* the setting, trimmed */
	strv_truncate(&e->a->positional, 1);	/* the same one named again */
	return ERR_OK;
}

void env_one_dest(struct env *e, const char *dest)
{
	e->resolved.dest.value = dest;
	strv_truncate(&e->a->positional, 0);
}

static enum err conn_setup(struct env *e, struct conn *c, int may_start)
{
	const char *dest = env_dest(e);
	enum err rc;

	memset(c, 0, sizeof *c);	/* conn_free is safe whatever happens */
	if ((rc = conn_settings(e, may_start)))
		return rc;
	if (e->a->positional.n > 1) {
		error("unexpected argument '%s'; put a remote command after '--'",
		      e->a->positional.v[1]);
		return ERR_USAGE;
	}
	if (!dest) {
		error("no destination: name one, set SIDECAR_DEST, or run 'sidecar use DEST'");
		return ERR_USAGE;
	}
	if ((rc = conn_check_dest(dest)))
		return rc;
	if (!e->a->positional.n && dest[strcspn(dest, " \t\r\n")]) {
		struct strv words = STRV_INIT;
		add_words(&words, dest);
		error("%s names %zu destinations ('%s'); only sync, run and exec take several: name one",
		      e->set->dest.from, words.n, dest);
		strv_free(&words);
		return ERR_USAGE;
	}
	return conn_init(c, &e->conn_opts, dest);
}

enum err env_conn(struct env *e, struct conn *c)
{
	return conn_setup(e, c, 1);
}

enum err env_conn_nowait(struct env *e, struct conn *c)
{
	return conn_setup(e, c, 0);
}

void env_conn_done(struct env *e, struct conn *c)
{
	/* only a master this command started: others may be using theirs */
	if (e->conn_opts.persist_ms == 0 && c->ctl_path && c->started_master)
		conn_disconnect(c);
}

/*
 * Run by sh on the sidecar as: sh -c SCRIPT sidecar WORKDIR MESSAGE
 * K=V... CMD ARG...; the exports are added per call. Whatever the login
 * shell, it only has to start sh with quoted words.
 */
#define ENTER_WORKSPACE \
	"cd -- \"${HOME:-/}\" && cd -- \"$1\" 2>/dev/null || " \
	"{ printf \"%s\\n\" \"$2\" >&2; exit 1; }; "

void remote_command_words(struct strv *words, const char *workdir, const char *dest,
			  const struct strv *env, const struct strv *argv, int mark)
{
	struct buf script = BUF_INIT, msg = BUF_INIT;
	size_t argn = 3;

	if (strcmp(workdir, "~") == 0)
		workdir = ".";
	else if (strncmp(workdir, "~/", 2) == 0)
		workdir += 2;
	buf_addf(&msg, "sidecar: workspace %s does not exist on %s; run 'sidecar sync' first",
		 workdir, dest);
	if (mark)
		buf_adds(&script, INTERRUPT_MARK_SH);
	buf_adds(&script, ENTER_WORKSPACE);
	for (size_t i = 0; i < env->n; i++, argn++) {
		const char *eq = strchr(env->v[i], '=');
		int n = (int)(eq - env->v[i]);
		/* the name is [A-Za-z_][A-Za-z0-9_]*, checked when it was read */
		buf_addf(&script, "%.*s=${%zu}; export %.*s; ", n, env->v[i],
			 argn, n, env->v[i]);
	}
	buf_addf(&script, "shift %zu; ", argn - 1);
	if (argv->n)
		buf_adds(&script, "exec \"$@\"");
	else
		buf_adds(&script, "exec \"${SHELL:-/bin/sh}\" -l");

	strv_push(words, script.s);
	strv_push(words, workdir);
	strv_push(words, msg.s);
	for (size_t i = 0; i < env->n; i++)
		strv_push(words, strchr(env->v[i], '=') + 1);
	for (size_t i = 0; i < argv->n; i++)
		strv_push(words, argv->v[i]);
	buf_free(&script);
	buf_free(&msg);
}

void remote_command(struct buf *cmd, const char *workdir, const char *dest,
		    const struct strv *env, const struct strv *argv, int mark)
{
	struct strv words = STRV_INIT;

	remote_command_words(&words, workdir, dest, env, argv, mark);
	buf_adds(cmd, "exec sh -c ");
	sh_quote(cmd, words.v[0]);
	buf_adds(cmd, " sidecar");
	for (size_t i = 1; i < words.n; i++) {
		buf_addc(cmd, ' ');
		sh_quote(cmd, words.v[i]);
	}
	strv_free(&words);
}

void behind_start(struct env *e, const char *dest, const char *wd, struct behind *b)
{
	const char *rundir = env_rundir(e);
	struct buf ref = BUF_INIT;
	char oid[OID_HEX_MAX];

	memset(b, 0, sizeof *b);
	trace_look(dest);
	sync_key(dest, wd, b->key);
	sidecar_ref(&ref, "synced", b->key);
	switch (ref_read(e->repo.commondir, ref.s, oid)) {
	case REF_FOUND:
		b->synced = xstrdup(oid);
		break;
	case REF_UNKNOWN:
		if (git_spawn(&e->git, &b->read, "rev-parse", "-q", "--verify", ref.s, (char *)NULL))
			b->read.running = 0;
		break;
	case REF_ABSENT:
		break;
	}
	b->rc = rundir ? local_scan_start(&e->git, &e->repo, rundir, &b->l) : ERR_FAIL;
	buf_free(&ref);
}

int behind_finish(struct env *e, struct behind *b, char **synced, char **snapshot)
{
	int behind = -1;

	*snapshot = NULL;
	if (!b->synced && b->read.running && git_wait(&b->read) == 0 && b->read.out.len)
		b->synced = xstrdup(b->read.out.s);
	*synced = b->synced;
	b->synced = NULL;
	if (b->rc == ERR_OK)
		local_memo_load(&b->l, env_rundir(e), b->key, *synced);
	if (b->rc == ERR_OK && local_scan_finish(&e->git, &b->l) == ERR_OK &&
	    local_snapshot(&e->git, &b->l) == ERR_OK) {
		*snapshot = xstrdup(b->l.snapshot);
		behind = *synced ? strcmp(*synced, *snapshot) != 0 : -1;
	}
	if (!b->keep)
		local_free(&b->l);
	git_job_free(&b->read);
	return behind;
}
