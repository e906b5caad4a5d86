/*
 * interrupt.h: a signal to sidecar reaches the remote command.
 *
 * Without a tty, ssh has no way to pass SIGINT on: the remote command
 * would go on after sidecar is gone. So the remote command line says which
 * process group is the command's, first thing, on stderr: a line
 * INTERRUPT_MARK PID after an empty line (the login shell may have written
 * a partial line). sidecar takes that line out of stderr, and on a signal
 * runs a second session over the shared connection that signals the group.
 * sshd makes each session a new session (setsid), and the command line
 * replaces its shell with exec, so the PID leads the command's group.
 */
#ifndef SIDECAR_INTERRUPT_H
#define SIDECAR_INTERRUPT_H

#include <stddef.h>

#include "buf.h"

#define INTERRUPT_MARK "SIDECAR-PID"

/* The sh that writes the mark, at the start of the remote command line. */
#define INTERRUPT_MARK_SH "echo >&2; echo \"" INTERRUPT_MARK " $$\" >&2; "

/* Beyond this much stderr without the mark, stop looking for it. */
#define INTERRUPT_SCAN_MAX 65536

/*
 * Takes the mark out of a stderr stream: fed the bytes as they come (n 0
 * at EOF), it appends to out what is to be passed on, exactly the stream
 * without the mark. Until the mark is found, bytes are held back; after,
 * they pass at once. pid is the PID the mark named, or 0.
 */
struct interrupt_scan {
	struct buf held;
	long pid;
	int done;
};

void interrupt_scan_feed(struct interrupt_scan *s, const char *data, size_t n,
			 struct buf *out);
void interrupt_scan_free(struct interrupt_scan *s);

/*
 * The remote command line that sends signal signo (SIGINT, SIGTERM, SIGHUP
 * or SIGKILL) to pid's process group, or to pid alone when it leads none.
 * Words every login shell reads alike.
 */
void interrupt_command(struct buf *cmd, int signo, long pid);

#endif
