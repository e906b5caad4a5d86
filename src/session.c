/* session.c: one ssh session running one operation of remote.sh. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "sig.h"
#include "snapshot.h"

/*
 * A session silent this long is dead (a stopped master, say). A dead
 * server is found much sooner by ServerAlive; git may think quietly for a
 * while on a large repository, and a waiting lock says so every second.
 */
#define SESSION_IDLE_MS 600000

/* The most of a session's stdout read to find its reply ahead of its data. */
#define REPLY_HEAD_MAX (4 << 20)

static void progress(void *arg, unsigned long long bytes)
{
	struct remote *rm = ((struct session *)arg)->rm;
	long long now = now_ms();

	if (!msg_tty() || msg_quiet() || rm->no_progress || now - rm->progress_start < 1000 ||
	    now - rm->progress_last < 250)
		return;
	rm->progress_last = now;
	rm->progress_shown = 1;
	double secs = (double)(now - rm->progress_start) / 1000.0;
	fprintf(stderr, "\r\033[Ksidecar: sending %.1f MiB (%.1f MiB/s)",
		(double)bytes / 1048576.0, (double)bytes / 1048576.0 / secs);
	fflush(stderr);
}

static void progress_done(struct remote *rm)
{
	if (rm->progress_shown)
		fputs("\r\033[K", stderr);
	rm->progress_shown = 0;
}

void remote_init(struct remote *rm, const char *dest, const char *rundir)
{
	memset(rm, 0, sizeof *rm);
	rm->dest = dest;
	if (rundir) {
		/* where this machine notes that the sidecar has the script installed */
		struct buf b = BUF_INIT;
		char key[17];
		sync_key(dest, protocol_script_id(), key);
		buf_addf(&b, "%s/script-%s", rundir, key);
		rm->mark = b.s;
	}
}

void remote_free(struct remote *rm)
{
	free(rm->mark);
	rm->mark = NULL;
}

static int script_installed(const struct remote *rm)
{
	return rm->mark && access(rm->mark, F_OK) == 0;
}

static void script_remember(const struct remote *rm, int installed)
{
	if (!rm->mark)
		return;
	if (installed) {
		int fd = open(rm->mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	} else {
		unlink(rm->mark);
	}
}

/* Writes all of data to our stdout; -1 when it is gone. */
static int write_out(const char *data, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, data, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		data += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A run session's stdout: its reply, kept, then the command's, passed on. */
static void run_out(void *ctx, const char *data, size_t n)
{
	struct session *s = ctx;
	const char *m, *e;

	if (!s->run_started) {
		buf_add(&s->out, data, n);
		m = strstr(buf_str(&s->out), "\nSIDECAR-REPLY ");
		e = m ? strstr(m + 1, "\nend\n") : NULL;
		if (!e)
			return;
		size_t end = (size_t)(e - s->out.s) + 5;
		struct reply r;
		struct buf why = BUF_INIT;
		if (reply_parse(s->out.s, end, &r, &why) == 0 && r.result != RESULT_UNSAID) {
			/* the operation was done: the command runs, stdin is its */
			s->run_started = 1;
			s->p.in_next_open = 1;
			if (s->rm->on_run)
				s->rm->on_run(s->rm->ctx, s, &r);
			fflush(stdout);
		}
		reply_free(&r);
		buf_free(&why);
		if (!s->run_started)
			return;	/* nothing ran: nothing follows */
		/* what came after the end line is the command's */
		int failed = s->out.len > end && write_out(s->out.s + end, s->out.len - end) < 0;
		s->out.len = end;
		s->out.s[end] = '\0';
		if (failed)
			goto gone;
		return;
	}
	if (write_out(data, n) == 0)
		return;
gone:
	/* our reader went away: so does ssh's, as with exec */
	close(s->p.out_pipe);
	s->p.out_pipe = -1;
}

static void run_err(void *ctx, const char *data, size_t n, struct buf *out)
{
	struct session *s = ctx;
	interrupt_scan_feed(&s->scan, data, n, out);
}

/* A signal reaches the command once it runs; the session before. */
static int run_signal(void *ctx, int signo)
{
	struct session *s = ctx;

	if (!s->run_started)
		return -1;
	if (!s->scan.pid)
		return s->scan.done ? -1 : 1;	/* no mark, or not yet */
	return conn_interrupt(s->rm->c, s->scan.pid, signo);
}

static enum err start(struct remote *rm, struct session *s, const char *const *args, int out_fd,
		      int run)
{
	struct strv full = STRV_INIT;

	memset(s, 0, sizeof *s);
	reply_init(&s->r);
	s->rm = rm;
	s->out_fd = out_fd;
	s->data_at = -1;
	s->run = run;
	/* the lock waits at most as long as a connection would */
	strv_pushf(&full, "%lld", rm->c->o->max_wait_ms / 1000);
	strv_pushv(&full, args);
	s->boot = script_installed(rm) ? BOOT_RUN : rm->write_nothing ? BOOT_INLINE : BOOT_INSTALL;
	protocol_command(&s->cmd, s->boot, strv_argv(&full));
	strv_free(&full);
	if (s->boot != BOOT_RUN)
		protocol_install_input(&s->in);
	conn_session_argv(rm->c, &s->argv, -1, s->cmd.s);
	proc_init(&s->p, strv_argv(&s->argv));
	s->p.in = IO_PIPE;
	if (out_fd >= 0) {
		/* what it sends goes to the file unseen: silence is no sign of death */
		s->p.out = IO_FD;
		s->p.out_fd = out_fd;
	} else {
		s->p.out = IO_PIPE;
		s->p.out_buf = &s->out;
	}
	s->p.err = IO_PIPE;
	s->p.err_buf = &s->err;
	s->p.err_tee = 1;
	s->p.own_group = 1;
	s->p.idle_ms = out_fd >= 0 ? 0 : SESSION_IDLE_MS;
	s->p.progress = progress;
	s->p.ctx = s;
	if (run) {
		s->p.out_filter = run_out;
		s->p.err_filter = run_err;
		s->p.on_signal = run_signal;
		s->p.in_next = STDIN_FILENO;
	}
	return conn_start(rm->c, &s->p);
}

enum err session_start(struct remote *rm, struct session *s, const char *const *args)
{
	return start(rm, s, args, -1, 0);
}

enum err session_start_run(struct remote *rm, struct session *s, const char *const *args)
{
	return start(rm, s, args, -1, 1);
}

/*
 * The head of out_fd up to its reply's end line into s->out, and where
 * what follows begins: the reply is the first one after what a login
 * shell printed, and the data after it may hold anything.
 */
static void read_head(struct session *s)
{
	static const char mark[] = "\nSIDECAR-REPLY ", end[] = "\nend\n";
	char chunk[65536];
	ssize_t n;

	if (lseek(s->out_fd, 0, SEEK_SET) < 0)
		return;
	while (s->out.len < REPLY_HEAD_MAX && (n = read(s->out_fd, chunk, sizeof chunk)) > 0) {
		buf_add(&s->out, chunk, (size_t)n);
		const char *m = strstr(buf_str(&s->out), mark);
		const char *e = m ? strstr(m + 1, end) : NULL;
		/* a NUL in the data would end strstr early: the reply has none */
		if (e) {
			s->data_at = (long long)(e - s->out.s) + (long long)sizeof end - 1;
			s->out.len = (size_t)s->data_at;
			s->out.s[s->out.len] = '\0';
			return;
		}
	}
}

/* Sends what s->in holds, then what in_src gives (-1: nothing); the session's status. */
static int send_rest(struct remote *rm, struct session *s, int in_src, struct verdict *v)
{
	int status;

	s->p.in_data = s->in.s;
	s->p.in_len = s->in.len;
	s->p.in_src = in_src;
	rm->progress_start = rm->progress_last = now_ms();
	status = conn_finish(rm->c, &s->p, v);
	progress_done(rm);
	rm->bytes_sent += s->cmd.len + s->p.bytes_in;
	return status;
}

enum err session_finish(struct remote *rm, struct session *s, const char *data, size_t len,
			int in_src)
{
	struct buf why = BUF_INIT;
	struct verdict v;
	enum err rc;
	int status;

	buf_add(&s->in, data, len);
	status = send_rest(rm, s, in_src, &v);
	if (s->run_started) {
		/* the operation was done; how the session ended is the command's */
		s->run_status = status;
		status = 0;
	} else if (sig_caught) {
		return ERR_SIGNAL;
	} else if (v.cls == FAIL_TRANSIENT) {
		return ERR_DROPPED;
	} else if (v.cls == FAIL_PERMANENT) {
		return conn_report(rm->c, &v);
	}
	if (s->out_fd >= 0)
		read_head(s);
	rc = status ? ERR_FAIL : ERR_OK;
	if (reply_parse(s->out.s, s->out.len, &s->r, &why) < 0) {
		if (rc == 0)
			rc = error("%s; is the sidecar's sh a POSIX shell?", why.s);
		else if (!strstr(buf_str(&s->err), "sidecar: "))
			error("the sidecar ended the session with status %d and no reply", status);
	} else if (s->r.missing_script) {
		trace("the script is not installed on %s: sending it", rm->dest);
		script_remember(rm, 0);
		rc = ERR_RESTART;
	} else {
		if (rm->on_reply)
			rm->on_reply(rm->ctx, &s->r);
		/* a refusal the command line must answer (-w, --adopt): usage */
		if (rc == ERR_FAIL && s->r.refused && strcmp(s->r.refused, "usage") == 0)
			rc = ERR_USAGE;
		else if (!s->r.complete && (rc == 0 || !strstr(buf_str(&s->err), "sidecar: ")))
			rc = error("the sidecar's reply was cut short (the session ended with status %d); "
				  "run sidecar again", status);
		else if (rc == 0 && s->boot == BOOT_INSTALL && s->r.installed)
			script_remember(rm, 1);
	}
	buf_free(&why);
	return rc;
}

void session_cancel(struct remote *rm, struct session *s)
{
	struct verdict v;

	s->p.err_tee = 0;
	send_rest(rm, s, -1, &v);
}

void session_free(struct session *s)
{
	reply_free(&s->r);
	interrupt_scan_free(&s->scan);
	strv_free(&s->argv);
	buf_free(&s->cmd);
	buf_free(&s->in);
	buf_free(&s->out);
	buf_free(&s->err);
}

static enum err whole(struct remote *rm, const char *const *args, const char *data, size_t len,
		      int in_src, int out_fd, struct reply *r, long long *data_at)
{
	struct session s;
	enum err rc = start(rm, &s, args, out_fd, 0);

	if (rc == 0)
		rc = session_finish(rm, &s, data, len, in_src);
	*r = s.r;
	if (data_at)
		*data_at = s.data_at;
	reply_init(&s.r);
	session_free(&s);
	return rc;
}

enum err remote_op(struct remote *rm, const char *const *args, const char *data, size_t len,
		   int in_src, struct reply *r)
{
	return whole(rm, args, data, len, in_src, -1, r, NULL);
}

enum err remote_op_to(struct remote *rm, const char *const *args, int out_fd, struct reply *r,
		      long long *data_at)
{
	enum err rc;

	/* a sidecar that lost its script gets it again */
	for (int restarts = 0;; restarts++) {
		if (ftruncate(out_fd, 0) < 0 || lseek(out_fd, 0, SEEK_SET) < 0)
			return error("cannot write a temporary file: %s", strerror(errno));
		rc = whole(rm, args, NULL, 0, -1, out_fd, r, data_at);
		if (rc != ERR_RESTART)
			return rc;
		reply_free(r);
		if (restarts == SESSION_MAX_RESTARTS)
			return error("the script could not be installed on %s", rm->dest);
	}
}
