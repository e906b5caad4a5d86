/*
 * netprobe: the two ends of a measurement across linksim, for its tests.
 *
 * usage: netprobe echo PORTFILE      serve 127.0.0.1:0, writing the port
 *                                    to PORTFILE; echo every byte back,
 *                                    one connection after another
 *        netprobe ping PORT COUNT    COUNT round trips of one byte; prints
 *                                    the fastest in microseconds
 *        netprobe bulk PORT BYTES    send BYTES while reading the echo;
 *                                    prints the microseconds until the last
 *                                    byte came back
 *
 * Times come from CLOCK_MONOTONIC. The echo server stops on SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int usage(void)
{
	fprintf(stderr, "usage: netprobe echo PORTFILE | ping PORT COUNT | bulk PORT BYTES\n");
	return 2;
}

static long parse_long(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return (errno || end == s || *end || v < 0) ? -1 : v;
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

static int dial(long port)
{
	struct sockaddr_in sa;
	int one = 1, fd;

	if (port <= 0 || port > 65535)
		return -1;
	sa = loopback((unsigned)port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("netprobe: connect");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int serve_echo(const char *portfile)
{
	struct sockaddr_in sa = loopback(0);
	socklen_t salen = sizeof(sa);
	char buf[65536], tmp[4096];
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
	FILE *f;

	for (int fd = 3; fd < 1024; fd++)
		if (fd != lfd)
			close(fd);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 16) < 0 || getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
		perror("netprobe: listen");
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
	if (!(f = fopen(tmp, "w")) || fprintf(f, "%u\n", ntohs(sa.sin_port)) < 0 ||
	    fclose(f) != 0 || rename(tmp, portfile) < 0) {
		perror("netprobe: port file");
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		ssize_t n;

		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			for (ssize_t off = 0, w; off < n; off += w)
				if ((w = write(fd, buf + off, (size_t)(n - off))) <= 0)
					break;
		}
		close(fd);
	}
}

static int ping(long port, long count)
{
	int64_t best = -1;
	int fd = dial(port);
	char c = 'p';

	if (fd < 0 || count <= 0)
		return 1;
	for (long i = 0; i < count; i++) {
		int64_t t0 = now_us(), dt;
		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) {
			perror("netprobe: ping");
			return 1;
		}
		dt = now_us() - t0;
		if (best < 0 || dt < best)
			best = dt;
	}
	close(fd);
	printf("%lld\n", (long long)best);
	return 0;
}

static int bulk(long port, long bytes)
{
	static char buf[65536];
	int64_t t0 = now_us();
	long sent = 0, got = 0;
	int fd = dial(port);

	if (fd < 0)
		return 1;
	memset(buf, 'b', sizeof(buf));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (got < bytes) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < bytes ? POLLOUT : 0) };
		ssize_t n;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return 1;
		if (sent < bytes && (p.revents & POLLOUT)) {
			size_t len = (size_t)(bytes - sent) < sizeof(buf) ? (size_t)(bytes - sent) : sizeof(buf);
			if ((n = write(fd, buf, len)) > 0)
				sent += n;
			else if (n < 0 && errno != EAGAIN)
				return 1;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			char in[65536];
			n = read(fd, in, sizeof(in));
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				fprintf(stderr, "netprobe: echo ended after %ld of %ld bytes\n", got, bytes);
				return 1;
			}
			if (n > 0)
				got += n;
		}
	}
	close(fd);
	printf("%lld\n", (long long)(now_us() - t0));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "echo") == 0)
		return serve_echo(argv[2]);
	if (argc == 4 && strcmp(argv[1], "ping") == 0)
		return ping(parse_long(argv[2]), parse_long(argv[3]));
	if (argc == 4 && strcmp(argv[1], "bulk") == 0)
		return bulk(parse_long(argv[2]), parse_long(argv[3]));
	return usage();
}
