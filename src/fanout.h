/* fanout.h: one task per destination, several at once, in forked copies of sidecar. */
#ifndef SIDECAR_FANOUT_H
#define SIDECAR_FANOUT_H

#include <poll.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "proc.h"

struct fanout;

struct fanout_task {
	const char *dest;
	struct buf out;		/* what its copy's run left in its out */
	enum err rc;		/* how it ended */
	int started;
	struct proc_task t;
	struct fanout *f;	/* internal */
};

struct fanout {
	struct fanout_task *tasks;
	size_t n;
	size_t jobs;		/* at most this many at once */
	/* runs in the copy: what it leaves in out comes back, its return value is the rc */
	enum err (*run)(void *ctx, const char *dest, struct buf *out);
	/* runs here as each task ends, in the order they end */
	void (*done)(void *ctx, const struct fanout_task *t);
	void *ctx;

	/* internal: the poll set and the tasks running, kept here so that a
	   copy, which never returns, still reaches them */
	struct pollfd *pfd;
	struct fanout_task **live;
};

/*
 * Runs every task, starting the next as one ends, so that a slow
 * destination holds up none of the others. A signal to sidecar is passed
 * on to every copy still running, and the tasks not started yet end with
 * ERR_SIGNAL unstarted. Returns the most severe rc.
 */
enum err fanout_run(struct fanout *f);

/* The status of a task's copy (proc_task_wait) as its rc. Pure. */
enum err fanout_rc(int status);

#endif
