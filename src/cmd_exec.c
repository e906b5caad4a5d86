/* cmd_exec.c: exec and ssh, a command or a shell in the remote workspace. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "err.h"
#include "msg.h"

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
 * Runs the remote command line over the shared connection, stdio passed
 * through; the remote command's status in e->remote_status.
 */
static enum err run_remote(struct env *e, struct conn *c, int tty, const char *command)
{
	struct strv argv = STRV_INIT;
	struct buf err = BUF_INIT;
	struct verdict v;
	struct proc p;
	enum err rc = conn_connect(c);
	int status;

	if (rc)
		return rc;
	conn_session_argv(c, &argv, tty, command);
	proc_init(&p, strv_argv(&argv));
	p.err = IO_PIPE;
	p.err_buf = &err;
	p.err_tee = 1;
	rc = conn_run(c, &p, &status, &v);
	if (rc == ERR_OK && (v.cls == FAIL_TRANSIENT || v.cls == FAIL_PERMANENT))
		rc = conn_report(c, &v);
	else if (rc == ERR_OK)
		e->remote_status = status;
	if (rc == ERR_OK && csh_refused(status, &err))
		error("the login shell of the account on %s cannot read this command line "
		      "(csh and tcsh do not read sh quoting); give the account sh, bash, dash, "
		      "ksh, zsh or fish as its login shell", c->dest);
	env_conn_done(e, c);
	strv_free(&argv);
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

static enum err cmd_exec(struct env *e)
{
	struct args *a = e->a;
	struct buf cmd = BUF_INIT;
	struct strv env = STRV_INIT;
	struct conn c;
	const char *wd;
	enum err rc;

	if (!a->rest.n) {
		error("exec needs a command after '--': sidecar exec [DEST] -- CMD [ARG]...");
		return ERR_USAGE;
	}
	if ((rc = need_workdir(e, &wd)))
		return rc;
	if (a->env_file && (rc = read_env_file(a->env_file, &env))) {
		strv_free(&env);
		return rc;
	}
	for (size_t i = 0; i < a->env.n; i++)
		strv_push(&env, a->env.v[i]);
	if ((rc = env_conn(e, &c)) == ERR_OK) {
		remote_command(&cmd, wd, c.dest, &env, &a->rest);
		rc = run_remote(e, &c, -1, cmd.s);
	}
	conn_free(&c);
	strv_free(&env);
	buf_free(&cmd);
	return rc;
}

static enum err cmd_ssh(struct env *e)
{
	struct args *a = e->a;
	struct buf cmd = BUF_INIT;
	struct conn c;
	const char *wd;
	enum err rc;

	if ((rc = need_workdir(e, &wd)))
		return rc;
	if ((rc = env_conn(e, &c)) == ERR_OK) {
		struct strv none = STRV_INIT;
		remote_command(&cmd, wd, c.dest, &none, &a->rest);
		rc = run_remote(e, &c, isatty(STDIN_FILENO) ? 1 : -1, cmd.s);
	}
	conn_free(&c);
	buf_free(&cmd);
	return rc;
}

const struct cmd_entry cmd_exec_entry = {
	.name = "exec",
	.synopsis = "[options] [DEST] -- CMD [ARG]...",
	.summary = "run CMD in the remote workspace",
	.options = (const enum opt_id[]){ OPT_WORKDIR, OPT_ENV, OPT_ENV_FILE, OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY | CMD_CONNECTS | CMD_REMOTE | CMD_SSH_STATUS,
	.run = cmd_exec,
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
