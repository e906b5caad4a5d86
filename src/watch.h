/*
 * watch.h: news that the working tree may have changed.
 *
 * With inotify (Linux), every directory of the working tree is watched
 * (the ones git ignores at the start and every .git left out), new ones as
 * they appear, and in the git directory the files that say where HEAD is
 * (HEAD, index, packed-refs, refs/heads/). Elsewhere, or when the kernel
 * runs out of watches, it polls: news every interval. News is only a
 * reason to look: whether anything git would sync changed is the local
 * scan's to say.
 */
#ifndef SIDECAR_WATCH_H
#define SIDECAR_WATCH_H

#include <stddef.h>

#include "strv.h"

struct watch_dir {
	int wd;
	char *path;	/* the tree's: relative to the root ("" for it); git's: absolute */
	int git;	/* 0: the tree's; 1: under refs/heads; 2: a git directory itself */
};

struct watch {
	int fd;			/* inotify, or -1 when polling */
	char *root;
	struct watch_dir *dirs;
	size_t n, alloc;
	const struct strv *skip;	/* directories not to watch, "dir/" each */
};

/*
 * Starts watching the working tree at root and the git directories gitdir
 * (HEAD, index) and commondir (packed-refs, refs/heads); skip lists the
 * directories to leave out, relative to root with a trailing '/', and
 * must outlive w. Returns 0, or -1 when it polls instead (after saying
 * why when it tried).
 */
int watch_open(struct watch *w, const char *root, const char *gitdir, const char *commondir,
	       const struct strv *skip);

/* The descriptor to poll for news; -1 when polling. */
int watch_fd(const struct watch *w);

/* What news is of: a file of the working tree, or git's own (HEAD, index, refs). */
enum { WATCH_TREE = 1, WATCH_GIT = 2 };

/*
 * Reads what the kernel queued, watching new directories on the way; what
 * any of it is news of (WATCH_TREE and WATCH_GIT bits), 0 when none; both
 * when polling. Never blocks.
 */
int watch_take(struct watch *w);

void watch_close(struct watch *w);

#endif
