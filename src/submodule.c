/* submodule.c: the submodules of a working tree and their repositories. */
#include "submodule.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"

static void clear(struct submodule *s)
{
	free(s->path);
	free(s->toplevel);
	free(s->gitdir);
	free(s->commondir);
	memset(s, 0, sizeof *s);
}

/*
 * Fills s for the repository at s->path below repo's work tree, as git
 * finds it from there; -1 when there is none (git finds the superproject).
 */
static int open_sub(const struct git *g, const struct local_repo *repo, struct submodule *s)
{
	struct git plain = *g;	/* aimed at nothing: it finds the repository */
	struct buf dir = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	char *nl, *gitdir, *common;
	int rc = -1;

	plain.git_dir = plain.work_tree = NULL;
	buf_addf(&dir, "%s/%s", repo->toplevel, s->path);
	if (git_run(&plain, &out, &err, "-C", dir.s, "rev-parse", "--show-toplevel",
		    "--absolute-git-dir", "--git-common-dir", (char *)NULL) != 0 ||
	    !(nl = strchr(buf_str(&out), '\n')) || !(common = strchr(nl + 1, '\n')))
		goto out;
	*nl = '\0';
	gitdir = nl + 1;
	*common++ = '\0';
	if (strcmp(out.s, dir.s) != 0)
		goto out;	/* not initialized: the superproject's */
	s->toplevel = xstrdup(dir.s);
	s->gitdir = xstrdup(gitdir);
	if (common[0] == '/') {
		s->commondir = xstrdup(common);
	} else {
		buf_reset(&dir);
		buf_addf(&dir, "%s/%s/%s", repo->toplevel, s->path, common);
		s->commondir = xstrdup(dir.s);
	}
	s->repo = *repo;
	s->repo.toplevel = s->toplevel;
	s->repo.gitdir = s->gitdir;
	s->repo.commondir = s->commondir;
	s->repo.include = s->repo.exclude = NULL;	/* the superproject's choice */
	s->git = *g;
	s->git.git_dir = s->gitdir;
	s->git.work_tree = s->toplevel;
	rc = 0;
out:
	buf_free(&dir);
	buf_free(&out);
	buf_free(&err);
	return rc;
}

enum err submodules_find(const struct git *g, const struct local_repo *repo, struct submodule **subs,
			 size_t *n, struct strv *absent)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	const char *last = "";
	size_t cap = 0;

	*subs = NULL;
	*n = 0;
	if (git_run(g, &out, &err, "-C", repo->toplevel, "ls-files", "-s", "-z", (char *)NULL) != 0) {
		enum err rc = error("cannot list the submodules of %s: %s", repo->toplevel, buf_str(&err));
		buf_free(&out);
		buf_free(&err);
		return rc;
	}
	/* "MODE OID STAGE\tPATH\0" */
	for (const char *p = buf_str(&out), *end = p + out.len; p < end; p += strlen(p) + 1) {
		const char *tab = strchr(p, '\t');
		/* a submodule in a merge conflict has an entry a stage: once */
		if (strncmp(p, "160000 ", 7) != 0 || !tab || strcmp(tab + 1, last) == 0)
			continue;
		last = tab + 1;
		if (*n == cap) {
			cap = cap ? 2 * cap : 4;
			*subs = xrealloc(*subs, cap * sizeof **subs);
		}
		struct submodule *s = &(*subs)[*n];
		memset(s, 0, sizeof *s);
		s->path = xstrdup(tab + 1);
		if (open_sub(g, repo, s) == 0) {
			(*n)++;
		} else {
			strv_push(absent, s->path);
			clear(s);
		}
	}
	buf_free(&out);
	buf_free(&err);
	return ERR_OK;
}

void submodules_free(struct submodule *subs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		clear(&subs[i]);
	free(subs);
}
