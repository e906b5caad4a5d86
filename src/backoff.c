/* backoff.c: delays as cenkalti/backoff's ExponentialBackOff computes them. */
#include "backoff.h"

#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

void backoff_init(struct backoff *b, long long initial_ms,
		  long long max_interval_ms, long long max_wait_ms)
{
	b->initial_ms = initial_ms;
	b->max_interval_ms = max_interval_ms;
	b->max_wait_ms = max_wait_ms;
	b->multiplier = 1.5;
	b->randomization = 0.5;
	b->current_ms = initial_ms < max_interval_ms ? initial_ms : max_interval_ms;
}

long long backoff_next(struct backoff *b, long long elapsed_ms, double u)
{
	return backoff_next_within(b, elapsed_ms, b->max_wait_ms, u);
}

long long backoff_next_within(struct backoff *b, long long elapsed_ms,
			      long long budget_ms, double u)
{
	double cur = (double)b->current_ms;
	double delta = b->randomization * cur;
	double lo = cur - delta, hi = cur + delta;
	long long next = (long long)(lo + u * (hi - lo));

	if ((double)b->current_ms >= (double)b->max_interval_ms / b->multiplier)
		b->current_ms = b->max_interval_ms;
	else
		b->current_ms = (long long)(cur * b->multiplier);
	if (budget_ms <= 0 || elapsed_ms + next > budget_ms)
		return -1;
	return next;
}

double backoff_random(unsigned long long *state)
{
	unsigned long long z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sleep_until(long long deadline_ms, volatile const sig_atomic_t *signal_flag, int wake_fd)
{
	for (;;) {
		if (*signal_flag)
			return *signal_flag;
		long long left = deadline_ms - now_ms();
		if (left <= 0)
			return 0;
		/*
		 * The signal handler also writes to wake_fd, so a signal that
		 * lands between the check above and the wait still ends it.
		 */
		struct pollfd pfd = { .fd = wake_fd, .events = POLLIN };
		int n = poll(&pfd, wake_fd >= 0 ? 1 : 0, left > 1000000 ? 1000000 : (int)left);
		if (n > 0 && !*signal_flag) {
			char junk[64];
			(void)!read(wake_fd, junk, sizeof junk);	/* a child's SIGCHLD */
		}
	}
}
