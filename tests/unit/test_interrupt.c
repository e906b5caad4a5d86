/*
 * test_interrupt: the mark that names the remote command's process group
 * is taken out of stderr exactly, however the bytes arrive, and the
 * command line that signals the group.
 */
#include "interrupt.h"
#include "unit.h"

#include <signal.h>
#include <string.h>

/* Feeds in in pieces of step bytes, then EOF; what passed on, and the pid. */
static long scan(const char *in, size_t step, struct buf *out)
{
	struct interrupt_scan s = { BUF_INIT, 0, 0 };
	size_t n = strlen(in);
	long pid;

	buf_reset(out);
	for (size_t i = 0; i < n; i += step)
		interrupt_scan_feed(&s, in + i, n - i < step ? n - i : step, out);
	interrupt_scan_feed(&s, NULL, 0, out);
	pid = s.pid;
	interrupt_scan_free(&s);
	return pid;
}

static void check_scan(const char *in, const char *want, long want_pid, const char *what)
{
	struct buf out = BUF_INIT;
	static const size_t steps[] = { 1, 2, 3, 7, 4096 };

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		long pid = scan(in, steps[i], &out);
		CHECK_STR(buf_str(&out), want, what);
		CHECK_INT(pid, want_pid, what);
	}
	buf_free(&out);
}

static void test_scan(void)
{
	check_scan("\nSIDECAR-PID 42\n", "", 42, "the mark alone");
	check_scan("\nSIDECAR-PID 42\nerr\n", "err\n", 42, "what follows passes on");
	check_scan("motd\n\nSIDECAR-PID 7\nx", "motd\nx", 7, "a login shell's line before it");
	check_scan("partial\nSIDECAR-PID 7\n", "partial", 7, "a partial line before it");
	check_scan("\nSIDECAR-PID 1\n\nSIDECAR-PID 2\n", "\nSIDECAR-PID 2\n", 1,
		   "only the first mark is sidecar's; a later one is the command's");
	check_scan("\nSIDECAR-PID x\n", "\nSIDECAR-PID x\n", 0, "not a number: not the mark");
	check_scan("\nSIDECAR-PID 0\n", "\nSIDECAR-PID 0\n", 0, "pid 0 is not a process");
	check_scan("\nSIDECAR-PID 12", "\nSIDECAR-PID 12", 0, "cut short: passed on at EOF");
	check_scan("no mark at all\n", "no mark at all\n", 0, "no mark: everything at EOF");
	check_scan("", "", 0, "nothing");
}

static void test_scan_bound(void)
{
	struct interrupt_scan s = { BUF_INIT, 0, 0 };
	struct buf out = BUF_INIT;
	char chunk[4096];

	memset(chunk, 'x', sizeof chunk);
	for (size_t sent = 0; sent <= INTERRUPT_SCAN_MAX; sent += sizeof chunk)
		interrupt_scan_feed(&s, chunk, sizeof chunk, &out);
	CHECK(out.len > INTERRUPT_SCAN_MAX, "past the bound, held bytes pass on without EOF");
	size_t before = out.len;
	interrupt_scan_feed(&s, "\nSIDECAR-PID 5\n", 15, &out);
	CHECK_INT((long)(out.len - before), 15L, "and a mark after that is not looked for");
	CHECK_INT(s.pid, 0L, "no pid");
	interrupt_scan_free(&s);
	buf_free(&out);
}

static void test_command(void)
{
	struct buf cmd = BUF_INIT;

	interrupt_command(&cmd, SIGINT, 123);
	CHECK(strncmp(cmd.s, "exec sh -c '", 12) == 0, "sh runs it, whatever the login shell");
	CHECK(strstr(cmd.s, "' sidecar INT 123") != NULL, "the signal by name, then the pid");
	buf_reset(&cmd);
	interrupt_command(&cmd, SIGKILL, 9);
	CHECK(strstr(cmd.s, "' sidecar KILL 9") != NULL, "SIGKILL");
	buf_reset(&cmd);
	interrupt_command(&cmd, SIGHUP, 9);
	CHECK(strstr(cmd.s, "' sidecar HUP 9") != NULL, "SIGHUP");
	buf_reset(&cmd);
	interrupt_command(&cmd, SIGTERM, 9);
	CHECK(strstr(cmd.s, "' sidecar TERM 9") != NULL, "SIGTERM");
	buf_free(&cmd);
}

int main(void)
{
	test_scan();
	test_scan_bound();
	test_command();
	return unit_done();
}
