/*
 * pull.h: files from the workspace, or edits a sync saved there, back into
 * the local working tree, through git on both sides: the sidecar makes a
 * commit of what comes back and sends its objects as a pack; here a
 * temporary index moves the working tree to it, path by path.
 *
 * Which paths are written: those the sidecar's side changed since what
 * sidecar had left there (its base). A local file that changed since then
 * too, differently, is a conflict: pull --saved refuses and lists them;
 * pull PATH saves the local files first (refs/sidecar/pulled/<UTC>) and
 * takes the sidecar's. The local index, HEAD and branches stay as they are.
 */
#ifndef SIDECAR_PULL_H
#define SIDECAR_PULL_H

#include <stddef.h>

#include "buf.h"
#include "conn.h"
#include "err.h"
#include "git.h"
#include "snapshot.h"
#include "strv.h"

struct pull_opts {
	const char *dest;
	const char *workdir;
	const char *rundir;
	const struct local_repo *repo;
	const char *saved;		/* --saved: the ref ("-": the newest edits), or NULL */
	const struct strv *paths;	/* PATHs from the top of the work tree (pull_path) */
	const char *synced;		/* the snapshot last synced there from here, or NULL */
	int dry_run;
};

struct pull_result {
	char *ref;		/* the saved ref taken, or NULL */
	struct strv changes;	/* "ST\tPATH", PATH quoted as git does: written (or to be) */
	struct strv conflicts;	/* paths changed on both sides, as they are */
	char *saved_to;		/* refs/sidecar/pulled/<UTC> when local files were saved */
};

enum err pull_run(const struct git *g, const struct pull_opts *o, struct conn *c,
		  struct pull_result *r);
void pull_result_free(struct pull_result *r);

/* One saved ref on the sidecar, as 'sidecar saved' lists it. */
struct saved_entry {
	char *ref, *commit, *base, *kind;
	struct strv paths;	/* "ST\tPATH" */
};

/* Every saved ref in the workspace, oldest first: *n entries in *v. */
enum err saved_list(const struct pull_opts *o, struct conn *c, struct saved_entry **v,
		    size_t *n);
void saved_free(struct saved_entry *v, size_t n);

/*
 * A PATH argument given in the directory prefix of the work tree ("" at
 * the top, else ending in '/'), as a path from the top, into out: "." for
 * the top itself. -1 when it leaves the work tree or names .git. Pure.
 */
int pull_path(const char *prefix, const char *arg, struct buf *out);

/*
 * The time in a saved ref's name (refs/sidecar/saved/20261207T035121Z[-N])
 * as "2026-12-07 03:51:21 UTC", or with iso "2026-12-07T03:51:21Z"; ""
 * when the name holds none. Pure.
 */
void saved_time(const char *ref, int iso, char *out, size_t size);

/*
 * The plan, from raw -z diff-tree records: theirs from the base to what
 * came back, ours from the base to the local files. Appends to write the
 * records of theirs to write, to same the paths already so here, to
 * conflicts the paths ours changed otherwise. Pure.
 */
void pull_plan(const char *theirs, size_t theirs_len, const char *ours, size_t ours_len,
	       struct strv *write, struct strv *same, struct strv *conflicts);

#endif
