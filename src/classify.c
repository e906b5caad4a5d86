/* classify.c: the failure table of DESIGN section 3, as data. */
#include "classify.h"

#include <string.h>

struct rule {
	const char *needle;	/* must occur in the line */
	const char *also;	/* and this too, when not NULL */
	const char *reason;
};

/*
 * Most specific first: the first rule (in this order) that matches any line
 * decides. Plain errno texts count only on ssh's own "connect to host"
 * line, so a remote command's "Permission denied" is not ssh's.
 */
static const struct rule permanent[] = {
	{ "REMOTE HOST IDENTIFICATION HAS CHANGED", NULL, "host key changed" },
	{ "Host key verification failed", NULL, "host key verification failed" },
	{ "no such identity", NULL, "ssh configuration error" },
	{ "Load key \"", NULL, "ssh configuration error" },
	{ "Bad configuration option", NULL, "ssh configuration error" },
	{ "bad configuration options", NULL, "ssh configuration error" },
	{ "Bad port", NULL, "ssh configuration error" },
	{ "Can't open user config file", NULL, "ssh configuration error" },
	{ "Bad owner or permissions on", NULL, "ssh configuration error" },
	{ "ControlPath too long", NULL, "control path too long" },
	{ "unix_listener:", "too long", "control path too long" },
	{ "Permission denied (", NULL, "authentication failed" },
	{ "Too many authentication failures", NULL, "authentication failed" },
	{ "Name or service not known", NULL, "unknown host" },
	{ "No address associated with hostname", NULL, "unknown host" },
	{ "nodename nor servname provided", NULL, "unknown host" },
	{ "Unable to negotiate with", NULL, "no common algorithm with the server" },
	{ "Protocol major versions differ", NULL, "ssh protocol mismatch" },
	{ "Bad remote protocol version identification", NULL, "ssh protocol mismatch" },
	{ "connect to host", ": Permission denied", "permission denied" },
	{ "connect to host", ": Invalid argument", "invalid argument" },
};

static const struct rule transient[] = {
	{ "System is booting up", NULL, "system is booting up" },
	{ "connect to host", ": Connection refused", "connection refused" },
	{ "connect to host", ": No route to host", "no route to host" },
	{ "connect to host", ": Network is unreachable", "network unreachable" },
	{ "connect to host", ": Connection timed out", "connection timed out" },
	{ "connect to host", ": Connection reset by peer", "connection reset" },
	{ "Temporary failure in name resolution", NULL, "name resolution failed" },
	{ "banner exchange", "timed out", "connection timed out" },
	{ "kex_exchange_identification:", NULL, "connection closed during banner exchange" },
	{ "ssh_exchange_identification:", NULL, "connection closed during banner exchange" },
	{ "Connection to ", " timed out", "connection timed out" },
	{ "Connection to ", "closed by remote host", "connection closed by remote host" },
	{ "read from master failed", NULL, "shared connection lost" },
	{ "Connection closed by ", " port ", "connection closed by server" },
	{ "Connection reset by ", NULL, "connection reset" },
	{ "client_loop: send disconnect:", NULL, "connection lost" },
	{ "Timeout, server ", "not responding", "server not responding" },
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

/* Finds the first line matching any rule; returns the rule or NULL. */
static const struct rule *scan(const struct rule *rules, size_t nrules,
			       const char *err, size_t len, struct verdict *v)
{
	for (size_t r = 0; r < nrules; r++) {
		size_t pos = 0;
		while (pos < len) {
			const char *nl = memchr(err + pos, '\n', len - pos);
			size_t end = nl ? (size_t)(nl - err) : len;
			size_t n = end - pos;
			while (n && err[pos + n - 1] == '\r')
				n--;
			if (has(err + pos, n, rules[r].needle) &&
			    (!rules[r].also || has(err + pos, n, rules[r].also))) {
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

struct verdict classify(int status, const char *err, size_t len, int remote_cmd)
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
	if ((r = scan(permanent, NELEM(permanent), err, len, &v))) {
		v.cls = FAIL_PERMANENT;
		v.reason = r->reason;
	} else if ((r = scan(transient, NELEM(transient), err, len, &v))) {
		v.cls = FAIL_TRANSIENT;
		v.reason = r->reason;
	} else if (remote_cmd) {
		v.cls = FAIL_REMOTE;
		v.reason = "remote command failed";
	} else {
		v.cls = FAIL_PERMANENT;
		v.reason = "ssh failed";
	}
	return v;
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
