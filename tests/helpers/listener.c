/*
 * listener: a TCP server on 127.0.0.1 that misbehaves on purpose, so the
 * tests can stage the connect-level failures an ssh client meets while a
 * machine boots.
 *
 * usage: listener MODE PORTFILE
 *
 *   close         accept, then close at once (the client reads EOF)
 *   reset         accept, then abort the connection (the client gets RST)
 *   silent        accept and never send a byte; keep the connection open
 *                 until the client goes away
 *   banner-close  send an SSH version line, then close
 *   port          write a free port and exit: a free-port picker. The port
 *                 is below the kernel's ephemeral range, so no outgoing
 *                 connection can take it before the caller binds it.
 *
 * The listener binds port 0 and, once it listens, writes the port number
 * to PORTFILE atomically (PORTFILE.tmp, then rename), so a reader never
 * sees a partial number. It then serves connections until it is killed;
 * SIGTERM's default action is the way to stop it, so there is no handler.
 *
 * "close" and "banner-close" half-close at once (FIN) and then drain what
 * the client sends until it hangs up. Closing the socket outright would
 * race with the client's own version line: a socket closed with unread
 * data in its receive queue makes the kernel answer with RST, and the
 * client would report a reset instead of a close.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define MAXCONN 64	/* connections held open at once; more are closed */

enum mode { M_CLOSE, M_RESET, M_SILENT, M_BANNER_CLOSE, M_PORT };

static const struct {
	const char *name;
	enum mode mode;
} modes[] = {
	{ "close", M_CLOSE },
	{ "reset", M_RESET },
	{ "silent", M_SILENT },
	{ "banner-close", M_BANNER_CLOSE },
	{ "port", M_PORT },
};

static const char banner[] = "SSH-2.0-OpenSSH_9.9\r\n";

static int usage(void)
{
	fprintf(stderr, "usage: listener close|reset|silent|banner-close|port PORTFILE\n");
	return 2;
}

static int parse_mode(const char *s, enum mode *m)
{
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(s, modes[i].name) == 0) {
			*m = modes[i].mode;
			return 0;
		}
	}
	return -1;
}

/*
 * Closes every descriptor above stderr: a test runner's pipe inherited by
 * this long-lived server would keep the runner waiting for EOF.
 */
static void close_inherited(void)
{
	long max = sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 3; fd < max; fd++)
		close(fd);
}

/*
 * Binds a listening socket to 127.0.0.1 on port want (0: the kernel's
 * choice); stores the port bound. quiet: a port in use is not reported.
 */
static int listen_loopback(unsigned want, unsigned *port, int quiet)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		perror("listener: socket");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)want);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) {
		int err = errno;

		if (!quiet || err != EADDRINUSE)
			perror("listener: bind");
		close(fd);
		errno = err;
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* The lowest port the kernel hands out to outgoing connections. */
static unsigned ephemeral_low(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned low = 32768;

	if (f) {
		if (fscanf(f, "%u", &low) != 1 || low < 2048 || low > 65535)
			low = 32768;
		fclose(f);
	}
	return low;
}

/*
 * A port nothing listens on, below the ephemeral range: the kernel's own
 * pick (port 0) is from that range, and an ssh client's outgoing socket
 * could take it between this check and the caller's bind. Tries random
 * ports, so concurrent pickers rarely meet.
 */
static int pick_port(unsigned *port)
{
	unsigned high = ephemeral_low(), low = high > 12000 ? high - 10000 : 1024;

	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	for (int i = 0; i < 500; i++) {
		unsigned want = low + (unsigned)rand() % (high - low);
		int fd = listen_loopback(want, port, 1);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (errno != EADDRINUSE)
			return -1;
	}
	fprintf(stderr, "listener: no free port in %u-%u\n", low, high - 1);
	return -1;
}

/* Writes "PORT\n" to path.tmp, then renames it over path. */
static int write_port(const char *path, unsigned port)
{
	size_t n = strlen(path) + sizeof(".tmp");
	char *tmp = malloc(n);
	FILE *f;
	int ok;

	if (!tmp) {
		perror("listener: malloc");
		return -1;
	}
	snprintf(tmp, n, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		perror("listener: open port file");
		free(tmp);
		return -1;
	}
	ok = fprintf(f, "%u\n", port) > 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) < 0) {
		perror("listener: write port file");
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/*
 * Handles a fresh connection by mode. Returns 1 when the connection must
 * stay open (and be drained until the peer leaves), 0 when it is done.
 */
static int greet(int fd, enum mode mode)
{
	struct linger lg = { 1, 0 };

	switch (mode) {
	case M_RESET:
		/* A zero linger time turns close() into an abort: RST. */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		return 0;
	case M_BANNER_CLOSE:
		if (write(fd, banner, sizeof(banner) - 1) < 0)
			return 0;
		shutdown(fd, SHUT_WR);
		return 1;
	case M_CLOSE:
		shutdown(fd, SHUT_WR);
		return 1;
	case M_SILENT:
		return 1;
	case M_PORT:
		break;
	}
	return 0;
}

/* Accepts and drains connections forever; only a signal ends it. */
static int serve(int lfd, enum mode mode)
{
	struct pollfd pfd[1 + MAXCONN];
	nfds_t n = 1;
	char sink[4096];

	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	for (;;) {
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("listener: poll");
			return 1;
		}
		/* Peers that spoke or hung up: discard their bytes, or let go. */
		for (nfds_t i = n - 1; i >= 1; i--) {
			if (!pfd[i].revents)
				continue;
			if (read(pfd[i].fd, sink, sizeof(sink)) > 0)
				continue;
			close(pfd[i].fd);
			pfd[i] = pfd[--n];
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept(lfd, NULL, NULL);
			if (fd < 0)
				continue;
			if (greet(fd, mode) && n < 1 + MAXCONN) {
				pfd[n].fd = fd;
				pfd[n].events = POLLIN;
				pfd[n].revents = 0;
				n++;
			} else {
				close(fd);
			}
		}
	}
}

int main(int argc, char **argv)
{
	enum mode mode;
	unsigned port;
	int lfd;

	if (argc != 3 || parse_mode(argv[1], &mode) < 0)
		return usage();
	close_inherited();
	/* A peer gone before our banner must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (mode == M_PORT)
		return pick_port(&port) < 0 || write_port(argv[2], port) < 0;
	if ((lfd = listen_loopback(0, &port, 0)) < 0)
		return 1;
	if (write_port(argv[2], port) < 0)
		return 1;
	return serve(lfd, mode);
}
