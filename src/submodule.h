/*
 * submodule.h: the submodules of a working tree, which sync follows: each
 * initialized one is a repository of its own, synced to its path in the
 * workspace after the superproject (DESIGN: "--no-submodules").
 */
#ifndef SIDECAR_SUBMODULE_H
#define SIDECAR_SUBMODULE_H

#include <stddef.h>

#include "err.h"
#include "git.h"
#include "snapshot.h"
#include "strv.h"

struct submodule {
	char *path;		/* from the superproject's top */
	char *toplevel;		/* its work tree, absolute */
	char *gitdir;		/* its git directory, absolute */
	char *commondir;	/* where its objects are (its gitdir, but for a linked work tree) */
	struct local_repo repo;	/* the above, as the scan takes them */
	struct git git;		/* the parent's git, aimed at it */
};

/*
 * The gitlinks in the index of the work tree of repo: those with a git
 * repository at their path into *subs (*n of them), the paths of the others
 * (not initialized here) into absent. g is git aimed at repo.
 */
enum err submodules_find(const struct git *g, const struct local_repo *repo, struct submodule **subs,
			 size_t *n, struct strv *absent);
void submodules_free(struct submodule *subs, size_t n);

#endif
