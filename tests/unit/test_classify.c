/*
 * test_classify: runs the classifier over every fixture in
 * tests/fixtures/classify/ (relative to the working directory, the
 * repository root under tests/run), in name order.
 *
 * A fixture is a header and the exact stderr bytes of one ssh call:
 *
 *   status: 255
 *   remote: 0|1          whether the call ran a remote command
 *   class: none|remote|transient|permanent
 *   reason: <phrase>     or * when any reason will do
 *   ---
 *   <stderr, byte for byte, to the end of the file>
 *
 * Two TAP lines per fixture: the verdict, then the line it points at.
 */
#include "classify.h"
#include "unit.h"

#include <dirent.h>
#include <stdlib.h>

#define FIXTURES "tests/fixtures/classify"

struct fixture {
	int status;
	int remote;
	char cls[32];
	char reason[128];
	const char *err;	/* points into the file's buffer */
	size_t len;
};

/* Reads a whole file into a NUL-terminated buffer; NULL on failure. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			char *grown = realloc(buf, cap + 8192);
			if (!grown) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = grown;
			cap += 8192;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
		*len = n;
	}
	fclose(f);
	return buf;
}

/*
 * Copies the value of the header line "KEY: value" at *pos into out and
 * moves *pos past the line. Returns -1 when the line is not that header.
 */
static int header(const char *buf, size_t len, size_t *pos, const char *key,
		  char *out, size_t outsz)
{
	size_t klen = strlen(key);
	const char *line = buf + *pos;
	const char *nl = memchr(line, '\n', len - *pos);
	size_t vlen;

	if (!nl || (size_t)(nl - line) < klen + 2 ||
	    memcmp(line, key, klen) != 0 || line[klen] != ':' || line[klen + 1] != ' ')
		return -1;
	vlen = (size_t)(nl - line) - klen - 2;
	if (vlen == 0 || vlen >= outsz)
		return -1;
	memcpy(out, line + klen + 2, vlen);
	out[vlen] = '\0';
	*pos = (size_t)(nl - buf) + 1;
	return 0;
}

static int parse(const char *buf, size_t len, struct fixture *fx)
{
	char num[16], flag[4];
	size_t pos = 0;
	char *end;

	if (header(buf, len, &pos, "status", num, sizeof(num)) < 0)
		return -1;
	fx->status = (int)strtol(num, &end, 10);
	if (*end)
		return -1;
	if (header(buf, len, &pos, "remote", flag, sizeof(flag)) < 0 ||
	    (strcmp(flag, "0") != 0 && strcmp(flag, "1") != 0))
		return -1;
	fx->remote = flag[0] == '1';
	if (header(buf, len, &pos, "class", fx->cls, sizeof(fx->cls)) < 0 ||
	    header(buf, len, &pos, "reason", fx->reason, sizeof(fx->reason)) < 0)
		return -1;
	if (len - pos < 4 || memcmp(buf + pos, "---\n", 4) != 0)
		return -1;
	fx->err = buf + pos + 4;
	fx->len = len - pos - 4;
	return 0;
}

/* Whether err holds any character other than line ends. */
static int has_text(const char *err, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (err[i] != '\n' && err[i] != '\r')
			return 1;
	return 0;
}

/*
 * Checks that the verdict's span is one whole line of err, without its
 * line end, and that it is not empty whenever err holds any text.
 */
static int span_ok(const struct verdict *v, const struct fixture *fx)
{
	size_t off = v->line_off, n = v->line_len, end = off + n;

	if (off > fx->len || n > fx->len - off)
		return 0;
	if (off > 0 && fx->err[off - 1] != '\n')
		return 0;
	if (end < fx->len && fx->err[end] != '\n' && fx->err[end] != '\r')
		return 0;
	if (memchr(fx->err + off, '\n', n) || (n && fx->err[end - 1] == '\r'))
		return 0;
	return n > 0 || !has_text(fx->err, fx->len);
}

/* Checks one fixture; file is its name in FIXTURES, label the same without ".txt". */
static void check_fixture(const char *file)
{
	char path[512], name[256], what[640], got[256], want[256];
	struct fixture fx;
	struct verdict v;
	size_t len = 0;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, file);
	snprintf(name, sizeof(name), "%.*s", (int)(strlen(file) - 4), file);
	buf = slurp(path, &len);
	if (!buf || parse(buf, len, &fx) < 0) {
		snprintf(what, sizeof(what), "%s: readable fixture with a valid header", name);
		CHECK(0, what);
		free(buf);
		return;
	}

	v = classify(fx.status, fx.err, fx.len, fx.remote);

	snprintf(what, sizeof(what), "%s: %s (%s)", name, fx.cls, fx.reason);
	snprintf(want, sizeof(want), "%s (%s)", fx.cls, fx.reason);
	snprintf(got, sizeof(got), "%s (%s)", failure_name(v.cls),
		 strcmp(fx.reason, "*") == 0 ? "*" : v.reason ? v.reason : "(null)");
	CHECK_STR(got, want, what);

	snprintf(what, sizeof(what), "%s: the deciding line is a whole, non-empty line", name);
	CHECK(span_ok(&v, &fx), what);
	if (!span_ok(&v, &fx))
		printf("#   line_off %zu line_len %zu of %zu bytes\n",
		       v.line_off, v.line_len, fx.len);
	free(buf);
}

/*
 * A session over a master that is still up: only control-phase lines are
 * ssh's; a remote command's ssh-like text is its own.
 */
static void test_phases(void)
{
	static const char own[] = "Connection to db port 5432 timed out\n";
	static const char denied[] = "Permission denied (publickey).\n";
	static const char mux[] = "read from master failed: Broken pipe\r\n";
	static const char closed[] = "Connection to 127.0.0.1 closed by remote host.\r\n";
	struct verdict v;

	v = classify_phase(255, own, strlen(own), PHASE_CONTROL, 1);
	CHECK_STR(failure_name(v.cls), "remote", "phase: live master, ssh-like line of the command is remote");
	v = classify_phase(255, denied, strlen(denied), PHASE_CONTROL, 1);
	CHECK_STR(failure_name(v.cls), "remote", "phase: live master, 'Permission denied (' is remote");
	v = classify_phase(255, mux, strlen(mux), PHASE_CONTROL, 1);
	CHECK_STR(failure_name(v.cls), "transient", "phase: live master, a mux failure is ssh's");
	v = classify_phase(255, closed, strlen(closed), PHASE_CONTROL, 1);
	CHECK_STR(failure_name(v.cls), "remote", "phase: live master, a session-phase line alone is not ssh's");
	v = classify_phase(255, closed, strlen(closed), PHASE_SESSION, 1);
	CHECK_STR(failure_name(v.cls), "transient", "phase: session rules see a lost connection");
	v = classify_phase(255, own, strlen(own), PHASE_ALL, 1);
	CHECK_STR(failure_name(v.cls), "transient", "phase: master gone, a connect-phase line is ssh's");
	v = classify_phase(255, own, strlen(own), PHASE_ALL, 0);
	CHECK_STR(v.reason, "connection timed out", "phase: a master start sees every phase");
}

/* A refused key is the one permanent failure --auth-wait may wait out. */
static void test_key_refused(void)
{
	static const char denied[] = "user@host: Permission denied (publickey).\r\n";
	static const char many[] = "Received disconnect from 10.0.0.1 port 22:2: Too many authentication failures\n";
	static const char hostkey[] = "Host key verification failed.\n";
	static const char refused[] = "ssh: connect to host h port 22: Connection refused\n";
	struct verdict v;

	v = classify(255, denied, strlen(denied), 0);
	CHECK(verdict_key_refused(&v), "key refused: Permission denied (publickey)");
	v = classify(255, many, strlen(many), 0);
	CHECK(verdict_key_refused(&v), "key refused: too many authentication failures");
	v = classify(255, hostkey, strlen(hostkey), 0);
	CHECK(!verdict_key_refused(&v), "key refused: not a host key failure");
	v = classify(255, refused, strlen(refused), 0);
	CHECK(!verdict_key_refused(&v), "key refused: not a transient failure");
	v = classify_phase(255, denied, strlen(denied), PHASE_CONTROL, 1);
	CHECK(!verdict_key_refused(&v), "key refused: not a remote command's own line");
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	DIR *dir = opendir(FIXTURES);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!dir) {
		CHECK(0, "open " FIXTURES " (run from the repository root)");
		return unit_done();
	}
	while ((de = readdir(dir))) {
		size_t l = strlen(de->d_name);
		if (l <= 4 || strcmp(de->d_name + l - 4, ".txt") != 0)
			continue;
		if (n == cap) {
			char **grown = realloc(names, (cap ? cap * 2 : 64) * sizeof(*names));
			if (!grown)
				break;
			names = grown;
			cap = cap ? cap * 2 : 64;
		}
		if (!(names[n] = strdup(de->d_name)))
			break;
		n++;
	}
	closedir(dir);

	CHECK(n > 0, "fixtures found in " FIXTURES);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		check_fixture(names[i]);
		free(names[i]);
	}
	free(names);

	test_phases();
	test_key_refused();

	/* The names the rest of the program prints. */
	CHECK_STR(failure_name(FAIL_NONE), "none", "failure_name(FAIL_NONE)");
	CHECK_STR(failure_name(FAIL_REMOTE), "remote", "failure_name(FAIL_REMOTE)");
	CHECK_STR(failure_name(FAIL_TRANSIENT), "transient", "failure_name(FAIL_TRANSIENT)");
	CHECK_STR(failure_name(FAIL_PERMANENT), "permanent", "failure_name(FAIL_PERMANENT)");
	return unit_done();
}
