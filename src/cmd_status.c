/* cmd_status.c: status: the shared connection and what sync left behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "err.h"
#include "json.h"
#include "msg.h"
#include "snapshot.h"
#include "sync.h"

static enum err cmd_status(struct env *e)
{
	struct args *a = e->a;
	struct conn c;
	long pid = 0;
	int rc, up;

	if ((rc = env_conn_nowait(e, &c))) {
		conn_free(&c);
		return rc;
	}
	up = conn_master_alive(&c, &pid);

	const char *wd = env_workdir(e);
	char *synced = NULL, *snapshot = NULL;
	int behind = -1;
	if (e->toplevel && wd) {
		struct behind b;
		behind_start(e, c.dest, wd, &b);
		behind = behind_finish(e, &b, &synced, &snapshot);
		if (behind < 0 && snapshot)
			behind = 1;	/* never synced from here */
	}
	struct forward *fw = NULL;
	size_t nfw = 0;
	if (up)
		conn_forwards(&c, pid, &fw, &nfw);
	if (a->json) {
		struct buf b = BUF_INIT;
		buf_addc(&b, '{');
		json_kv_str(&b, "dest", c.dest);
		json_kv_str(&b, "workdir", wd);
		json_kv_bool(&b, "connected", up);
		if (up)
			json_kv_int(&b, "pid", pid);
		else
			json_kv_str(&b, "pid", NULL);
		json_kv_str(&b, "control_path", c.ctl_path);
		json_kv_str(&b, "synced", synced);
		json_kv_str(&b, "snapshot", snapshot);
		if (behind < 0)
			json_kv_str(&b, "behind", NULL);
		else
			json_kv_bool(&b, "behind", behind);
		buf_adds(&b, ",\"forwards\":[");
		for (size_t i = 0; i < nfw; i++)
			buf_addf(&b, "%s{\"local\":%u,\"remote\":%u}", i ? "," : "",
				 fw[i].local, fw[i].remote);
		buf_adds(&b, "]}\n");
		fputs(b.s, stdout);
		buf_free(&b);
	} else {
		printf("destination:  %s\n", c.dest);
		if (up)
			printf("connection:   up (pid %ld, %s)\n", pid, c.ctl_path);
		else
			printf("connection:   down (%s)\n", c.ctl_path);
		if (wd)
			printf("workdir:      %s\n", wd);
		printf("last synced:  %s\n", synced ? synced : "never (from this repository)");
		if (behind >= 0)
			printf("sidecar:      %s\n", behind ? "behind the local working tree" : "up to date");
		for (size_t i = 0; i < nfw; i++)
			printf("forward:      127.0.0.1:%u to port %u\n", fw[i].local, fw[i].remote);
	}
	free(fw);
	free(synced);
	free(snapshot);
	conn_free(&c);
	return 0;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.synopsis = "[options] [DEST]",
	.summary = "shared connection, last synced snapshot, whether DEST is behind",
	.options = (const enum opt_id[]){ OPT_JSON, OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY | CMD_CONNECTS,
	.run = cmd_status,
};
