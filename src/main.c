/*
 * main.c: start-up hygiene, signal flags, and dispatch through the command
 * table (cli_commands). The one place that exits.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "err.h"
#include "msg.h"
#include "sig.h"

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
	const struct cmd_entry *cmd;
	struct env e;
	enum err rc;
	int status;

	fd_hygiene();
	if (sig_init() < 0) {
		perror("sidecar: cannot install signal handlers");
		return err_exit(ERR_FAIL, -1, 0, 0);
	}
	/* usage errors are coloured too; -q and -v are known only after parsing */
	msg_init(VERB_NORMAL, use_color(), isatty(STDERR_FILENO));
	rc = cli_parse(argc - 1, argv + 1, &a);
	msg_init(a.verbosity < 0 ? VERB_QUIET : a.verbosity > 0 ? VERB_VERBOSE : VERB_NORMAL,
		 use_color(), isatty(STDERR_FILENO));
	if (rc) {
		cli_free(&a);
		return err_exit(rc, -1, 0, 0);
	}
	if (a.help || !a.command) {
		cli_usage(a.command ? cli_command(a.command) : NULL);
		cli_free(&a);
		return 0;
	}
	cmd = cli_command(a.command);
	rc = env_init(&e, &a, cmd);
	if (rc == 0)
		rc = cmd->run(&e);
	/* the one place an error becomes an exit status */
	status = err_exit(rc, e.remote_status, cmd->flags & CMD_SSH_STATUS, sig_caught);
	env_free(&e);
	cli_free(&a);
	fflush(stdout);
	return status;
}
