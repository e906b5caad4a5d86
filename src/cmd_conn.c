/* cmd_conn.c: wait, forward and disconnect, the connection's own commands. */
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

/*
 * forward [DEST] [LOCAL:]REMOTE: a local port to the sidecar's, for as long
 * as the shared connection lives (started here when it is down).
 */
static enum err cmd_forward(struct env *e)
{
	struct args *a = e->a;
	struct forward f;
	struct conn c;
	enum err rc;

	if (!a->last) {
		error("forward needs a port: sidecar forward [DEST] [LOCAL_PORT:]REMOTE_PORT");
		return ERR_USAGE;
	}
	if (forward_parse(a->last, &f) < 0) {
		error("'%s' is not [LOCAL_PORT:]REMOTE_PORT (ports 1 to 65535)", a->last);
		return ERR_USAGE;
	}
	if ((rc = env_conn(e, &c)) == ERR_OK &&
	    (a->cancel || ((rc = forward_usable(&c, &f)) == ERR_OK &&
			   (rc = conn_connect(&c)) == ERR_OK)) &&
	    (rc = conn_forward(&c, &f, a->cancel)) == ERR_OK) {
		if (a->cancel) {
			info("stopped forwarding 127.0.0.1:%u to port %u on %s", f.local, f.remote,
			     c.dest);
		} else {
			info("forwarding 127.0.0.1:%u to port %u on %s, while the shared connection "
			     "is up", f.local, f.remote, c.dest);
			printf("http://127.0.0.1:%u\n", f.local);
		}
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

const struct cmd_entry cmd_forward_entry = {
	.name = "forward",
	.synopsis = "[options] [DEST] [LOCAL_PORT:]REMOTE_PORT",
	.summary = "forward a local port to DEST through the shared connection",
	.options = (const enum opt_id[]){ OPT_CANCEL, OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY | CMD_CONNECTS | CMD_LAST_ARG,
	.run = cmd_forward,
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
