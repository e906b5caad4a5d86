/* exitcodes.h: the exit statuses of DESIGN section 1, in one place. */
#ifndef SIDECAR_EXITCODES_H
#define SIDECAR_EXITCODES_H

enum {
	SC_OK = 0,
	SC_FAIL = 1,		/* the operation failed */
	SC_USAGE = 2,		/* bad command line */
	SC_PERMANENT = 3,	/* auth, host key, unknown host, ssh config */
	SC_UNREACHABLE = 4,	/* transient failures past --max-wait */
	SC_SSH_FAILED = 255,	/* exec/ssh: the connection itself failed */
	SC_NOEXEC = 126,	/* ssh or git found but not executable */
	SC_NOTFOUND = 127,	/* ssh or git not found */
	SC_SIGNAL = 128		/* + the signal number */
};

#endif
