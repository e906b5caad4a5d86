/*
 * rawgit.h: git that takes the working tree's files as bytes.
 *
 * `git add` converts what it stores: line endings (core.autocrlf, the text
 * and eol attributes), clean filters, ident, working-tree-encoding. The
 * sidecar must get the files as they are on disk, so the scan runs git
 * with every conversion off. No configuration can do that against a
 * .gitattributes in the tree, and only $GIT_COMMON_DIR/info/attributes
 * outranks one; the local repository is not sidecar's to write, so the
 * scan's git sees a private common directory (GIT_COMMON_DIR, git 2.5 on):
 * its config includes the repository's own (and repeats its format, which
 * git reads without includes), its info/exclude is the repository's, its
 * info/attributes turns every conversion off, and the objects are the
 * repository's (GIT_OBJECT_DIRECTORY). HEAD and the index are per work
 * tree (GIT_DIR) and stay the repository's. Only what reads and hashes
 * files runs so: refs are never written through it.
 */
#ifndef SIDECAR_RAWGIT_H
#define SIDECAR_RAWGIT_H

#include "strv.h"
#include "git.h"

struct local_repo;

/* The line of info/attributes that turns every conversion off. */
#define RAW_ATTRIBUTES "* -text -filter -ident -working-tree-encoding\n"

/*
 * Makes (once) or refreshes the private common directory of repo, in
 * the run directory run, and pushes onto env the "K=V" that make git use
 * it. 0, or non-zero after saying why.
 */
int rawgit_env(const struct git *g, const struct local_repo *repo, const char *run,
	       struct strv *env);

/*
 * The text of the private config: the format keys (the output of 'git
 * config -z --get-regexp' for core.repositoryformatversion and
 * extensions.*, or NULL), then an include of config_path. Pure.
 */
void rawgit_config(const char *format, size_t len, const char *config_path, struct buf *out);

#endif
