/* interrupt.c: the mark that names the remote command, and its signal. */
#include "interrupt.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "quote.h"

/* Where "\n" INTERRUPT_MARK " " begins in s, or NULL. */
static const char *find_mark(const char *s, size_t n)
{
	static const char mark[] = "\n" INTERRUPT_MARK " ";
	size_t m = sizeof mark - 1;

	for (size_t i = 0; i + m <= n; i++)
		if (s[i] == '\n' && memcmp(s + i, mark, m) == 0)
			return s + i;
	return NULL;
}

/*
 * Whether held holds the whole mark line: 1 (and *pid, *end past it), 0
 * when more may come, -1 when a line there is not the mark.
 */
static int parse_mark(const char *at, const char *stop, long *pid, const char **end)
{
	const char *p = at + sizeof("\n" INTERRUPT_MARK " ") - 1;
	long v = 0;

	for (; p < stop && *p >= '0' && *p <= '9'; p++) {
		if (v > 100000000L)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (p == stop)
		return 0;
	if (*p != '\n' || v <= 0)
		return -1;
	*pid = v;
	*end = p + 1;
	return 1;
}

static void pass_all(struct interrupt_scan *s, struct buf *out)
{
	buf_add(out, s->held.s, s->held.len);
	buf_free(&s->held);
	s->done = 1;
}

void interrupt_scan_feed(struct interrupt_scan *s, const char *data, size_t n,
			 struct buf *out)
{
	size_t from = 0;

	if (s->done) {
		buf_add(out, data, n);
		return;
	}
	buf_add(&s->held, data, n);
	for (;;) {
		const char *base = s->held.s, *end = NULL;
		const char *at = base ? find_mark(base + from, s->held.len - from) : NULL;
		int r = at ? parse_mark(at, base + s->held.len, &s->pid, &end) : 0;

		if (r < 0) {
			from = (size_t)(at - base) + 1;	/* not the mark: look further */
		} else if (r > 0) {
			buf_add(out, base, (size_t)(at - base));
			buf_add(out, end, s->held.len - (size_t)(end - base));
			buf_free(&s->held);
			s->done = 1;
			return;
		} else {
			/* no whole mark yet: wait for more, unless there is no more */
			if (n == 0 || s->held.len > INTERRUPT_SCAN_MAX)
				pass_all(s, out);
			return;
		}
	}
}

void interrupt_scan_free(struct interrupt_scan *s)
{
	buf_free(&s->held);
}

static const char *signal_name(int signo)
{
	switch (signo) {
	case SIGINT: return "INT";
	case SIGHUP: return "HUP";
	case SIGKILL: return "KILL";
	default: return "TERM";
	}
}

void interrupt_command(struct buf *cmd, int signo, long pid)
{
	/* dash and mksh need '--' before a negative PID; busybox refuses it */
	static const char script[] =
		"kill -s \"$1\" -- \"-$2\" 2>/dev/null || kill -s \"$1\" \"-$2\" 2>/dev/null || "
		"kill -s \"$1\" \"$2\" 2>/dev/null; exit 0";
	char num[24];

	snprintf(num, sizeof num, "%ld", pid);
	buf_adds(cmd, "exec sh -c ");
	sh_quote(cmd, script);
	buf_adds(cmd, " sidecar ");
	buf_adds(cmd, signal_name(signo));
	buf_addc(cmd, ' ');
	buf_adds(cmd, num);
}
