/*
 * conn_forward.c: local ports forwarded to the sidecar through the shared
 * connection (ssh -O forward), and the record of them beside its socket.
 */
#include "conn_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "err.h"
#include "msg.h"

/* A port: 1 to 65535, digits only; 0 when s is not one. */
static unsigned parse_port(const char *s, size_t n)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= 65535 ? (unsigned)v : 0;
}

int forward_parse(const char *spec, struct forward *f)
{
	const char *colon = strchr(spec, ':');

	if (colon) {
		f->local = parse_port(spec, (size_t)(colon - spec));
		f->remote = parse_port(colon + 1, strlen(colon + 1));
	} else {
		f->remote = f->local = parse_port(spec, strlen(spec));
	}
	return f->local && f->remote ? 0 : -1;
}

/* Whether something on this machine already holds 127.0.0.1:port. */
static int port_busy(unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), busy;

	if (fd < 0)
		return 0;	/* let ssh find out */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	busy = bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno == EADDRINUSE;
	close(fd);
	return busy;
}

/* The record beside the socket: "PID LOCAL REMOTE" lines, PID the master's. */
static void read_record(const struct conn *c, struct buf *out)
{
	struct buf path = BUF_INIT;
	int fd;

	conn_side_path(c, &path, ".fwd");
	if ((fd = open(path.s, O_RDONLY | O_CLOEXEC)) >= 0) {
		conn_slurp_fd(fd, out);
		close(fd);
	}
	buf_free(&path);
}

/*
 * Reads the record's line at *p and moves *p past it: 1 with its pid and
 * forward, 0 for a line that is not one (or is cut short), -1 at the end.
 */
static int record_line(const char **p, size_t *len, long *pid, struct forward *f)
{
	const char *nl = strchr(*p, '\n');
	char tail;
	int ok;

	if (!**p)
		return -1;
	*len = nl ? (size_t)(nl - *p) + 1 : strlen(*p);
	ok = sscanf(*p, "%ld %u %u%c", pid, &f->local, &f->remote, &tail) == 4 && tail == '\n';
	*p += *len;
	return ok;
}

static int same(const struct forward *a, const struct forward *b)
{
	return a->local == b->local && a->remote == b->remote;
}

void forward_record_update(const char *record, long pid, const struct forward *f, int add,
			   struct buf *out)
{
	const char *p = record ? record : "", *line = p;
	struct forward g;
	size_t n;
	long lp;
	int r;

	while ((r = record_line(&p, &n, &lp, &g)) >= 0) {
		if (r && lp == pid && !same(&g, f))
			buf_add(out, line, n);
		line = p;
	}
	if (add)
		buf_addf(out, "%ld %u %u\n", pid, f->local, f->remote);
}

/* The forwards of the record for master pid, or for any master when pid is 0. */
static void forwards_of(const char *record, long pid, struct forward **list, size_t *n)
{
	const char *p = record;
	struct forward f;
	size_t len;
	long lp;
	int r;

	*list = NULL;
	*n = 0;
	while ((r = record_line(&p, &len, &lp, &f)) >= 0) {
		if (r && (!pid || lp == pid)) {
			*list = xrealloc(*list, (*n + 1) * sizeof **list);
			(*list)[(*n)++] = f;
		}
	}
}

void conn_forwards(const struct conn *c, long pid, struct forward **list, size_t *n)
{
	struct buf rec = BUF_INIT;

	read_record(c, &rec);
	forwards_of(buf_str(&rec), pid, list, n);
	buf_free(&rec);
}

/* Whether the record holds f for master pid (0: for any master). */
static int recorded(const char *record, long pid, const struct forward *f)
{
	struct forward *list;
	size_t n;
	int found = 0;

	forwards_of(record, pid, &list, &n);
	for (size_t i = 0; i < n; i++)
		found |= same(&list[i], f);
	free(list);
	return found;
}

/*
 * Whether the live master already forwards f: only a forward recorded at
 * all costs the question to the master (ssh -O check).
 */
static int held(struct conn *c, const struct forward *f)
{
	struct buf rec = BUF_INIT;
	long pid = 0;
	int yes;

	read_record(c, &rec);
	yes = recorded(buf_str(&rec), 0, f) && conn_master_alive(c, &pid) &&
	      recorded(buf_str(&rec), pid, f);
	buf_free(&rec);
	return yes;
}

enum err forward_usable(struct conn *c, const struct forward *f)
{
	if (f->local < 1024) {
		error("local port %u is privileged: forward from a port of 1024 or more, "
		      "as in 8080:%u", f->local, f->remote);
		return ERR_USAGE;
	}
	if (!held(c, f) && port_busy(f->local)) {
		error("local port %u is in use on this machine: pick another, as in PORT:%u",
		      f->local, f->remote);
		return ERR_FAIL;
	}
	return ERR_OK;
}

enum err conn_forward(struct conn *c, const struct forward *f, int cancel)
{
	struct strv a = STRV_INIT;
	struct buf err = BUF_INIT, rec = BUF_INIT, upd = BUF_INIT, path = BUF_INIT;
	struct proc p;
	long pid = 0;
	enum err rc = ERR_OK;
	int status;

	if (!conn_master_alive(c, &pid)) {
		error("the shared connection to %s is down", c->dest);
		return ERR_FAIL;
	}
	conn_common_args(c, &a, 1);
	strv_push(&a, "-O");
	strv_push(&a, cancel ? "cancel" : "forward");
	strv_pushf(&a, "-L127.0.0.1:%u:127.0.0.1:%u", f->local, f->remote);
	strv_push(&a, "--");
	strv_push(&a, c->dest);
	status = conn_run_ssh(&a, NULL, &err, -1, CHECK_TIMEOUT_MS, &p);
	if (status < 0 || status == PROC_NOTFOUND || status == PROC_NOEXEC) {
		rc = conn_cannot_run(c, status, &p);
	} else if (status != 0) {
		buf_chomp(&err);
		rc = error("cannot %s port %u on %s: %s", cancel ? "cancel the forward of" : "forward",
			   f->local, c->dest, err.len ? buf_str(&err) : "ssh -O failed");
	} else {
		read_record(c, &rec);
		forward_record_update(rec.s, pid, f, !cancel, &upd);
		conn_side_path(c, &path, ".fwd");
		conn_replace_file(path.s, buf_str(&upd), upd.len);
	}
	strv_free(&a);
	buf_free(&err);
	buf_free(&rec);
	buf_free(&upd);
	buf_free(&path);
	return rc;
}
