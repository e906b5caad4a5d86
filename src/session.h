/*
 * session.h: one ssh session running one operation of remote.sh (the
 * protocol of protocol.h) over the shared connection: the bootstrap, the
 * script sent when the sidecar lacks it, the reply parsed, the failure
 * sorted into an exit status.
 */
#ifndef SIDECAR_SESSION_H
#define SIDECAR_SESSION_H

#include "buf.h"
#include "conn.h"
#include "err.h"
#include "interrupt.h"
#include "proc.h"
#include "protocol.h"
#include "strv.h"

/* A sidecar that lost its script gets it again, this many times an attempt. */
#define SESSION_MAX_RESTARTS 2

struct session;

/* What every session to one destination shares. */
struct remote {
	struct conn *c;
	const char *dest;
	char *mark;		/* the file noting the script is installed there, or NULL */
	int write_nothing;	/* a dry run: nothing is written there, not even the script */
	int no_progress;	/* no progress line, even on a terminal */
	unsigned long long bytes_sent;	/* command lines and stdin, every session */
	/* each reply, once parsed, whatever follows */
	void (*on_reply)(void *ctx, const struct reply *r);
	/*
	 * A run session's reply, as soon as it ended with the operation done:
	 * the command starts then, and what it prints follows.
	 */
	void (*on_run)(void *ctx, const struct session *s, const struct reply *r);
	void *ctx;
	long long progress_start, progress_last;
	int progress_shown;
};

/* rundir: where the script's mark lives (NULL: none, the script is always sent). */
void remote_init(struct remote *rm, const char *dest, const char *rundir);
void remote_free(struct remote *rm);

struct session {
	struct buf cmd;		/* the remote command line */
	struct buf in;		/* stdin ahead of the stream: script, header */
	struct strv argv;
	struct proc p;
	struct buf out, err;
	struct reply r;		/* parsed once the session is over */
	enum boot boot;
	int out_fd;		/* stdout to this file instead of out (-1: none) */
	long long data_at;	/* with out_fd: where the data after the reply begins, or -1 */
	struct remote *rm;
	/*
	 * A run session (session_start_run): once the reply ended with the
	 * operation done, a command runs in it on the sidecar, which exec's
	 * rules hold for: its stdout is ours, sidecar's stdin goes to it, its
	 * stderr is scanned for its process, which a signal to sidecar reaches.
	 */
	int run;
	int run_started;	/* the reply ended, done: what follows is the command's */
	int run_status;		/* then, the command's exit status (255: the connection failed) */
	struct interrupt_scan scan;
};

/* Starts `op args` on the sidecar (rm->c connected); its stdin stays open for session_finish. */
enum err session_start(struct remote *rm, struct session *s, const char *const *args);
/* The same for an operation that runs a command after its reply (see run above). */
enum err session_start_run(struct remote *rm, struct session *s, const char *const *args);
/*
 * Sends data, then what in_src gives (-1: nothing), waits for the end and
 * parses the reply into s->r. Returns ERR_OK, ERR_FAIL when the script
 * failed (it said why on stderr), ERR_DROPPED when the connection dropped,
 * ERR_RESTART when the script must be installed first, or another error.
 */
enum err session_finish(struct remote *rm, struct session *s, const char *data, size_t len,
			int in_src);
/*
 * Ends a session whose operation is not wanted after all: its input ends
 * before the operation's own (the script a first session installs still
 * goes), the sidecar leaves changing nothing, and what it says is not shown.
 */
void session_cancel(struct remote *rm, struct session *s);
void session_free(struct session *s);

/* A whole session with len bytes of data, then a stream (in_src, -1 for none); the reply in r. */
enum err remote_op(struct remote *rm, const char *const *args, const char *data, size_t len,
		   int in_src, struct reply *r);

/*
 * remote_op for an operation that sends data after its reply: stdout goes
 * to out_fd (a regular file, emptied first), the reply is parsed from its
 * head, and *data_at is where the data after the reply's end line begins
 * (-1 when the reply did not end). A sidecar without the script gets it
 * and the operation runs again.
 */
enum err remote_op_to(struct remote *rm, const char *const *args, int out_fd, struct reply *r,
		      long long *data_at);

#endif
