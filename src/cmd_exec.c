/* cmd_exec.c: exec, run and ssh: a command or a shell in the remote workspace. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "err.h"
#include "fanout.h"
#include "interrupt.h"
#include "msg.h"
#include "sig.h"
#include "snapshot.h"

/* Reads K=V lines (blank lines and #comments skipped) into env, whole. */
static enum err read_env_file(const char *path, struct strv *env)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	enum err rc = ERR_OK;
	int lineno = 0;

	if (!f)
		return error("cannot read env file %s: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) >= 0) {
		size_t n = (size_t)len;
		lineno++;
		if (strlen(line) != n) {
			rc = error("%s:%d: a NUL byte in the line", path, lineno);
			break;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		const char *eq = strchr(p, '=');
		int ok = eq && eq > p;
		for (const char *k = p; ok && k < eq; k++)
			ok = (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
			     *k == '_' || (k > p && *k >= '0' && *k <= '9');
		if (!ok) {
			rc = error("%s:%d: not a NAME=VALUE line", path, lineno);
			break;
		}
		strv_push(env, p);
	}
	if (rc == 0 && ferror(f))
		rc = error("cannot read env file %s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	return rc;
}

/*
 * Whether a status 1 came from a csh-like login shell that could not parse
 * the command line at all (it reads neither sh quoting nor a quoted
 * newline, and expands '!' inside quotes): its own words, on the last line.
 */
static int csh_refused(int rc, const struct buf *err)
{
	const char *s = buf_str(err);
	size_t n = err->len;
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	size_t start = n;
	while (start && s[start - 1] != '\n')
		start--;
	const char *line = s + start;
	size_t len = n - start;
	return rc == 1 && ((len >= 9 && strncmp(line, "Unmatched ", 10) == 0) ||
			   (len >= 17 && memcmp(line + len - 17, ": Event not found", 17) == 0) ||
			   (len >= 18 && memcmp(line + len - 18, ": Event not found.", 18) == 0));
}

/*
 * Ends the check behind_start began: one line when the local working tree
 * changed since the last sync to the workspace.
 */
static void report_behind(struct env *e, struct conn *c, struct behind *b, const char *wd)
{
	char *synced, *snapshot;

	if (behind_finish(e, b, &synced, &snapshot) == 1)
		warn("the local working tree has changed since the last sync to %s:%s; "
		     "'sidecar run' syncs, then runs the command", c->dest, wd);
	free(synced);
	free(snapshot);
}

/* A remote command without a tty, which a signal to sidecar must reach. */
struct remote_run {
	struct conn *c;
	struct interrupt_scan scan;	/* its process, named on stderr */
	const struct wake *wake;	/* or NULL */
};

static int woken(void *ctx)
{
	const struct remote_run *r = ctx;
	return r->wake->ready(r->wake->ctx);
}

static void scan_stderr(void *ctx, const char *data, size_t n, struct buf *out)
{
	struct remote_run *r = ctx;
	interrupt_scan_feed(&r->scan, data, n, out);
}

/* Signals the remote command's process group over the shared connection. */
static int interrupt_remote(void *ctx, int signo)
{
	struct remote_run *r = ctx;

	if (!r->scan.pid)
		return r->scan.done ? -1 : 1;	/* no mark, or not yet */
	return conn_interrupt(r->c, r->scan.pid, signo);
}

enum err run_remote(struct env *e, struct conn *c, int tty, const struct strv *env,
		    const struct strv *cmdv, const char *wd, struct behind *b, const struct wake *w)
{
	struct strv argv = STRV_INIT;
	struct buf err = BUF_INIT, command = BUF_INIT;
	struct remote_run r = { .c = c, .wake = w };
	struct verdict v;
	struct proc p;
	enum err rc = conn_connect(c);
	int status = -1;

	if (rc) {
		if (b)
			report_behind(e, c, b, wd);
		return rc;
	}
	remote_command(&command, wd, c->dest, env, cmdv, tty <= 0);
	conn_session_argv(c, &argv, tty, command.s);
	proc_init(&p, strv_argv(&argv));
	p.err = IO_PIPE;
	p.err_buf = &err;
	p.err_tee = 1;
	if (tty <= 0) {
		p.ctx = &r;
		p.err_filter = scan_stderr;
		p.on_signal = interrupt_remote;
		p.own_group = 1;
		if (w) {
			p.wake_fd = w->fd;
			p.on_wake = woken;
		}
		if (isatty(STDIN_FILENO)) {
			p.in = IO_PIPE;
			p.in_src = STDIN_FILENO;
		}
	}
	rc = conn_start(c, &p);
	if (b)
		report_behind(e, c, b, wd);	/* while the command starts */
	if (rc == ERR_OK)
		status = conn_finish(c, &p, &v);
	if (rc == ERR_OK && (v.cls == FAIL_TRANSIENT || v.cls == FAIL_PERMANENT))
		rc = conn_report(c, &v);
	else if (rc == ERR_OK)
		e->remote_status = status;
	if (rc == ERR_OK && csh_refused(status, &err))
		error("the login shell of the account on %s cannot read this command line "
		      "(csh and tcsh do not read sh quoting); give the account sh, bash, dash, "
		      "ksh, zsh or fish as its login shell", c->dest);
	env_conn_done(e, c);
	interrupt_scan_free(&r.scan);
	strv_free(&argv);
	buf_free(&command);
	buf_free(&err);
	return rc;
}

static enum err need_workdir(struct env *e, const char **wd)
{
	*wd = env_workdir(e);
	if (!*wd) {
		error("no workspace: not inside a git repository; give -w PATH");
		return ERR_USAGE;
	}
	return check_workdir(*wd, e->set->workdir.from);
}

enum err command_env(struct env *e, struct strv *env)
{
	struct args *a = e->a;
	enum err rc;

	if (!a->rest.n) {
		error("%s needs a command after '--': sidecar %s [DEST] -- CMD [ARG]...",
		      a->command, a->command);
		return ERR_USAGE;
	}
	if (a->env_file && (rc = read_env_file(a->env_file, env)))
		return rc;
	for (size_t i = 0; i < a->env.n; i++)
		strv_push(env, a->env.v[i]);
	return ERR_OK;
}

static enum err exec_one(struct env *e)
{
	struct strv env = STRV_INIT;
	struct conn c;
	const char *wd;
	enum err rc;

	if ((rc = command_env(e, &env)) == ERR_OK && (rc = need_workdir(e, &wd)) == ERR_OK) {
		if ((rc = env_conn(e, &c)) == ERR_OK) {
			struct behind b;
			if (e->toplevel)
				behind_start(e, c.dest, wd, &b);
			rc = run_remote(e, &c, -1, &env, &e->a->rest, wd, e->toplevel ? &b : NULL, NULL);
		}
		conn_free(&c);
	}
	strv_free(&env);
	return rc;
}

/*
 * sync, then the command as exec runs it, over the same connection: in the
 * session that applies the snapshot when it can (snapshot mode, no
 * submodules), else in one after. A sync that fails is the exit status,
 * and the command does not run; once it ran, a connection that fails is
 * 255, as for exec.
 */
static enum err run_one(struct env *e)
{
	struct strv env = STRV_INIT, words = STRV_INIT;
	const char *dest = env_dest(e), *wd = env_workdir(e);
	struct conn c;
	enum err rc;

	if ((rc = command_env(e, &env))) {
		strv_free(&env);
		return rc;
	}
	if (dest && wd) {
		remote_command_words(&words, wd, dest, &env, &e->a->rest, 1);
		e->run_words = &words;
	}
	e->remote_status = -1;
	rc = sync_workspace(e, &c);
	e->run_words = NULL;
	fflush(stdout);	/* --json's object comes before the command's output */
	if (rc) {
		env_conn_done(e, &c);
	} else if (e->remote_status >= 0) {
		env_conn_done(e, &c);	/* it ran in the sync's session */
	} else {
		rc = run_remote(e, &c, -1, &env, &e->a->rest, env_workdir(e), NULL, NULL);
		if (rc == ERR_UNREACHABLE || rc == ERR_PERMANENT) {
			e->remote_status = SSH_FAILED;
			rc = ERR_OK;
		}
	}
	conn_free(&c);
	strv_free(&env);
	strv_free(&words);
	return rc;
}

/* --- several destinations ------------------------------------------------ */

struct xfan {
	struct env *e;
	enum err (*one)(struct env *e);
	int as_ssh;		/* exec: a failed connection is 255 */
	struct buf failed;	/* "DEST (exit N), ..." */
	size_t nfailed;
	int worst;		/* the highest exit status */
};

/* In a copy of sidecar: the command on one destination; its exit status. */
static int xfan_run(void *ctx, const char *dest, int feed, struct buf *out)
{
	struct xfan *x = ctx;
	struct env *e = x->e;
	enum err rc;

	(void)feed;	/* no begin: the snapshot, if any, was made before */
	env_one_dest(e, dest);
	e->json_sink = out;
	rc = x->one(e);
	return err_exit(rc, e->remote_status, x->as_ssh, sig_caught);
}

static void xfan_done(void *ctx, const struct fanout_task *t)
{
	struct xfan *x = ctx;
	int status = t->status < 0 ? 1 : t->status;	/* -1: it never ran */

	if (status > x->worst)
		x->worst = status;
	if (status != 0)
		failed_add(&x->failed, &x->nfailed, t->dest, status);
}

/*
 * exec or run on every destination at once, --jobs at a time, each line
 * the command prints headed by its destination; run makes the local
 * snapshot once. Standard input is not forwarded (no copy could own it).
 * The exit status is the highest of theirs.
 */
static enum err several(struct env *e, enum err (*one)(struct env *), const struct strv *dests,
			long jobs)
{
	struct xfan x = { .e = e, .one = one, .as_ssh = one == exec_one };
	struct fanout run;
	struct local l;
	enum err rc = ERR_OK;

	memset(&l, 0, sizeof l);
	if (one == run_one && (rc = sync_prepare_env(e, &l))) {
		local_free(&l);
		return rc;
	}
	fanout_init(&run, (const char *const *)dests->v, dests->n, jobs);
	run.prefix = 1;
	run.run = xfan_run;
	run.done = xfan_done;
	run.ctx = &x;
	rc = fanout_run(&run);
	if (e->a->json) {
		struct buf b = BUF_INIT;
		buf_addc(&b, '[');
		for (size_t i = 0; i < run.n; i++) {
			if (i)
				buf_addc(&b, ',');
			if (run.tasks[i].out.len) {
				buf_add(&b, run.tasks[i].out.s, run.tasks[i].out.len);
				continue;
			}
			json_failed(&b, e, run.tasks[i].dest,
				    run.tasks[i].status < 0 ? 1 : run.tasks[i].status);
		}
		buf_adds(&b, "]\n");
		fputs(b.s, stdout);
		buf_free(&b);
	}
	if (x.nfailed && !run.gone)
		error("%s failed on %zu of %zu destinations: %s", e->a->command, x.nfailed, run.n,
		      x.failed.s);
	fanout_free(&run);
	buf_free(&x.failed);
	e->prepared = NULL;
	local_free(&l);
	/* a reader that went away, as a shell says of a pipeline's writer */
	e->remote_status = run.gone ? PROC_SIGNALED(SIGPIPE) : x.worst;
	return rc;
}

/* One destination, or several side by side. */
static enum err one_or_several(struct env *e, enum err (*one)(struct env *))
{
	long jobs;
	enum err rc;

	if ((rc = env_targets(e, &jobs)))
		return rc;
	if (e->dests.n > 1) {
		struct strv env = STRV_INIT;
		if ((rc = command_env(e, &env)) == ERR_OK)	/* checked once, not per copy */
			rc = several(e, one, &e->dests, jobs);
		strv_free(&env);
		return rc;
	}
	return one(e);
}

static enum err cmd_exec(struct env *e)
{
	return one_or_several(e, exec_one);
}

static enum err cmd_run(struct env *e)
{
	return one_or_several(e, run_one);
}

static enum err cmd_ssh(struct env *e)
{
	struct args *a = e->a;
	struct conn c;
	const char *wd;
	enum err rc;

	if ((rc = need_workdir(e, &wd)))
		return rc;
	if ((rc = env_conn(e, &c)) == ERR_OK) {
		struct strv none = STRV_INIT;
		rc = run_remote(e, &c, isatty(STDIN_FILENO) ? 1 : -1, &none, &a->rest, wd, NULL, NULL);
	}
	conn_free(&c);
	return rc;
}

const struct cmd_entry cmd_exec_entry = {
	.name = "exec",
	.synopsis = "[options] [DEST]... -- CMD [ARG]...",
	.summary = "run CMD in the remote workspace",
	.options = (const enum opt_id[]){ OPT_WORKDIR, OPT_ENV, OPT_ENV_FILE, OPT_JOBS,
					  OPT_DEST_FILE, OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY | CMD_CONNECTS | CMD_REMOTE | CMD_SSH_STATUS,
	.run = cmd_exec,
};

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.synopsis = "[options] [DEST]... -- CMD [ARG]...",
	.summary = "sync, then run CMD in the remote workspace",
	.options = (const enum opt_id[]){ OPT_WORKDIR, OPT_MODE, OPT_DEPTH, OPT_NO_SUBMODULES, OPT_INCLUDE,
					  OPT_EXCLUDE, OPT_ADOPT, OPT_JSON,
					  OPT_ENV, OPT_ENV_FILE, OPT_JOBS, OPT_DEST_FILE, OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY | CMD_CONNECTS | CMD_REMOTE,
	.run = cmd_run,
};

const struct cmd_entry cmd_ssh_entry = {
	.name = "ssh",
	.synopsis = "[options] [DEST] [-- CMD [ARG]...]",
	.summary = "open a shell in the remote workspace",
	.options = (const enum opt_id[]){ OPT_WORKDIR, OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY | CMD_CONNECTS | CMD_REMOTE | CMD_SSH_STATUS,
	.run = cmd_ssh,
};
