/* proc.c: fork, exec, pump, wait. See proc.h for the contract. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backoff.h"
#include "sig.h"

extern char **environ;

#define CHUNK 65536
#define KILL_GRACE_MS 2000
#define DRAIN_GRACE_MS 200

void proc_init(struct proc *p, const char *const *argv)
{
	memset(p, 0, sizeof *p);
	p->argv = argv;
	p->in_src = -1;
	p->in_fd = p->out_fd = p->err_fd = -1;
	p->in_pipe = p->out_pipe = p->err_pipe = -1;
	p->pid = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Builds the child's environment: ours, with p->env's entries replacing. */
static char **child_env(const char *const *extra)
{
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	while (extra && extra[k])
		k++;
	char **env = xmalloc((n + k + 1) * sizeof *env);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		int replaced = 0;
		for (size_t j = 0; j < k && !replaced; j++)
			replaced = strncmp(extra[j], environ[i], len) == 0 &&
				   extra[j][len] == '=';
		if (!replaced)
			env[m++] = environ[i];
	}
	for (size_t j = 0; j < k; j++)
		env[m++] = (char *)extra[j];
	env[m] = NULL;
	return env;
}

/* In the child: only async-signal-safe calls, then exec or _exit. */
static void child(const struct proc *p, int fds[3], int report, char **env)
{
	int devnull = -1;

	sig_reset_child();
	if (p->own_group)
		setpgid(0, 0);
	for (int i = 0; i < 3; i++) {
		if (fds[i] == -2) {
			if (devnull < 0)
				devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
			fds[i] = devnull;
		}
	}
	/* Move sources out of 0..2 first, so a dup2 cannot clobber another. */
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0 && fds[i] <= 2 && fds[i] != i)
			fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
	for (int i = 0; i < 3; i++) {
		if (fds[i] >= 0 && fds[i] != i)
			dup2(fds[i], i);
		else if (fds[i] == i)
			fcntl(i, F_SETFD, 0);
	}
	environ = env;
	execvp(p->argv[0], (char *const *)p->argv);
	int e = errno;
	(void)!write(report, &e, sizeof e);
	_exit(127);
}

static int make_pipe(int fds[2])
{
	if (pipe(fds) < 0)
		return -1;
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

int proc_start(struct proc *p)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int report[2] = { -1, -1 };
	int fds[3];
	const enum proc_io modes[3] = { p->in, p->out, p->err };
	const int given[3] = { p->in_fd, p->out_fd, p->err_fd };
	int *pipes[3] = { in, out, err };
	sigset_t all, old;

	for (int i = 0; i < 3; i++) {
		switch (modes[i]) {
		case IO_INHERIT: fds[i] = i; break;
		case IO_NULL: fds[i] = -2; break;
		case IO_FD: fds[i] = given[i]; break;
		case IO_PIPE:
			if (make_pipe(pipes[i]) < 0)
				goto fail;
			fds[i] = pipes[i][i == 0 ? 0 : 1];
			break;
		}
	}
	if (make_pipe(report) < 0)
		goto fail;

	char **env = child_env(p->env);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	p->pid = fork();
	if (p->pid == 0)
		child(p, fds, report[1], env);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(env);
	if (p->pid < 0)
		goto fail;
	if (p->own_group)
		setpgid(p->pid, p->pid);	/* no race with the child's own call */

	close_fd(&report[1]);
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&err[1]);
	p->in_pipe = in[1];
	p->out_pipe = out[0];
	p->err_pipe = err[0];

	int e = 0;
	ssize_t n;
	while ((n = read(report[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	close_fd(&report[0]);
	if (n == (ssize_t)sizeof e) {
		p->exec_errno = e;
		close_fd(&p->in_pipe);
		close_fd(&p->out_pipe);
		close_fd(&p->err_pipe);
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
		p->pid = -1;
		return e == ENOENT || e == ENOTDIR ? 127 : 126;
	}
	if (p->in_pipe >= 0)
		fcntl(p->in_pipe, F_SETFL, O_NONBLOCK);
	return 0;

fail:
	for (int i = 0; i < 3; i++) {
		close_fd(&pipes[i][0]);
		close_fd(&pipes[i][1]);
	}
	close_fd(&report[0]);
	close_fd(&report[1]);
	p->exec_errno = errno;
	return -1;
}

static void signal_child(const struct proc *p, int signo)
{
	if (p->pid <= 0)
		return;
	if (p->own_group)
		kill(-p->pid, signo);
	else
		kill(p->pid, signo);
}

static int decode(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return -1;
}

#define TEE_KEEP 8192

/* Copies all of data to fd, waiting out a full non-blocking pipe. */
static void write_all(int fd, const char *data, size_t n)
{
	while (n) {
		ssize_t w = write(fd, data, n);
		if (w > 0) {
			data += w;
			n -= (size_t)w;
		} else if (w < 0 && errno != EINTR && errno != EAGAIN) {
			return;
		}
	}
}

/* Reads what is there into b (or drops it); closes fd at EOF. */
static int drain(int *fd, struct buf *b, int tee)
{
	char tmp[CHUNK];
	ssize_t n = read(*fd, tmp, sizeof tmp);
	if (n > 0) {
		if (tee)
			write_all(STDERR_FILENO, tmp, (size_t)n);
		if (b)
			buf_add(b, tmp, (size_t)n);
		if (b && tee && b->len > 2 * TEE_KEEP) {
			memmove(b->s, b->s + b->len - TEE_KEEP, TEE_KEEP);
			b->len = TEE_KEEP;
			b->s[b->len] = '\0';
		}
		return 1;
	}
	if (n == 0 || (errno != EINTR && errno != EAGAIN))
		close_fd(fd);
	return 0;
}

struct feed {
	char data[CHUNK];
	size_t off, len;
	size_t given;	/* bytes of in_data already queued */
};

/* Refills the stdin buffer from in_data, then from in_src. */
static int refill(struct proc *p, struct feed *f)
{
	if (f->off < f->len)
		return 0;
	f->off = f->len = 0;
	if (f->given < p->in_len) {
		size_t n = p->in_len - f->given;
		if (n > sizeof f->data)
			n = sizeof f->data;
		memcpy(f->data, p->in_data + f->given, n);
		f->given += n;
		f->len = n;
		return 1;
	}
	return 0;
}

static long long min_deadline(long long a, long long b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

int proc_finish(struct proc *p)
{
	struct feed *f;
	long long start = now_ms(), last_io = start, exited_at = 0;
	long long kill_at = 0;
	int wstatus = 0, exited = 0, forwarded = 0;

	if (p->pid <= 0)
		return -1;
	f = xmalloc(sizeof *f);
	memset(f, 0, sizeof *f);
	if (p->in_pipe >= 0 && !p->in_len && p->in_src < 0)
		close_fd(&p->in_pipe);

	for (;;) {
		struct pollfd pfd[5];
		int n = 0, i_in = -1, i_src = -1, i_out = -1, i_err = -1;

		if (!exited) {
			pid_t r = waitpid(p->pid, &wstatus, WNOHANG);
			if (r == p->pid) {
				exited = 1;
				exited_at = now_ms();
				close_fd(&p->in_pipe);
			}
		}
		if (sig_caught && !forwarded && !exited) {
			signal_child(p, sig_caught);
			forwarded = 1;
			kill_at = now_ms() + KILL_GRACE_MS;
		}
		refill(p, f);
		if (p->in_pipe >= 0 && f->off == f->len && p->in_src < 0 &&
		    f->given >= p->in_len)
			close_fd(&p->in_pipe);
		if (exited && p->out_pipe < 0 && p->err_pipe < 0)
			break;
		if (exited && now_ms() - exited_at > DRAIN_GRACE_MS)
			break;	/* a grandchild holds our pipe; do not wait for it */

		long long now = now_ms();
		long long deadline = 0;
		if (p->timeout_ms)
			deadline = min_deadline(deadline, start + p->timeout_ms);
		if (p->idle_ms)
			deadline = min_deadline(deadline, last_io + p->idle_ms);
		if (!exited && deadline && now >= deadline && !p->timed_out) {
			p->timed_out = 1;
			signal_child(p, SIGKILL);
		}
		if (!exited && kill_at && now >= kill_at) {
			signal_child(p, SIGKILL);
			kill_at = 0;
		}
		deadline = min_deadline(p->timed_out ? 0 : deadline, kill_at);
		if (exited)
			deadline = min_deadline(deadline, exited_at + DRAIN_GRACE_MS);

		pfd[n].fd = sig_wakefd();
		pfd[n++].events = POLLIN;
		if (p->in_pipe >= 0 && f->off < f->len) {
			i_in = n;
			pfd[n].fd = p->in_pipe;
			pfd[n++].events = POLLOUT;
		}
		if (p->in_pipe >= 0 && f->off == f->len && p->in_src >= 0) {
			i_src = n;
			pfd[n].fd = p->in_src;
			pfd[n++].events = POLLIN;
		}
		if (p->out_pipe >= 0) {
			i_out = n;
			pfd[n].fd = p->out_pipe;
			pfd[n++].events = POLLIN;
		}
		if (p->err_pipe >= 0) {
			i_err = n;
			pfd[n].fd = p->err_pipe;
			pfd[n++].events = POLLIN;
		}
		int wait = -1;
		if (deadline) {
			long long d = deadline - now_ms();
			wait = d < 0 ? 0 : d > 1000000 ? 1000000 : (int)d;
		}
		if (poll(pfd, (nfds_t)n, wait) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			sig_drain();
		if (i_out >= 0 && pfd[i_out].revents && drain(&p->out_pipe, p->out_buf, 0))
			last_io = now_ms();
		if (i_err >= 0 && pfd[i_err].revents && drain(&p->err_pipe, p->err_buf, p->err_tee))
			last_io = now_ms();
		if (i_src >= 0 && pfd[i_src].revents) {
			ssize_t r = read(p->in_src, f->data, sizeof f->data);
			if (r > 0) {
				f->off = 0;
				f->len = (size_t)r;
				last_io = now_ms();
			} else if (r == 0 || errno != EINTR) {
				p->in_src = -1;	/* the owner closes it */
			}
		}
		if (i_in >= 0 && pfd[i_in].revents) {
			ssize_t w = write(p->in_pipe, f->data + f->off, f->len - f->off);
			if (w > 0) {
				f->off += (size_t)w;
				p->bytes_in += (unsigned long long)w;
				last_io = now_ms();
				if (p->progress)
					p->progress(p->ctx, p->bytes_in);
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				close_fd(&p->in_pipe);	/* EPIPE: the child stopped reading */
				f->off = f->len;
				p->in_src = -1;
				p->in_len = f->given;
			}
		}
	}
	free(f);
	close_fd(&p->in_pipe);
	close_fd(&p->out_pipe);
	close_fd(&p->err_pipe);
	if (!exited) {
		while (waitpid(p->pid, &wstatus, 0) < 0) {
			if (errno != EINTR) {
				p->pid = -1;
				return -1;
			}
			if (sig_caught && !forwarded) {
				signal_child(p, sig_caught);
				forwarded = 1;
			}
		}
	}
	p->pid = -1;
	return decode(wstatus);
}

int proc_run(struct proc *p)
{
	int rc = proc_start(p);
	return rc ? rc : proc_finish(p);
}
