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

int sig_init(void)
{
	struct sigaction sa = { 0 };

	if (pipe(wake) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(wake[i], F_SETFD, FD_CLOEXEC);
		fcntl(wake[i], F_SETFL, O_NONBLOCK);
	}
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
