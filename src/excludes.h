/*
 * excludes.h: the ignore rules of the local repository that live outside
 * its tree ($GIT_COMMON_DIR/info/exclude and core.excludesFile). The local
 * scan obeys them, so the sidecar must too: they travel with each sync and
 * the sidecar writes them into its own .git/info/exclude.
 */
#ifndef SIDECAR_EXCLUDES_H
#define SIDECAR_EXCLUDES_H

#include "buf.h"
#include "git.h"

struct local_repo;

/*
 * Where git reads core.excludesFile: value as git config printed it (NULL
 * when unset: $XDG_CONFIG_HOME/git/ignore, else $HOME/.config/git/ignore),
 * "~/" and "~" taken from home, relative to toplevel. A new string; NULL
 * for no file, or when only git can say (~user, %(prefix)): then *ask is 1.
 * Pure.
 */
char *excludes_path(const char *value, const char *home, const char *xdg, const char *toplevel,
		    int *ask);

/*
 * The rules that matter in a pattern file's text, appended to out: every
 * line but blank ones and comments, each ending in a newline. Lines with a
 * NUL byte are left out (a commit message cannot hold them). Pure.
 */
void excludes_filter(const char *text, size_t len, struct buf *out);

/*
 * The rules of repo outside its tree, in the order of their precedence
 * (core.excludesFile first, info/exclude last: a later line wins), into
 * out; a file that is missing or cannot be read adds nothing, as in git.
 */
void excludes_read(const struct git *g, const struct local_repo *repo, struct buf *out);

#endif
