/*
 * snapshot.h: the local working tree as a commit, without touching the
 * user's index, HEAD, branches or files. Objects and refs under
 * refs/sidecar/ are the only local writes.
 */
#ifndef SIDECAR_SNAPSHOT_H
#define SIDECAR_SNAPSHOT_H

#include "git.h"

struct local {
	const char *gitdir;	/* absolute; borrowed */
	const char *toplevel;	/* borrowed */
	char *branch;		/* "main", or NULL when detached */
	char *head;		/* HEAD commit, or NULL on an unborn branch */
	char *index;		/* temporary index holding the whole working tree */
	char *cache;		/* sidecar's cached index of this repository */
	char *tree;		/* its tree */
	char *snapshot;		/* commit of tree: parent HEAD, identity and dates of HEAD */
	struct buf ident;	/* HEAD's author and committer, NUL-separated */
	struct git_job log, add;	/* the scan, running */
	struct git_job ignored;	/* the cache's entries a rule ignores */
	int from_cache;		/* the scan started from the cache */
	int has_submodules;
	struct strv nested;	/* git repositories inside the tree, not synced ("dir/") */
};

/*
 * Reads HEAD and the branch of the work tree at toplevel (git directory
 * gitdir); makes the temporary index and its tree. local_scan_start starts
 * the slow part, so that other work can go on; local_scan_finish ends it.
 */
enum err local_scan(const struct git *g, const char *toplevel, const char *gitdir,
		    const char *rundir, struct local *l);
enum err local_scan_start(const struct git *g, const char *toplevel, const char *gitdir,
			  const char *rundir, struct local *l);
enum err local_scan_finish(const struct git *g, struct local *l);
/* Commits the tree: the same state always gives the same snapshot. */
enum err local_snapshot(const struct git *g, struct local *l);
/* Removes the temporary index and frees l. */
void local_free(struct local *l);

/* A stable key for a destination and workdir, as 16 hex digits. */
void sync_key(const char *dest, const char *workdir, char out[17]);

/* Whether the local repository has commit oid. */
int local_has_commit(const struct git *g, const char *oid);

#endif
