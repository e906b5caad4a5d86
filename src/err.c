/* err.c: the error type's two mappings: to exit statuses, from exec failures. */
#include "err.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "msg.h"
#include "proc.h"

/* The exit statuses of DESIGN section 1, one per error. */
static const int exit_status[] = {
	[ERR_OK] = 0,
	[ERR_FAIL] = 1,
	[ERR_USAGE] = 2,
	[ERR_PERMANENT] = 3,
	[ERR_UNREACHABLE] = 4,
	[ERR_NOEXEC] = 126,
	[ERR_NOTFOUND] = 127,
	[ERR_SIGNAL] = 128,		/* + the signal's number */
	[ERR_DROPPED] = 1,		/* never reach main */
	[ERR_RESTART] = 1,
};

/* exec and ssh, as ssh itself: the connection failed. */
#define SSH_STATUS_FAILED 255

int err_exit(enum err e, int remote, int as_ssh, int signo)
{
	if (signo && (e != ERR_OK || remote > 0))
		return exit_status[ERR_SIGNAL] + signo;
	if (e == ERR_OK && remote >= 0)
		return remote;
	if (as_ssh && (e == ERR_PERMANENT || e == ERR_UNREACHABLE))
		return SSH_STATUS_FAILED;
	if (e == ERR_SIGNAL)
		return exit_status[ERR_SIGNAL] + (signo ? signo : SIGINT);
	return (unsigned)e < sizeof exit_status / sizeof exit_status[0] ? exit_status[e] : 1;
}

enum err err_cannot_run(const char *prog, int status, int exec_errno, const char *hint)
{
	if (status == PROC_NOTFOUND) {
		error("cannot run '%s': not found; %s", prog, hint);
		return ERR_NOTFOUND;
	}
	if (exec_errno == E2BIG) {
		error("cannot run '%s': its command line is longer than the system allows "
		      "(argument list too long)", prog);
		return ERR_NOEXEC;	/* 126, as sh gives for it */
	}
	if (status == PROC_NOEXEC) {
		error("cannot run '%s': not executable", prog);
		return ERR_NOEXEC;
	}
	if (exec_errno)
		error("cannot run '%s': %s", prog, strerror(exec_errno));
	else
		error("cannot run '%s'", prog);
	return ERR_FAIL;
}
