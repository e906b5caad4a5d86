/* sig.h: the only global mutable state, signal flags, and a self-pipe. */
#ifndef SIDECAR_SIG_H
#define SIDECAR_SIG_H

#include <signal.h>

/* The number of the last SIGINT, SIGTERM or SIGHUP received, else 0. */
extern volatile sig_atomic_t sig_caught;

/*
 * Installs handlers (without SA_RESTART, so blocking calls return EINTR)
 * for SIGINT, SIGTERM, SIGHUP and SIGCHLD, each of which also writes a byte
 * to a non-blocking close-on-exec self-pipe; ignores SIGPIPE. Returns 0 or -1.
 */
int sig_init(void);

/*
 * A new self-pipe, the old one closed: for a forked copy of sidecar, whose
 * wake-ups must not be read by its parent. Returns 0 or -1.
 */
int sig_rearm(void);

/* The self-pipe's read end, for poll(); -1 before sig_init(). */
int sig_wakefd(void);

/* Empties the self-pipe. */
void sig_drain(void);

/* Restores default dispositions; for a child between fork and exec. */
void sig_reset_child(void);

#endif
