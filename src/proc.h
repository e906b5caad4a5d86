/*
 * proc.h: the only place that forks and execs.
 *
 * Contract. Each of the child's stdin, stdout and stderr is inherited from
 * sidecar, connected to /dev/null, given an open descriptor (dup'ed into
 * place) or piped to sidecar. Every other descriptor of sidecar is
 * close-on-exec, so the child gets exactly those three. argv[0] is looked up
 * in the child's PATH by sidecar before fork (as git's run-command does), so
 * the child only sets up its descriptors and calls execve. A name found
 * nowhere is 127 without a fork; one found but not executable is 126. The
 * child has default signal dispositions and an empty signal mask. When
 * execve fails the child reports errno back through a close-on-exec pipe
 * and the status is 127 (not found) or 126 (found, not executable).
 *
 * Status: the child's exit code, or 128+N when signal N ended it; -1 when
 * sidecar itself could not run it (fork or pipe failed). When SIGINT,
 * SIGTERM or SIGHUP reaches sidecar while it waits, the signal is passed on
 * to the child (its whole process group when own_group), or to on_signal,
 * and the wait goes on; after 2s the child is killed. When a bound passes, the child (group)
 * is killed with SIGKILL and timed_out is set. Pipes are read to EOF even
 * after the child exits (a grandchild may still write), within the bounds.
 */
#ifndef SIDECAR_PROC_H
#define SIDECAR_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

enum proc_io { IO_INHERIT = 0, IO_NULL, IO_PIPE, IO_FD };

/* The statuses of a child that never ran, and of one a signal ended. */
#define PROC_NOEXEC 126
#define PROC_NOTFOUND 127
#define PROC_SIGNALED(n) (128 + (n))

struct proc {
	const char *const *argv;
	const char *const *env;	/* extra "K=V" for the child, or NULL */
	enum proc_io in, out, err;
	int in_fd, out_fd, err_fd;	/* for IO_FD */
	int own_group;		/* child leads a new process group */
	long long timeout_ms;	/* wall-clock bound, 0 = none */
	long long idle_ms;	/* bound on silence of all pipes, 0 = none */

	/* IO_PIPE stdin: these bytes, then the bytes read from in_src (-1 none) */
	const char *in_data;
	size_t in_len;
	int in_src;
	/* then those of in_next (-1 none), once in_next_open is set (by a filter, say) */
	int in_next;
	int in_next_open;
	/* IO_PIPE stdout/stderr: collected here, or dropped when NULL */
	struct buf *out_buf, *err_buf;
	int err_tee;		/* also copy stderr to ours as it comes; then
				   err_buf keeps only the last few KiB */
	/* called as stdin bytes go out, for progress */
	void (*progress)(void *ctx, unsigned long long bytes);
	void *ctx;
	/*
	 * IO_PIPE stderr: when set, stderr passes through here before the tee
	 * and err_buf; it appends to out what to pass on (n 0: at EOF).
	 */
	void (*err_filter)(void *ctx, const char *data, size_t n, struct buf *out);
	/* IO_PIPE stdout: when set, stdout goes here as it comes instead of to out_buf */
	void (*out_filter)(void *ctx, const char *data, size_t n);
	/*
	 * When set, a signal to sidecar goes here instead of to the child:
	 * called with the signal, then with SIGKILL if the child is still there
	 * 2s later; 2s after that the child is killed. It returns 0 when it
	 * passed the signal on, 1 when it is not ready yet (asked again as
	 * the pipes bring news, for up to 2s), -1 when it cannot: then the
	 * child gets the signal.
	 */
	int (*on_signal)(void *ctx, int signo);
	int keep_signals;	/* a signal to sidecar is not passed on at all */
	/*
	 * When wake_fd is not -1: once it is readable, on_wake is called; when
	 * it returns 1, the child is interrupted as a SIGINT to sidecar would
	 * interrupt it (through on_signal when set), and wake_fd is left alone.
	 */
	int wake_fd;
	int (*on_wake)(void *ctx);

	/* results */
	pid_t pid;
	int in_pipe, out_pipe, err_pipe;	/* sidecar's ends, -1 when closed */
	int exec_errno;		/* why exec failed, or 0 */
	int timed_out;
	unsigned long long bytes_in;	/* bytes written to the child's stdin */
};

/*
 * Where execve finds name in path (a PATH value): a new string, or NULL
 * with *err set to ENOENT (nowhere) or EACCES (found, not executable). A
 * name with a slash is returned as it is.
 */
char *proc_resolve(const char *name, const char *path, int *err);

/* Fills p with defaults: everything inherited, no bounds, in_src = -1. */
void proc_init(struct proc *p, const char *const *argv);

/* Starts the child. Returns 0, or a status (126, 127, -1) when it never ran:
 * err_cannot_run says why. */
int proc_start(struct proc *p);

/* Pumps the pipes with poll() until EOF and the child is reaped; the status. */
int proc_finish(struct proc *p);

/* proc_start then proc_finish. */
int proc_run(struct proc *p);

/*
 * A task: fn runs in a forked copy of sidecar, with no exec, so that it
 * starts from all sidecar has computed. The copy keeps sidecar's signal
 * handlers on a self-pipe of its own, and sidecar's stdin, stdout and
 * stderr; its status is what fn returns (0 to 125), or 128+N when signal
 * N ended it. What fn writes to fd reaches sidecar through out_pipe; fd is
 * close-on-exec, so no program the copy runs holds it, and out_pipe is at
 * EOF once the copy has ended.
 */
struct proc_task {
	int (*fn)(void *ctx, int fd);
	void *ctx;
	/* when set, the copy's stdin is /dev/null and its stdout and stderr
	   are pipes to sidecar: std_pipe[0], std_pipe[1] */
	int capture;
	/* when set, a pipe from sidecar to the copy: sidecar writes feed_pipe,
	   the copy reads feed_fd */
	int feed;
	pid_t pid;		/* results: the copy, or -1 */
	int out_pipe;		/* sidecar's end, -1 when closed */
	int std_pipe[2];	/* with capture, sidecar's ends, -1 when closed */
	int feed_pipe;		/* with feed, sidecar's end, -1 when closed */
	int feed_fd;		/* with feed, in the copy: its end */
};

/* Starts the task: 0, or -1 when fork or pipe failed. */
int proc_task_start(struct proc_task *t);
/* Closes the pipes and reaps the copy: its status, or -1. */
int proc_task_wait(struct proc_task *t);

#endif
