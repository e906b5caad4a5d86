/*
 * conn.h: one shared ssh connection (a ControlMaster) per destination, and
 * the classified, bounded, jittered retry that waits out a booting sidecar.
 *
 * The module is split by concern:
 *   conn_ssh.c      ssh argv for every call, ssh -G, the control path
 *   conn_master.c   the master's life cycle: -M start, -O check / exit,
 *                   stale sockets, the start lock, the options it runs with
 *   conn_retry.c    the one retry loop and its --max-wait budget, used to
 *                   start the master and to redo a whole operation
 *   conn_session.c  a session over the master and what its end means
 *
 * Functions return an enum err (err.h), having said why; a session's end
 * is its exit status, which belongs to the remote command unless the
 * verdict says ssh failed.
 */
#ifndef SIDECAR_CONN_H
#define SIDECAR_CONN_H

#include "backoff.h"
#include "buf.h"
#include "classify.h"
#include "err.h"
#include "proc.h"
#include "strv.h"

struct conn_opts {
	const char *ssh;		/* program: $SIDECAR_SSH or "ssh" */
	const char *identity;		/* -i */
	const char *config;		/* -F */
	const char *const *options;	/* -o, NULL-terminated or NULL */
	long long max_wait_ms;
	long long initial_ms;
	long long max_interval_ms;
	long long connect_timeout_ms;
	long long auth_wait_ms;		/* a refused key is transient this long */
	long long persist_ms;		/* 0: close the master at exit */
	const char *ctl_dir;		/* the control directory (rundir), or NULL */
};

struct conn {
	const struct conn_opts *o;
	const char *dest;
	char *ctl_dir;
	char *ctl_path;		/* expanded by ssh -G, then shortened */
	int accept_new;		/* the user's StrictHostKeyChecking is "ask" */
	int force_info;		/* the user's LogLevel would hide ssh's errors */
	char opts_id[17];	/* hash of -F, -i and -o, hex */
	int started_master;	/* this process started the master */

	int attempts;		/* master starts tried */
	int handshakes;		/* masters started: new SSH connections */
	int sessions;		/* remote commands run over the master */
	long long waited_ms;	/* --max-wait budget used so far */
	struct backoff bo;	/* one backoff for every wait of this conn */
	unsigned long long rng;
	int announced;		/* the one "waiting for" line was printed */
	int announced_key;	/* and the one "to accept the key" line */
	int warned_opts;	/* the "other options" line was printed */
	struct buf last_error;	/* ssh's last error line */
};

/* ssh's own exit status when it fails, as a session's ssh exits. */
#define SSH_FAILED 255

/* Default values of DESIGN section 1. */
void conn_opts_defaults(struct conn_opts *o);

/*
 * Validates dest, prepares the control directory and asks ssh -G for the
 * control path, the host key policy and the log level. Nothing touches
 * the network.
 */
enum err conn_init(struct conn *c, const struct conn_opts *o, const char *dest);
/* A DEST ssh may be given: not empty, no option, no control character; ERR_USAGE after saying why. */
enum err conn_check_dest(const char *dest);
void conn_free(struct conn *c);

/*
 * Whether the master is up. With pid, asks the master itself (ssh -O check)
 * and stores its pid; without, only checks that its socket accepts. Removes
 * a stale socket either way.
 */
int conn_master_alive(struct conn *c, long *pid);

/*
 * Makes sure the master is up: reuses a live one, else starts one, retrying
 * transient failures with backoff within what is left of --max-wait. The
 * time spent waiting for another process's master start counts too.
 */
enum err conn_connect(struct conn *c);

/*
 * Runs op(ctx) over a live master, and again from the start each time it
 * returns ERR_DROPPED (the connection dropped under it), reconnecting within
 * the same --max-wait budget as conn_connect. `again` completes the line
 * "reconnecting and ...". Returns op's last error, or a connect failure.
 */
enum err conn_retry(struct conn *c, enum err (*op)(void *ctx), void *ctx, const char *again);

/* Asks the master to exit. */
void conn_disconnect(struct conn *c);

/*
 * Appends to argv the ssh command that runs `command` (a string for the
 * remote shell) over the master: tty is -1 for -T, 1 for -t.
 */
void conn_session_argv(const struct conn *c, struct strv *argv, int tty,
		       const char *command);

/*
 * Runs p (built from conn_session_argv, stderr piped into p->err_buf) and
 * classifies its end: *status is the remote command's, or for a failure of
 * ssh itself 255 with the verdict in *v. A session's fate is decided first
 * by whether the master is still alive: while it is, only a failure
 * between the session and its master is ssh's, and whatever else the
 * session wrote, an ssh-like line included, belongs to the remote command.
 * Returns an error only when ssh could not start (then *status is -1).
 */
enum err conn_run(struct conn *c, struct proc *p, int *status, struct verdict *v);
/* conn_run in two steps, for work done while the session runs. */
enum err conn_start(struct conn *c, struct proc *p);
int conn_finish(struct conn *c, struct proc *p, struct verdict *v);

/*
 * Sends signo to the process group pid leads on the sidecar (interrupt.h),
 * through a session of its own over the master: 0 when it went, -1 if not.
 */
int conn_interrupt(struct conn *c, long pid, int signo);

/* Says why a session failed, naming dest: ERR_UNREACHABLE or ERR_PERMANENT. */
enum err conn_report(struct conn *c, const struct verdict *v);

/* A local port forwarded to a port on the sidecar's loopback. */
struct forward {
	unsigned local, remote;
};

/* Reads "[LOCAL:]REMOTE" (ports 1 to 65535; LOCAL defaults to REMOTE); 0 or -1. */
int forward_parse(const char *spec, struct forward *f);

/*
 * The record of forwards ("PID LOCAL REMOTE" lines) with f of the master
 * pid added (add) or removed; lines of any other master, gone since, are
 * dropped. Pure.
 */
void forward_record_update(const char *record, long pid, const struct forward *f, int add,
			   struct buf *out);

/*
 * Whether f's local port may be forwarded, before connecting: a privileged
 * one is ERR_USAGE, one in use (but not by this forward) ERR_FAIL.
 */
enum err forward_usable(struct conn *c, const struct forward *f);

/*
 * Adds (ssh -O forward) or removes (-O cancel) the forward f on the live
 * master, from 127.0.0.1:LOCAL here to 127.0.0.1:REMOTE there, and records
 * it.
 */
enum err conn_forward(struct conn *c, const struct forward *f, int cancel);

/* The forwards recorded for master pid: a new array (free it), *n long. */
void conn_forwards(const struct conn *c, long pid, struct forward **list, size_t *n);

#endif
