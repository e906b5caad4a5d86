/* sync.h: make the remote workspace equal to the local working tree. */
#ifndef SIDECAR_SYNC_H
#define SIDECAR_SYNC_H

#include "conn.h"
#include "git.h"
#include "snapshot.h"
#include "strv.h"

struct sync_result;

struct sync_opts {
	const char *dest;
	const char *workdir;
	const char *toplevel;	/* local work tree */
	const char *gitdir;	/* local git directory */
	const struct local_repo *repo;	/* the local repository, for the scan */
	int patch;		/* --mode patch, else snapshot */
	int depth;		/* history a fresh sidecar gets; 0: all */
	int dry_run;
	int adopt;		/* take over a repository sidecar did not create */
	int submodules;		/* the caller syncs initialized submodules after (quiet about them) */
	int json;		/* stdout is for the JSON object only */
	const char *rundir;	/* the control directory (rundir) */
	int no_progress;	/* no progress line, even on a terminal */
	const struct local *prepared;	/* a scan and snapshot made already, or NULL */
	/*
	 * fan-out: prepared holds the rules alone, and the snapshot, made
	 * meanwhile by another process, comes as a record (local_record) on
	 * this pipe, read when the sync needs it; 0: none (never stdin)
	 */
	int feed;
	/*
	 * watch: the sync is the look. It starts its session before the
	 * scan, as always, and when the working tree is as last synced it
	 * ends the session unused: result "unchanged", nothing said.
	 */
	int changes_only;
	/*
	 * sidecar run, snapshot mode: "SCRIPT WORD..." that the sidecar runs
	 * as `sh -c SCRIPT sidecar WORD...` in the session that applies the
	 * snapshot, once applied (NULL: none). announce is called then, with
	 * the result, before the command's output.
	 */
	const struct strv *run;
	void (*announce)(void *ctx, const struct sync_result *r);
	void *announce_ctx;
};

struct sync_result {
	const char *result;	/* "synced", "up-to-date", "dry-run", "unchanged" */
	char *snapshot;		/* S, or the base commit in patch mode */
	char *base;		/* what the transfer started from, or NULL */
	struct strv saved_refs;	/* every ref remote edits were saved to */
	char *remote_workdir;	/* absolute, as the sidecar resolved it */
	long long files_changed;
	unsigned long long bytes_sent;
	int has_submodules;	/* the working tree has a .gitmodules */
	int ran;		/* opts.run's command ran: its exit status */
	int run_status;
};

struct sync_job;

/*
 * A sync in two steps: sync_start begins the local scan (and reads what
 * was last synced) while the caller prepares the connection; sync_run
 * does the rest over c, connecting as needed, and returns an exit status.
 * sync_end frees the job whatever happened.
 */
struct sync_job *sync_start(const struct git *g, const struct sync_opts *o,
			    struct sync_result *r);
enum err sync_run(struct sync_job *j, struct conn *c);
void sync_end(struct sync_job *j);

/* Says, under -v, that the working tree is looked at against what DEST has. */
void trace_look(const char *dest);
void sync_result_free(struct sync_result *r);

/*
 * The local scan and snapshot alone, made once for several destinations:
 * then each sync's opts.prepared points to l, which the caller frees with
 * local_free when they are done. Says what is not synced, once.
 */
enum err sync_prepare(const struct git *g, const struct sync_opts *o, struct local *l);

#endif
