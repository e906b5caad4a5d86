/*
 * conn.h: one shared ssh connection (a ControlMaster) per destination, and
 * the classified, bounded, jittered retry that waits out a booting sidecar.
 *
 * Every function returns an exit status of DESIGN section 1: 0, 1, 2, 3
 * (permanent failure), 4 (gave up), 126/127 (ssh could not run) or 128+N.
 */
#ifndef SIDECAR_CONN_H
#define SIDECAR_CONN_H

#include "buf.h"
#include "classify.h"
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
	long long persist_ms;		/* 0: close the master at exit */
};

struct conn {
	const struct conn_opts *o;
	const char *dest;
	char *ctl_dir;
	char *ctl_path;		/* expanded by ssh -G */
	int accept_new;		/* the user's StrictHostKeyChecking is "ask" */
	int started_master;	/* this process started the master */

	int attempts;		/* master starts tried */
	int handshakes;		/* masters started: new SSH connections */
	int sessions;		/* remote commands run over the master */
	long long waited_ms;	/* budget used by earlier waits */
	unsigned long long rng;
	int announced;		/* the one "waiting for" line was printed */
	struct buf last_error;	/* ssh's last error line */
};

/* Default values of DESIGN section 1. */
void conn_opts_defaults(struct conn_opts *o);

/*
 * Validates dest, prepares the control directory and asks ssh -G for the
 * control path and the host key policy. Nothing touches the network.
 */
int conn_init(struct conn *c, const struct conn_opts *o, const char *dest);
void conn_free(struct conn *c);

/*
 * Whether the master is up. With pid, asks the master itself (ssh -O check)
 * and stores its pid; without, only checks that its socket accepts. Removes
 * a stale socket either way.
 */
int conn_master_alive(struct conn *c, long *pid);

/*
 * Makes sure the master is up: reuses a live one, else starts one, retrying
 * transient failures with backoff within what is left of --max-wait.
 */
int conn_connect(struct conn *c);

/* Asks the master to exit. 0 also when none was running. */
int conn_disconnect(struct conn *c);

/*
 * Appends to argv the ssh command that runs `command` (a string for the
 * remote shell) over the master: tty is -1 for -T, 1 for -t.
 */
void conn_session_argv(const struct conn *c, struct strv *argv, int tty,
		       const char *command);

/*
 * Runs p (built from conn_session_argv, stderr piped into p->err_buf) and
 * classifies the outcome. Returns the remote status, or for a failure of
 * ssh itself: the verdict in *v and 255.
 */
int conn_run(struct conn *c, struct proc *p, struct verdict *v);
/* conn_run in two steps, for work done while the session runs. */
int conn_start(struct conn *c, struct proc *p);
int conn_finish(struct conn *c, struct proc *p, struct verdict *v);

/* Says why a session failed, naming dest; returns 255 for the caller. */
int conn_report(struct conn *c, const struct verdict *v);

#endif
