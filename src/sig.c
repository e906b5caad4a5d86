/* sig.c: handlers that only set a flag and wake poll(). */
#include "sig.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

volatile sig_atomic_t sig_caught;

static int wake[2] = { -1, -1 };

static const int caught[] = { SIGINT, SIGTERM, SIGHUP };

static void on_signal(int signo)
{
	int saved = errno;
	if (signo != SIGCHLD)
		sig_caught = signo;
	if (wake[1] >= 0) {
		char c = 0;
		(void)!write(wake[1], &c, 1);
	}
	errno = saved;
}

static int make_wake(void)
{
	int fds[2];

	if (pipe(fds) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
	}
	wake[0] = fds[0];
	wake[1] = fds[1];
	return 0;
}

int sig_rearm(void)
{
	int old[2] = { wake[0], wake[1] };

	wake[1] = -1;	/* a handler that runs meanwhile writes nowhere */
	wake[0] = -1;
	for (int i = 0; i < 2; i++)
		if (old[i] >= 0)
			close(old[i]);
	return make_wake();
}

int sig_init(void)
{
	struct sigaction sa = { 0 };

	if (make_wake() < 0)
		return -1;
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++)
		if (sigaction(caught[i], &sa, NULL) < 0)
			return -1;
	sa.sa_flags = SA_NOCLDSTOP;
	if (sigaction(SIGCHLD, &sa, NULL) < 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	return sigaction(SIGPIPE, &sa, NULL);
}

int sig_wakefd(void)
{
	return wake[0];
}

void sig_drain(void)
{
	char junk[64];
	while (wake[0] >= 0 && read(wake[0], junk, sizeof junk) > 0)
		;
}

void sig_reset_child(void)
{
	static const int all[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE };
	sigset_t none;

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		signal(all[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}
