/* msg.h: everything sidecar says on stderr, with one prefix. */
#ifndef SIDECAR_MSG_H
#define SIDECAR_MSG_H

#include "err.h"

enum verbosity { VERB_QUIET = -1, VERB_NORMAL = 0, VERB_VERBOSE = 1 };

/* Set at start-up: before parsing, and again once -q or -v is known. */
void msg_init(enum verbosity v, int color, int tty);
int msg_quiet(void);

/* "sidecar: ...": always shown. Returns ERR_FAIL, for `return error(...)`. */
enum err error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "sidecar: warning: ...": always shown. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "sidecar: ...": progress, silenced by -q. */
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "sidecar: ...": only with -v. */
void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The command line being run, with -v; long arguments are abbreviated. */
void trace_argv(const char *const *argv);

/* Whether stderr is a terminal: progress lines only there. */
int msg_tty(void);

#endif
