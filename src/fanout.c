/* fanout.c: the tasks' copies, started and read side by side with poll(). */
#include "fanout.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "sig.h"

enum err fanout_rc(int status)
{
	if (status >= 0 && status <= ERR_SIGNAL)
		return (enum err)status;
	return status > 128 ? ERR_SIGNAL : ERR_FAIL;
}

/* In the copy: the task, then what it says, to the parent. */
static int task_main(void *ctx, int fd)
{
	struct fanout_task *t = ctx;
	struct buf out = BUF_INIT;
	enum err rc = t->f->run(t->f->ctx, t->dest, &out);

	for (size_t off = 0; off < out.len;) {
		ssize_t n = write(fd, out.s + off, out.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the parent is gone */
		off += (size_t)n;
	}
	buf_free(&out);
	return (int)rc;
}

static void task_end(struct fanout *f, struct fanout_task *t, enum err rc)
{
	t->rc = rc;
	f->done(f->ctx, t);
}

/* Reads what the copy wrote; at EOF reaps it: 1 when it ended. */
static int task_read(struct fanout *f, struct fanout_task *t)
{
	char tmp[4096];
	ssize_t n = read(t->t.out_pipe, tmp, sizeof tmp);

	if (n > 0) {
		buf_add(&t->out, tmp, (size_t)n);
		return 0;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	task_end(f, t, fanout_rc(proc_task_wait(&t->t)));
	return 1;
}

enum err fanout_run(struct fanout *f)
{
	struct pollfd *pfd;
	struct fanout_task **live;
	size_t next = 0, running = 0;
	int passed = 0;
	enum err worst = ERR_OK;

	pfd = f->pfd = xmalloc((f->jobs + 1) * sizeof *pfd);
	live = f->live = xmalloc(f->jobs * sizeof *live);
	for (size_t i = 0; i < f->n; i++) {
		f->tasks[i].f = f;
		f->tasks[i].t.pid = -1;
		f->tasks[i].t.out_pipe = -1;
	}
	for (;;) {
		while (!sig_caught && running < f->jobs && next < f->n) {
			struct fanout_task *t = &f->tasks[next++];
			t->t.fn = task_main;
			t->t.ctx = t;
			if (proc_task_start(&t->t) < 0) {
				error("cannot start the sync to %s: %s", t->dest, strerror(errno));
				task_end(f, t, ERR_FAIL);
				continue;
			}
			t->started = 1;
			live[running++] = t;
		}
		if (!running)
			break;
		if (sig_caught && !passed) {
			for (size_t i = 0; i < running; i++)
				kill(live[i]->t.pid, sig_caught);
			passed = 1;
		}
		pfd[0].fd = sig_wakefd();
		pfd[0].events = POLLIN;
		for (size_t i = 0; i < running; i++) {
			pfd[i + 1].fd = live[i]->t.out_pipe;
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, running + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			sig_drain();
		for (size_t i = running; i-- > 0;) {
			if (!pfd[i + 1].revents || !task_read(f, live[i]))
				continue;
			live[i] = live[--running];	/* ended */
		}
	}
	for (; next < f->n; next++)
		task_end(f, &f->tasks[next], ERR_SIGNAL);
	for (size_t i = 0; i < f->n; i++)
		if (f->tasks[i].rc > worst)
			worst = f->tasks[i].rc;
	free(pfd);
	free(live);
	f->pfd = NULL;
	f->live = NULL;
	return worst;
}
