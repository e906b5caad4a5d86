/*
 * linksim: a simulated network link on 127.0.0.1, for make bench and its
 * tests. A TCP forwarder from a local port to 127.0.0.1:TARGET that holds
 * every byte for a one-way delay and lets it through no faster than a rate
 * cap, in each direction, and counts the bytes it delivers.
 *
 * usage: linksim [-d MS] [-r MBIT] [-b BYTES] [-l PORT] -t TARGET
 *                -p PORTFILE [-c COUNTFILE]
 *
 *   -d MS       one-way delay in milliseconds, each direction (default 0)
 *   -r MBIT     rate cap in Mbit/s (10^6 bit/s), each direction; 0 = none
 *   -b BYTES    bytes held per direction per connection (default 1 MiB);
 *               a full buffer stops reading, so TCP pushes back
 *   -l PORT     port to listen on (default 0: any free port)
 *   -t TARGET   port on 127.0.0.1 every connection is forwarded to
 *   -p PORTFILE the port listened on, written atomically once listening
 *   -c COUNTFILE the counters, written atomically on SIGUSR1 and at exit:
 *                 up BYTES          client to target, delivered
 *                 down BYTES        target to client, delivered
 *                 connections N     accepted so far
 *                 dumps N           1 for the first write, then 2, ...
 *               a reader that sends SIGUSR1 waits for "dumps" to change.
 *
 * The link is one link: all connections share each direction's rate, as
 * they would share a real one. A chunk read at time t leaves when the link
 * is free (serialization at the rate) and arrives DELAY later; chunks keep
 * their order. SIGTERM or SIGINT writes the counters and exits 0.
 *
 * One thread, one poll() loop; signals reach it through a self-pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define MAXCONN 32		/* connections at once; more wait in the backlog */
#define CHUNK 16384		/* bytes read at once: 2.6 ms at 50 Mbit/s */
#define CHUNK_FREE 65536	/* the same without a rate cap */

static volatile sig_atomic_t got_term, got_dump;
static int sigpipe_w = -1;	/* the self-pipe's write end, for the handlers */

struct chunk {
	struct chunk *next;
	int64_t due;		/* CLOCK_MONOTONIC ns when it may be delivered */
	size_t len, off;
	unsigned char data[];
};

/* One direction of the link, shared by every connection. */
struct wire {
	int64_t free_at;	/* when the last chunk is fully on the wire */
	uint64_t bytes;		/* delivered */
};

/* One direction of one connection. */
struct flow {
	int from, to;
	struct chunk *head, *tail;
	size_t queued;
	int eof;		/* from said EOF (or failed) */
	int shut;		/* to was shut down for writing */
	int blocked;		/* the last send to `to` would block */
	struct wire *wire;
};

struct conn {
	int a, b;		/* client side, target side */
	struct flow up, down;	/* a -> b, b -> a */
	int dead;		/* done or failed: closed after this round */
};

struct opts {
	int64_t delay_ns;
	double rate_bps;	/* 0: no cap */
	size_t cap;
	unsigned listen_port, target_port;
	const char *portfile, *countfile;
};

struct state {
	struct opts o;
	struct wire up, down;
	struct conn *conns[MAXCONN];
	int nconn;
	uint64_t accepted, dumps;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGUSR1)
		got_dump = 1;
	else
		got_term = 1;
	if (sigpipe_w >= 0 && write(sigpipe_w, "x", 1) < 0) {
		/* the pipe is full: a wake-up is already pending */
	}
	errno = saved;
}

static int usage(void)
{
	fprintf(stderr, "usage: linksim [-d MS] [-r MBIT] [-b BYTES] [-l PORT] "
		"-t TARGET -p PORTFILE [-c COUNTFILE]\n");
	return 2;
}

/* Parses a non-negative decimal number; -1 when it is not one. */
static double parse_num(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e12)
		return -1;
	return v;
}

static int parse_port(const char *s, unsigned *port)
{
	double v = parse_num(s);

	if (v < 0 || v > 65535 || v != (unsigned)v)
		return -1;
	*port = (unsigned)v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int c, have_target = 0;
	double v;

	memset(o, 0, sizeof(*o));
	o->cap = 1 << 20;
	while ((c = getopt(argc, argv, "d:r:b:l:t:p:c:")) != -1) {
		switch (c) {
		case 'd':
			if ((v = parse_num(optarg)) < 0 || v > 60000)
				return -1;
			o->delay_ns = (int64_t)(v * 1e6);
			break;
		case 'r':
			if ((v = parse_num(optarg)) < 0)
				return -1;
			o->rate_bps = v * 1e6;
			break;
		case 'b':
			if ((v = parse_num(optarg)) < CHUNK || v > (1 << 30))
				return -1;
			o->cap = (size_t)v;
			break;
		case 'l':
			if (parse_port(optarg, &o->listen_port) < 0)
				return -1;
			break;
		case 't':
			if (parse_port(optarg, &o->target_port) < 0 || o->target_port == 0)
				return -1;
			have_target = 1;
			break;
		case 'p':
			o->portfile = optarg;
			break;
		case 'c':
			o->countfile = optarg;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || !have_target || !o->portfile)
		return -1;
	return 0;
}

/* Closes every descriptor above stderr, so no runner's pipe is kept open. */
static void close_inherited(void)
{
	long max = sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 3; fd < max; fd++)
		close(fd);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void tune(int fd)
{
	int one = 1;

	/* the link adds its own delay; Nagle's would come on top */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_nonblock(fd);
}

static struct sockaddr_in loopback(unsigned port)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static int listen_on(unsigned *port)
{
	struct sockaddr_in sa = loopback(*port);
	socklen_t salen = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		perror("linksim: socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) {
		perror("linksim: listen on 127.0.0.1");
		close(fd);
		return -1;
	}
	set_nonblock(fd);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Writes TEXT to PATH.tmp, then renames it over PATH. */
static int write_file(const char *path, const char *text)
{
	size_t n = strlen(path) + sizeof(".tmp");
	char *tmp = malloc(n);
	FILE *f;
	int ok;

	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.tmp", path);
	if (!(f = fopen(tmp, "w"))) {
		perror("linksim: open");
		free(tmp);
		return -1;
	}
	ok = fputs(text, f) >= 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) < 0) {
		perror("linksim: write");
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

static int dump_counts(struct state *s)
{
	char text[256];

	if (!s->o.countfile)
		return 0;
	s->dumps++;
	snprintf(text, sizeof(text), "up %llu\ndown %llu\nconnections %llu\ndumps %llu\n",
		 (unsigned long long)s->up.bytes, (unsigned long long)s->down.bytes,
		 (unsigned long long)s->accepted, (unsigned long long)s->dumps);
	return write_file(s->o.countfile, text);
}

static void flow_init(struct flow *f, int from, int to, struct wire *w)
{
	memset(f, 0, sizeof(*f));
	f->from = from;
	f->to = to;
	f->wire = w;
}

static void flow_free(struct flow *f)
{
	while (f->head) {
		struct chunk *c = f->head;
		f->head = c->next;
		free(c);
	}
	f->tail = NULL;
	f->queued = 0;
}

/* The time a chunk of LEN bytes read now may be delivered. */
static int64_t schedule(const struct opts *o, struct wire *w, size_t len, int64_t now)
{
	int64_t start = w->free_at > now ? w->free_at : now;
	int64_t ser = o->rate_bps > 0 ? (int64_t)((double)len * 8e9 / o->rate_bps) : 0;

	w->free_at = start + ser;
	return start + ser + o->delay_ns;
}

/* Reads one chunk from the flow's source. Returns -1 on a hard error. */
static int flow_read(const struct opts *o, struct flow *f, int64_t now)
{
	size_t most = o->rate_bps > 0 ? CHUNK : CHUNK_FREE;
	size_t room = o->cap - f->queued, len = room < most ? room : most;
	struct chunk *c;
	ssize_t n;

	if (f->eof || len == 0)
		return 0;
	if (!(c = malloc(sizeof(*c) + len))) {
		perror("linksim: malloc");
		return -1;
	}
	n = recv(f->from, c->data, len, 0);
	if (n <= 0) {
		free(c);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		f->eof = 1;
		return n < 0 ? -1 : 0;
	}
	c->next = NULL;
	c->len = (size_t)n;
	c->off = 0;
	c->due = schedule(o, f->wire, c->len, now);
	if (f->tail)
		f->tail->next = c;
	else
		f->head = c;
	f->tail = c;
	f->queued += c->len;
	return 0;
}

/* Delivers every chunk that is due. Returns -1 when the peer is gone. */
static int flow_flush(struct flow *f, int64_t now)
{
	f->blocked = 0;
	while (f->head && f->head->due <= now) {
		struct chunk *c = f->head;
		ssize_t n = send(f->to, c->data + c->off, c->len - c->off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				f->blocked = 1;
				return 0;
			}
			return -1;
		}
		c->off += (size_t)n;
		f->queued -= (size_t)n;
		f->wire->bytes += (uint64_t)n;
		if (c->off < c->len)
			continue;
		f->head = c->next;
		if (!f->head)
			f->tail = NULL;
		free(c);
	}
	if (f->eof && !f->head && !f->shut) {
		shutdown(f->to, SHUT_WR);
		f->shut = 1;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	flow_free(&c->up);
	flow_free(&c->down);
	close(c->a);
	close(c->b);
	free(c);
}

static void accept_one(struct state *s, int lfd)
{
	struct sockaddr_in sa = loopback(s->o.target_port);
	struct conn *c;
	int a, b;

	if ((a = accept(lfd, NULL, NULL)) < 0)
		return;
	s->accepted++;
	b = socket(AF_INET, SOCK_STREAM, 0);
	/* loopback: a blocking connect is answered at once */
	if (b < 0 || connect(b, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    !(c = malloc(sizeof(*c)))) {
		if (b >= 0)
			close(b);
		close(a);
		return;
	}
	tune(a);
	tune(b);
	c->a = a;
	c->b = b;
	c->dead = 0;
	flow_init(&c->up, a, b, &s->up);
	flow_init(&c->down, b, a, &s->down);
	s->conns[s->nconn++] = c;
}

/* The poll events FD needs: reading for IN, sending for OUT. */
static short want(const struct opts *o, const struct flow *in, const struct flow *out)
{
	short ev = 0;

	if (!in->eof && in->queued + 1 <= o->cap)
		ev |= POLLIN;
	if (out->blocked)
		ev |= POLLOUT;
	return ev;
}

/* A socket with nothing to wait for is left out: a hung-up peer would
 * otherwise wake poll() at once, again and again. */
static struct pollfd watch(int fd, short events)
{
	return (struct pollfd){ .fd = events ? fd : -1, .events = events };
}

/* Milliseconds until the earliest chunk not yet due is due, rounded up. */
static int timeout_ms(const struct state *s, int64_t now)
{
	int64_t next = -1;

	for (int i = 0; i < s->nconn; i++) {
		const struct flow *fl[2] = { &s->conns[i]->up, &s->conns[i]->down };
		for (int j = 0; j < 2; j++) {
			const struct chunk *c = fl[j]->head;
			if (!c || fl[j]->blocked)
				continue;
			if (c->due <= now)
				return 0;
			if (next < 0 || c->due < next)
				next = c->due;
		}
	}
	if (next < 0)
		return -1;
	next = (next - now + 999999) / 1000000;
	return next > 60000 ? 60000 : (int)next;
}

static int serve(struct state *s, int lfd, int sig_r)
{
	struct pollfd pfd[2 + 2 * MAXCONN];

	while (!got_term) {
		int64_t now;
		nfds_t n = 0;
		int rc, tmo;

		if (got_dump) {
			got_dump = 0;
			dump_counts(s);
		}
		pfd[n++] = (struct pollfd){ .fd = sig_r, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = lfd, .events = s->nconn < MAXCONN ? POLLIN : 0 };
		for (int i = 0; i < s->nconn; i++) {
			struct conn *c = s->conns[i];
			pfd[n++] = watch(c->a, want(&s->o, &c->up, &c->down));
			pfd[n++] = watch(c->b, want(&s->o, &c->down, &c->up));
		}
		tmo = timeout_ms(s, now_ns());
		rc = poll(pfd, n, tmo);
		if (rc < 0 && errno != EINTR) {
			perror("linksim: poll");
			return 1;
		}
		if (rc > 0 && (pfd[0].revents & POLLIN)) {
			char drain[64];
			while (read(sig_r, drain, sizeof(drain)) > 0)
				;
		}
		now = now_ns();
		/* pfd[2 + 2i] and pfd[3 + 2i] are connection i's two sockets */
		for (int i = 0; i < s->nconn; i++) {
			struct conn *c = s->conns[i];
			short ra = rc > 0 ? pfd[2 + 2 * i].revents : 0;
			short rb = rc > 0 ? pfd[3 + 2 * i].revents : 0;
			int bad = 0;

			if (ra & (POLLIN | POLLHUP | POLLERR))
				bad |= flow_read(&s->o, &c->up, now);
			if (rb & (POLLIN | POLLHUP | POLLERR))
				bad |= flow_read(&s->o, &c->down, now);
			bad |= flow_flush(&c->up, now);
			bad |= flow_flush(&c->down, now);
			c->dead = bad || (c->up.shut && c->down.shut);
		}
		for (int i = s->nconn - 1; i >= 0; i--) {
			if (!s->conns[i]->dead)
				continue;
			conn_close(s->conns[i]);
			s->conns[i] = s->conns[--s->nconn];
		}
		if (rc > 0 && (pfd[1].revents & POLLIN))
			accept_one(s, lfd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct state s;
	struct sigaction sa;
	int lfd, sp[2], rc;
	char portline[16];

	memset(&s, 0, sizeof(s));
	if (parse_opts(argc, argv, &s.o) < 0)
		return usage();
	close_inherited();
	if (pipe(sp) < 0) {
		perror("linksim: pipe");
		return 1;
	}
	set_nonblock(sp[0]);
	set_nonblock(sp[1]);
	fcntl(sp[0], F_SETFD, FD_CLOEXEC);
	fcntl(sp[1], F_SETFD, FD_CLOEXEC);
	sigpipe_w = sp[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((lfd = listen_on(&s.o.listen_port)) < 0)
		return 1;
	snprintf(portline, sizeof(portline), "%u\n", s.o.listen_port);
	if (write_file(s.o.portfile, portline) < 0)
		return 1;
	rc = serve(&s, lfd, sp[0]);
	while (s.nconn > 0)
		conn_close(s.conns[--s.nconn]);
	close(lfd);
	if (dump_counts(&s) < 0)
		rc = 1;
	return rc;
}
