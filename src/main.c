/*
 * main.c: start-up hygiene, signal flags, and the command table. The one
 * place that exits.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "exitcodes.h"
#include "msg.h"
#include "sig.h"

static const struct {
	const char *name;
	int (*run)(struct env *e);
	int needs_git;		/* reads git config or the repository */
} commands[] = {
	{ "sync", cmd_sync, 1 },
	{ "wait", cmd_wait, 1 },
	{ "exec", cmd_exec, 1 },
	{ "ssh", cmd_ssh, 1 },
	{ "use", cmd_use, 1 },
	{ "current", cmd_current, 1 },
	{ "forget", cmd_forget, 1 },
	{ "status", cmd_status, 1 },
	{ "disconnect", cmd_disconnect, 1 },
	{ "completion", cmd_completion, 0 },
	{ "__complete", cmd_complete, 1 },
	{ "help", cmd_help, 0 },
	{ "version", cmd_version, 0 },
};

/* Standard descriptors open; nothing else inherited into our children. */
static void fd_hygiene(void)
{
	int fd;
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
	for (fd = 3; fd < 1024; fd++)
		close(fd);
}

static int use_color(void)
{
	const char *no = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	return isatty(STDERR_FILENO) && !(no && *no) && !(term && strcmp(term, "dumb") == 0);
}

int main(int argc, char **argv)
{
	struct args a;
	struct env e;
	int rc;

	fd_hygiene();
	if (sig_init() < 0) {
		perror("sidecar: cannot install signal handlers");
		return SC_FAIL;
	}
	/* usage errors are coloured too; -q and -v are known only after parsing */
	msg_init(VERB_NORMAL, use_color(), isatty(STDERR_FILENO));
	rc = cli_parse(argc - 1, argv + 1, &a);
	msg_init(a.verbosity < 0 ? VERB_QUIET : a.verbosity > 0 ? VERB_VERBOSE : VERB_NORMAL,
		 use_color(), isatty(STDERR_FILENO));
	if (rc) {
		cli_free(&a);
		return rc;
	}
	if (a.help || !a.command) {
		cli_usage(a.command ? cli_command(a.command) : NULL);
		cli_free(&a);
		return 0;
	}
	rc = SC_USAGE;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(commands[i].name, a.command) != 0)
			continue;
		memset(&e, 0, sizeof e);
		e.a = &a;
		rc = commands[i].needs_git ? env_init(&e, &a) : 0;
		if (rc == 0)
			rc = commands[i].run(&e);
		env_free(&e);
		break;
	}
	if (sig_caught && rc != 0)
		rc = SC_SIGNAL + sig_caught;
	cli_free(&a);
	fflush(stdout);
	return rc;
}
