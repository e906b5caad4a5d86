/*
 * snapshot.h: the local working tree as a commit, without touching the
 * user's index, HEAD, branches or files. Objects and refs under
 * refs/sidecar/ are the only local writes.
 */
#ifndef SIDECAR_SNAPSHOT_H
#define SIDECAR_SNAPSHOT_H

#include "git.h"
#include "refs.h"

/* The local repository, as found once at start (all borrowed). */
struct local_repo {
	const char *toplevel;	/* the work tree */
	const char *gitdir;	/* its git directory, absolute */
	const char *commondir;	/* where objects/ and info/ live (a linked work tree's main .git) */
	const char *excludes_file;	/* core.excludesFile as configured, or NULL */
	const char *autocrlf;	/* core.autocrlf as configured, or NULL */
	const struct strv *include;	/* ignored files to send anyway (patterns), or NULL */
	const struct strv *exclude;	/* untracked files to leave out (patterns), or NULL */
};

/*
 * What a snapshot's message says after its first paragraph when the local
 * repository has ignore rules outside its tree: this line, then the rules
 * (see excludes.h). remote.sh reads them back from the commit.
 */
#define SNAPSHOT_RULES_MARK \
	"sidecar: the ignore rules of the local repository outside its tree" \
	" (info/exclude, core.excludesFile):"

struct local {
	const struct local_repo *repo;	/* borrowed */
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
	struct git_job included;	/* untracked files an --include pattern matches */
	struct git_job kept;	/* tracked files an --exclude pattern matches */
	struct strv config;	/* -c of the scan's git: core.excludesFile with --exclude */
	int from_cache;		/* the scan started from the cache */
	int has_submodules;
	struct strv nested;	/* git repositories inside the tree, not synced ("dir/") */
	struct strv raw_env;	/* the environment of a git that sees files as bytes (rawgit.h) */
	struct buf rules;	/* the ignore rules outside the tree (excludes.h) */
	char rules_id[17];	/* a hash of rules, or "-" when there are none */
	int rules_read;		/* local_rules ran */
	/*
	 * Set before local_scan_finish, or empty: a memo (local_memo) of a
	 * snapshot a ref keeps, with its tree. When the index still names
	 * that tree and HEAD and the rules are the same, it is the snapshot
	 * again, and neither write-tree nor commit-tree runs.
	 */
	struct buf again;
};

/*
 * Reads HEAD and the branch of repo's work tree and the ignore rules
 * outside it; makes the temporary index of the files as they are on disk
 * (no conversion of line endings, no filter) and its tree.
 * local_scan_start starts the slow part, so that other work can go on;
 * local_scan_finish ends it.
 */
enum err local_scan(const struct git *g, const struct local_repo *repo, const char *rundir,
		    struct local *l);
enum err local_scan_start(const struct git *g, const struct local_repo *repo,
			  const char *rundir, struct local *l);
/*
 * The first part of local_scan_start, which it does unless it was done:
 * the ignore rules outside the tree (rules, rules_id). No git starts,
 * unless core.excludesFile must be expanded.
 */
enum err local_rules(const struct git *g, const struct local_repo *repo, const char *rundir,
		     struct local *l);
enum err local_scan_finish(const struct git *g, struct local *l);
/*
 * Commits the tree, with the ignore rules outside it in the message: the
 * same state always gives the same snapshot.
 */
enum err local_snapshot(const struct git *g, struct local *l);

/*
 * The memo of the snapshot last synced to a place (key: sync_key of
 * destination and workspace) from l's repository, kept in rundir: what
 * made it, as text. local_memo_load, between local_scan_start and
 * local_scan_finish, sets l->again from it when its snapshot is known, the
 * one the synced ref names (which keeps its objects); local_memo_save
 * records l's snapshot after a sync, unless it was taken again.
 */
void local_memo_load(struct local *l, const char *rundir, const char *key, const char *known);
/* The memo itself into out, and 1; 0 (out empty) when there is none for known. */
int local_memo_read(const struct local *l, const char *rundir, const char *key,
		    const char *known, struct buf *out);
void local_memo_save(const struct local *l, const char *rundir, const char *key);

/*
 * Pure: the parent of a memo's snapshot (HEAD then) into parent, and 1;
 * "" and 1 when it has none (an unborn branch); 0 when memo is not one.
 */
int local_memo_parent(const char *memo, size_t len, char parent[OID_HEX_MAX]);
/*
 * A snapshot made in one process for another (fan-out): its commit, tree,
 * HEAD, whether it has submodules and its branch, as one line. Pure.
 * local_take_record sets those fields of l from such a line (allocated:
 * local_record_free frees them alone); -1 when rec is not one.
 */
void local_record(const struct local *l, struct buf *out);
int local_take_record(struct local *l, const char *rec);
void local_record_free(struct local *l);

/* Removes the temporary index and frees l. */
void local_free(struct local *l);

/* A stable key for a destination and workdir, as 16 hex digits. */
void sync_key(const char *dest, const char *workdir, char out[17]);

/* Whether the work tree at toplevel has a .gitmodules: submodules to follow. */
int local_has_gitmodules(const char *toplevel);

/* Whether the local repository has commit oid. */
int local_has_commit(const struct git *g, const char *oid);

#endif
