/* backoff.h: jittered exponential backoff. The arithmetic is pure. */
#ifndef SIDECAR_BACKOFF_H
#define SIDECAR_BACKOFF_H

#include <signal.h>

struct backoff {
	long long initial_ms;	/* first interval (2s) */
	long long max_interval_ms;	/* cap on the interval (15s) */
	long long max_wait_ms;	/* budget, attempts included; 0 = one attempt */
	double multiplier;	/* 1.5 */
	double randomization;	/* 0.5: each sleep uniform in [0.5x, 1.5x] */
	long long current_ms;	/* the interval the next delay is drawn around */
};

void backoff_init(struct backoff *b, long long initial_ms,
		  long long max_interval_ms, long long max_wait_ms);

/*
 * The next delay, given the time elapsed since the first attempt began and
 * u, a uniform random number in [0, 1). Returns -1 when elapsed plus that
 * delay would pass the budget: then the caller stops.
 */
long long backoff_next(struct backoff *b, long long elapsed_ms, double u);

/* backoff_next against another budget than b's own. */
long long backoff_next_within(struct backoff *b, long long elapsed_ms,
			      long long budget_ms, double u);

/* A uniform random number in [0, 1) from a 64-bit state (splitmix64). */
double backoff_random(unsigned long long *state);

/* Milliseconds on CLOCK_MONOTONIC. */
long long now_ms(void);

/*
 * Sleeps until now_ms() (CLOCK_MONOTONIC) reaches the absolute deadline_ms.
 * Returns 0, or the signal number as soon as *signal_flag becomes non-zero:
 * the signal handler writes a byte to wake_fd (-1: none), on which the wait
 * polls, so no signal is missed between the check and the wait.
 */
int sleep_until(long long deadline_ms, volatile const sig_atomic_t *signal_flag, int wake_fd);

#endif
