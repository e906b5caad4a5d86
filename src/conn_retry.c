/*
 * conn_retry.c: the one retry loop. Every wait of a conn draws on one
 * --max-wait budget (c->waited_ms) and one backoff sequence (c->bo): the
 * wait for another process's master start, the master starts themselves
 * with their sleeps, and the redoing of an operation after a drop.
 */
#include "conn_int.h"

#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "err.h"
#include "msg.h"
#include "sig.h"

/* Budget used: what earlier waits used plus the time since start. */
static long long spent(long long base, long long start)
{
	return base + (now_ms() - start);
}

static enum err gave_up(struct conn *c, long long used, const char *why)
{
	char took[32];

	format_duration(used, took, sizeof took);
	error("gave up on %s after %d attempt%s in %s: %s", c->dest, c->attempts,
	      c->attempts == 1 ? "" : "s", took, why);
	return ERR_UNREACHABLE;
}

/*
 * Whether a failure is waited out: a transient one within --max-wait, a
 * refused key within --auth-wait. The budget it draws on, in *budget.
 */
static int waits_out(const struct conn *c, const struct verdict *v, long long *budget)
{
	*budget = c->o->max_wait_ms;
	if (v->cls == FAIL_TRANSIENT)
		return 1;
	*budget = c->o->auth_wait_ms;
	return verdict_key_refused(v) && *budget > 0;
}

/* The one line that says why it waits, once per kind of wait. */
static void announce(struct conn *c, const struct verdict *v, long long budget)
{
	int key = verdict_key_refused(v);
	int *done = key ? &c->announced_key : &c->announced;
	char up_to[32];

	if (*done)
		return;
	*done = 1;
	format_duration(budget, up_to, sizeof up_to);
	info("waiting for %s to accept %s (%s); retrying for up to %s",
	     c->dest, key ? "the key" : "SSH", v->reason, up_to);
}

/* Master starts with backoff, the start lock held. */
static enum err connect_locked(struct conn *c, long long base, long long start)
{
	for (;;) {
		struct verdict v = { FAIL_NONE, "", 0, 0 };
		enum err e = conn_start_master(c, &v);
		long long budget, delay;

		if (e == ERR_OK)
			return ERR_OK;
		if (sig_caught) {
			conn_remove_stale(c);
			return ERR_SIGNAL;
		}
		if (v.cls == FAIL_NONE)
			return e;	/* said why */
		if (!waits_out(c, &v, &budget)) {
			error("cannot connect to %s: %s (%s)%s", c->dest, v.reason,
			      buf_str(&c->last_error), conn_hint(&v));
			return ERR_PERMANENT;
		}
		delay = backoff_next_within(&c->bo, spent(base, start), budget,
					    backoff_random(&c->rng));
		if (delay < 0 && v.cls != FAIL_TRANSIENT) {
			char took[32];
			format_duration(spent(base, start), took, sizeof took);
			error("cannot connect to %s: %s (%s) after waiting %s of --auth-wait%s",
			      c->dest, v.reason, buf_str(&c->last_error), took, conn_hint(&v));
			return ERR_PERMANENT;
		}
		if (delay < 0)
			return gave_up(c, spent(base, start), buf_str(&c->last_error));
		announce(c, &v, budget);
		char next[32];
		format_duration(delay, next, sizeof next);
		trace("attempt %d: %s: %s (%s); next attempt in %s", c->attempts, v.reason,
		      buf_str(&c->last_error), v.cls == FAIL_TRANSIENT ? "transient" :
		      "the key may not be there yet", next);
		if (sleep_until(now_ms() + delay, &sig_caught, sig_wakefd()))
			return ERR_SIGNAL;
	}
}

/*
 * How long to wait for another process's master start: what is left of the
 * budget, or with --max-wait 0 (one attempt) the bound of that one attempt.
 */
static long long lock_deadline(const struct conn *c, long long start)
{
	long long left = c->o->max_wait_ms - c->waited_ms;

	if (c->o->max_wait_ms <= 0)
		left = c->o->connect_timeout_ms + 5000;
	return start + (left > 0 ? left : 0);
}

enum err conn_connect(struct conn *c)
{
	long long base = c->waited_ms, start = now_ms();
	enum err rc;
	int fd;

	if (conn_master_alive(c, NULL)) {
		conn_check_options(c);
		return 0;
	}
	if (sig_caught)
		return ERR_SIGNAL;
	fd = conn_lock_master_start(c, lock_deadline(c, start));
	if (fd == -1) {
		rc = ERR_SIGNAL;
	} else if (fd == -3) {
		conn_check_options(c);		/* another process started it */
		rc = 0;
	} else if (fd == -4) {
		rc = gave_up(c, spent(base, start),
			     "another sidecar was starting the shared connection all along "
			     "and still holds its lock");
	} else if (conn_master_alive(c, NULL)) {
		/* whoever held the lock started the master meanwhile */
		conn_check_options(c);
		rc = 0;
	} else {
		rc = connect_locked(c, base, start);
	}
	if (fd >= 0)
		close(fd);	/* releases the lock */
	c->waited_ms = spent(base, start);
	return rc;
}

enum err conn_retry(struct conn *c, enum err (*op)(void *ctx), void *ctx, const char *again)
{
	for (int drops = 0;; drops++) {
		enum err rc = conn_connect(c);

		if (rc)
			return rc;
		rc = op(ctx);
		if (rc != ERR_DROPPED)
			return rc;
		if (sig_caught)
			return ERR_SIGNAL;
		/*
		 * The first drop is redone at once (the master start backs off
		 * by itself if the host went away); a connection that keeps
		 * dropping waits the next backoff delay first.
		 */
		long long delay = 0;
		if (c->o->max_wait_ms <= 0 || c->waited_ms >= c->o->max_wait_ms ||
		    (drops && (delay = backoff_next(&c->bo, c->waited_ms,
						    backoff_random(&c->rng))) < 0)) {
			char took[32];
			format_duration(c->waited_ms, took, sizeof took);
			error("the connection to %s kept dropping (%s); gave up after "
			      "waiting %s of --max-wait", c->dest, buf_str(&c->last_error), took);
			return ERR_UNREACHABLE;
		}
		info("the connection to %s dropped (%s); reconnecting and %s",
		     c->dest, buf_str(&c->last_error), again);
		if (delay) {
			long long t = now_ms();
			int sig = sleep_until(t + delay, &sig_caught, sig_wakefd());
			c->waited_ms += now_ms() - t;
			if (sig)
				return ERR_SIGNAL;
		}
	}
}
