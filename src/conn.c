/* conn.c: ControlMaster life cycle and the retry loop. */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backoff.h"
#include "duration.h"
#include "exitcodes.h"
#include "msg.h"
#include "rundir.h"
#include "sig.h"

#define CHECK_TIMEOUT_MS 5000	/* -O check / -O exit: local socket talk */
#define ALIVE_INTERVAL 5	/* ServerAliveInterval, seconds */
#define ALIVE_COUNT 3		/* ServerAliveCountMax */
#define MASTER_NAME_EXTRA 17	/* ssh binds "<path>.XXXXXXXXXXXXXXXX" first */

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

/* Options every ssh call gets: the user's first, so that theirs win. */
static void common_args(const struct conn *c, struct strv *a, int with_ctl)
{
	const struct conn_opts *o = c->o;
	long long secs = (o->connect_timeout_ms + 999) / 1000;

	strv_push(a, o->ssh);
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

static int exec_failure(int rc, const char *what)
{
	if (rc == SC_NOTFOUND)
		error("cannot run '%s': not found; install OpenSSH's client or set SIDECAR_SSH", what);
	else if (rc == SC_NOEXEC)
		error("cannot run '%s': not executable", what);
	else
		error("cannot run '%s': %s", what, strerror(errno));
	return rc < 0 ? SC_FAIL : rc;
}

/*
 * Runs a short ssh call that connects nothing by itself or only connects
 * (ssh -G, -O, -M): no stdin or stdout unless out, stderr into err, its own
 * process group, a wall-clock bound.
 */
static int run_ssh(const struct strv *a, struct buf *out, struct buf *err, long long bound_ms,
		   struct proc *p)
{
	proc_init(p, (const char *const *)a->v);
	p->in = IO_NULL;
	p->out = out ? IO_PIPE : IO_NULL;
	p->out_buf = out;
	p->err = IO_PIPE;
	p->err_buf = err;
	p->own_group = 1;
	p->timeout_ms = bound_ms;
	trace_argv(p->argv);
	return proc_run(p);
}

static int read_config(struct conn *c)
{
	struct strv a = STRV_INIT;
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct proc p;
	int rc;

	common_args(c, &a, 0);
	strv_pushf(&a, "-oControlPath=%s/%%C", c->ctl_dir);
	strv_push(&a, "-G");
	strv_push(&a, "--");
	strv_push(&a, c->dest);
	rc = run_ssh(&a, &out, &err, CHECK_TIMEOUT_MS, &p);
	if (p.exec_errno || rc < 0) {
		rc = exec_failure(rc, c->o->ssh);
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
		c->ctl_path = line_value(out.s, "controlpath");
		c->accept_new = policy && strcmp(policy, "ask") == 0;
		free(policy);
		if (!c->ctl_path)
			rc = fail("ssh -G printed no control path for %s", c->dest);
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

/* ssh -O CMD: talks to the master over its socket only. */
static int control(struct conn *c, const char *cmd, struct buf *err)
{
	struct strv a = STRV_INIT;
	struct proc p;
	int rc;

	common_args(c, &a, 1);
	strv_push(&a, "-O");
	strv_push(&a, cmd);
	strv_push(&a, "--");
	strv_push(&a, c->dest);
	rc = run_ssh(&a, NULL, err, CHECK_TIMEOUT_MS, &p);
	if (p.timed_out)
		rc = SC_SSH_FAILED;
	strv_free(&a);
	return rc;
}

/*
 * Whether something listens on the control socket: what ssh -O check
 * learns first, without spawning ssh. 1: yes; 0: refused, a stale socket;
 * -1: cannot tell (a full backlog, say).
 */
static int socket_listens(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof sun.sun_path)
		return 0;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0 ? 1
	     : errno == ECONNREFUSED || errno == ENOENT ? 0 : -1;
	close(fd);
	return rc;
}

/* Removes the control socket once nothing listens on it any more. */
static void remove_stale(struct conn *c)
{
	struct stat st;
	if (lstat(c->ctl_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    socket_listens(c->ctl_path) == 0) {
		trace("removing stale control socket %s", c->ctl_path);
		unlink(c->ctl_path);
	}
}


int conn_master_alive(struct conn *c, long *pid)
{
	struct buf err = BUF_INIT;
	struct stat st;
	int alive = 0;

	if (!pid && lstat(c->ctl_path, &st) == 0) {
		alive = socket_listens(c->ctl_path) != 0;	/* when unsure, let ssh try */
		if (!alive)
			remove_stale(c);
	} else if (lstat(c->ctl_path, &st) == 0) {
		int rc = control(c, "check", &err);
		if (rc == 0) {
			const char *s = strstr(buf_str(&err), "pid=");
			alive = 1;
			if (pid)
				*pid = s ? strtol(s + 4, NULL, 10) : 0;
		} else if (!sig_caught) {
			remove_stale(c);
		}
	}
	buf_free(&err);
	return alive;
}

static void remember_error(struct conn *c, const struct verdict *v, const struct buf *err)
{
	buf_reset(&c->last_error);
	if (v->line_len)
		buf_add(&c->last_error, buf_str(err) + v->line_off, v->line_len);
	else
		buf_adds(&c->last_error, v->reason);
}

/* One master start: ssh -M -N -f. Its status is purely connect and auth. */
static int start_master(struct conn *c, struct verdict *v)
{
	struct strv a = STRV_INIT;
	struct buf err = BUF_INIT;
	struct proc p;
	int rc;

	common_args(c, &a, 1);
	if (c->o->persist_ms > 0)
		strv_pushf(&a, "-oControlPersist=%llds", (c->o->persist_ms + 999) / 1000);
	else
		strv_push(&a, "-oControlPersist=yes");
	strv_push(&a, "-M");
	strv_push(&a, "-N");
	strv_push(&a, "-f");
	strv_push(&a, "--");
	strv_push(&a, c->dest);
	c->attempts++;
	rc = run_ssh(&a, NULL, &err, c->o->connect_timeout_ms + 5000, &p);
	if (p.timed_out) {
		buf_reset(&err);
		buf_adds(&err, "ssh did not finish connecting in time");
		*v = (struct verdict){ FAIL_TRANSIENT, "connection timed out", 0, err.len };
		rc = SC_SSH_FAILED;
	} else if (rc == 0) {
		c->handshakes++;
		c->started_master = 1;
	} else if (!p.exec_errno && rc > 0) {
		*v = classify(rc, err.s, err.len, 0);
		remember_error(c, v, &err);
	}
	strv_free(&a);
	buf_free(&err);
	return rc;
}

static const char *host_key_hint(const struct verdict *v)
{
	if (strcmp(v->reason, "host key changed") == 0)
		return "; if the sidecar was recreated, remove its old key with 'ssh-keygen -R HOST'";
	if (strcmp(v->reason, "authentication failed") == 0)
		return "; check the key (-i) and the user";
	return "";
}

/*
 * One master start at a time per control path: a second ssh -M racing the
 * first would find the socket taken and stay behind as a connection of its
 * own. A POSIX record lock on <control path>.lock; -1 when interrupted.
 */
static int lock_master_start(const struct conn *c)
{
	struct buf path = BUF_INIT;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd;

	buf_addf(&path, "%s.lock", c->ctl_path);
	fd = open(path.s, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	buf_free(&path);
	if (fd < 0)
		return -2;	/* no lock to be had: go on without one */
	while (fcntl(fd, F_SETLKW, &fl) < 0) {
		if (errno != EINTR || sig_caught) {
			close(fd);
			return sig_caught ? -1 : -2;
		}
	}
	return fd;
}

static int connect_locked(struct conn *c);

int conn_connect(struct conn *c)
{
	int fd, rc;

	if (conn_master_alive(c, NULL))
		return 0;
	if (sig_caught)
		return SC_SIGNAL + sig_caught;
	fd = lock_master_start(c);
	if (fd == -1)
		return SC_SIGNAL + sig_caught;
	/* whoever held the lock may have started the master meanwhile */
	rc = conn_master_alive(c, NULL) ? 0 : connect_locked(c);
	if (fd >= 0)
		close(fd);	/* releases the lock */
	return rc;
}

static int connect_locked(struct conn *c)
{
	struct backoff bo;
	long long start = now_ms();
	char budget[32];

	backoff_init(&bo, c->o->initial_ms, c->o->max_interval_ms, c->o->max_wait_ms);
	format_duration(c->o->max_wait_ms, budget, sizeof budget);
	for (;;) {
		struct verdict v = { FAIL_NONE, "", 0, 0 };
		int rc = start_master(c, &v);

		if (rc == 0)
			break;
		if (sig_caught) {
			remove_stale(c);
			return SC_SIGNAL + sig_caught;
		}
		if (v.cls == FAIL_NONE)
			return exec_failure(rc, c->o->ssh);
		if (v.cls != FAIL_TRANSIENT) {
			error("cannot connect to %s: %s (%s)%s", c->dest, v.reason,
			      buf_str(&c->last_error), host_key_hint(&v));
			return SC_PERMANENT;
		}
		long long elapsed = c->waited_ms + (now_ms() - start);
		long long delay = backoff_next(&bo, elapsed, backoff_random(&c->rng));
		if (delay < 0) {
			char spent[32];
			c->waited_ms += now_ms() - start;
			format_duration(now_ms() - start, spent, sizeof spent);
			error("gave up on %s after %d attempt%s in %s: %s", c->dest,
			      c->attempts, c->attempts == 1 ? "" : "s", spent,
			      buf_str(&c->last_error));
			return SC_UNREACHABLE;
		}
		if (!c->announced)
			info("waiting for %s to accept SSH (%s); retrying for up to %s",
			     c->dest, v.reason, budget);
		c->announced = 1;
		char next[32];
		format_duration(delay, next, sizeof next);
		trace("attempt %d: %s: %s (transient); next attempt in %s",
		      c->attempts, v.reason, buf_str(&c->last_error), next);
		if (sleep_until(now_ms() + delay, &sig_caught, sig_wakefd()))
			return SC_SIGNAL + sig_caught;
	}
	c->waited_ms += now_ms() - start;
	return 0;
}

int conn_disconnect(struct conn *c)
{
	struct buf err = BUF_INIT;
	int rc = 0;
	struct stat st;

	if (lstat(c->ctl_path, &st) == 0) {
		if (control(c, "exit", &err) != 0)
			remove_stale(c);
	}
	buf_free(&err);
	return rc;
}

void conn_session_argv(const struct conn *c, struct strv *a, int tty, const char *command)
{
	common_args(c, a, 1);
	strv_push(a, "-oControlMaster=no");
	strv_push(a, tty > 0 ? "-t" : "-T");
	strv_push(a, "--");
	strv_push(a, c->dest);
	strv_push(a, command);
}

int conn_start(struct conn *c, struct proc *p)
{
	int rc;

	trace_argv(p->argv);
	c->sessions++;
	rc = proc_start(p);
	if (rc)
		return exec_failure(rc, c->o->ssh);
	return 0;
}

int conn_finish(struct conn *c, struct proc *p, struct verdict *v)
{
	int rc = proc_finish(p);

	*v = (struct verdict){ FAIL_NONE, "", 0, 0 };
	if (p->timed_out) {
		v->cls = FAIL_TRANSIENT;
		v->reason = "no answer in time";
		buf_reset(&c->last_error);
		buf_adds(&c->last_error, "the session went silent");
		return SC_SSH_FAILED;
	}
	if (rc == SC_SSH_FAILED && p->err_buf) {
		*v = classify(rc, p->err_buf->s, p->err_buf->len, 1);
		if (v->cls != FAIL_REMOTE) {
			remember_error(c, v, p->err_buf);
		} else if (socket_listens(c->ctl_path) == 0) {
			/* through a master that died, ssh exits 255 and says nothing */
			v->cls = FAIL_TRANSIENT;
			v->reason = "shared connection lost";
			buf_reset(&c->last_error);
			buf_adds(&c->last_error, "the shared connection closed during the session");
		} else {
			*v = (struct verdict){ FAIL_NONE, "", 0, 0 };
		}
	}
	return rc;
}

int conn_run(struct conn *c, struct proc *p, struct verdict *v)
{
	int rc = conn_start(c, p);

	*v = (struct verdict){ FAIL_NONE, "", 0, 0 };
	return rc ? rc : conn_finish(c, p, v);
}

int conn_report(struct conn *c, const struct verdict *v)
{
	error("connection to %s failed: %s (%s)", c->dest, v->reason,
	      buf_str(&c->last_error));
	return SC_SSH_FAILED;
}
