/*
 * err.h: sidecar's one error type. Every layer returns an enum err; only
 * main turns one into an exit status (err_exit), by DESIGN section 1.
 *
 * Ordered by severity, so that the worse of two is the larger: a failed
 * operation, a bad command line, a connection that failed for good, one
 * that never came up in time, a program that cannot run, an interruption.
 * A child's exit status (proc, git, a session) is not an enum err: it is
 * turned into one where it is read, and a remote command's own status
 * travels beside sidecar's error, not in it.
 */
#ifndef SIDECAR_ERR_H
#define SIDECAR_ERR_H

enum err {
	ERR_OK = 0,
	ERR_FAIL,		/* the operation failed (git, the sidecar, apply): 1 */
	ERR_USAGE,		/* bad command line or setting: 2 */
	ERR_PERMANENT,		/* auth, host key, unknown host, ssh config: 3 */
	ERR_UNREACHABLE,	/* transient failures past --max-wait: 4 */
	ERR_NOEXEC,		/* ssh or git found but not executable: 126 */
	ERR_NOTFOUND,		/* ssh or git not found: 127 */
	ERR_SIGNAL,		/* interrupted by the signal caught: 128+N */

	/* Internal: never returned by a command. */
	ERR_DROPPED,		/* the connection dropped: conn_retry starts again */
	ERR_RESTART		/* the sidecar lacks its script: the sync starts again */
};

/*
 * The exit status for e. remote: a remote command's own status, or -1
 * when none ran. as_ssh: the command speaks ssh's language (exec, ssh), so
 * a connection that failed is 255. signo: the signal caught, or 0; once
 * one was, any failure is the interruption's.
 */
int err_exit(enum err e, int remote, int as_ssh, int signo);

/*
 * Says why prog could not run (status 127, 126 or -1 of proc_start,
 * exec_errno its errno or 0), ending "not found" with hint; returns
 * ERR_NOTFOUND, ERR_NOEXEC (also for an argument list too long) or ERR_FAIL.
 */
enum err err_cannot_run(const char *prog, int status, int exec_errno, const char *hint);

#endif
