/* submodule.c: the submodules of a working tree and their repositories. */
#include "submodule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "msg.h"

int submodule_gitdir(const char *worktree, const char *c, struct buf *out)
{
	size_t n;

	buf_reset(out);
	if (strncmp(c, "gitdir: ", 8) != 0)
		return -1;
	c += 8;
	n = strcspn(c, "\r\n");
	if (!n)
		return -1;
	if (c[0] != '/')
		buf_addf(out, "%s/", worktree);
	buf_add(out, c, n);
	return 0;
}

static void clear(struct submodule *s)
{
	free(s->path);
	free(s->toplevel);
	free(s->gitdir);
	free(s->commondir);
	memset(s, 0, sizeof *s);
}

/* Fills s for the repository at s->path below repo's work tree; -1 when there is none. */
static int open_sub(const struct git *g, const struct local_repo *repo, struct submodule *s)
{
	struct buf p = BUF_INIT, dir = BUF_INIT, common = BUF_INIT;
	struct stat st;
	int rc = -1;

	buf_addf(&p, "%s/%s/.git", repo->toplevel, s->path);
	if (lstat(p.s, &st) < 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		buf_adds(&dir, p.s);
	} else {
		struct buf text = BUF_INIT;
		buf_addf(&dir, "%s/%s", repo->toplevel, s->path);
		char *wt = xstrdup(dir.s);
		int bad = buf_read_file(&text, p.s) < 0 || submodule_gitdir(wt, buf_str(&text), &dir) < 0;
		free(wt);
		buf_free(&text);
		if (bad)
			goto out;
	}
	buf_reset(&p);
	buf_addf(&p, "%s/HEAD", dir.s);	/* a repository has a HEAD */
	if (stat(p.s, &st) < 0)
		goto out;
	buf_addf(&common, "%s/%s", repo->toplevel, s->path);
	s->toplevel = xstrdup(common.s);
	s->gitdir = xstrdup(dir.s);
	/* a linked work tree's commondir file names where the objects are */
	buf_reset(&p);
	buf_addf(&p, "%s/commondir", s->gitdir);
	buf_reset(&common);
	if (buf_read_file(&common, p.s) == 0 && common.len) {
		buf_chomp(&common);
		buf_reset(&p);
		if (common.s[0] != '/')
			buf_addf(&p, "%s/", s->gitdir);
		buf_adds(&p, common.s);
		s->commondir = xstrdup(p.s);
	} else {
		s->commondir = xstrdup(s->gitdir);
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
	buf_free(&p);
	buf_free(&dir);
	buf_free(&common);
	return rc;
}

enum err submodules_find(const struct git *g, const struct local_repo *repo, struct submodule **subs,
			 size_t *n, struct strv *absent)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
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
		/* stage 0 only: a submodule in a conflict is listed once */
		if (strncmp(p, "160000 ", 7) != 0 || !tab || tab < p + 2 || tab[-1] != '0' || tab[-2] != ' ')
			continue;
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
