/* conn_ssh.c: the ssh command lines, ssh -G, the control path. */
#include "conn_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "exitcodes.h"
#include "msg.h"
#include "rundir.h"
#include "sig.h"

#define ALIVE_INTERVAL 5	/* ServerAliveInterval, seconds */
#define ALIVE_COUNT 3		/* ServerAliveCountMax */
#define MASTER_NAME_EXTRA 17	/* ssh binds "<path>.XXXXXXXXXXXXXXXX" first */
#define SOCKET_NAME_LEN 16	/* hex digits of %C kept in the socket's name */

void conn_opts_defaults(struct conn_opts *o)
{
	memset(o, 0, sizeof *o);
	o->ssh = "ssh";
	o->max_wait_ms = 90000;
	o->initial_ms = 2000;
	o->max_interval_ms = 15000;
	o->connect_timeout_ms = 10000;
	o->persist_ms = 600000;
}

/*
 * Options every ssh call gets: the user's first, so that theirs win, except
 * a LogLevel quieter than INFO, which would hide what classification reads,
 * and RemoteCommand, which no call of ours can use.
 */
void conn_common_args(const struct conn *c, struct strv *a, int with_ctl)
{
	const struct conn_opts *o = c->o;
	long long secs = (o->connect_timeout_ms + 999) / 1000;

	strv_push(a, o->ssh);
	if (c->force_info)
		strv_push(a, "-oLogLevel=INFO");
	strv_push(a, "-oRemoteCommand=none");
	if (o->config) {
		strv_push(a, "-F");
		strv_push(a, o->config);
	}
	if (o->identity) {
		strv_push(a, "-i");
		strv_push(a, o->identity);
	}
	for (const char *const *opt = o->options; opt && *opt; opt++) {
		strv_push(a, "-o");
		strv_push(a, *opt);
	}
	strv_push(a, "-o");
	strv_push(a, "BatchMode=yes");
	strv_pushf(a, "-oConnectTimeout=%lld", secs < 1 ? 1 : secs);
	strv_pushf(a, "-oServerAliveInterval=%d", ALIVE_INTERVAL);
	strv_pushf(a, "-oServerAliveCountMax=%d", ALIVE_COUNT);
	if (c->accept_new)
		strv_push(a, "-oStrictHostKeyChecking=accept-new");
	if (with_ctl)
		strv_pushf(a, "-oControlPath=%s", c->ctl_path);
}

void conn_session_argv(const struct conn *c, struct strv *a, int tty, const char *command)
{
	conn_common_args(c, a, 1);
	strv_push(a, "-oControlMaster=no");
	if (tty > 0) {
		strv_push(a, "-t");
	} else {
		strv_push(a, "-oRequestTTY=no");
		strv_push(a, "-T");
	}
	strv_push(a, "--");
	strv_push(a, c->dest);
	strv_push(a, command);
}

static int check_dest(const char *dest)
{
	if (!dest || !*dest)
		return error("no destination: name one, set SIDECAR_DEST, or run 'sidecar use DEST'");
	if (dest[0] == '-')
		return error("strange destination '%s' blocked: it would be read as an option", dest);
	for (const char *p = dest; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return error("strange destination blocked: it contains control characters");
	return 0;
}

int conn_exec_failure(int rc, const char *what)
{
	int e = errno;

	if (rc == SC_NOTFOUND)
		error("cannot run '%s': not found; install OpenSSH's client or set SIDECAR_SSH", what);
	else
		error("cannot run '%s': %s", what, proc_exec_reason(rc, e));
	return rc < 0 ? SC_FAIL : rc;
}

int conn_run_ssh(const struct strv *a, struct buf *out, struct buf *err, int err_fd,
		 long long bound_ms, struct proc *p)
{
	proc_init(p, (const char *const *)a->v);
	p->in = IO_NULL;
	p->out = out ? IO_PIPE : IO_NULL;
	p->out_buf = out;
	if (err) {
		p->err = IO_PIPE;
		p->err_buf = err;
	} else {
		p->err = IO_FD;
		p->err_fd = err_fd;
	}
	p->own_group = 1;
	p->timeout_ms = bound_ms;
	trace_argv(p->argv);
	return proc_run(p);
}

/* FNV-1a, 64 bits: a fingerprint, not a secret. */
static void fnv(unsigned long long *h, const char *s)
{
	for (; s && *s; s++) {
		*h ^= (unsigned char)*s;
		*h *= 0x100000001b3ULL;
	}
	*h ^= 0xff;	/* ends the field, so "a","b" differs from "ab" */
	*h *= 0x100000001b3ULL;
}

/* The options a master is started with, as far as sidecar passes them. */
static void options_id(struct conn *c)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	fnv(&h, c->o->config ? "F" : "");
	fnv(&h, c->o->config);
	fnv(&h, c->o->identity ? "i" : "");
	fnv(&h, c->o->identity);
	for (const char *const *opt = c->o->options; opt && *opt; opt++)
		fnv(&h, *opt);
	snprintf(c->opts_id, sizeof c->opts_id, "%016llx", h);
}

/* Whether ssh's LogLevel would drop the error lines classification reads. */
static int too_quiet(const char *level)
{
	return level && (strcasecmp(level, "QUIET") == 0 || strcasecmp(level, "SILENT") == 0 ||
			 strcasecmp(level, "FATAL") == 0 ||
			 strcasecmp(level, "ERROR") == 0);
}

/*
 * The socket is named by %C, ssh's hash of the destination, cut to 16 hex
 * digits so that a long TMPDIR (macOS: 49 bytes) still leaves room in
 * sun_path. A ControlPath the user set stays as ssh expanded it.
 */
static void shorten_ctl_path(struct conn *c)
{
	size_t dl = strlen(c->ctl_dir), n = strlen(c->ctl_path);

	if (n != dl + 1 + 40 || strncmp(c->ctl_path, c->ctl_dir, dl) != 0 ||
	    c->ctl_path[dl] != '/')
		return;
	for (size_t i = dl + 1; i < n; i++)
		if (!strchr("0123456789abcdef", c->ctl_path[i]))
			return;
	c->ctl_path[dl + 1 + SOCKET_NAME_LEN] = '\0';
}

static int read_config(struct conn *c)
{
	struct strv a = STRV_INIT;
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct proc p;
	int rc;

	conn_common_args(c, &a, 0);
	strv_pushf(&a, "-oControlPath=%s/%%C", c->ctl_dir);
	strv_push(&a, "-G");
	strv_push(&a, "--");
	strv_push(&a, c->dest);
	rc = conn_run_ssh(&a, &out, &err, -1, CHECK_TIMEOUT_MS, &p);
	if (p.exec_errno || rc < 0) {
		rc = conn_exec_failure(rc, c->o->ssh);
	} else if (rc >= SC_SIGNAL && rc < SC_SIGNAL + 65 && sig_caught) {
		/* interrupted: the caller reports it */
	} else if (rc != 0) {
		struct verdict v = classify(rc, err.s, err.len, 0);
		buf_chomp(&err);
		error("bad ssh configuration for %s: %.*s", c->dest,
		      (int)v.line_len, buf_str(&err) + v.line_off);
		rc = SC_PERMANENT;
	} else {
		char *policy = line_value(out.s, "stricthostkeychecking");
		char *level = line_value(out.s, "loglevel");
		c->ctl_path = line_value(out.s, "controlpath");
		c->accept_new = policy && strcmp(policy, "ask") == 0;
		c->force_info = too_quiet(level);
		free(policy);
		free(level);
		if (!c->ctl_path)
			rc = fail("ssh -G printed no control path for %s", c->dest);
		else
			shorten_ctl_path(c);
	}
	strv_free(&a);
	buf_free(&out);
	buf_free(&err);
	return rc;
}

int conn_init(struct conn *c, const struct conn_opts *o, const char *dest)
{
	struct sockaddr_un sun;
	int rc;

	memset(c, 0, sizeof *c);
	c->o = o;
	c->dest = dest;
	c->rng = (unsigned long long)now_ms() ^ ((unsigned long long)getpid() << 32);
	backoff_init(&c->bo, o->initial_ms, o->max_interval_ms, o->max_wait_ms);
	options_id(c);
	if (check_dest(dest) < 0)
		return SC_USAGE;
	if (!(c->ctl_dir = rundir()))
		return SC_FAIL;
	if ((rc = read_config(c)))
		return rc;
	if (strlen(c->ctl_path) + MASTER_NAME_EXTRA >= sizeof sun.sun_path) {
		error("control path %s is too long for a unix socket; "
		      "set XDG_RUNTIME_DIR or TMPDIR to a shorter directory", c->ctl_path);
		return SC_PERMANENT;
	}
	return 0;
}

void conn_free(struct conn *c)
{
	free(c->ctl_dir);
	free(c->ctl_path);
	buf_free(&c->last_error);
	c->ctl_dir = c->ctl_path = NULL;
}
