/* classify.h: what an ssh failure means. Pure: values in, value out. */
#ifndef SIDECAR_CLASSIFY_H
#define SIDECAR_CLASSIFY_H

#include <stddef.h>

enum failure {
	FAIL_NONE,		/* ssh exited 0 */
	FAIL_REMOTE,		/* the remote command's own non-zero status */
	FAIL_TRANSIENT,		/* connect-level, worth retrying with backoff */
	FAIL_PERMANENT		/* auth, host key, name, configuration: never retried */
};

struct verdict {
	enum failure cls;
	const char *reason;	/* short lowercase phrase, static storage */
	size_t line_off;	/* the ssh line that decided it (or the last */
	size_t line_len;	/* non-empty line), as an offset into err */
};

/*
 * Classifies one ssh call from its exit status and everything it wrote to
 * stderr. remote_cmd says whether the call ran a remote command, whose own
 * status may be 255: then only a line ssh itself prints makes it an ssh
 * failure. Lines may end in "\r\n". Permanent patterns are tried on every
 * line before transient ones; exit 255 with no known line is permanent for
 * a call without a remote command (an allowlist: unknown is never retried).
 */
struct verdict classify(int status, const char *err, size_t len, int remote_cmd);

/*
 * Where in ssh's work a message can come from. A master start goes through
 * every phase; a session over a master that is still alive cannot have
 * failed to connect, so only control-phase messages (the talk between the
 * session and its master) are ssh's there: anything else on its stderr,
 * an ssh-like line included, is the remote command's own.
 */
enum phase {
	PHASE_CONNECT = 1,	/* reaching the server, kex, host key, auth, config */
	PHASE_CONTROL = 2,	/* a session talking to its ControlMaster */
	PHASE_SESSION = 4,	/* a connection lost under a running session */
	PHASE_ALL = 7
};

/* classify() with only the rules of the given phases (a mask). */
struct verdict classify_phase(int status, const char *err, size_t len,
			      unsigned phases, int remote_cmd);

/*
 * Whether the server refused the key: permanent, but a booting machine
 * may not have installed the key yet (--auth-wait).
 */
int verdict_key_refused(const struct verdict *v);

const char *failure_name(enum failure f);

#endif
