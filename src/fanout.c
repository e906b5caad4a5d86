/* fanout.c: the tasks' copies, started and read side by side with poll(). */
#include "fanout.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
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

void fanout_init(struct fanout *f, const char *const *dests, size_t n, long jobs)
{
	memset(f, 0, sizeof *f);
	f->n = n;
	f->tasks = xmalloc(n * sizeof *f->tasks);
	memset(f->tasks, 0, n * sizeof *f->tasks);
	for (size_t i = 0; i < n; i++)
		f->tasks[i].dest = dests[i];
	f->jobs = jobs > 0 && (size_t)jobs < n ? (size_t)jobs : n;
}

void fanout_free(struct fanout *f)
{
	buf_free(&f->record);
	for (size_t i = 0; i < f->n; i++)
		buf_free(&f->tasks[i].out);
	free(f->tasks);
	f->tasks = NULL;
	f->n = 0;
}

/* In the copy: the task, then what it says, to the parent. */
static int task_main(void *ctx, int fd)
{
	struct fanout_task *t = ctx;
	struct fanout *f = t->f;
	struct buf out = BUF_INIT;
	int status;

	/* the pipes of the copies started before this one are theirs */
	for (size_t i = 0; i < f->running; i++) {
		close(f->live[i]->t.out_pipe);
		for (int k = 0; k < 2; k++)
			if (f->live[i]->t.std_pipe[k] >= 0)
				close(f->live[i]->t.std_pipe[k]);
		if (f->live[i]->t.feed_pipe >= 0)
			close(f->live[i]->t.feed_pipe);
	}
	status = f->run(f->ctx, t->dest, t->t.feed_fd, &out);
	for (size_t off = 0; off < out.len;) {
		ssize_t n = write(fd, out.s + off, out.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the parent is gone */
		off += (size_t)n;
	}
	buf_free(&out);
	return status;
}

/*
 * What begin left, to the copy, once begin has run; then end of file. To
 * a copy that is gone the write fails (SIGPIPE is ignored), and that is
 * all.
 */
static void feed(struct fanout *f, struct fanout_task *t)
{
	int fd = t->t.feed_pipe;

	if (fd < 0 || !f->begun)
		return;
	for (size_t off = 0; f->begin_rc == ERR_OK && off < f->record.len;) {
		ssize_t n = write(fd, f->record.s + off, f->record.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the copy is gone */
		off += (size_t)n;
	}
	close(fd);
	t->t.feed_pipe = -1;
}

/* A line longer than this goes out in parts: memory stays bounded. */
#define LINE_MAX_BYTES 65536

/*
 * The whole lines of part, each as "DEST: line" on fp, bytes as they are;
 * at_end, or past LINE_MAX_BYTES, the rest too. -1 when fp cannot be
 * written (a reader that went away).
 */
static int put_lines(const struct fanout_task *t, struct buf *part, FILE *fp, int at_end)
{
	size_t start = 0;

	for (size_t i = 0; i < part->len; i++) {
		if (part->s[i] != '\n')
			continue;
		fprintf(fp, "%s: ", t->dest);
		fwrite(part->s + start, 1, i + 1 - start, fp);
		start = i + 1;
	}
	if ((at_end || part->len - start > LINE_MAX_BYTES) && start < part->len) {
		fprintf(fp, "%s: ", t->dest);
		fwrite(part->s + start, 1, part->len - start, fp);
		putc('\n', fp);
		start = part->len;
	}
	if (start) {
		memmove(part->s, part->s + start, part->len - start);
		part->len -= start;
		part->s[part->len] = '\0';
	}
	return fflush(fp) == 0 && !ferror(fp) ? 0 : -1;
}

/* Reads what fd has into b: 0 when it read some, -1 when none is there now, 1 at EOF or an error. */
static int take(int fd, struct buf *b)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof tmp);

	if (n > 0) {
		buf_add(b, tmp, (size_t)n);
		return 0;
	}
	return n < 0 && (errno == EINTR || errno == EAGAIN) ? -1 : 1;
}

/*
 * The copy has ended (its result pipe is at EOF): what its stdout and
 * stderr still hold comes out, without waiting for a program it left
 * running that holds them too; then it is reaped.
 */
static void task_end(struct fanout *f, struct fanout_task *t)
{
	static FILE *const *const dst[2] = { &stdout, &stderr };

	for (int i = 0; i < 2; i++) {
		int fd = t->t.std_pipe[i];
		if (fd < 0)
			continue;
		fcntl(fd, F_SETFL, O_NONBLOCK);
		while (take(fd, &t->part[i]) == 0)
			;
		if (!f->gone && put_lines(t, &t->part[i], *dst[i], 1))
			f->gone = 1;
	}
	t->status = proc_task_wait(&t->t);
	f->done(f->ctx, t);
}

enum err fanout_run(struct fanout *f)
{
	struct pollfd *pfd;
	struct fanout_task **live;
	size_t next = 0, running = 0, slots = f->prefix ? 3 : 1;
	int passed = 0;

	pfd = f->pfd = xmalloc((f->jobs * slots + 1) * sizeof *pfd);
	live = f->live = xmalloc(f->jobs * sizeof *live);
	for (size_t i = 0; i < f->n; i++) {
		f->tasks[i].f = f;
		f->tasks[i].t.pid = -1;
		f->tasks[i].t.out_pipe = f->tasks[i].t.std_pipe[0] = f->tasks[i].t.std_pipe[1] = -1;
		f->tasks[i].t.feed_pipe = -1;
	}
	for (;;) {
		/* none starts after a signal, a reader gone, or a begin that failed */
		while (!sig_caught && !f->gone && !(f->begun && f->begin_rc) && running < f->jobs &&
		       next < f->n) {
			struct fanout_task *t = &f->tasks[next++];
			t->t.fn = task_main;
			t->t.ctx = t;
			t->t.capture = f->prefix;
			t->t.feed = f->begin != NULL;
			if (proc_task_start(&t->t) < 0) {
				error("cannot start the task for %s: %s", t->dest, strerror(errno));
				t->status = -1;
				f->done(f->ctx, t);
				continue;
			}
			t->started = 1;
			live[running++] = t;
			f->running = running;
			feed(f, t);
		}
		if (f->begin && !f->begun) {
			/* the first copies connect while begin runs; after a signal it does not */
			f->begin_rc = sig_caught ? ERR_SIGNAL : f->begin(f->ctx, &f->record);
			f->begun = 1;
			for (size_t i = 0; i < running; i++)
				feed(f, live[i]);
		}
		if (!running)
			break;
		if ((sig_caught || f->gone) && !passed) {
			/* a reader that went away ends them as a SIGTERM would */
			for (size_t i = 0; i < running; i++)
				kill(live[i]->t.pid, sig_caught ? sig_caught : SIGTERM);
			passed = 1;
		}
		pfd[0].fd = sig_wakefd();
		pfd[0].events = POLLIN;
		for (size_t i = 0; i < running; i++) {
			struct pollfd *p = &pfd[1 + i * slots];
			p[0].fd = live[i]->t.out_pipe;
			for (size_t k = 1; k < slots; k++)
				p[k].fd = live[i]->t.std_pipe[k - 1];
			for (size_t k = 0; k < slots; k++)
				p[k].events = POLLIN;
		}
		if (poll(pfd, running * slots + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			/* cannot wait for news: stop them, and end each */
			for (size_t i = 0; i < running; i++)
				kill(live[i]->t.pid, SIGTERM);
			while (running)
				task_end(f, live[--running]);
			break;
		}
		if (pfd[0].revents)
			sig_drain();
		for (size_t i = running; i-- > 0;) {
			struct fanout_task *t = live[i];
			struct pollfd *p = &pfd[1 + i * slots];
			for (size_t k = 1; k < slots; k++) {
				if (!p[k].revents)
					continue;
				int end = take(p[k].fd, &t->part[k - 1]) == 1;
				if (f->gone)
					t->part[k - 1].len = 0;	/* nobody reads it */
				else if (put_lines(t, &t->part[k - 1], k == 1 ? stdout : stderr, end))
					f->gone = 1;
				if (end) {
					close(p[k].fd);	/* no more polls */
					t->t.std_pipe[k - 1] = -1;
				}
			}
			if (p[0].revents && take(p[0].fd, &t->out) == 1) {
				task_end(f, t);
				live[i] = live[--running];
				f->running = running;
			}
		}
	}
	for (; next < f->n; next++) {	/* not started: a signal, nobody reads, or begin failed */
		f->tasks[next].status = PROC_SIGNALED(sig_caught ? sig_caught : f->gone ? SIGPIPE : SIGTERM);
		f->done(f->ctx, &f->tasks[next]);
	}
	for (size_t i = 0; i < f->n; i++)
		for (int k = 0; k < 2; k++)
			buf_free(&f->tasks[i].part[k]);
	free(pfd);
	free(live);
	f->pfd = NULL;
	f->live = NULL;
	return sig_caught ? ERR_SIGNAL : ERR_OK;
}
