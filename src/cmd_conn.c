/* cmd_conn.c: wait and disconnect, the connection's own commands. */
#include <stdio.h>

#include "commands.h"
#include "exitcodes.h"
#include "msg.h"

int cmd_wait(struct env *e)
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

int cmd_disconnect(struct env *e)
{
	struct conn c;
	int rc = env_conn(e, &c);

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
