/*
 * test_core: the pure cores (quoting, durations, backoff arithmetic,
 * argument parsing, exit statuses) and the process layer, tested directly.
 *
 * The pure parts run first; sig_init() comes before the process tests,
 * since proc relies on its self-pipe and its SIGCHLD handler.
 */
#include "backoff.h"
#include "buf.h"
#include "cli.h"
#include "conn.h"
#include "conn_int.h"
#include "duration.h"
#include "err.h"
#include "fanout.h"
#include "proc.h"
#include "quote.h"
#include "sig.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB 1048576

/* --- sh_quote -------------------------------------------------------------- */

static void check_quote(const char *in, const char *want, const char *what)
{
	struct buf b = BUF_INIT;
	sh_quote(&b, in);
	CHECK_STR(buf_str(&b), want, what);
	buf_free(&b);
}

/* Runs a command with popen and collects all of its stdout. */
static int run_popen(const char *cmd, struct buf *out)
{
	FILE *f = popen(cmd, "r");
	char tmp[4096];
	ssize_t n;

	if (!f)
		return -1;
	for (;;) {
		n = read(fileno(f), tmp, sizeof tmp);
		if (n > 0)
			buf_add(out, tmp, (size_t)n);
		else if (n == 0 || errno != EINTR)
			break;
	}
	return pclose(f);
}

/* The shell must print s back, byte for byte, from its quoted form. */
static void check_quote_round_trip(const char *s, const char *what)
{
	struct buf cmd = BUF_INIT, out = BUF_INIT;
	char label[128];
	int rc;

	buf_adds(&cmd, "printf %s ");
	sh_quote(&cmd, s);
	rc = run_popen(cmd.s, &out);
	snprintf(label, sizeof label, "sh_quote round trip: %s", what);
	CHECK(rc == 0 && out.len == strlen(s) && memcmp(buf_str(&out), s, out.len) == 0, label);
	if (out.len != strlen(s) || memcmp(buf_str(&out), s, out.len) != 0)
		printf("#   got  [%s]\n#   want [%s]\n", buf_str(&out), s);
	buf_free(&cmd);
	buf_free(&out);
}

static void test_quote(void)
{
	static const struct { const char *s, *what; } hostile[] = {
		{ "plain", "plain word" },
		{ "", "empty string" },
		{ "two words", "space" },
		{ "'", "lone single quote" },
		{ "''", "two single quotes" },
		{ "a'b", "embedded single quote" },
		{ "'start and end'", "quotes at both ends" },
		{ "\"", "double quote" },
		{ "\\", "backslash" },
		{ "\\'", "backslash then quote" },
		{ "$(id)", "command substitution" },
		{ "`id`", "backticks" },
		{ "${HOME}", "parameter expansion" },
		{ "$HOME$1$@$*$#$?$$", "special parameters" },
		{ "a;b|c&d", "operators" },
		{ "*?[a-z]", "glob characters" },
		{ "~", "tilde" },
		{ "~root/x", "tilde user" },
		{ "\n", "newline only" },
		{ "line one\nline two\n", "newlines, trailing one kept" },
		{ "\t\r\v\f", "other whitespace" },
		{ "-n", "leading dash" },
		{ "--", "double dash" },
		{ "%s%d%%", "printf directives" },
		{ "!history", "bang" },
		{ "#comment", "hash" },
		{ "a=b c", "assignment lookalike" },
		{ "<in >out 2>&1", "redirections" },
		{ "(subshell) {group}", "grouping" },
		{ "\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", "UTF-8" },
		{ "\xff\xfe\x80", "invalid UTF-8 bytes" },
	};
	char all[256];

	check_quote("plain", "'plain'", "sh_quote: plain word");
	check_quote("", "''", "sh_quote: empty string is ''");
	check_quote("'", "''\\'''", "sh_quote: lone '");
	check_quote("a'b", "'a'\\''b'", "sh_quote: a'b");
	check_quote("a\nb", "'a\nb'", "sh_quote: newline kept verbatim");
	check_quote("$x `y` \\z \"w\"", "'$x `y` '\\\\'z \"w\"'",
		    "sh_quote: $, `, \" untouched; \\ outside the quotes");
	check_quote("a\\", "'a'\\\\''", "sh_quote: a trailing \\ stays outside the quotes");

	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++)
		check_quote_round_trip(hostile[i].s, hostile[i].what);

	/* paths for people, as git prints them with core.quotePath on */
	{
		static const struct { const char *in, *out; } paths[] = {
			{ "plain name.txt", "plain name.txt" },
			{ "a\nb", "\"a\\nb\"" },
			{ "tab\there", "\"tab\\there\"" },
			{ "q\"uote", "\"q\\\"uote\"" },
			{ "back\\slash", "\"back\\\\slash\"" },
			{ "caf\xc3\xa9", "\"caf\\303\\251\"" },
			{ "del\x7f", "\"del\\177\"" },
			{ "bell\a", "\"bell\\a\"" },
		};
		for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
			struct buf b = BUF_INIT;
			path_quote(&b, paths[i].in);
			CHECK_STR(b.s, paths[i].out, "path_quote: as git quotes a path");
			buf_free(&b);
		}
	}

	/* Every byte but NUL, in one word. */
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	check_quote_round_trip(all, "bytes 1 to 255");

	/* Several quoted words stay several words, none split or joined. */
	{
		struct buf cmd = BUF_INIT, out = BUF_INIT;
		buf_adds(&cmd, "printf '[%s]'");
		for (size_t i = 0; i < 6; i++) {
			buf_addc(&cmd, ' ');
			sh_quote(&cmd, hostile[i].s);
		}
		int rc = run_popen(cmd.s, &out);
		CHECK(rc == 0, "sh_quote: several words: shell succeeded");
		CHECK_STR(buf_str(&out), "[plain][][two words]['][''][a'b]",
			  "sh_quote: several words keep their boundaries");
		buf_free(&cmd);
		buf_free(&out);
	}
}

/* --- parse_duration ---------------------------------------------------------- */

static void check_duration(const char *s, long long want)
{
	long long ms = -12345;
	char label[96];
	int rc = parse_duration(s, &ms);

	snprintf(label, sizeof label, "parse_duration(\"%s\") succeeds", s);
	CHECK_INT(rc, 0, label);
	snprintf(label, sizeof label, "parse_duration(\"%s\") = %lld ms", s, want);
	CHECK_INT(ms, want, label);
}

static void check_duration_bad(const char *s)
{
	long long ms = -12345;
	char label[96];
	int rc = parse_duration(s, &ms);

	snprintf(label, sizeof label, "parse_duration rejects \"%s\"", s);
	CHECK(rc == -1, label);
	snprintf(label, sizeof label, "parse_duration(\"%s\") leaves the result alone", s);
	CHECK_INT(ms, -12345, label);
}

static void test_duration(void)
{
	long long ms = 0;

	check_duration("500ms", 500);
	check_duration("2s", 2000);
	check_duration("90", 90000);
	check_duration("1m30s", 90000);
	check_duration("1m", 60000);
	check_duration("1h", 3600000);
	check_duration("0", 0);
	check_duration("0s", 0);
	check_duration("1h2m3s4ms", 3723004);
	check_duration("1s500ms", 1500);
	check_duration("90s", 90000);

	check_duration_bad("");
	check_duration_bad("-1");
	check_duration_bad("2x");
	check_duration_bad("1.5s");
	check_duration_bad("s");
	check_duration_bad("ms");
	check_duration_bad("1m30");
	check_duration_bad("30s1m");
	check_duration_bad("1s1s");
	check_duration_bad("1ms1s");
	check_duration_bad(" 2s");
	check_duration_bad("2s ");
	check_duration_bad("2 s");
	check_duration_bad("+2s");
	check_duration_bad("2S");
	check_duration_bad("99999999999999999999");
	check_duration_bad("99999999999999999999ms");
	check_duration_bad("9223372036854775807ms");
	check_duration_bad("9223372036854775808");
	check_duration_bad("18446744073709551617s");
	check_duration_bad("100000h");
	CHECK(parse_duration(NULL, &ms) == -1, "parse_duration rejects NULL");
}

/* --- backoff ----------------------------------------------------------------- */

static void test_backoff(void)
{
	struct backoff b;
	long long d;

	backoff_init(&b, 2000, 15000, 90000);
	CHECK_INT(backoff_next(&b, 0, 0.0), 1000, "backoff: first delay with u=0 is 0.5 x initial");
	backoff_init(&b, 2000, 15000, 90000);
	d = backoff_next(&b, 0, 0.999999);
	CHECK(d >= 2990 && d <= 3000, "backoff: first delay with u near 1 is near 1.5 x initial");
	backoff_init(&b, 2000, 15000, 90000);
	d = backoff_next(&b, 0, 0.5);
	CHECK(d >= 1999 && d <= 2000, "backoff: first delay with u=0.5 is the initial interval");

	/* u = 0.5 gives the interval itself: x1.5 each time, then the cap. */
	{
		static const long long want[] = { 2000, 3000, 4500, 6750, 10125, 15000, 15000, 15000 };
		int ok = 1;
		backoff_init(&b, 2000, 15000, 1000000);
		for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
			d = backoff_next(&b, 0, 0.5);
			if (d < want[i] - 1 || d > want[i]) {
				ok = 0;
				printf("#   step %zu: got %lld, want %lld\n", i, d, want[i]);
			}
		}
		CHECK(ok, "backoff: interval grows x1.5 and caps at max_interval");
	}

	/* Past the cap, every delay stays within [0.5, 1.5] x max_interval. */
	{
		unsigned long long state = 42;
		int ok = 1;
		backoff_init(&b, 2000, 15000, 100000000);
		for (int i = 0; i < 10; i++)
			backoff_next(&b, 0, 0.5);
		for (int i = 0; i < 1000; i++) {
			d = backoff_next(&b, 0, backoff_random(&state));
			if (d < 7500 || d > 22500)
				ok = 0;
		}
		CHECK(ok, "backoff: capped delays stay within [0.5, 1.5] x max_interval");
		CHECK(b.current_ms == 15000, "backoff: the interval stays at the cap");
	}

	/* A random sequence keeps every delay within [0.5, 1.5] x its interval. */
	{
		unsigned long long state = 7;
		double interval = 2000;
		int ok = 1;
		backoff_init(&b, 2000, 15000, 100000000);
		for (int i = 0; i < 30; i++) {
			d = backoff_next(&b, 0, backoff_random(&state));
			if ((double)d < 0.5 * interval - 1 || (double)d > 1.5 * interval)
				ok = 0;
			interval = interval * 1.5 > 15000 ? 15000 : interval * 1.5;
		}
		CHECK(ok, "backoff: each delay within [0.5, 1.5] x the current interval");
	}

	/* The budget: elapsed + next must not pass max_wait. */
	backoff_init(&b, 2000, 15000, 10000);
	CHECK_INT(backoff_next(&b, 8000, 0.5), 2000, "backoff: elapsed + next = max_wait is allowed");
	backoff_init(&b, 2000, 15000, 10000);
	CHECK_INT(backoff_next(&b, 8001, 0.5), -1, "backoff: elapsed + next > max_wait stops");
	backoff_init(&b, 2000, 15000, 10000);
	CHECK_INT(backoff_next(&b, 20000, 0.0), -1, "backoff: elapsed past the budget stops");
	backoff_init(&b, 2000, 15000, 0);
	CHECK_INT(backoff_next(&b, 0, 0.0), -1, "backoff: max_wait 0 stops at once");
	backoff_init(&b, 50, 200, 0);
	CHECK_INT(backoff_next(&b, 0, 0.5), -1, "backoff: max_wait 0 stops at once, short intervals");

	/* Another budget than the backoff's own (--auth-wait). */
	backoff_init(&b, 2000, 15000, 0);
	CHECK_INT(backoff_next_within(&b, 8000, 10000, 0.5), 2000,
		  "backoff: within another budget, elapsed + next = budget is allowed");
	backoff_init(&b, 2000, 15000, 100000);
	CHECK_INT(backoff_next_within(&b, 8001, 10000, 0.5), -1,
		  "backoff: within another budget, past it stops, whatever max_wait");

	/* An initial interval above the cap starts at the cap. */
	backoff_init(&b, 30000, 15000, 1000000);
	d = backoff_next(&b, 0, 0.5);
	CHECK(d >= 14999 && d <= 15000, "backoff: initial above max_interval is capped");

	/* Millisecond intervals, as the tests use them. */
	backoff_init(&b, 50, 200, 1000);
	CHECK_INT(backoff_next(&b, 0, 0.0), 25, "backoff: 50ms initial, u=0 gives 25ms");

	/* A whole sequence, elapsed advancing by the delays (and by attempts
	   that take time), never passes the budget, and uses most of it. */
	{
		static const long long attempt_ms[] = { 0, 1, 300, 4999 };
		for (size_t k = 0; k < sizeof attempt_ms / sizeof attempt_ms[0]; k++) {
			long long elapsed = 0;
			int steps = 0, ok = 1;
			char label[128];
			backoff_init(&b, 2000, 15000, 90000);
			for (;;) {
				elapsed += attempt_ms[k];
				d = backoff_next(&b, elapsed, 0.5);
				if (d < 0)
					break;
				elapsed += d;
				if (elapsed > 90000)
					ok = 0;
				if (++steps > 1000) {
					ok = 0;
					break;
				}
			}
			snprintf(label, sizeof label,
				 "backoff: a whole sequence stays within the budget (attempts %lldms)",
				 attempt_ms[k]);
			CHECK(ok && elapsed <= 90000, label);
			snprintf(label, sizeof label,
				 "backoff: it stops only when the next sleep would not fit (attempts %lldms)",
				 attempt_ms[k]);
			/* With u = 0.5 the refused delay was the interval, at most 15s. */
			CHECK(elapsed > 90000 - 15000 - attempt_ms[k], label);
		}
	}

	/* backoff_random: [0, 1), and not stuck. */
	{
		static const unsigned long long seeds[] = { 0, 1, 42, ~0ULL, 0x9e3779b97f4a7c15ULL };
		int ok = 1, low = 0, high = 0;
		for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
			unsigned long long state = seeds[k];
			for (int i = 0; i < 100000; i++) {
				double u = backoff_random(&state);
				if (!(u >= 0.0 && u < 1.0))
					ok = 0;
				low += u < 0.1;
				high += u > 0.9;
			}
		}
		CHECK(ok, "backoff_random stays in [0, 1)");
		CHECK(low > 40000 && high > 40000, "backoff_random spreads over [0, 1)");
		unsigned long long s1 = 5, s2 = 5;
		double a = backoff_random(&s1), c = backoff_random(&s2);
		CHECK(a == c, "backoff_random is a function of its state");
		CHECK(backoff_random(&s1) != a, "backoff_random advances its state");
	}
}

/* --- cli_parse --------------------------------------------------------------- */

/* An argv of owned, writable copies, as main() receives it. */
struct argv_copy {
	int argc;
	char *argv[32];
};

static void argv_make(struct argv_copy *v, va_list ap)
{
	const char *s;
	v->argc = 0;
	while ((s = va_arg(ap, const char *)) && v->argc < 31)
		v->argv[v->argc++] = xstrdup(s);
	v->argv[v->argc] = NULL;
}

static void argv_free(struct argv_copy *v)
{
	for (int i = 0; i < v->argc; i++)
		free(v->argv[i]);
	v->argc = 0;
}

/* cli_parse with its stderr (the usage messages) sent to /dev/null. */
static int parse_quiet(struct argv_copy *v, struct args *a, ...)
{
	va_list ap;
	int saved, null, rc;

	va_start(ap, a);
	argv_make(v, ap);
	va_end(ap);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY);
	if (null >= 0) {
		dup2(null, STDERR_FILENO);
		close(null);
	}
	rc = cli_parse(v->argc, v->argv, a);
	fflush(stderr);
	if (saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
	}
	return rc;
}

static const char *strv_at(const struct strv *s, size_t i)
{
	return i < s->n ? s->v[i] : NULL;
}

static void test_cli(void)
{
	struct argv_copy v;
	struct args a;
	int rc;

	/* Defaults of DESIGN section 1. */
	rc = parse_quiet(&v, &a, "wait", "box", (char *)NULL);
	CHECK_INT(rc, 0, "cli: wait DEST parses");
	CHECK_STR(a.command, "wait", "cli: command is wait");
	CHECK_INT(a.positional.n, 1, "cli: one positional");
	CHECK_STR(strv_at(&a.positional, 0), "box", "cli: DEST");
	CHECK_INT(a.conn.max_wait_ms, 90000, "cli: default --max-wait 90s");
	CHECK_INT(a.conn.initial_ms, 2000, "cli: default --initial-interval 2s");
	CHECK_INT(a.conn.max_interval_ms, 15000, "cli: default --max-interval 15s");
	CHECK_INT(a.conn.connect_timeout_ms, 10000, "cli: default --connect-timeout 10s");
	CHECK_INT(a.conn.persist_ms, 600000, "cli: default --persist 10m");
	CHECK_INT(a.verbosity, 0, "cli: default verbosity");
	CHECK_INT(a.dashdash, 0, "cli: no --");
	cli_free(&a);
	argv_free(&v);

	/* Options before and after DEST. */
	rc = parse_quiet(&v, &a, "wait", "--max-wait", "5s", "box", (char *)NULL);
	CHECK(rc == 0 && a.conn.max_wait_ms == 5000, "cli: option before DEST");
	CHECK_STR(strv_at(&a.positional, 0), "box", "cli: DEST after an option");
	cli_free(&a);
	argv_free(&v);
	rc = parse_quiet(&v, &a, "wait", "box", "--max-wait", "5s", (char *)NULL);
	CHECK(rc == 0 && a.conn.max_wait_ms == 5000, "cli: option after DEST");
	CHECK_STR(strv_at(&a.positional, 0), "box", "cli: DEST before an option");
	CHECK_INT(a.positional.n, 1, "cli: the option's value is not a positional");
	cli_free(&a);
	argv_free(&v);

	/* --opt=value, every duration option. */
	rc = parse_quiet(&v, &a, "wait", "--max-wait=1m30s", "--initial-interval=50ms",
			 "--max-interval=200ms", "--connect-timeout=3s", "--persist=0", "box",
			 (char *)NULL);
	CHECK_INT(rc, 0, "cli: --opt=value parses");
	CHECK_INT(a.conn.max_wait_ms, 90000, "cli: --max-wait=1m30s");
	CHECK_INT(a.conn.initial_ms, 50, "cli: --initial-interval=50ms");
	CHECK_INT(a.conn.max_interval_ms, 200, "cli: --max-interval=200ms");
	CHECK_INT(a.conn.connect_timeout_ms, 3000, "cli: --connect-timeout=3s");
	CHECK_INT(a.conn.persist_ms, 0, "cli: --persist=0");
	cli_free(&a);
	argv_free(&v);

	/* Clustered short options, and short options with attached values. */
	rc = parse_quiet(&v, &a, "sync", "-nq", "box", (char *)NULL);
	CHECK(rc == 0 && a.dry_run == 1 && a.verbosity == -1, "cli: clustered -nq");
	cli_free(&a);
	argv_free(&v);
	rc = parse_quiet(&v, &a, "sync", "-vn", "-wdir", "box", (char *)NULL);
	CHECK(rc == 0 && a.dry_run == 1 && a.verbosity == 1, "cli: clustered -vn");
	CHECK_STR(a.workdir, "dir", "cli: -wdir attaches the value");
	cli_free(&a);
	argv_free(&v);
	rc = parse_quiet(&v, &a, "sync", "-nw", "some dir", "box", (char *)NULL);
	CHECK(rc == 0 && a.dry_run == 1, "cli: -nw VALUE: flag then option");
	CHECK_STR(a.workdir, "some dir", "cli: -nw VALUE takes the next word");
	CHECK_STR(strv_at(&a.positional, 0), "box", "cli: -nw VALUE then DEST");
	cli_free(&a);
	argv_free(&v);

	/* Global options before the command. */
	rc = parse_quiet(&v, &a, "-C", "/tmp", "-v", "status", "--json", (char *)NULL);
	CHECK(rc == 0 && a.verbosity == 1 && a.json == 1, "cli: global -C and -v before the command");
	CHECK_STR(a.chdir, "/tmp", "cli: -C DIR");
	CHECK_STR(a.command, "status", "cli: command after global options");
	cli_free(&a);
	argv_free(&v);

	/* Repeatable -o, -i and -F. */
	rc = parse_quiet(&v, &a, "wait", "-o", "Port=2222", "--ssh-option", "User=me",
			 "-i", "key", "-F", "cfg", "box", (char *)NULL);
	CHECK_INT(rc, 0, "cli: -o, -i, -F parse");
	CHECK(a.conn.options && a.conn.options[0] && a.conn.options[1] && !a.conn.options[2],
	      "cli: two -o options kept");
	if (a.conn.options && a.conn.options[0] && a.conn.options[1]) {
		CHECK_STR(a.conn.options[0], "Port=2222", "cli: first -o");
		CHECK_STR(a.conn.options[1], "User=me", "cli: second -o");
	}
	CHECK_STR(a.conn.identity, "key", "cli: -i");
	CHECK_STR(a.conn.config, "cfg", "cli: -F");
	cli_free(&a);
	argv_free(&v);

	/* "--" ends the options. */
	rc = parse_quiet(&v, &a, "exec", "-w", "ws", "box", "--", "ls", "-la", "--max-wait", "x",
			 "--", (char *)NULL);
	CHECK_INT(rc, 0, "cli: exec with -- parses");
	CHECK_INT(a.dashdash, 1, "cli: -- seen");
	CHECK_INT(a.positional.n, 1, "cli: one positional before --");
	CHECK_INT(a.rest.n, 5, "cli: five words after --");
	CHECK_STR(strv_at(&a.rest, 0), "ls", "cli: rest[0]");
	CHECK_STR(strv_at(&a.rest, 1), "-la", "cli: an option-looking word after -- is kept");
	CHECK_STR(strv_at(&a.rest, 2), "--max-wait", "cli: a sidecar option after -- is kept");
	CHECK_STR(strv_at(&a.rest, 4), "--", "cli: a second -- is kept");
	CHECK_INT(a.conn.max_wait_ms, 90000, "cli: options after -- are not applied");
	cli_free(&a);
	argv_free(&v);
	rc = parse_quiet(&v, &a, "exec", "--", "-v", (char *)NULL);
	CHECK(rc == 0 && a.verbosity == 0 && a.rest.n == 1, "cli: -v after -- is the command's");
	cli_free(&a);
	argv_free(&v);

	/* -e validation. */
	rc = parse_quiet(&v, &a, "exec", "-e", "FOO=bar baz", "--env", "_X1=", "-e", "A=b=c",
			 "box", "--", "true", (char *)NULL);
	CHECK_INT(rc, 0, "cli: valid -e assignments");
	CHECK_INT(a.env.n, 3, "cli: three -e kept");
	CHECK_STR(strv_at(&a.env, 0), "FOO=bar baz", "cli: -e value verbatim");
	CHECK_STR(strv_at(&a.env, 1), "_X1=", "cli: -e empty value");
	CHECK_STR(strv_at(&a.env, 2), "A=b=c", "cli: -e value with =");
	cli_free(&a);
	argv_free(&v);
	{
		static const char *const bad_env[] = { "1X=3", "NOEQ", "=v", "A B=1", "A-B=1", "" };
		for (size_t i = 0; i < sizeof bad_env / sizeof bad_env[0]; i++) {
			char label[64];
			rc = parse_quiet(&v, &a, "exec", "-e", bad_env[i], "box", "--", "true",
					 (char *)NULL);
			snprintf(label, sizeof label, "cli: -e '%s' is a usage error", bad_env[i]);
			CHECK_INT(rc, ERR_USAGE, label);
			cli_free(&a);
			argv_free(&v);
		}
	}

	/* Usage errors. */
	{
		static const char *const bad[][4] = {
			{ "wait", "--max-wait", "2x", NULL },
			{ "wait", "--max-wait", "1.5s", NULL },
			{ "wait", "--max-wait=-1", NULL, NULL },
			{ "wait", "--persist", "forever", NULL },
			{ "wait", "--connect-timeout", "", NULL },
			{ "wait", "--bogus", NULL, NULL },
			{ "wait", "-Z", NULL, NULL },
			{ "wait", "--json", NULL, NULL },
			{ "wait", "--max-wait", NULL, NULL },
			{ "exec", "-w", NULL, NULL },
			{ "sync", "--mode", "rsync", NULL },
			{ "sync", "--dry-run=yes", NULL, NULL },
			{ "frobnicate", NULL, NULL, NULL },
			{ "--bogus", "wait", NULL, NULL },
		};
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			char label[128];
			rc = parse_quiet(&v, &a, bad[i][0], bad[i][1], bad[i][2], bad[i][3],
					 (char *)NULL);
			snprintf(label, sizeof label, "cli: usage error: %s %s %s", bad[i][0],
				 bad[i][1] ? bad[i][1] : "", bad[i][2] ? bad[i][2] : "");
			CHECK_INT(rc, ERR_USAGE, label);
			cli_free(&a);
			argv_free(&v);
		}
	}
	rc = parse_quiet(&v, &a, (char *)NULL);
	CHECK_INT(rc, ERR_USAGE, "cli: no command is a usage error");
	cli_free(&a);
	argv_free(&v);
	rc = parse_quiet(&v, &a, "--help", (char *)NULL);
	CHECK(rc == 0 && a.help == 1, "cli: --help alone");
	cli_free(&a);
	argv_free(&v);
	rc = parse_quiet(&v, &a, "exec", "--help", (char *)NULL);
	CHECK(rc == 0 && a.help == 1, "cli: exec --help");
	cli_free(&a);
	argv_free(&v);
}

/* --- proc -------------------------------------------------------------------- */

static int run_argv(struct proc *p, const char *const *argv)
{
	proc_init(p, argv);
	p->in = IO_NULL;
	p->out = IO_NULL;
	p->err = IO_NULL;
	p->timeout_ms = 10000;
	return proc_run(p);
}

static void test_proc(void)
{
	struct proc p;
	int rc;

	{
		const char *const argv[] = { "/bin/sh", "-c", "exit 7", NULL };
		rc = run_argv(&p, argv);
		CHECK_INT(rc, 7, "proc: exit 7 is 7");
		CHECK_INT(p.exec_errno, 0, "proc: exec worked");
	}
	{
		const char *const argv[] = { "true", NULL };
		CHECK_INT(run_argv(&p, argv), 0, "proc: true from PATH is 0");
	}
	{
		const char *const argv[] = { "/nonexistent/sidecar-no-such-program", NULL };
		rc = run_argv(&p, argv);
		CHECK_INT(rc, 127, "proc: a missing program is 127");
		CHECK_INT(p.exec_errno, ENOENT, "proc: exec_errno is ENOENT");
	}
	{
		const char *const argv[] = { "sidecar-no-such-program-in-path", NULL };
		rc = run_argv(&p, argv);
		CHECK_INT(rc, 127, "proc: a program missing from PATH is 127");
		CHECK_INT(p.exec_errno, ENOENT, "proc: PATH lookup: exec_errno is ENOENT");
	}
	{
		char path[] = "/tmp/sidecar-test-core-XXXXXX";
		int fd = mkstemp(path);
		CHECK(fd >= 0, "proc: made a temporary file");
		if (fd >= 0) {
			(void)!write(fd, "#!/bin/sh\nexit 0\n", 17);
			close(fd);
			chmod(path, 0644);
			const char *const argv[] = { path, NULL };
			rc = run_argv(&p, argv);
			CHECK_INT(rc, 126, "proc: a file that is not executable is 126");
			CHECK_INT(p.exec_errno, EACCES, "proc: exec_errno is EACCES");
			unlink(path);
		}
	}
	{
		const char *const argv[] = { "/bin/sh", "-c", "kill -TERM $$", NULL };
		CHECK_INT(run_argv(&p, argv), 143, "proc: killed by SIGTERM is 143");
	}
	{
		const char *const argv[] = { "/bin/sh", "-c", "kill -INT $$", NULL };
		CHECK_INT(run_argv(&p, argv), 130, "proc: killed by SIGINT is 130");
	}

	/* The child gets exactly stdin, stdout and stderr. */
	{
		const char *const argv[] = { "/bin/sh", "-c", "ls /proc/self/fd", NULL };
		struct buf out = BUF_INIT;
		proc_init(&p, argv);
		p.out = IO_PIPE;
		p.out_buf = &out;
		p.timeout_ms = 10000;
		rc = proc_run(&p);
		CHECK_INT(rc, 0, "proc: listing the child's descriptors");
		/* ls itself opens one to read the directory: 0 1 2 and that. */
		int count = 0;
		for (const char *s = buf_str(&out); *s; s++)
			count += *s == '\n';
		CHECK(count <= 4, "proc: the child inherits no stray descriptors");
		if (count > 4)
			printf("#   descriptors: %s", buf_str(&out));
		buf_free(&out);
	}

	/* 1 MB on stdout and on stderr at once: no deadlock. stderr is written
	   first, so reading stdout to EOF first would hang. */
	{
		const char *const argv[] = { "/bin/sh", "-c",
			"head -c 1048576 /dev/zero >&2; head -c 1048576 /dev/zero | tr '\\0' x; "
			"head -c 1048576 /dev/zero | tr '\\0' y >&2", NULL };
		struct buf out = BUF_INIT, err = BUF_INIT;
		long long t0 = now_ms();
		proc_init(&p, argv);
		p.in = IO_NULL;
		p.out = p.err = IO_PIPE;
		p.out_buf = &out;
		p.err_buf = &err;
		p.timeout_ms = 20000;
		rc = proc_run(&p);
		CHECK_INT(rc, 0, "proc: 1 MB to stdout and 2 MB to stderr: status 0");
		CHECK_INT(p.timed_out, 0, "proc: big output: no deadlock (not timed out)");
		CHECK_INT(out.len, MIB, "proc: all of stdout collected");
		CHECK_INT(err.len, 2 * MIB, "proc: all of stderr collected");
		CHECK(now_ms() - t0 < 10000, "proc: big output is quick");
		buf_free(&out);
		buf_free(&err);
	}

	/* 1 MB of stdin through cat comes back byte for byte. */
	{
		const char *const argv[] = { "cat", NULL };
		struct buf out = BUF_INIT;
		char *data = xmalloc(MIB);
		unsigned long long st = 99;
		for (size_t i = 0; i < MIB; i++)
			data[i] = (char)(backoff_random(&st) * 256);
		proc_init(&p, argv);
		p.in = p.out = IO_PIPE;
		p.in_data = data;
		p.in_len = MIB;
		p.out_buf = &out;
		p.timeout_ms = 20000;
		rc = proc_run(&p);
		CHECK_INT(rc, 0, "proc: cat with 1 MB stdin: status 0");
		CHECK_INT(p.timed_out, 0, "proc: stdin 1 MB: not timed out");
		CHECK_INT(p.bytes_in, MIB, "proc: bytes_in counts all of stdin");
		CHECK(out.len == MIB && memcmp(out.s, data, MIB) == 0,
		      "proc: 1 MB of stdin round trips through cat");
		free(data);
		buf_free(&out);
	}

	/* stdin from a descriptor, after in_data. */
	{
		const char *const argv[] = { "cat", NULL };
		struct buf out = BUF_INIT;
		int fds[2];
		CHECK(pipe(fds) == 0, "proc: made a pipe");
		(void)!write(fds[1], "tail", 4);
		close(fds[1]);
		proc_init(&p, argv);
		p.in = p.out = IO_PIPE;
		p.in_data = "head-";
		p.in_len = 5;
		p.in_src = fds[0];
		p.out_buf = &out;
		p.timeout_ms = 10000;
		rc = proc_run(&p);
		CHECK_INT(rc, 0, "proc: in_data then in_src: status 0");
		CHECK_STR(buf_str(&out), "head-tail", "proc: in_data then in_src, in order");
		close(fds[0]);
		buf_free(&out);
	}

	/* A child that stops reading stdin early is not an error of ours. */
	{
		const char *const argv[] = { "/bin/sh", "-c", "head -c 10 >/dev/null; exit 3", NULL };
		char *data = xmalloc(4 * MIB);
		memset(data, 'z', 4 * MIB);
		proc_init(&p, argv);
		p.in = IO_PIPE;
		p.in_data = data;
		p.in_len = 4 * MIB;
		p.timeout_ms = 10000;
		rc = proc_run(&p);
		CHECK_INT(rc, 3, "proc: child closing stdin early: its status, no hang");
		CHECK_INT(p.timed_out, 0, "proc: child closing stdin early: not timed out");
		free(data);
	}

	/* Extra environment reaches the child, replacing ours. */
	{
		const char *const argv[] = { "/bin/sh", "-c", "printf '%s|%s' \"$SC_A\" \"$SC_B\"", NULL };
		const char *const env[] = { "SC_A=one two", "SC_B=new", NULL };
		struct buf out = BUF_INIT;
		setenv("SC_B", "old", 1);
		proc_init(&p, argv);
		p.env = env;
		p.out = IO_PIPE;
		p.out_buf = &out;
		p.timeout_ms = 10000;
		rc = proc_run(&p);
		CHECK_STR(buf_str(&out), "one two|new", "proc: extra environment replaces ours");
		unsetenv("SC_B");
		buf_free(&out);
	}

	/* timeout_ms bounds the wall clock. */
	{
		const char *const argv[] = { "sleep", "5", NULL };
		long long t0 = now_ms(), spent;
		proc_init(&p, argv);
		p.in = p.out = p.err = IO_NULL;
		p.timeout_ms = 200;
		rc = proc_run(&p);
		spent = now_ms() - t0;
		CHECK_INT(p.timed_out, 1, "proc: timeout_ms 200 on sleep 5: timed_out set");
		CHECK_INT(rc, 128 + 9, "proc: timed out child: status 128+SIGKILL");
		CHECK(spent >= 150 && spent < 1000, "proc: timeout returns within 1s");
		if (spent >= 1000 || spent < 150)
			printf("#   took %lld ms\n", spent);
	}

	/* The bound also holds when a grandchild keeps the pipes open. */
	{
		const char *const argv[] = { "/bin/sh", "-c", "sleep 5 & sleep 5; :", NULL };
		struct buf out = BUF_INIT;
		long long t0 = now_ms(), spent;
		proc_init(&p, argv);
		p.in = IO_NULL;
		p.out = IO_PIPE;
		p.out_buf = &out;
		p.own_group = 1;
		p.timeout_ms = 200;
		rc = proc_run(&p);
		spent = now_ms() - t0;
		CHECK_INT(p.timed_out, 1, "proc: own group, timeout: timed_out set");
		CHECK(spent < 1000, "proc: own group, timeout: returns within 1s");
		if (spent >= 1000)
			printf("#   took %lld ms\n", spent);
		buf_free(&out);
	}

	/* No bound: a quick child is not marked timed out. */
	{
		const char *const argv[] = { "/bin/sh", "-c", "echo hi", NULL };
		struct buf out = BUF_INIT;
		proc_init(&p, argv);
		p.out = IO_PIPE;
		p.out_buf = &out;
		rc = proc_run(&p);
		CHECK(rc == 0 && !p.timed_out, "proc: no bound, quick child");
		CHECK_STR(buf_str(&out), "hi\n", "proc: stdout collected");
		buf_free(&out);
	}
}

/* PATH resolution in the parent, and a child whose grandchild writes late. */
static void test_proc_pump(void)
{
	struct proc p;
	int err;
	char *path;

	path = proc_resolve("sh", "/nonexistent-dir::/bin", &err);
	CHECK_STR(path, "/bin/sh", "proc_resolve: found in a later PATH entry");
	free(path);
	path = proc_resolve("sidecar-no-such-program", "/bin:/usr/bin", &err);
	CHECK(!path && err == ENOENT, "proc_resolve: nowhere is ENOENT");
	path = proc_resolve("./x/y", "/bin", &err);
	CHECK_STR(path, "./x/y", "proc_resolve: a name with a slash is used as it is");
	free(path);
	{
		char dir[] = "/tmp/sidecar-test-path-XXXXXX", file[64];
		if (mkdtemp(dir)) {
			snprintf(file, sizeof file, "%s/tool", dir);
			FILE *f = fopen(file, "w");
			if (f)
				fclose(f);
			chmod(file, 0644);
			path = proc_resolve("tool", dir, &err);
			CHECK(!path && err == EACCES, "proc_resolve: found but not executable is EACCES");
			unlink(file);
			rmdir(dir);
		}
	}
	{
		/* output written after the child exited, by its grandchild */
		const char *const argv[] = { "/bin/sh", "-c",
			"(sleep 0.4; echo late) & echo early", NULL };
		struct buf out = BUF_INIT;
		proc_init(&p, argv);
		p.in = IO_NULL;
		p.out = IO_PIPE;
		p.out_buf = &out;
		p.timeout_ms = 10000;
		CHECK_INT(proc_run(&p), 0, "proc: a child that leaves a writer behind is 0");
		CHECK_STR(buf_str(&out), "early\nlate\n", "proc: a grandchild's late output is not cut off");
		buf_free(&out);
	}
}

/* --- err_exit: the one mapping to exit statuses ---------------------------- */

static void test_err_exit(void)
{
	CHECK(ERR_OK < ERR_FAIL && ERR_FAIL < ERR_USAGE && ERR_USAGE < ERR_PERMANENT &&
	      ERR_PERMANENT < ERR_UNREACHABLE && ERR_UNREACHABLE < ERR_NOEXEC &&
	      ERR_NOEXEC < ERR_NOTFOUND && ERR_NOTFOUND < ERR_SIGNAL,
	      "err: ordered by severity, as fan-out ranks results (4 over 3 over 1)");
	CHECK_INT(err_exit(ERR_OK, -1, 0, 0), 0, "err: success is 0");
	CHECK_INT(err_exit(ERR_FAIL, -1, 0, 0), 1, "err: a failed operation is 1");
	CHECK_INT(err_exit(ERR_USAGE, -1, 0, 0), 2, "err: usage is 2");
	CHECK_INT(err_exit(ERR_PERMANENT, -1, 0, 0), 3, "err: a permanent ssh failure is 3");
	CHECK_INT(err_exit(ERR_UNREACHABLE, -1, 0, 0), 4, "err: unreachable is 4");
	CHECK_INT(err_exit(ERR_NOEXEC, -1, 0, 0), 126, "err: not executable is 126");
	CHECK_INT(err_exit(ERR_NOTFOUND, -1, 0, 0), 127, "err: not found is 127");
	CHECK_INT(err_exit(ERR_SIGNAL, -1, 0, 15), 143, "err: SIGTERM is 143");
	CHECK_INT(err_exit(ERR_FAIL, -1, 0, 2), 130, "err: any failure after Ctrl-C is 130");
	CHECK_INT(err_exit(ERR_OK, -1, 0, 2), 0, "err: a success that outran Ctrl-C stays 0");
	CHECK_INT(err_exit(ERR_DROPPED, -1, 0, 0), 1, "err: an internal error that escaped is 1");
	/* exec and ssh */
	CHECK_INT(err_exit(ERR_OK, 3, 1, 0), 3, "err: a remote command's 3 passes through");
	CHECK_INT(err_exit(ERR_OK, 255, 1, 0), 255, "err: a remote command's 255 passes through");
	CHECK_INT(err_exit(ERR_OK, 0, 1, 0), 0, "err: a remote command's 0 passes through");
	CHECK_INT(err_exit(ERR_UNREACHABLE, -1, 1, 0), 255, "err: exec: unreachable is 255, as ssh");
	CHECK_INT(err_exit(ERR_PERMANENT, -1, 1, 0), 255, "err: exec: permanent is 255, as ssh");
	CHECK_INT(err_exit(ERR_USAGE, -1, 1, 0), 2, "err: exec: usage stays 2");
	CHECK_INT(err_exit(ERR_NOTFOUND, -1, 1, 0), 127, "err: exec: no ssh stays 127");
	CHECK_INT(err_exit(ERR_OK, 1, 1, 2), 130, "err: exec: the remote command's failure after Ctrl-C is 130");
}

static void check_forward(const char *spec, int rc, unsigned local, unsigned remote)
{
	struct forward f = { 0, 0 };
	CHECK_INT(forward_parse(spec, &f), rc, spec);
	if (rc == 0) {
		CHECK_INT(f.local, local, spec);
		CHECK_INT(f.remote, remote, spec);
	}
}

/* The record after a change by master 42. */
static void check_record(const char *record, const struct forward *f, int add, const char *want,
			 const char *what)
{
	struct buf out = BUF_INIT;
	forward_record_update(record, 42, f, add, &out);
	CHECK_STR(buf_str(&out), want, what);
	buf_free(&out);
}

static void test_forward(void)
{
	struct forward f = { 8080, 80 }, g = { 9000, 90 };

	check_forward("8080", 0, 8080, 8080);
	check_forward("9000:80", 0, 9000, 80);
	check_forward("65535:1", 0, 65535, 1);
	check_forward("0", -1, 0, 0);
	check_forward("65536", -1, 0, 0);
	check_forward("080x", -1, 0, 0);
	check_forward(":80", -1, 0, 0);
	check_forward("80:", -1, 0, 0);
	check_forward("1:2:3", -1, 0, 0);
	check_forward("", -1, 0, 0);
	check_forward("-1", -1, 0, 0);
	check_forward("+80", -1, 0, 0);

	check_record(NULL, &f, 1, "42 8080 80\n", "the first forward");
	check_record("42 8080 80\n", &f, 1, "42 8080 80\n", "the same forward again: one line");
	check_record("41 1 2\n42 8080 80\n", &g, 1, "42 8080 80\n42 9000 90\n",
		     "another master's lines are dropped");
	check_record("42 8080 80\n42 9000 90\n", &f, 0, "42 9000 90\n",
		     "cancel removes only that forward");
	check_record("42 8080 80\ngarbage\n42 9000", &g, 0, "42 8080 80\n",
		     "a bad or cut line is dropped");
}

/*
 * A control socket at path whose one client gets greet (NULL: the
 * connection is closed at once, as by a master being killed); returns what
 * conn_socket_listens says of it.
 */
static int listens_with(const char *path, const char *greet)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), rc, status;
	pid_t pid;

	unlink(path);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) || listen(fd, 1))
		return -9;
	if ((pid = fork()) == 0) {
		int c = accept(fd, NULL, NULL);
		if (c >= 0 && greet && write(c, greet, strlen(greet)) > 0)
			(void)read(c, &status, 1);	/* until the client is gone */
		_exit(0);
	}
	rc = conn_socket_listens(path);
	waitpid(pid, &status, 0);
	close(fd);
	unlink(path);
	return rc;
}

static void test_socket_listens(void)
{
	char dir[] = "/tmp/sc-unit-XXXXXX", path[64];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof path, "%s/ctl", dir);
	CHECK_INT(conn_socket_listens(path), 0, "no socket: nothing listens");
	CHECK_INT(listens_with(path, "\x01hello"), 1, "a master that greets listens");
	CHECK_INT(listens_with(path, NULL), 0,
		  "a socket that accepts and closes without a greeting (a master being killed) does not");
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		CHECK_INT(conn_socket_listens(path), 0, "a socket left by a dead master: stale");
	close(fd);
	unlink(path);
	rmdir(dir);
}

static pid_t fan_parent;

/* A task for test_fanout: its rc is named by its dest, its out is the dest. */
static int fan_task(void *ctx, const char *dest, int feed, struct buf *out)
{
	(void)ctx;
	if (feed >= 0) {
		/* with begin: what it left, read to the end, is out */
		char tmp[64];
		ssize_t n;
		while ((n = read(feed, tmp, sizeof tmp)) > 0)
			buf_add(out, tmp, (size_t)n);
		buf_addf(out, "|%s", dest);
		return n < 0 ? ERR_FAIL : ERR_OK;
	}
	buf_addf(out, "ran %s in %s", dest, getpid() == fan_parent ? "the parent" : "a copy");
	if (strcmp(dest, "kill") == 0)
		raise(SIGKILL);
	if (strncmp(dest, "talk", 4) == 0) {
		char line[64];
		int got = fgets(line, sizeof line, stdin) != NULL;	/* /dev/null: nothing */
		printf("one\ntwo %s", got ? "read stdin" : "and no newline");
		fprintf(stderr, "err line\n");
		return 7;
	}
	return strcmp(dest, "fail3") == 0 ? ERR_PERMANENT :
	       strcmp(dest, "fail4") == 0 ? ERR_UNREACHABLE : ERR_OK;
}

static void fan_done_cb(void *ctx, const struct fanout_task *t)
{
	struct strv *order = ctx;
	strv_push(order, t->dest);
}

/* begin for test_fanout: "made" in record, once the first copies run; or a failure */
static int begun_times;
static enum err fan_begin_ok(void *ctx, struct buf *record)
{
	(void)ctx;
	begun_times++;
	buf_adds(record, "made");
	return ERR_OK;
}
static enum err fan_begin_fails(void *ctx, struct buf *record)
{
	(void)ctx;
	begun_times++;
	buf_adds(record, "half");	/* not passed on: it failed */
	return ERR_FAIL;
}

static void test_fanout(void)
{
	long jobs;
	struct fanout_task tasks[5];
	const char *names[] = { "a", "fail3", "b", "fail4", "kill" };
	struct strv order = STRV_INIT;
	struct fanout f = { .tasks = tasks, .n = 5, .jobs = 2, .run = fan_task,
			    .done = fan_done_cb, .ctx = &order };
	enum err worst;
	int status[5];

	CHECK(parse_jobs(NULL, &jobs) == 0 && jobs == FANOUT_JOBS, "fanout: --jobs defaults to 8");
	CHECK(parse_jobs("1", &jobs) == 0 && jobs == 1, "fanout: --jobs 1");
	CHECK(parse_jobs("256", &jobs) == 0 && jobs == 256, "fanout: --jobs 256, the most");
	CHECK_INT(parse_jobs("0", &jobs), ERR_USAGE, "fanout: --jobs 0 is a usage error");
	CHECK_INT(parse_jobs("257", &jobs), ERR_USAGE, "fanout: --jobs 257 is a usage error");
	CHECK_INT(parse_jobs("-1", &jobs), ERR_USAGE, "fanout: --jobs -1 is a usage error");
	CHECK_INT(parse_jobs("", &jobs), ERR_USAGE, "fanout: an empty --jobs is a usage error");
	CHECK_INT(parse_jobs("2x", &jobs), ERR_USAGE, "fanout: --jobs 2x is a usage error");

	CHECK_INT(fanout_rc(0), ERR_OK, "fanout: a copy's 0 is ERR_OK");
	CHECK_INT(fanout_rc(ERR_UNREACHABLE), ERR_UNREACHABLE, "fanout: a copy's rc comes back");
	CHECK_INT(fanout_rc(128 + SIGINT), ERR_SIGNAL, "fanout: a copy a signal ended");
	CHECK_INT(fanout_rc(-1), ERR_FAIL, "fanout: a copy that could not be reaped failed");
	CHECK_INT(fanout_rc(99), ERR_FAIL, "fanout: an unknown status is a failure");

	memset(tasks, 0, sizeof tasks);
	for (int i = 0; i < 5; i++)
		tasks[i].dest = names[i];
	fan_parent = getpid();
	CHECK_INT(fanout_run(&f), ERR_OK, "fanout: no signal came");
	for (int i = 0; i < 5; i++)
		status[i] = tasks[i].status;
	CHECK_INT(order.n, 5, "fanout: done is called once per task");
	CHECK_INT(status[0], ERR_OK, "fanout: task a is ERR_OK");
	CHECK_INT(fanout_rc(status[1]), ERR_PERMANENT, "fanout: task fail3 is ERR_PERMANENT");
	CHECK_INT(fanout_rc(status[3]), ERR_UNREACHABLE, "fanout: task fail4 is ERR_UNREACHABLE");
	CHECK_INT(status[4], 128 + SIGKILL, "fanout: task kill ended by SIGKILL");
	CHECK_INT(fanout_rc(status[4]), ERR_SIGNAL, "fanout: task kill is ERR_SIGNAL");
	CHECK_STR(buf_str(&tasks[2].out), "ran b in a copy", "fanout: out comes back from the copy");
	CHECK_INT(tasks[4].out.len, 0, "fanout: a copy killed before it spoke brings nothing");
	for (int i = 0; i < 5; i++) {
		CHECK(tasks[i].started && tasks[i].t.pid == -1 && tasks[i].t.out_pipe == -1,
		      "fanout: every copy started, reaped, its pipe closed");
		buf_free(&tasks[i].out);
	}
	strv_free(&order);

	/* one at a time, and the worst of 3 and 4 is 4 */
	memset(tasks, 0, sizeof tasks);
	tasks[0].dest = "fail3";
	tasks[1].dest = "fail4";
	tasks[2].dest = "a";
	f.n = 3;
	f.jobs = 1;
	fanout_run(&f);
	worst = ERR_OK;
	for (int i = 0; i < 3; i++)
		if (fanout_rc(tasks[i].status) > worst)
			worst = fanout_rc(tasks[i].status);
	CHECK_INT(worst, ERR_UNREACHABLE, "fanout: 4 over 3 over 0");
	CHECK(order.n == 3 && strcmp(order.v[0], "fail3") == 0 && strcmp(order.v[1], "fail4") == 0 &&
	      strcmp(order.v[2], "a") == 0, "fanout: --jobs 1 runs them in turn, in order");
	for (int i = 0; i < 3; i++)
		buf_free(&tasks[i].out);
	strv_free(&order);

	/* prefix: each line of a copy's stdout and stderr headed by its dest */
	{
		char tmpl[] = "/tmp/sidecar-unit-XXXXXX";
		int fd = mkstemp(tmpl), saved_out = dup(1), saved_err = dup(2);
		struct buf got = BUF_INIT;
		char tmp[512];
		ssize_t n;

		memset(tasks, 0, sizeof tasks);
		tasks[0].dest = "talk1";
		tasks[1].dest = "talk2";
		f.n = 2;
		f.jobs = 2;
		f.prefix = 1;
		fflush(stdout);
		dup2(fd, 1);
		dup2(fd, 2);
		fanout_run(&f);
		fflush(stdout);
		dup2(saved_out, 1);
		dup2(saved_err, 2);
		close(saved_out);
		close(saved_err);
		lseek(fd, 0, SEEK_SET);
		while ((n = read(fd, tmp, sizeof tmp)) > 0)
			buf_add(&got, tmp, (size_t)n);
		close(fd);
		unlink(tmpl);
		for (int i = 0; i < 2; i++) {
			char want[64];
			CHECK_INT(tasks[i].status, 7, "fanout: prefix: the copy's status");
			snprintf(want, sizeof want, "%s: one\n", tasks[i].dest);
			CHECK(strstr(buf_str(&got), want), "fanout: prefix: a whole line, headed");
			snprintf(want, sizeof want, "%s: two and no newline\n", tasks[i].dest);
			CHECK(strstr(buf_str(&got), want),
			      "fanout: prefix: stdin is /dev/null; a last line without newline gets one");
			snprintf(want, sizeof want, "%s: err line\n", tasks[i].dest);
			CHECK(strstr(buf_str(&got), want), "fanout: prefix: stderr too");
			CHECK(tasks[i].t.std_pipe[0] == -1 && tasks[i].t.std_pipe[1] == -1,
			      "fanout: prefix: the pipes are closed");
			buf_free(&tasks[i].out);
		}
		{
			size_t lines = 0;
			for (size_t i = 0; i < got.len; i++)
				lines += got.s[i] == '\n';
			CHECK_INT(lines, 6, "fanout: prefix: three lines from each, nothing else");
		}
		buf_free(&got);
		strv_free(&order);
		f.prefix = 0;
	}

	/* begin: once, while the first two run; every copy reads its record, the later ones too */
	for (int fails = 0; fails < 2; fails++) {
		memset(tasks, 0, sizeof tasks);
		for (int i = 0; i < 4; i++)
			tasks[i].dest = names[i == 1 ? 0 : i == 3 ? 2 : i];	/* a, a, b, b */
		f.n = 4;
		f.jobs = 2;
		f.begin = fails ? fan_begin_fails : fan_begin_ok;
		f.begun = 0;
		buf_reset(&f.record);
		begun_times = 0;
		CHECK_INT(fanout_run(&f), ERR_OK, "fanout: begin: no signal came");
		CHECK_INT(begun_times, 1, "fanout: begin runs once");
		CHECK_INT(f.begin_rc, fails ? ERR_FAIL : ERR_OK, "fanout: what begin returned is kept");
		for (int i = 0; i < 4; i++) {
			char want[32];
			snprintf(want, sizeof want, "%s|%s", fails ? "" : "made", tasks[i].dest);
			if (fails && i >= 2) {
				/* begin failed: the copies not started yet never start */
				CHECK(!tasks[i].started && tasks[i].status == 128 + SIGTERM &&
					      !tasks[i].out.len,
				      "fanout: begin failed: no copy starts after it");
			} else {
				CHECK_STR(buf_str(&tasks[i].out), want,
					  fails ? "fanout: begin failed: the running copies' feeds end empty"
						: "fanout: every copy reads the record, those started after begin too");
			}
			CHECK(tasks[i].t.feed_pipe == -1, "fanout: begin: the feed is closed");
			buf_free(&tasks[i].out);
		}
		strv_free(&order);
	}
	/* a signal before any copy started: begin does not run, and says so */
	memset(tasks, 0, sizeof tasks);
	tasks[0].dest = "a";
	f.n = 1;
	f.begin = fan_begin_ok;
	f.begun = 0;
	begun_times = 0;
	sig_caught = SIGINT;
	CHECK_INT(fanout_run(&f), ERR_SIGNAL, "fanout: a signal before begin");
	sig_caught = 0;
	CHECK_INT(begun_times, 0, "fanout: begin does not run after a signal");
	CHECK_INT(f.begin_rc, ERR_SIGNAL, "fanout: begin_rc says the signal");
	CHECK_INT(tasks[0].status, 128 + SIGINT, "fanout: the copy never started");
	strv_free(&order);
	f.begin = NULL;
	buf_free(&f.record);

	{
		struct strv s = STRV_INIT;
		strv_push(&s, "x");
		strv_push(&s, "y");
		strv_push(&s, "z");
		strv_truncate(&s, 1);
		CHECK(s.n == 1 && strcmp(s.v[0], "x") == 0 && s.v[1] == NULL,
		      "strv_truncate keeps the first n, NULL-terminated");
		strv_truncate(&s, 4);
		CHECK_INT(s.n, 1, "strv_truncate to more than it has changes nothing");
		strv_free(&s);
	}
}

int main(void)
{
	/* As sidecar's main does: nothing but 0, 1 and 2 open. */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);

	test_quote();
	test_duration();
	test_backoff();
	test_cli();
	test_err_exit();
	test_forward();
	test_socket_listens();

	if (sig_init() < 0) {
		printf("Bail out! sig_init failed\n");
		return 1;
	}
	test_proc();
	test_proc_pump();
	test_fanout();
	return unit_done();
}
