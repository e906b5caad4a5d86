/* classify.c: the failure table of DESIGN section 3, as data. */
#include "classify.h"

#include <string.h>

struct rule {
	const char *needle;	/* must occur in the line */
	const char *also;	/* and this too, when not NULL */
	enum failure cls;
	unsigned phase;
	const char *reason;
};

/* The server refused every key: the one permanent failure --auth-wait waits out. */
static const char auth_failed[] = "authentication failed";

#define P FAIL_PERMANENT
#define T FAIL_TRANSIENT
#define CONNECT PHASE_CONNECT
#define CONTROL PHASE_CONTROL
#define SESSION PHASE_SESSION

/*
 * One table. Every permanent rule comes before every transient one, and
 * within each class the most specific first: the first rule (in this
 * order) that matches any line decides. Plain errno texts count only on
 * ssh's own "connect to host" line, so a remote command's "Permission
 * denied" is not ssh's.
 */
static const struct rule rules[] = {
	{ "REMOTE HOST IDENTIFICATION HAS CHANGED", NULL, P, CONNECT, "host key changed" },
	{ "Host key verification failed", NULL, P, CONNECT, "host key verification failed" },
	{ "no such identity", NULL, P, CONNECT, "ssh configuration error" },
	{ "Load key \"", NULL, P, CONNECT, "ssh configuration error" },
	{ "Bad configuration option", NULL, P, CONNECT, "ssh configuration error" },
	{ "bad configuration options", NULL, P, CONNECT, "ssh configuration error" },
	{ "Bad port", NULL, P, CONNECT, "ssh configuration error" },
	{ "Can't open user config file", NULL, P, CONNECT, "ssh configuration error" },
	{ "Bad owner or permissions on", NULL, P, CONNECT, "ssh configuration error" },
	{ "ControlPath too long", NULL, P, CONNECT, "control path too long" },
	{ "unix_listener:", "too long", P, CONNECT, "control path too long" },
	{ "Permission denied (", NULL, P, CONNECT, auth_failed },
	{ "Too many authentication failures", NULL, P, CONNECT, auth_failed },
	{ "Name or service not known", NULL, P, CONNECT, "unknown host" },
	{ "No address associated with hostname", NULL, P, CONNECT, "unknown host" },
	{ "nodename nor servname provided", NULL, P, CONNECT, "unknown host" },
	{ "Unable to negotiate with", NULL, P, CONNECT, "no common algorithm with the server" },
	{ "Protocol major versions differ", NULL, P, CONNECT, "ssh protocol mismatch" },
	{ "Bad remote protocol version identification", NULL, P, CONNECT, "ssh protocol mismatch" },
	{ "connect to host", ": Permission denied", P, CONNECT, "permission denied" },
	{ "connect to host", ": Invalid argument", P, CONNECT, "invalid argument" },

	{ "System is booting up", NULL, T, CONNECT, "system is booting up" },
	{ "connect to host", ": Connection refused", T, CONNECT, "connection refused" },
	{ "connect to host", ": No route to host", T, CONNECT, "no route to host" },
	{ "connect to host", ": Network is unreachable", T, CONNECT, "network unreachable" },
	{ "connect to host", ": Connection timed out", T, CONNECT, "connection timed out" },
	{ "connect to host", ": Connection reset by peer", T, CONNECT, "connection reset" },
	{ "Temporary failure in name resolution", NULL, T, CONNECT, "name resolution failed" },
	{ "banner exchange", "timed out", T, CONNECT, "connection timed out" },
	{ "kex_exchange_identification:", NULL, T, CONNECT, "connection closed during banner exchange" },
	{ "ssh_exchange_identification:", NULL, T, CONNECT, "connection closed during banner exchange" },
	{ "Connection to ", " timed out", T, CONNECT, "connection timed out" },
	{ "Connection to ", "closed by remote host", T, SESSION, "connection closed by remote host" },
	{ "read from master failed", NULL, T, CONTROL, "shared connection lost" },
	{ "mux_client_request_session: session request failed", NULL, T, CONTROL,
	  "shared connection refused a session" },
	{ "Connection closed by ", " port ", T, CONNECT | SESSION, "connection closed by server" },
	{ "Connection reset by ", NULL, T, CONNECT | SESSION, "connection reset" },
	{ "client_loop: send disconnect:", NULL, T, SESSION, "connection lost" },
	{ "Timeout, server ", "not responding", T, SESSION, "server not responding" },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int has(const char *line, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(line + i, needle, k) == 0)
			return 1;
	return 0;
}

/* Whether one line of err, at pos and n bytes long, matches rule r. */
static int matches(const struct rule *r, const char *line, size_t n)
{
	return has(line, n, r->needle) && (!r->also || has(line, n, r->also));
}

/* The first rule of the phases that matches any line; NULL when none does. */
static const struct rule *scan(const char *err, size_t len, unsigned phases, struct verdict *v)
{
	for (size_t r = 0; r < NELEM(rules); r++) {
		size_t pos = 0;
		if (!(rules[r].phase & phases))
			continue;
		while (pos < len) {
			const char *nl = memchr(err + pos, '\n', len - pos);
			size_t end = nl ? (size_t)(nl - err) : len;
			size_t n = end - pos;
			while (n && err[pos + n - 1] == '\r')
				n--;
			if (matches(&rules[r], err + pos, n)) {
				v->line_off = pos;
				v->line_len = n;
				return &rules[r];
			}
			pos = end + 1;
		}
	}
	return NULL;
}

static void last_line(const char *err, size_t len, struct verdict *v)
{
	size_t end = len;
	for (;;) {
		while (end && (err[end - 1] == '\n' || err[end - 1] == '\r'))
			end--;
		size_t start = end;
		while (start && err[start - 1] != '\n')
			start--;
		if (start < end || start == 0) {
			v->line_off = start;
			v->line_len = end - start;
			return;
		}
		end = start;
	}
}

struct verdict classify_phase(int status, const char *err, size_t len,
			      unsigned phases, int remote_cmd)
{
	struct verdict v = { FAIL_NONE, "", 0, 0 };
	const struct rule *r;

	if (!err)
		len = 0;
	last_line(err ? err : "", len, &v);
	if (status == 0)
		return v;
	if (remote_cmd && status != 255) {
		v.cls = FAIL_REMOTE;
		v.reason = "remote command failed";
		return v;
	}
	if ((r = scan(err, len, phases, &v))) {
		v.cls = r->cls;
		v.reason = r->reason;
	} else if (remote_cmd) {
		last_line(err ? err : "", len, &v);
		v.cls = FAIL_REMOTE;
		v.reason = "remote command failed";
	} else {
		v.cls = FAIL_PERMANENT;
		v.reason = "ssh failed";
	}
	return v;
}

struct verdict classify(int status, const char *err, size_t len, int remote_cmd)
{
	return classify_phase(status, err, len, PHASE_ALL, remote_cmd);
}

int verdict_key_refused(const struct verdict *v)
{
	return v->cls == FAIL_PERMANENT && v->reason == auth_failed;
}

const char *failure_name(enum failure f)
{
	switch (f) {
	case FAIL_NONE: return "none";
	case FAIL_REMOTE: return "remote";
	case FAIL_TRANSIENT: return "transient";
	case FAIL_PERMANENT: return "permanent";
	}
	return "?";
}
