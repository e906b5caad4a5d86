/*
 * commands.h: what the commands share (their environment, the resolved
 * settings) and the entry of each command.
 */
#ifndef SIDECAR_COMMANDS_H
#define SIDECAR_COMMANDS_H

#include "cli.h"
#include "conn.h"
#include "git.h"
#include "snapshot.h"

/* One setting's value and where it came from; value NULL: the default. */
struct setting {
	const char *value;
	const char *from;	/* "--max-wait", "SIDECAR_DEST", "git config sidecar.maxWait" */
};

/*
 * Every setting, resolved once by settings_resolve and read-only after:
 * option, then environment, then git config (local over global), then the
 * default. Values are checked where they are used, so that a bad one stops
 * only the commands that need it.
 */
struct settings {
	struct setting dest;		/* DEST argument, SIDECAR_DEST, sidecar.destination */
	struct setting workdir;		/* -w, sidecar.workdir, the repository's name */
	struct setting mode;		/* --mode, sidecar.mode, "snapshot" */
	struct setting depth;		/* --depth, sidecar.depth, "1" */
	struct setting submodules;	/* --no-submodules, sidecar.submodules, "true" */
	struct setting max_wait;	/* --max-wait, sidecar.maxWait */
	struct setting auth_wait;	/* --auth-wait, sidecar.authWait */
	struct setting persist;		/* --persist, sidecar.persist */
	struct strv include;		/* --include, else every sidecar.include (owned) */
	struct strv exclude;		/* --exclude, else every sidecar.exclude (owned) */
	const char *remembered;		/* sidecar.destination alone, as 'use' wrote it */
	const char *ssh;		/* SIDECAR_SSH, "ssh" */
	const char *git;		/* SIDECAR_GIT, "git" */
};

/* getenv, or a stand-in for tests. */
typedef const char *(*env_lookup)(const char *name);

/* The git program: SIDECAR_GIT or "git", needed before anything is resolved. */
const char *settings_git(env_lookup env);

/*
 * Resolves every setting. config is the output of 'git config -z
 * --get-regexp ^sidecar\.' (NULL when none), toplevel the work tree's root
 * (NULL outside a repository). s points into a, config and toplevel, which
 * must outlive it, except for the lists it copies. Pure; it checks nothing.
 */
void settings_resolve(struct settings *s, const struct args *a, env_lookup env,
		      const char *config, const char *toplevel);
void settings_free(struct settings *s);

/*
 * A duration setting in ms: dflt when unset; ERR_USAGE after saying which
 * value is bad and where it came from.
 */
enum err setting_duration(const struct setting *st, long long dflt, long long *ms);

/* What every command shares: parsed arguments, git, settings. */
struct env {
	struct args *a;
	struct git git;
	const struct settings *set;	/* resolved once, read-only */
	char *toplevel;		/* the work tree's root, NULL outside a repository */
	char *gitdir;		/* its git directory, absolute */
	char *commondir;	/* where its objects and info/ live, absolute */
	struct local_repo repo;	/* the above and the git settings the scan needs */
	char *config;		/* git config's answer, which set points into */
	struct settings resolved;	/* what set points to; written only by env_init */
	struct conn_opts conn_opts;	/* what env_conn gave the connection */
	int remote_status;	/* exec, ssh: the remote command's exit status, or -1 */
	char *rundir;		/* the control directory, once env_rundir made it */
	/* several destinations: the local snapshot made once, for each copy */
	const struct local *prepared;
	int changes_only;	/* watch: sync_opts.changes_only */
	const char *sync_result;	/* how sync_workspace ended (sync_result.result), or NULL */
	/* several destinations: where a copy's sync puts its --json object */
	struct buf *json_sink;
	struct strv dests;	/* what env_targets found */
	/* run: the command, as remote_command_words, for the sync to run after it */
	const struct strv *run_words;
};

/* Changes to -C DIR; with the command's CMD_REPOSITORY, reads git config once. */
enum err env_init(struct env *e, struct args *a, const struct cmd_entry *cmd);
void env_free(struct env *e);

/* The control directory (rundir), made and checked once; NULL after saying why. */
const char *env_rundir(struct env *e);

/*
 * The destinations of a command that takes several (sync, run, exec): the
 * arguments and the words of --dest-file's lines (a line from # on is a
 * comment), else the words of DEST's setting; each once, in order.
 */
enum err env_dests(struct env *e, struct strv *dests);
/*
 * For sync, run and exec: the destinations (env_dests) into e->dests, and
 * --jobs. With several, the connection settings are checked here, once;
 * with one, DEST is that one.
 */
enum err env_targets(struct env *e, long *jobs);
/* In a copy of several: DEST is dest alone. */
void env_one_dest(struct env *e, const char *dest);

/* DEST: argument, then $SIDECAR_DEST, then sidecar.destination; NULL if none. */
const char *env_dest(struct env *e);
/* Workdir: -w, then sidecar.workdir, then the repository's name; NULL if none. */
const char *env_workdir(struct env *e);

/*
 * Resolves DEST and opens the connection settings (no network yet), for a
 * command that may start the shared connection: --max-wait and --persist
 * (or their git config) are checked here.
 */
enum err env_conn(struct env *e, struct conn *c);
/* The same for a command that only looks at the shared connection. */
enum err env_conn_nowait(struct env *e, struct conn *c);
/* Closes the shared connection when --persist 0 asked for it. */
void env_conn_done(struct env *e, struct conn *c);

/*
 * The remote command line that enters the workspace (or says it is missing
 * and exits 1), exports env ("K=V" each) and runs argv, or a login shell
 * when argv is empty; with mark, it first names its process on stderr
 * (interrupt.h). Its words are ones every login shell reads alike (sh,
 * bash, zsh, fish...): "exec sh -c SCRIPT sidecar ARGS...".
 */
void remote_command(struct buf *cmd, const char *workdir, const char *dest,
		    const struct strv *env, const struct strv *argv, int mark);
/* The same as words: SCRIPT, then the words for `sh -c SCRIPT sidecar WORD...`. */
void remote_command_words(struct strv *words, const char *workdir, const char *dest,
			  const struct strv *env, const struct strv *argv, int mark);

/*
 * Whether DEST's workspace is behind the local working tree: the snapshot
 * the tree makes now against the one last synced there. In two steps, so
 * that the local scan runs while the connection comes up. behind_finish
 * returns 1 (behind), 0 (up to date) or -1 (not known: never synced from
 * here, or the scan failed), and hands over both snapshots (NULL if none).
 */
struct behind {
	struct local l;
	char key[17];		/* the place's (sync_key) */
	char *synced;		/* refs/sidecar/synced/<key>, read from git's files */
	struct git_job read;	/* or read by git meanwhile */
	enum err rc;	/* of the scan's start */
	int keep;	/* set by the caller: behind_finish leaves l to it (local_free) */
};

void behind_start(struct env *e, const char *dest, const char *wd, struct behind *b);
int behind_finish(struct env *e, struct behind *b, char **synced, char **snapshot);

/* What else may end a remote command early: readable fd, and ready says 1. */
struct wake {
	int fd;
	int (*ready)(void *ctx);
	void *ctx;
};

/*
 * Runs the remote command line over the shared connection, stdio passed
 * through; the remote command's status in e->remote_status. b, when not
 * NULL, is a behind check to finish while the command starts. Without a tty
 * (tty <= 0), ssh runs in its own process group, so that a Ctrl-C reaches
 * sidecar alone and sidecar passes it on to the remote command; a terminal
 * on stdin is then read by sidecar, as a background ssh may not read it.
 * w, when not NULL, may interrupt the command as a Ctrl-C would.
 */
enum err run_remote(struct env *e, struct conn *c, int tty, const struct strv *env,
		    const struct strv *cmdv, const char *wd, struct behind *b, const struct wake *w);

/* The command after '--' and its environment (-e, --env-file), for exec, run and watch. */
enum err command_env(struct env *e, struct strv *env);

/*
 * sync's work, for sync and run: makes DEST's workspace equal to the local
 * working tree and says so (or prints --json's object). c is set up here
 * and left for the caller to close and free, whatever happened.
 */
enum err sync_workspace(struct env *e, struct conn *c);
/*
 * For several destinations: checks the sync's options and makes the local
 * snapshot once, into l (local_free it after), and points e->prepared to it.
 */
enum err sync_prepare_env(struct env *e, struct local *l);
/* Several destinations: the JSON object of one that failed with exit_status. */
void json_failed(struct buf *b, const struct env *e, const char *dest, int exit_status);
/* Several destinations: "DEST (exit N)" added to the list of failures, *n counted. */
void failed_add(struct buf *list, size_t *n, const char *dest, int exit_status);

extern const struct cmd_entry cmd_sync_entry, cmd_run_entry, cmd_watch_entry, cmd_wait_entry, cmd_exec_entry,
	cmd_ssh_entry, cmd_use_entry, cmd_current_entry, cmd_forget_entry,
	cmd_status_entry, cmd_disconnect_entry, cmd_forward_entry, cmd_pull_entry, cmd_saved_entry, cmd_completion_entry,
	cmd_help_entry, cmd_version_entry, cmd_complete_entry;

#endif
