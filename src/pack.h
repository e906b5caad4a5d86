/*
 * pack.h: which objects a sync sends, and where the sidecar's history is cut.
 *
 * The sidecar holds what earlier syncs sent: a shallow history (by default
 * the snapshot and HEAD's commit only, as `git clone --depth 1` leaves) or a
 * clone it was given. What it has is known by a few commits (`have`); the
 * walk treats them as roots, so that an object of older history that the
 * working tree brings back is sent again rather than assumed. HEAD's new
 * history is sent whole when it joins what the sidecar has within
 * CONNECT_LIMIT commits; otherwise it is cut `depth` commits below HEAD, and
 * the sidecar records the cut in .git/shallow.
 */
#ifndef SIDECAR_PACK_H
#define SIDECAR_PACK_H

#include "buf.h"
#include "git.h"
#include "strv.h"

#define CONNECT_LIMIT 1000

struct pack_plan {
	struct strv cut;	/* commits the walk takes as parentless */
	struct strv have;	/* commits the sidecar has */
	struct strv shallow;	/* commits the sidecar records as shallow, if it gets them */
	int whole;		/* the new history goes as it is */
};

/*
 * Plans the pack of snapshot (whose parent is head, or none when head is
 * NULL) for a sidecar that has the commits in have (may be empty), keeping
 * depth commits of a history that does not join (0: all of it). gitdir is
 * the local repository's, whose own shallow commits are cut too.
 */
enum err pack_plan(const struct git *g, const char *gitdir, const char *rundir, const char *head,
		   const struct strv *have, int depth, struct pack_plan *p);

/* What `git pack-objects --revs` reads for the plan: cuts, tips, haves. */
void pack_revs(const struct pack_plan *p, const char *snapshot, struct buf *in);

void pack_plan_free(struct pack_plan *p);

#endif
