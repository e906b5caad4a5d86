/* cmd_sync.c: placeholder until sync lands. */
#include "commands.h"
#include "exitcodes.h"
#include "msg.h"

int cmd_sync(struct env *e) { (void)e; return error("sync: not yet") ? SC_FAIL : 0; }
int cmd_status(struct env *e) { (void)e; return error("status: not yet") ? SC_FAIL : 0; }
