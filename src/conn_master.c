/* conn_master.c: the ControlMaster's life cycle. */
#include "conn_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "msg.h"
#include "sig.h"

/*
 * ControlPersist of a master started for one command (--persist 0): it
 * outlives the last session by this much, so that it goes away on its own
 * even when sidecar is killed before it can say -O exit.
 */
#define ONE_COMMAND_PERSIST_S 3
#define LOCK_POLL_MS 50		/* how often a waiter looks at the lock */
#define GREETING_TIMEOUT_MS 2000	/* a live master greets within this */

/* ssh -O CMD: talks to the master over its socket only. */
static int control(struct conn *c, const char *cmd, struct buf *err)
{
	struct strv a = STRV_INIT;
	struct proc p;
	int rc;

	conn_common_args(c, &a, 1);
	strv_push(&a, "-O");
	strv_push(&a, cmd);
	strv_push(&a, "--");
	strv_push(&a, c->dest);
	rc = conn_run_ssh(&a, NULL, err, -1, CHECK_TIMEOUT_MS, &p);
	if (p.timed_out)
		rc = SSH_FAILED;
	strv_free(&a);
	return rc;
}

/*
 * What ssh -O check learns first, without spawning ssh. A master greets
 * every client at once (its mux hello); a master being killed may still
 * accept a connection that it will never greet, so only the greeting
 * counts. A full backlog or a master too busy to greet in time gives -1.
 */
int conn_socket_listens(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	char hello[16];
	ssize_t n;
	int rc;

	if (strlen(path) >= sizeof sun.sun_path)
		return 0;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	pfd.fd = socket(AF_UNIX, SOCK_STREAM, 0);
	pfd.events = POLLIN;
	if (pfd.fd < 0)
		return -1;
	fcntl(pfd.fd, F_SETFD, FD_CLOEXEC);
	if (connect(pfd.fd, (struct sockaddr *)&sun, sizeof sun) != 0)
		rc = errno == ECONNREFUSED || errno == ENOENT ? 0 : -1;
	else if (poll(&pfd, 1, GREETING_TIMEOUT_MS) <= 0)
		rc = -1;
	else if ((n = recv(pfd.fd, hello, sizeof hello, 0)) >= 0)
		rc = n > 0;	/* 0: closed without a greeting */
	else
		rc = errno == ECONNRESET ? 0 : -1;
	close(pfd.fd);
	return rc;
}

void conn_remove_stale(struct conn *c)
{
	struct stat st;
	if (lstat(c->ctl_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    conn_socket_listens(c->ctl_path) == 0) {
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
		alive = conn_socket_listens(c->ctl_path) != 0;	/* when unsure, let ssh try */
		if (!alive)
			conn_remove_stale(c);
	} else if (lstat(c->ctl_path, &st) == 0) {
		int rc = control(c, "check", &err);
		if (rc == 0) {
			const char *s = strstr(buf_str(&err), "pid=");
			alive = 1;
			if (pid)
				*pid = s ? strtol(s + 4, NULL, 10) : 0;
		} else if (!sig_caught) {
			conn_remove_stale(c);
		}
	}
	buf_free(&err);
	return alive;
}

void conn_remember_error(struct conn *c, const struct verdict *v, const struct buf *err)
{
	buf_reset(&c->last_error);
	if (v->line_len)
		buf_add(&c->last_error, buf_str(err) + v->line_off, v->line_len);
	else
		buf_adds(&c->last_error, v->reason);
}

void conn_side_path(const struct conn *c, struct buf *b, const char *suffix)
{
	buf_addf(b, "%s%s", c->ctl_path, suffix);
}

/* Records beside the socket which options the master was started with. */
static void record_options(const struct conn *c)
{
	struct buf path = BUF_INIT;

	conn_side_path(c, &path, ".opts");
	conn_replace_file(path.s, c->opts_id, strlen(c->opts_id));
	buf_free(&path);
}

void conn_replace_file(const char *path, const char *data, size_t len)
{
	struct buf tmp = BUF_INIT;
	int fd;

	buf_addf(&tmp, "%s.%ld", path, (long)getpid());
	fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		int ok = write(fd, data, len) == (ssize_t)len;
		if (close(fd) != 0 || !ok || rename(tmp.s, path) != 0)
			unlink(tmp.s);
	}
	buf_free(&tmp);
}

void conn_check_options(struct conn *c)
{
	struct buf path = BUF_INIT;
	char theirs[sizeof c->opts_id] = "";
	int fd;

	if (c->warned_opts || c->started_master)
		return;
	conn_side_path(c, &path, ".opts");
	fd = open(path.s, O_RDONLY | O_CLOEXEC);
	buf_free(&path);
	if (fd < 0)
		return;		/* not recorded: nothing to compare */
	ssize_t n = read(fd, theirs, sizeof theirs - 1);
	close(fd);
	theirs[n > 0 ? n : 0] = '\0';
	if (n > 0 && strcmp(theirs, c->opts_id) != 0) {
		warn("the shared connection to %s was started with other ssh options "
		     "(-F, -i, -o), which it keeps using; run 'sidecar disconnect %s' "
		     "for these to apply", c->dest, c->dest);
		c->warned_opts = 1;
	}
}

void conn_slurp_fd(int fd, struct buf *out)
{
	if (lseek(fd, 0, SEEK_SET) == 0)
		buf_read_fd(out, fd);
}

/*
 * A file for the master's stderr: ssh -f daemonizes after authenticating,
 * and the master keeps its stderr. A pipe would stay open as long as the
 * master lives; an unlinked file holds nobody up.
 */
static int stderr_file(const struct conn *c)
{
	struct buf path = BUF_INIT;
	int fd;

	buf_addf(&path, "%s/start.XXXXXX", c->ctl_dir);
	fd = mkstemp(path.s);
	if (fd >= 0) {
		unlink(path.s);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	buf_free(&path);
	return fd;
}

enum err conn_start_master(struct conn *c, struct verdict *v)
{
	struct strv a = STRV_INIT;
	struct buf err = BUF_INIT;
	struct proc p;
	enum err e = ERR_OK;
	int rc, fd = stderr_file(c);

	if (fd < 0) {
		strv_free(&a);
		return error("cannot create a file in %s: %s", c->ctl_dir, strerror(errno));
	}
	conn_common_args(c, &a, 1);
	if (c->o->persist_ms > 0)
		strv_pushf(&a, "-oControlPersist=%llds", (c->o->persist_ms + 999) / 1000);
	else
		strv_pushf(&a, "-oControlPersist=%ds", ONE_COMMAND_PERSIST_S);
	strv_push(&a, "-M");
	strv_push(&a, "-N");
	strv_push(&a, "-f");
	strv_push(&a, "--");
	strv_push(&a, c->dest);
	c->attempts++;
	rc = conn_run_ssh(&a, NULL, NULL, fd, c->o->connect_timeout_ms + 5000, &p);
	conn_slurp_fd(fd, &err);
	close(fd);
	if (p.timed_out) {
		buf_reset(&err);
		buf_adds(&err, "ssh did not finish connecting in time");
		*v = (struct verdict){ FAIL_TRANSIENT, "connection timed out", 0, err.len };
		conn_remember_error(c, v, &err);
		e = ERR_UNREACHABLE;
	} else if (rc == 0) {
		c->handshakes++;
		c->started_master = 1;
		record_options(c);
	} else if (!p.exec_errno && rc > 0) {
		*v = classify_phase(rc, err.s, err.len, PHASE_ALL, 0);
		conn_remember_error(c, v, &err);
		e = v->cls == FAIL_TRANSIENT ? ERR_UNREACHABLE : ERR_PERMANENT;
	} else {
		e = conn_cannot_run(c, rc, &p);
	}
	strv_free(&a);
	buf_free(&err);
	return e;
}

const char *conn_hint(const struct verdict *v)
{
	if (strcmp(v->reason, "host key changed") == 0)
		return "; if the sidecar was recreated, remove its old key with 'ssh-keygen -R HOST'";
	if (verdict_key_refused(v))
		return "; sidecar runs ssh in batch mode (BatchMode=yes), so the key must be "
		       "in ssh-agent or unencrypted, and passwords cannot work; "
		       "check the key (-i) and the user";
	return "";
}

/*
 * One master start at a time per control path: a second ssh -M racing the
 * first would find the socket taken and stay behind as a connection of its
 * own. A POSIX record lock on <control path>.lock, polled so that waiting
 * for it stays within the caller's deadline.
 */
int conn_lock_master_start(struct conn *c, long long deadline_ms)
{
	struct buf path = BUF_INIT;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd;

	conn_side_path(c, &path, ".lock");
	fd = open(path.s, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	buf_free(&path);
	if (fd < 0)
		return -2;	/* no lock to be had: go on without one */
	for (int announced = 0;;) {
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return fd;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
			close(fd);
			return -2;
		}
		if (conn_master_alive(c, NULL)) {
			close(fd);
			return -3;
		}
		long long now = now_ms();
		if (now >= deadline_ms) {
			close(fd);
			return -4;
		}
		if (!announced++)
			trace("another sidecar is starting the shared connection to %s; waiting",
			      c->dest);
		long long next = now + LOCK_POLL_MS;
		if (sleep_until(next < deadline_ms ? next : deadline_ms, &sig_caught, sig_wakefd())) {
			close(fd);
			return -1;
		}
	}
}

void conn_disconnect(struct conn *c)
{
	struct buf err = BUF_INIT;
	struct stat st;

	if (lstat(c->ctl_path, &st) == 0) {
		if (control(c, "exit", &err) != 0)
			conn_remove_stale(c);
	}
	buf_free(&err);
}
