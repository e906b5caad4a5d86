/* commands.h: one function per command; each returns an exit status. */
#ifndef SIDECAR_COMMANDS_H
#define SIDECAR_COMMANDS_H

#include "cli.h"
#include "conn.h"
#include "git.h"

/* Settings from git config (local, then global), all optional. */
struct settings {
	char *destination, *workdir, *mode, *max_wait, *persist;
};

/* What every command shares: parsed arguments, git, settings. */
struct env {
	struct args *a;
	struct git git;
	struct settings cfg;
	char *toplevel;		/* the work tree's root, NULL outside a repository */
	char *gitdir;		/* its git directory, absolute */
};

int env_init(struct env *e, struct args *a);
void env_free(struct env *e);

/* DEST: argument, then $SIDECAR_DEST, then sidecar.destination; NULL if none. */
const char *env_dest(struct env *e);
/* Workdir: -w, then sidecar.workdir, then the repository's name; NULL if none. */
const char *env_workdir(struct env *e);

/* Resolves DEST and opens the connection settings (no network yet). */
int env_conn(struct env *e, struct conn *c);
/* Closes the shared connection when --persist 0 asked for it. */
void env_conn_done(struct env *e, struct conn *c);

/* The remote shell words that enter the workspace or explain it is missing. */
void remote_cd(struct buf *cmd, const char *workdir, const char *dest);

int cmd_sync(struct env *e);
int cmd_wait(struct env *e);
int cmd_exec(struct env *e);
int cmd_ssh(struct env *e);
int cmd_use(struct env *e);
int cmd_current(struct env *e);
int cmd_forget(struct env *e);
int cmd_status(struct env *e);
int cmd_disconnect(struct env *e);
int cmd_completion(struct env *e);
int cmd_complete(struct env *e);
int cmd_help(struct env *e);
int cmd_version(struct env *e);

#endif
