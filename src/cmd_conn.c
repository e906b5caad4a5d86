/* cmd_conn.c: wait and disconnect, the connection's own commands. */
#include <stdio.h>

#include "commands.h"
#include "err.h"
#include "msg.h"

static enum err cmd_wait(struct env *e)
{
	struct conn c;
	int rc = env_conn(e, &c);

	if (rc == 0 && (rc = conn_connect(&c)) == 0) {
		if (c.handshakes)
			info("%s accepts SSH (%d attempt%s)", c.dest, c.attempts,
			     c.attempts == 1 ? "" : "s");
		else
			info("%s accepts SSH (shared connection already up)", c.dest);
		env_conn_done(e, &c);
	}
	conn_free(&c);
	return rc;
}

static enum err cmd_disconnect(struct env *e)
{
	struct conn c;
	int rc = env_conn_nowait(e, &c);

	if (rc == 0) {
		long pid = 0;
		if (conn_master_alive(&c, &pid)) {
			conn_disconnect(&c);
			info("closed the shared connection to %s (pid %ld)", c.dest, pid);
		} else {
			info("no shared connection to %s", c.dest);
		}
	}
	conn_free(&c);
	return rc;
}

const struct cmd_entry cmd_wait_entry = {
	.name = "wait",
	.synopsis = "[options] [DEST]",
	.summary = "wait until DEST accepts SSH; leave the shared connection up",
	.options = (const enum opt_id[]){ OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY | CMD_CONNECTS,
	.run = cmd_wait,
};

const struct cmd_entry cmd_disconnect_entry = {
	.name = "disconnect",
	.synopsis = "[options] [DEST]",
	.summary = "close the shared connection",
	.options = (const enum opt_id[]){ OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY | CMD_CONNECTS,
	.run = cmd_disconnect,
};
