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
 * to the child (its whole process group when own_group), and the wait goes
 * on; after 2s the child is killed. When a bound passes, the child (group)
 * is killed with SIGKILL and timed_out is set. Pipes are read to EOF even
 * after the child exits (a grandchild may still write), within the bounds.
 */
#ifndef SIDECAR_PROC_H
#define SIDECAR_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

enum proc_io { IO_INHERIT = 0, IO_NULL, IO_PIPE, IO_FD };

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
	/* IO_PIPE stdout/stderr: collected here, or dropped when NULL */
	struct buf *out_buf, *err_buf;
	int err_tee;		/* also copy stderr to ours as it comes; then
				   err_buf keeps only the last few KiB */
	/* called as stdin bytes go out, for progress */
	void (*progress)(void *ctx, unsigned long long bytes);
	void *ctx;

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

/*
 * Why a program could not run, in the words that follow "cannot run
 * 'PROG': ", from proc_start's status and the errno it left (the one
 * place exec errors are named): 127 "not found"; 126 "not executable",
 * unless the kernel refused the length of the command line (E2BIG);
 * -1 errno's words.
 */
const char *proc_exec_reason(int status, int err);

/* Fills p with defaults: everything inherited, no bounds, in_src = -1. */
void proc_init(struct proc *p, const char *const *argv);

/*
 * Starts the child. Returns 0, or a status (126, 127, -1) when it never
 * ran, with errno saying why (for proc_exec_reason).
 */
int proc_start(struct proc *p);

/* Pumps the pipes with poll() until EOF and the child is reaped; the status. */
int proc_finish(struct proc *p);

/* proc_start then proc_finish. */
int proc_run(struct proc *p);

#endif
