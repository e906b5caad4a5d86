/* proc.c: fork, exec, pump, wait. See proc.h for the contract. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backoff.h"
#include "err.h"
#include "sig.h"

extern char **environ;

#define CHUNK 65536
#define KILL_GRACE_MS 2000

void proc_init(struct proc *p, const char *const *argv)
{
	memset(p, 0, sizeof *p);
	p->argv = argv;
	p->in_src = -1;
	p->in_next = -1;
	p->in_fd = p->out_fd = p->err_fd = -1;
	p->in_pipe = p->out_pipe = p->err_pipe = -1;
	p->pid = -1;
	p->wake_fd = -1;
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
static void child(const struct proc *p, const char *path, int fds[3], int report, char **env)
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
	execve(path, (char *const *)p->argv, env);
	int e = errno;
	(void)!write(report, &e, sizeof e);
	_exit(PROC_NOTFOUND);
}

/* PATH as the child will see it: from its environment, else a default. */
static const char *child_path(char *const *env)
{
	for (; *env; env++)
		if (strncmp(*env, "PATH=", 5) == 0)
			return *env + 5;
	return "/usr/bin:/bin";
}

char *proc_resolve(const char *name, const char *path, int *err)
{
	struct buf b = BUF_INIT;
	int found_noexec = 0;

	*err = 0;
	if (!*name) {
		*err = ENOENT;
		return NULL;
	}
	if (strchr(name, '/'))
		return xstrdup(name);	/* execve says what is wrong with it */
	for (const char *dir = path;; dir++) {
		const char *end = strchr(dir, ':');
		size_t n = end ? (size_t)(end - dir) : strlen(dir);
		struct stat st;

		buf_reset(&b);
		if (n)
			buf_add(&b, dir, n);
		else
			buf_addc(&b, '.');	/* an empty entry is the current directory */
		buf_addc(&b, '/');
		buf_adds(&b, name);
		if (stat(b.s, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(b.s, X_OK) == 0)
				return b.s;
			found_noexec = 1;
		}
		if (!end)
			break;
		dir = end;
	}
	buf_free(&b);
	*err = found_noexec ? EACCES : ENOENT;
	return NULL;
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
	int e;

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
	int not_found;
	char *path = proc_resolve(p->argv[0], child_path(env), &not_found);
	if (!path) {
		free(env);
		errno = not_found;
		goto fail_exec;
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	p->pid = fork();
	if (p->pid == 0)
		child(p, path, fds, report[1], env);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(env);
	free(path);
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

	ssize_t n;
	e = 0;
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
		errno = e;
		return e == ENOENT || e == ENOTDIR ? PROC_NOTFOUND : PROC_NOEXEC;
	}
	if (p->in_pipe >= 0)
		fcntl(p->in_pipe, F_SETFL, O_NONBLOCK);
	return 0;

fail_exec:
fail:
	e = errno;
	for (int i = 0; i < 3; i++) {
		close_fd(&pipes[i][0]);
		close_fd(&pipes[i][1]);
	}
	close_fd(&report[0]);
	close_fd(&report[1]);
	p->exec_errno = e;
	errno = e;
	if (e == ENOENT || e == ENOTDIR)
		return PROC_NOTFOUND;
	return e == EACCES || e == E2BIG ? PROC_NOEXEC : -1;
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
		return PROC_SIGNALED(WTERMSIG(wstatus));
	return -1;
}

#define TEE_KEEP 8192

/*
 * Copies all of data to fd; when fd is a full non-blocking pipe, waits for
 * room with poll() (a signal for sidecar ends the wait).
 */
static void write_all(int fd, const char *data, size_t n)
{
	while (n) {
		ssize_t w = write(fd, data, n);
		if (w > 0) {
			data += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd[2] = { { .fd = fd, .events = POLLOUT },
						 { .fd = sig_wakefd(), .events = POLLIN } };
			if (sig_caught)
				return;
			if (poll(pfd, pfd[1].fd >= 0 ? 2 : 1, -1) > 0 && pfd[1].revents)
				sig_drain();
		} else if (w < 0 && errno != EINTR) {
			return;
		}
	}
}

/* Copies data to stderr when tee, and keeps it in b (the tail when tee). */
static void deliver(struct buf *b, int tee, const char *data, size_t n)
{
	if (tee)
		write_all(STDERR_FILENO, data, n);
	if (b)
		buf_add(b, data, n);
	if (b && tee && b->len > 2 * TEE_KEEP) {
		memmove(b->s, b->s + b->len - TEE_KEEP, TEE_KEEP);
		b->len = TEE_KEEP;
		b->s[b->len] = '\0';
	}
}

/* Reads what is there into tmp: the byte count, 0 at EOF (fd closed), -1 for none now. */
static ssize_t read_some(int *fd, char *tmp, size_t size)
{
	ssize_t n = read(*fd, tmp, size);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return -1;
	if (n <= 0) {
		close_fd(fd);
		return 0;
	}
	return n;
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

struct pump;
static long long pump_bound(const struct pump *u);

/*
 * The state of one child being pumped: its stdin feed and the times that
 * bound the wait.
 */
struct pump {
	struct proc *p;
	struct feed f;
	long long start, last_io, kill_at;
	int wstatus, exited, forwarded;
	int woken;	/* on_wake asked for the child to be interrupted */
	int hooked;	/* times on_signal took a signal */
	long long hook_until;	/* when waiting for on_signal to be ready ends */
	struct buf filtered;	/* stderr after err_filter */
};

/* The wall-clock or silence bound that comes first, 0 for none. */
static long long pump_bound(const struct pump *u)
{
	long long d = 0;

	if (u->p->timeout_ms)
		d = min_deadline(d, u->start + u->p->timeout_ms);
	if (u->p->idle_ms)
		d = min_deadline(d, u->last_io + u->p->idle_ms);
	return d;
}

/* The signal to pass on: one sidecar caught, else SIGINT once on_wake asked. */
static int pump_signal(const struct pump *u)
{
	return sig_caught ? sig_caught : u->woken ? SIGINT : 0;
}

/*
 * Passes signo to on_signal, or to the child when on_signal cannot; the
 * child then has KILL_GRACE_MS to end. While on_signal is not ready yet,
 * it is asked again as the pipes bring news, until KILL_GRACE_MS passed.
 */
static void pump_hook(struct pump *u, int signo, long long now)
{
	int r = u->p->on_signal(u->p->ctx, signo);

	if (!u->hook_until)
		u->hook_until = now + KILL_GRACE_MS;
	if (r > 0 && now < u->hook_until)
		return;
	u->forwarded = 1;
	u->hooked++;
	u->kill_at = now + KILL_GRACE_MS;
	if (r != 0 && !u->exited) {
		signal_child(u->p, signo);
		u->hooked = 2;	/* nothing more to ask of on_signal */
	}
}

/* Reaps the child when it has exited, passes on a signal, applies bounds. */
static void pump_watch(struct pump *u)
{
	struct proc *p = u->p;
	long long now;
	int sig = pump_signal(u);

	if (!u->exited && waitpid(p->pid, &u->wstatus, WNOHANG) == p->pid) {
		u->exited = 1;
		close_fd(&p->in_pipe);
	}
	now = now_ms();
	if (sig && p->on_signal && !u->forwarded)
		pump_hook(u, sig, now);
	if (u->exited)
		return;
	if (u->hooked == 1 && now >= u->kill_at)
		pump_hook(u, SIGKILL, now);
	if (sig && !u->forwarded && !p->keep_signals) {
		signal_child(p, sig);
		u->forwarded = 1;
		u->kill_at = now + KILL_GRACE_MS;
	}
	if (pump_bound(u) && now >= pump_bound(u) && !p->timed_out) {
		p->timed_out = 1;
		signal_child(p, SIGKILL);
	}
	if (u->kill_at && now >= u->kill_at) {
		signal_child(p, SIGKILL);
		u->kill_at = 0;
	}
}

/* Fills the stdin buffer, or closes stdin once everything went out. */
static void pump_feed(struct pump *u)
{
	struct proc *p = u->p;

	refill(p, &u->f);
	if (p->in_pipe >= 0 && u->f.off == u->f.len && p->in_src < 0 &&
	    u->f.given >= p->in_len) {
		if (p->in_next < 0)
			close_fd(&p->in_pipe);
		else if (p->in_next_open) {
			p->in_src = p->in_next;
			p->in_next = -1;
		}
	}
}

/* One slot of the poll set: an fd, what to wait for, what to do then. */
#define PUMP_SLOTS 6
struct slot {
	int fd;
	short events;
	void (*ready)(struct pump *u);
};

static void ready_out(struct pump *u)
{
	char tmp[CHUNK];
	ssize_t n = read_some(&u->p->out_pipe, tmp, sizeof tmp);

	if (n > 0) {
		if (u->p->out_filter)
			u->p->out_filter(u->p->ctx, tmp, (size_t)n);
		else
			deliver(u->p->out_buf, 0, tmp, (size_t)n);
		u->last_io = now_ms();
	}
}

/* Passes stderr on, through err_filter when there is one (n 0: at EOF). */
static void pass_err(struct pump *u, const char *data, size_t n)
{
	struct proc *p = u->p;

	if (p->err_filter) {
		buf_reset(&u->filtered);
		p->err_filter(p->ctx, data, n, &u->filtered);
		data = u->filtered.s;
		n = u->filtered.len;
	}
	if (n)
		deliver(p->err_buf, p->err_tee, data, n);
}

static void ready_err(struct pump *u)
{
	char tmp[CHUNK];
	ssize_t n = read_some(&u->p->err_pipe, tmp, sizeof tmp);

	if (n >= 0)
		pass_err(u, tmp, (size_t)n);
	if (n > 0)
		u->last_io = now_ms();
}

static void ready_src(struct pump *u)
{
	struct proc *p = u->p;
	ssize_t r = read(p->in_src, u->f.data, sizeof u->f.data);

	if (r > 0) {
		u->f.off = 0;
		u->f.len = (size_t)r;
		u->last_io = now_ms();
	} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
		p->in_src = -1;	/* the owner closes it */
	}
}

static void ready_in(struct pump *u)
{
	struct proc *p = u->p;
	struct feed *f = &u->f;
	ssize_t w = write(p->in_pipe, f->data + f->off, f->len - f->off);

	if (w > 0) {
		f->off += (size_t)w;
		p->bytes_in += (unsigned long long)w;
		u->last_io = now_ms();
		if (p->progress)
			p->progress(p->ctx, p->bytes_in);
	} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
		close_fd(&p->in_pipe);	/* EPIPE: the child stopped reading */
		f->off = f->len;
		p->in_src = p->in_next = -1;
		p->in_len = f->given;
	}
}

static void ready_wake(struct pump *u)
{
	(void)u;
	sig_drain();
}

static void ready_watch(struct pump *u)
{
	if (u->p->on_wake(u->p->ctx) == 1)
		u->woken = 1;
}

/* The slots to poll now: the self-pipe first, then each open end. */
static int pump_slots(const struct pump *u, struct slot s[PUMP_SLOTS])
{
	const struct proc *p = u->p;
	int n = 0;

	s[n++] = (struct slot){ sig_wakefd(), POLLIN, ready_wake };
	if (p->wake_fd >= 0 && p->on_wake && !u->woken && !u->exited)
		s[n++] = (struct slot){ p->wake_fd, POLLIN, ready_watch };
	if (p->in_pipe >= 0 && u->f.off < u->f.len)
		s[n++] = (struct slot){ p->in_pipe, POLLOUT, ready_in };
	if (p->in_pipe >= 0 && u->f.off == u->f.len && p->in_src >= 0)
		s[n++] = (struct slot){ p->in_src, POLLIN, ready_src };
	if (p->out_pipe >= 0)
		s[n++] = (struct slot){ p->out_pipe, POLLIN, ready_out };
	if (p->err_pipe >= 0)
		s[n++] = (struct slot){ p->err_pipe, POLLIN, ready_err };
	return n;
}

/* Polls the slots until the next deadline; -1 when poll itself failed. */
static int pump_once(struct pump *u)
{
	struct slot s[PUMP_SLOTS];
	struct pollfd pfd[PUMP_SLOTS];
	int n = pump_slots(u, s), wait = -1;
	long long deadline = min_deadline(u->p->timed_out ? 0 : pump_bound(u), u->kill_at);

	if (pump_signal(u) && !u->forwarded && u->hook_until)
		deadline = min_deadline(deadline, u->hook_until);

	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = s[i].fd, .events = s[i].events };
	if (deadline) {
		long long d = deadline - now_ms();
		wait = d < 0 ? 0 : d > 1000000 ? 1000000 : (int)d;
	}
	if (poll(pfd, (nfds_t)n, wait) < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++)
		if (pfd[i].revents)
			s[i].ready(u);
	return 0;
}

/* Waits for the child after the pipes are done; its status. */
static int proc_wait(struct pump *u)
{
	struct proc *p = u->p;

	close_fd(&p->in_pipe);
	close_fd(&p->out_pipe);
	close_fd(&p->err_pipe);
	while (!u->exited && waitpid(p->pid, &u->wstatus, 0) < 0) {
		if (errno != EINTR) {
			p->pid = -1;
			return -1;
		}
		if (sig_caught && !u->forwarded && p->on_signal)
			pump_hook(u, sig_caught, now_ms());
		else if (sig_caught && !u->forwarded && !p->keep_signals) {
			signal_child(p, sig_caught);
			u->forwarded = 1;
		}
	}
	p->pid = -1;
	return decode(u->wstatus);
}

/*
 * Pumps until the child has exited and its pipes are at EOF. A pipe still
 * held by a grandchild after the exit is waited for as long as the bounds
 * allow: nothing is cut short by a guess.
 */
int proc_finish(struct proc *p)
{
	struct pump *u;
	int rc;

	if (p->pid <= 0)
		return -1;
	u = xmalloc(sizeof *u);
	memset(u, 0, sizeof *u);
	u->p = p;
	u->start = u->last_io = now_ms();
	if (p->in_pipe >= 0 && !p->in_len && p->in_src < 0 && p->in_next < 0)
		close_fd(&p->in_pipe);
	for (;;) {
		pump_watch(u);
		pump_feed(u);
		if (u->exited && p->out_pipe < 0 && p->err_pipe < 0)
			break;
		if (u->exited && pump_bound(u) && now_ms() >= pump_bound(u))
			break;	/* a grandchild holds our pipe past the bound */
		if (pump_once(u) < 0)
			break;
	}
	if (p->err_filter && p->err_pipe >= 0)
		pass_err(u, NULL, 0);	/* cut short by a bound: what the filter holds goes out */
	rc = proc_wait(u);
	buf_free(&u->filtered);
	free(u);
	return rc;
}

int proc_run(struct proc *p)
{
	int rc = proc_start(p);
	return rc ? rc : proc_finish(p);
}

/* In the copy, with capture: stdin from /dev/null, stdout and stderr to the pipes. */
static int task_streams(int std[2][2])
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (null < 0 || dup2(null, 0) < 0 || dup2(std[0][1], 1) < 0 || dup2(std[1][1], 2) < 0)
		return -1;
	close(null);
	for (int i = 0; i < 2; i++) {
		close(std[i][0]);
		close(std[i][1]);
	}
	return 0;
}

int proc_task_start(struct proc_task *t)
{
	int fds[2], std[2][2] = { { -1, -1 }, { -1, -1 } }, feed[2] = { -1, -1 };
	sigset_t all, old;

	t->pid = -1;
	t->out_pipe = t->std_pipe[0] = t->std_pipe[1] = t->feed_pipe = t->feed_fd = -1;
	if (make_pipe(fds) < 0)
		return -1;
	if ((t->capture && (make_pipe(std[0]) < 0 || make_pipe(std[1]) < 0)) ||
	    (t->feed && make_pipe(feed) < 0)) {
		for (int i = 0; i < 2; i++) {
			close_fd(&std[i][0]);
			close_fd(&std[i][1]);
			close_fd(&fds[i]);
			close_fd(&feed[i]);
		}
		return -1;
	}
	fflush(NULL);	/* nothing buffered is written twice */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	t->pid = fork();
	if (t->pid == 0) {
		/* a self-pipe of its own before any signal can write to the parent's */
		if (sig_rearm() < 0)
			_exit(ERR_FAIL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(fds[0]);
		close_fd(&feed[1]);
		t->feed_fd = feed[0];
		if (t->capture && task_streams(std) < 0)
			_exit(ERR_FAIL);
		int rc = t->fn(t->ctx, fds[1]);
		fflush(NULL);
		_exit(rc);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	close_fd(&feed[0]);
	t->feed_pipe = feed[1];
	for (int i = 0; i < 2; i++) {
		close_fd(&std[i][1]);
		t->std_pipe[i] = std[i][0];
	}
	if (t->pid < 0) {
		close(fds[0]);
		close_fd(&t->std_pipe[0]);
		close_fd(&t->std_pipe[1]);
		close_fd(&t->feed_pipe);
		return -1;
	}
	t->out_pipe = fds[0];
	return 0;
}

int proc_task_wait(struct proc_task *t)
{
	int wstatus;

	close_fd(&t->out_pipe);
	close_fd(&t->std_pipe[0]);
	close_fd(&t->std_pipe[1]);
	close_fd(&t->feed_pipe);
	if (t->pid <= 0)
		return -1;
	while (waitpid(t->pid, &wstatus, 0) < 0) {
		if (errno != EINTR) {
			t->pid = -1;
			return -1;
		}
	}
	t->pid = -1;
	return decode(wstatus);
}
