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
	int status;		/* the copy's: what run returned, 128+N for signal N, -1 */
	int started;
	struct proc_task t;
	struct buf part[2];	/* internal: a line of stdout, stderr not ended yet */
	struct fanout *f;	/* internal */
};

struct fanout {
	struct fanout_task *tasks;
	size_t n;
	size_t jobs;		/* at most this many at once */
	/*
	 * When set, the copies' stdin is /dev/null, and each line of their
	 * stdout and stderr comes out of ours as "DEST: line", as it ends.
	 */
	int prefix;
	/*
	 * runs in the copy: what it leaves in out comes back, what it returns
	 * is the status (0-255); feed: see begin, else -1
	 */
	int (*run)(void *ctx, const char *dest, int feed, struct buf *out);
	/*
	 * When set, runs here once, as soon as the first copies have started
	 * (they connect meanwhile), and leaves in record what each copy
	 * reads from its feed, whole, up to end of file; a copy started
	 * later finds it there at once. When begin fails (not 0), or does
	 * not run because a signal came first (begin_rc ERR_SIGNAL), the feeds
	 * end with nothing read.
	 */
	enum err (*begin)(void *ctx, struct buf *record);
	/* runs here as each task ends, in the order they end */
	void (*done)(void *ctx, const struct fanout_task *t);
	void *ctx;

	/* internal: the poll set and the tasks running; a copy closes the
	   pipes of those started before it */
	struct pollfd *pfd;
	struct fanout_task **live;
	size_t running;
	int gone;		/* our stdout or stderr is closed: copies are stopped */
	int begun;		/* begin ran */
	enum err begin_rc;	/* what it returned */
	struct buf record;	/* what it left */
};

/* A task for each destination, jobs at once at most; fanout_free frees them. */
void fanout_init(struct fanout *f, const char *const *dests, size_t n, long jobs);
void fanout_free(struct fanout *f);

/*
 * Runs every task, starting the next as one ends, so that a slow
 * destination holds up none of the others. A signal to sidecar is passed
 * on to every copy still running, and the tasks not started yet end
 * unstarted with the status 128+N. With prefix, a stdout or stderr nobody
 * reads any more (gone) ends the copies as SIGTERM would. Returns
 * ERR_SIGNAL when a signal came, else ERR_OK: what the statuses mean is
 * the caller's to say.
 */
enum err fanout_run(struct fanout *f);

/* A status of a copy whose run returned an enum err, as that error. Pure. */
enum err fanout_rc(int status);

#endif
