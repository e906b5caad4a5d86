/* snapshot.c: the working tree as a commit, through a temporary index. */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachetree.h"
#include "err.h"
#include "excludes.h"
#include "msg.h"
#include "protocol.h"
#include "rawgit.h"
#include "rundir.h"

void sync_key(const char *dest, const char *workdir, char out[17])
{
	unsigned long long h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	for (const char *p = dest; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ 0) * 0x100000001b3ULL;
	for (const char *p = workdir; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	snprintf(out, 17, "%016llx", h);
}

/* Copies src to dst; 1 when src does not exist. */
static int copy_file(const char *src, int dst)
{
	char chunk[65536];
	int in = open(src, O_RDONLY);
	struct stat st;
	ssize_t n;

	if (in < 0)
		return errno == ENOENT ? 1 : -1;
	while ((n = read(in, chunk, sizeof chunk)) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(dst, chunk + off, (size_t)(n - off));
			if (w < 0) {
				close(in);
				return -1;
			}
			off += w;
		}
	}
	/*
	 * An index keeps its time: git takes a file changed in the second the
	 * index was written as maybe changed ("racy"), and a copy dated now
	 * would hide that edit whenever its size did not change.
	 */
	if (n == 0 && fstat(in, &st) == 0) {
		struct timespec t[2] = { st.st_atim, st.st_mtim };
		if (futimens(dst, t) < 0)
			n = -1;
	}
	close(in);
	return n < 0 ? -1 : 0;
}

/* Whether file a was modified after file b (a missing b counts as older). */
static int newer(const char *a, const char *b)
{
	struct stat sa, sb;
	if (stat(a, &sa) < 0)
		return 0;
	if (stat(b, &sb) < 0)
		return 1;
	return sa.st_mtim.tv_sec != sb.st_mtim.tv_sec ? sa.st_mtim.tv_sec > sb.st_mtim.tv_sec
						       : sa.st_mtim.tv_nsec > sb.st_mtim.tv_nsec;
}

/* Whether git converts files with these check-attr answers when it adds them. */
static int converted(const char *const info[6], int autocrlf)
{
	enum { TEXT, CRLF, EOL, FILTER, IDENT, ENCODING };
#define SAID(i) (strcmp(info[i], "unspecified") != 0 && strcmp(info[i], "unset") != 0)
	if (SAID(FILTER) || strcmp(info[IDENT], "set") == 0 || SAID(ENCODING))
		return 1;
	if (strcmp(info[TEXT], "unspecified") != 0)
		return strcmp(info[TEXT], "unset") != 0;
	if (strcmp(info[CRLF], "unspecified") != 0)	/* the attribute before text */
		return strcmp(info[CRLF], "unset") != 0;
	return SAID(EOL) || autocrlf;
#undef SAID
}

/* core.autocrlf: true or input (a key without a value is true). */
static int autocrlf_on(const char *v)
{
	if (!v)
		return 0;
	if (!*v || strcmp(v, "input") == 0 || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on"))
		return 1;
	char *end;
	long n = strtol(v, &end, 10);
	return *end == '\0' && end != v && n != 0;
}

/*
 * A seed from the real index holds what git stored: for a file it
 * converted (line endings, a filter, ident, an encoding) that is not the
 * file's bytes, and its stat data says the file is unchanged. Such entries
 * lose their stat data here, so that the scan, which converts nothing,
 * hashes them again as they are on disk.
 */
static int unconvert(const struct git *g, struct local *l)
{
	static const char *const ls[] = { "ls-files", "-s", "-z", NULL };
	static const char *const attrs[] = { "check-attr", "-z", "--stdin", "text", "crlf", "eol",
					     "filter", "ident", "working-tree-encoding", NULL };
	static const char *const info_args[] = { "update-index", "-z", "--index-info", NULL };
	struct buf entries = BUF_INIT, paths = BUF_INIT, out = BUF_INIT, fix = BUF_INIT;
	struct strv lines = STRV_INIT;
	struct git gi = *g;
	int rc = 0, crlf = autocrlf_on(l->repo->autocrlf);
	struct strv args = STRV_INIT;

	gi.index = l->index;
	strv_push(&args, "-C");
	strv_push(&args, l->toplevel);
	strv_pushv(&args, ls);
	if (git_runv(&gi, &entries, NULL, strv_argv(&args)))
		goto out;	/* no index to fix: the scan hashes everything */
	/* "MODE OID STAGE\tPATH": regular files at stage 0 only */
	for (const char *p = buf_str(&entries), *end = p + entries.len; p < end; p += strlen(p) + 1) {
		const char *tab = strchr(p, '\t');
		if (!tab || strncmp(p, "100", 3) != 0 || tab[-1] != '0' || tab[-2] != ' ')
			continue;
		strv_push(&lines, p);
		buf_add(&paths, tab + 1, strlen(tab + 1) + 1);
	}
	if (!lines.n)
		goto out;
	strv_free(&args);
	strv_push(&args, "-C");
	strv_push(&args, l->toplevel);
	strv_pushv(&args, attrs);
	if (git_run_input(&gi, &out, NULL, paths.s, paths.len, strv_argv(&args))) {
		rc = error("cannot read the attributes of the files (git check-attr failed)");
		goto out;
	}
	/* "PATH\0ATTR\0INFO\0", six for each path, in the order asked */
	const char *p = buf_str(&out), *end = p + out.len;
	for (size_t i = 0; i < lines.n && p < end; i++) {
		const char *info[6];
		for (int k = 0; k < 6; k++) {
			for (int f = 0; f < 2 && p < end; f++)
				p += strlen(p) + 1;
			info[k] = p < end ? p : "unspecified";
			p += p < end ? strlen(p) + 1 : 0;
		}
		if (converted(info, crlf))
			buf_add(&fix, lines.v[i], strlen(lines.v[i]) + 1);
	}
	if (fix.len) {
		trace("%s: files git converts are hashed again as they are on disk", l->toplevel);
		strv_free(&args);
		strv_push(&args, "-C");
		strv_push(&args, l->toplevel);
		strv_pushv(&args, info_args);
		if (git_run_input(&gi, NULL, NULL, fix.s, fix.len, strv_argv(&args)))
			rc = error("cannot update the temporary index (git update-index failed)");
	}
out:
	strv_free(&args);
	strv_free(&lines);
	buf_free(&entries);
	buf_free(&paths);
	buf_free(&out);
	buf_free(&fix);
	return rc;
}

/*
 * Fills fd: sidecar's cache, unless the real index changed since (the user
 * added, removed or force-added files) or use_cache is 0; else the real
 * index; else nothing (git starts empty).
 */
static enum err seed_index(const struct git *g, struct local *l, int fd, int use_cache)
{
	const char *user_index = getenv("GIT_INDEX_FILE");
	struct buf src = BUF_INIT;
	int rc = 0;

	if (user_index && *user_index)
		buf_adds(&src, user_index);
	else
		buf_addf(&src, "%s/index", l->gitdir);
	l->from_cache = 0;
	if (use_cache && !newer(src.s, l->cache) && copy_file(l->cache, fd) == 0) {
		l->from_cache = 1;
		buf_free(&src);
		return 0;
	}
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		buf_free(&src);
		return error("cannot write the temporary index %s: %s", l->index, strerror(errno));
	}
	switch (copy_file(src.s, fd)) {
	case -1:
		rc = error("cannot copy the index %s: %s", src.s, strerror(errno));
		break;
	case 1:
		unlink(l->index);	/* git creates it */
		break;
	case 0:
		rc = unconvert(g, l);
		break;
	}
	buf_free(&src);
	return rc;
}

/*
 * The index the scan works on: a copy of sidecar's own cached index of this
 * repository (seeded from the real index the first time), so that unchanged
 * files are not rehashed, however stale the user's index is. The copy goes
 * back into the cache when the scan succeeds (local_free), by rename.
 */
static enum err make_index(const struct git *g, struct local *l, const char *dir)
{
	struct buf cache = BUF_INIT, tmp = BUF_INIT;
	char key[17];
	int fd, rc;

	/* "raw": a cache of an earlier version holds converted blobs */
	sync_key(l->gitdir, "index.raw", key);
	buf_addf(&cache, "%s/index-%s", dir, key);
	buf_addf(&tmp, "%s.XXXXXX", cache.s);
	l->cache = cache.s;
	if ((fd = mkstemp(tmp.s)) < 0) {
		rc = error("cannot create a temporary index %s: %s", tmp.s, strerror(errno));
		buf_free(&tmp);
		return rc;
	}
	l->index = tmp.s;
	rc = seed_index(g, l, fd, 1);
	close(fd);
	return rc;
}

/* git's words are parsed below: untranslated */
static const char *const c_locale[] = { "LC_ALL=C", NULL };

/*
 * The git repositories inside the working tree that `git add -A` met
 * (err is its stderr): it adds one with a commit as a gitlink, with a
 * warning, and fails on one without. Returns how many have no commit.
 */
static int nested_repos(const struct buf *err, struct strv *out)
{
	static const char warned[] = "warning: adding embedded git repository: ";
	static const char failed[] = "error: '";
	static const char no_commit[] = "' does not have a commit checked out";
	int uncommitted = 0;

	for (const char *p = buf_str(err); *p;) {
		size_t n = strcspn(p, "\n");
		struct buf name = BUF_INIT;
		if (n > sizeof warned - 1 && strncmp(p, warned, sizeof warned - 1) == 0) {
			buf_add(&name, p + sizeof warned - 1, n - (sizeof warned - 1));
			buf_addc(&name, '/');
		} else if (n > sizeof failed - 1 + sizeof no_commit - 1 &&
			   strncmp(p, failed, sizeof failed - 1) == 0 &&
			   strncmp(p + n - (sizeof no_commit - 1), no_commit, sizeof no_commit - 1) == 0) {
			buf_add(&name, p + sizeof failed - 1, n - (sizeof failed - 1) - (sizeof no_commit - 1));
			uncommitted++;
		}
		if (name.len) {
			int dup = 0;
			for (size_t i = 0; i < out->n; i++)
				dup |= strcmp(out->v[i], name.s) == 0;
			if (!dup)
				strv_push(out, name.s);
		}
		buf_free(&name);
		p += n + (p[n] == '\n');
	}
	return uncommitted;
}

/*
 * `git add -A` again, leaving out the repositories inside the tree that
 * have no commit (git refuses to add those): 0 when it worked.
 */
static int add_without_nested(const struct git *gi, struct local *l, struct buf *err)
{
	struct strv args = STRV_INIT;
	int rc;

	strv_push(&args, "-C");
	strv_push(&args, l->toplevel);
	strv_push(&args, "add");
	strv_push(&args, "-A");
	strv_push(&args, "--");
	strv_push(&args, ".");
	for (size_t i = 0; i < l->nested.n; i++)
		strv_pushf(&args, ":(exclude,literal)%s", l->nested.v[i]);
	buf_reset(err);
	rc = git_runv(gi, NULL, err, strv_argv(&args));
	nested_repos(err, &l->nested);	/* the ones with a commit, now */
	strv_free(&args);
	return rc;
}

/* g as the scan runs it: with the -c of l, on the temporary index when temp. */
static struct git scan_git(const struct git *g, struct local *l, int temp)
{
	struct git s = *g;

	s.config = l->config.n ? strv_argv(&l->config) : NULL;
	if (temp)
		s.index = l->index;
	return s;
}

/*
 * The cache may name objects git has pruned since (blobs of untracked
 * files belong to no commit): then the scan starts again from the real
 * index, once.
 */
static enum err rescan(const struct git *g, struct local *l)
{
	struct git gi = scan_git(g, l, 1);
	struct buf err = BUF_INIT;
	int fd = open(l->index, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int rc;

	if (fd < 0)
		return error("cannot write the temporary index %s: %s", l->index, strerror(errno));
	rc = seed_index(g, l, fd, 0);
	close(fd);
	if (rc)
		return rc;
	gi.env = strv_argv(&l->raw_env);
	if (git_run(&gi, NULL, &err, "-C", l->toplevel, "add", "-A", "--", ".", (char *)NULL) &&
	    (!nested_repos(&err, &l->nested) || add_without_nested(&gi, l, &err))) {
		buf_chomp(&err);
		rc = error("cannot read the working tree: git add: %s", buf_str(&err));
	}
	buf_free(&err);
	return rc;
}

/* The files of kind ("-o", "-c") that one of the patterns matches, listed. */
static int spawn_matching(const struct git *g, struct local *l, struct git_job *j,
			  const char *kind, const struct strv *patterns)
{
	struct strv a = STRV_INIT;
	int rc;

	git_matching_args(&a, l->toplevel, kind, patterns);
	rc = git_spawnv(g, j, strv_argv(&a));
	strv_free(&a);
	return rc;
}

/*
 * --exclude: the patterns become rules outside the tree, the last ones,
 * so that they travel with the others and the sidecar leaves those files
 * alone too. The scan's git reads all of them as its core.excludesFile
 * (info/exclude, read too, repeats a part of them): a file of the run
 * directory named by its content.
 */
static enum err exclude_patterns(struct local *l, const char *rundir)
{
	const struct strv *ex = l->repo->exclude;
	struct buf path = BUF_INIT;
	char key[17];
	int rc = 0;

	if (!ex || !ex->n)
		return 0;
	for (size_t i = 0; i < ex->n; i++)
		buf_addf(&l->rules, "%s\n", ex->v[i]);
	sync_key(l->rules.s, "excludes", key);
	buf_addf(&path, "%s/excludes-%s", rundir, key);
	if (access(path.s, F_OK) != 0)
		rc = rundir_write(path.s, l->rules.s, l->rules.len);
	strv_pushf(&l->config, "core.excludesFile=%s", path.s);
	buf_free(&path);
	return rc ? ERR_FAIL : 0;
}

enum err local_rules(const struct git *g, const struct local_repo *repo, const char *rundir,
		     struct local *l)
{
	enum err rc;

	memset(l, 0, sizeof *l);
	l->repo = repo;
	l->gitdir = repo->gitdir;
	l->toplevel = repo->toplevel;
	l->rules_read = 1;
	excludes_read(g, repo, &l->rules);
	if ((rc = exclude_patterns(l, rundir)))
		return rc;
	if (l->rules.len)
		sync_key(l->rules.s, "rules", l->rules_id);
	else
		strcpy(l->rules_id, "-");
	return ERR_OK;
}

enum err local_scan_start(const struct git *g, const struct local_repo *repo,
			  const char *rundir, struct local *l)
{
	const char *toplevel = repo->toplevel;
	struct git gi = *g, ga;
	int rc;

	if (!l->rules_read && (rc = local_rules(g, repo, rundir, l)))
		return rc;
	if ((rc = git_check_version(g, rundir)))
		return rc;
	/*
	 * HEAD's commit, identity and branch ("HEAD -> main, ..." among its
	 * decorations) in one call; it fails on an unborn branch.
	 */
	if ((rc = git_spawn(g, &l->log, "log", "-1", "--date=raw", "--no-show-signature",
			    "--format=%H%x00%an%x00%ae%x00%ad%x00%cn%x00%ce%x00%cd%x00%D", "HEAD",
			    "--", (char *)NULL)))
		return git_cannot_run(g, rc);
	strv_push(&l->raw_env, "LC_ALL=C");
	if (rawgit_env(g, repo, rundir, &l->raw_env))
		return ERR_FAIL;
	if ((rc = make_index(g, l, rundir)))
		return rc;
	gi = scan_git(g, l, 1);
	gi.env = c_locale;
	ga = gi;
	ga.env = strv_argv(&l->raw_env);
	/*
	 * The cache may hold untracked files that a rule now ignores; they
	 * are listed (with the tracked ones it ignores) while add runs: add
	 * only adds files no rule ignores, and git replaces an index whole.
	 */
	if (l->from_cache &&
	    (rc = git_spawn(&gi, &l->ignored, "-C", toplevel, "ls-files", "-z", "-c", "-i",
			    "--exclude-standard", (char *)NULL)))
		return git_cannot_run(g, rc);
	if ((rc = git_spawn(&ga, &l->add, "-C", toplevel, "add", "-A", "--", ".", (char *)NULL)))
		return git_cannot_run(g, rc);
	if (repo->include && repo->include->n &&
	    (rc = spawn_matching(g, l, &l->included, "-o", repo->include)))
		return git_cannot_run(g, rc);
	if (repo->exclude && repo->exclude->n &&
	    (rc = spawn_matching(g, l, &l->kept, "-c", repo->exclude)))
		return git_cannot_run(g, rc);
	return 0;
}

/* Whether the NUL-separated list (len bytes) holds name. */
static int in_list(const char *list, size_t len, const char *name)
{
	for (const char *p = list, *end = list + len; p < end; p += strlen(p) + 1)
		if (strcmp(p, name) == 0)
			return 1;
	return 0;
}

/*
 * git update-index -z FLAG --stdin of the NUL-separated names, on gi's
 * index; what says whose names they are in the error.
 */
static enum err update_index(const struct git *g, const struct git *gi, const char *toplevel,
			     const char *flag, const struct buf *names, const char *what)
{
	const char *args[] = { "-C", toplevel, "update-index", "-z", flag, "--stdin", NULL };
	struct git_job j;
	int rc;

	if ((rc = git_spawn_input(gi, &j, args, names->s, names->len)))
		return git_cannot_run(g, rc);
	if (git_wait(&j)) {
		buf_chomp(&j.err);
		rc = error("cannot update the temporary index with %s: git update-index: %s", what,
			   buf_str(&j.err));
	}
	git_job_free(&j);
	return rc;
}

/*
 * Git's rule: a file in the index is tracked, and no ignore rule applies
 * to it. Entries of the cache that a rule ignores and the real index lacks
 * are untracked files that are ignored now: they leave the scan.
 */
static enum err drop_ignored(const struct git *g, struct local *l)
{
	struct buf tracked = BUF_INIT, gone = BUF_INIT, cand = BUF_INIT;
	struct git gr = scan_git(g, l, 0), gi = scan_git(g, l, 1);
	const char *cached = buf_str(&l->ignored.out), *inc = buf_str(&l->included.out);
	size_t len = l->ignored.out.len;
	int rc = 0;

	/* what --include sends stays */
	for (const char *p = cached, *end = cached + len; p < end; p += strlen(p) + 1)
		if (*p && !in_list(inc, l->included.out.len, p))
			buf_add(&cand, p, strlen(p) + 1);
	if (!cand.len)
		goto out;
	if (git_run(&gr, &tracked, NULL, "-C", l->toplevel, "ls-files", "-z", "-c", "-i",
		    "--exclude-standard", (char *)NULL)) {
		rc = error("cannot list the ignored files of the index");
		goto out;
	}
	for (const char *p = cand.s, *end = cand.s + cand.len; p < end; p += strlen(p) + 1)
		if (!in_list(buf_str(&tracked), tracked.len, p))
			buf_add(&gone, p, strlen(p) + 1);
	if (!gone.len)
		goto out;
	trace("untracked files now ignored leave the snapshot");
	rc = update_index(g, &gi, l->toplevel, "--force-remove", &gone, "files now ignored");
out:
	buf_free(&tracked);
	buf_free(&gone);
	buf_free(&cand);
	return rc;
}

/*
 * --include: the untracked files its patterns match go into the scan, as
 * bytes, ignored or not (directories, nested repositories, are not files).
 */
static enum err add_included(const struct git *g, struct local *l)
{
	struct git gi = scan_git(g, l, 1);
	struct buf files = BUF_INIT;
	const char *list = buf_str(&l->included.out);
	int rc = 0;

	for (const char *p = list, *end = list + l->included.out.len; p < end; p += strlen(p) + 1)
		if (*p && p[strlen(p) - 1] != '/')
			buf_add(&files, p, strlen(p) + 1);
	if (!files.len)
		goto out;
	gi.env = strv_argv(&l->raw_env);
	rc = update_index(g, &gi, l->toplevel, "--add", &files, "the files of --include");
out:
	buf_free(&files);
	return rc;
}

/* --exclude may leave out untracked files only: the sidecar gets every tracked one. */
static enum err check_kept(struct local *l)
{
	const char *list;
	size_t n = 0;

	if (git_wait(&l->kept))
		return error("cannot list the tracked files --exclude matches: %s",
			     buf_str(&l->kept.err));
	list = buf_str(&l->kept.out);
	for (const char *p = list, *end = list + l->kept.out.len; p < end; p += strlen(p) + 1)
		n++;
	if (!n)
		return 0;
	error("--exclude matches %zu tracked file%s, such as '%s': only untracked files can be "
	      "left out, as the sidecar must have every tracked one", n, n == 1 ? "" : "s", list);
	return ERR_USAGE;
}

/*
 * The branch HEAD names, from the decorations that end ident ("HEAD ->
 * main, origin/main"), or NULL when HEAD is detached.
 */
static char *head_branch(const struct buf *ident)
{
	const char *d = buf_str(ident), *end = d + ident->len;
	for (int i = 0; i < 6 && d < end; i++)
		d += strlen(d) + 1;
	if (d >= end || strncmp(d, "HEAD -> ", 8) != 0)
		return NULL;
	d += 8;
	size_t n = strcspn(d, ",");
	char *b = xmalloc(n + 1);
	memcpy(b, d, n);
	b[n] = '\0';
	return b;
}

/*
 * What the snapshot commit of tree is made of: the tree, HEAD, HEAD's
 * identity and dates, the rules. The same text, the same commit. Pure.
 */
static void snapshot_inputs(const struct local *l, const char *tree, struct buf *out)
{
	buf_addf(out, "tree %s\nhead %s\n", tree, l->head ? l->head : "-");
	buf_add(out, l->ident.s, l->ident.len);
	buf_adds(out, "\nrules\n");
	buf_add(out, l->rules.s, l->rules.len);
}

static void memo_path(const struct local *l, const char *rundir, const char *key,
		      struct buf *path)
{
	char k[17];

	sync_key(l->gitdir, key, k);
	buf_addf(path, "%s/snap-%s", rundir, k);
}

int local_memo_read(const struct local *l, const char *rundir, const char *key,
		    const char *known, struct buf *out)
{
	struct buf path = BUF_INIT, memo = BUF_INIT;
	size_t n = known ? strlen(known) : 0;
	int found = 0;

	buf_reset(out);
	if (!n)
		return 0;
	memo_path(l, rundir, key, &path);
	if (buf_read_file(&memo, path.s) == 0 && memo.len > n && memo.s[n] == '\n' &&
	    strncmp(memo.s, known, n) == 0) {
		buf_add(out, memo.s, memo.len);
		found = 1;
	}
	buf_free(&path);
	buf_free(&memo);
	return found;
}

void local_memo_load(struct local *l, const char *rundir, const char *key, const char *known)
{
	local_memo_read(l, rundir, key, known, &l->again);
}

void local_memo_save(const struct local *l, const char *rundir, const char *key)
{
	struct buf path = BUF_INIT, memo = BUF_INIT;

	if (!l->tree || !l->snapshot)
		return;
	buf_addf(&memo, "%s\n", l->snapshot);
	snapshot_inputs(l, l->tree, &memo);
	if (memo.len != l->again.len || memcmp(memo.s, l->again.s, memo.len) != 0) {
		memo_path(l, rundir, key, &path);
		rundir_write(path.s, memo.s, memo.len);
	}
	buf_free(&path);
	buf_free(&memo);
}

int local_memo_parent(const char *memo, size_t len, char parent[OID_HEX_MAX])
{
	static const char head[] = "\nhead ";
	const char *end = memo + len, *p = memchr(memo, '\n', len);	/* after the name */

	if (p)
		p = memchr(p + 1, '\n', (size_t)(end - p - 1));	/* after the tree */
	if (!p || (size_t)(end - p) < sizeof head || memcmp(p, head, sizeof head - 1) != 0)
		return 0;
	p += sizeof head - 1;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = nl ? (size_t)(nl - p) : 0;
	if (n == 1 && *p == '-') {
		parent[0] = '\0';
		return 1;
	}
	if (!nl || n >= OID_HEX_MAX)
		return 0;
	memcpy(parent, p, n);
	parent[n] = '\0';
	return protocol_is_oid(parent);
}

/*
 * The snapshot of l->again, when the index (as add left it) still names
 * its tree and the rest of what made it is the same: its tree into
 * tree_out, and 1.
 */
static int take_again(struct local *l, struct buf *tree_out)
{
	const char *memo = buf_str(&l->again), *nl = memchr(memo, '\n', l->again.len);
	struct buf data = BUF_INIT, inputs = BUF_INIT;
	char tree[OID_HEX_MAX];
	int yes = 0;

	if (!nl || !l->head || !l->index || buf_read_file(&data, l->index) != 0 ||
	    !cachetree_root((const unsigned char *)data.s, data.len, strlen(l->head) / 2, tree))
		goto out;
	snapshot_inputs(l, tree, &inputs);
	if (inputs.len == l->again.len - (size_t)(nl + 1 - memo) &&
	    memcmp(inputs.s, nl + 1, inputs.len) == 0) {
		buf_adds(tree_out, tree);
		l->snapshot = xmalloc((size_t)(nl - memo) + 1);
		memcpy(l->snapshot, memo, (size_t)(nl - memo));
		l->snapshot[nl - memo] = '\0';
		trace("the index names the tree last synced: the same snapshot, %s", l->snapshot);
		yes = 1;
	}
out:
	buf_free(&data);
	buf_free(&inputs);
	return yes;
}

enum err local_scan_finish(const struct git *g, struct local *l)
{
	struct git gi = *g;
	struct buf out = BUF_INIT;
	int rc = 0;

	if (git_wait(&l->log) == 0 && l->log.out.len) {
		size_t n = strlen(l->log.out.s);	/* the hash, up to the first NUL */
		l->head = xstrdup(l->log.out.s);
		if (n < l->log.out.len)
			buf_add(&l->ident, l->log.out.s + n + 1, l->log.out.len - n - 1);
		l->branch = head_branch(&l->ident);
	} else if (git_run(g, &out, NULL, "symbolic-ref", "-q", "HEAD", (char *)NULL) == 0 &&
		   strncmp(buf_str(&out), "refs/heads/", 11) == 0) {
		l->branch = xstrdup(out.s + 11);	/* an unborn branch */
	}
	buf_reset(&out);
	gi = scan_git(g, l, 1);
	gi.env = strv_argv(&l->raw_env);
	rc = git_wait(&l->add);
	if (nested_repos(&l->add.err, &l->nested) && rc)
		rc = add_without_nested(&gi, l, &out);
	buf_reset(&out);
	if (l->kept.running && (rc = check_kept(l)))
		goto out;
	if (l->included.running && git_wait(&l->included)) {
		rc = error("cannot list the files --include matches: %s", buf_str(&l->included.err));
		goto out;
	}
	int listed = l->from_cache && git_wait(&l->ignored) == 0;
	if (rc || (listed && drop_ignored(g, l)) || add_included(g, l) ||
	    (!take_again(l, &out) &&
	     (git_run(&gi, &out, NULL, "write-tree", (char *)NULL) || !out.len))) {
		trace("the cached index names objects that are gone; scanning from the index");
		buf_reset(&out);
		if ((rc = rescan(g, l)) || (rc = add_included(g, l)))
			goto out;
		if (git_run(&gi, &out, NULL, "write-tree", (char *)NULL) || !out.len) {
			rc = error("git write-tree failed");
			goto out;
		}
	}
	rc = 0;
	l->tree = xstrdup(out.s);
	l->has_submodules = local_has_gitmodules(l->toplevel);
out:
	buf_free(&out);
	return rc;
}

int local_has_gitmodules(const char *toplevel)
{
	struct buf path = BUF_INIT;
	struct stat st;
	int yes;

	buf_addf(&path, "%s/.gitmodules", toplevel);
	yes = stat(path.s, &st) == 0;
	buf_free(&path);
	return yes;
}

enum err local_scan(const struct git *g, const struct local_repo *repo, const char *rundir,
		    struct local *l)
{
	enum err rc = local_scan_start(g, repo, rundir, l);
	return rc ? rc : local_scan_finish(g, l);
}

enum err local_snapshot(const struct git *g, struct local *l)
{
	struct buf out = BUF_INIT, err = BUF_INIT, msg = BUF_INIT;
	struct strv env = STRV_INIT, args = STRV_INIT;
	struct git gc = *g;
	int rc = 0;

	if (l->snapshot)
		return 0;	/* taken again */
	if (l->head) {
		/* identity and dates of HEAD: same state, same snapshot */
		static const char *const names[] = {
			"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_AUTHOR_DATE",
			"GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE",
		};
		const char *p = buf_str(&l->ident), *end = p + l->ident.len;
		for (size_t i = 0; i < 6; i++) {
			/* a raw date is "SECONDS ZONE"; "@" keeps small ones epoch seconds */
			int date = i == 2 || i == 5;
			strv_pushf(&env, "%s=%s%s", names[i], date && p < end ? "@" : "", p < end ? p : "");
			p += strlen(p) + 1;
		}
	} else {
		strv_push(&env, "GIT_AUTHOR_NAME=sidecar");
		strv_push(&env, "GIT_AUTHOR_EMAIL=sidecar@localhost");
		strv_push(&env, "GIT_AUTHOR_DATE=@0 +0000");
		strv_push(&env, "GIT_COMMITTER_NAME=sidecar");
		strv_push(&env, "GIT_COMMITTER_EMAIL=sidecar@localhost");
		strv_push(&env, "GIT_COMMITTER_DATE=@0 +0000");
	}
	gc.env = strv_argv(&env);
	buf_reset(&out);
	buf_adds(&msg, "sidecar snapshot\n");
	if (l->rules.len) {
		buf_adds(&msg, "\n" SNAPSHOT_RULES_MARK "\n");
		buf_add(&msg, l->rules.s, l->rules.len);
	}
	strv_push(&args, "commit-tree");
	strv_push(&args, l->tree);
	if (l->head) {
		strv_push(&args, "-p");
		strv_push(&args, l->head);
	}
	strv_push(&args, "-F");
	strv_push(&args, "-");
	/* its stderr kept: a warning that rules are not UTF-8 is noise */
	rc = git_run_input(&gc, &out, &err, msg.s, msg.len, strv_argv(&args));
	if (rc || !out.len) {
		buf_chomp(&err);
		rc = error("git commit-tree failed%s%s", err.len ? ": " : "", buf_str(&err));
	} else {
		l->snapshot = xstrdup(out.s);
	}
	strv_free(&env);
	strv_free(&args);
	buf_free(&out);
	buf_free(&err);
	buf_free(&msg);
	return rc;
}

void local_free(struct local *l)
{
	git_job_free(&l->log);
	git_job_free(&l->add);
	git_job_free(&l->ignored);
	git_job_free(&l->included);
	git_job_free(&l->kept);
	strv_free(&l->config);
	if (l->index && !(l->tree && rename(l->index, l->cache) == 0))
		unlink(l->index);
	free(l->cache);
	buf_free(&l->ident);
	free(l->branch);
	free(l->head);
	free(l->index);
	free(l->tree);
	free(l->snapshot);
	strv_free(&l->nested);
	strv_free(&l->raw_env);
	buf_free(&l->rules);
	buf_free(&l->again);
	memset(l, 0, sizeof *l);
}

void local_record(const struct local *l, struct buf *out)
{
	buf_addf(out, "%s %s %s %d %s\n", l->snapshot, l->tree, l->head ? l->head : "-",
		 l->has_submodules, l->branch ? l->branch : "-");
}

int local_take_record(struct local *l, const char *rec)
{
	struct buf b = BUF_INIT;
	char *f[5], *p;
	int ok = 1;

	buf_adds(&b, rec);
	p = b.s;
	for (int i = 0; i < 5 && ok; i++) {
		size_t n = strcspn(p, i < 4 ? " \n" : "\n");
		ok = n && p[n] == (i < 4 ? ' ' : '\n');
		p[n] = '\0';
		f[i] = p;
		p += n + 1;
	}
	ok = ok && !*p && protocol_is_oid(f[0]) && protocol_is_oid(f[1]) &&
	     (strcmp(f[2], "-") == 0 || protocol_is_oid(f[2])) &&
	     (strcmp(f[3], "0") == 0 || strcmp(f[3], "1") == 0);
	if (ok) {
		l->snapshot = xstrdup(f[0]);
		l->tree = xstrdup(f[1]);
		l->head = strcmp(f[2], "-") ? xstrdup(f[2]) : NULL;
		l->has_submodules = f[3][0] == '1';
		l->branch = strcmp(f[4], "-") ? xstrdup(f[4]) : NULL;
	}
	buf_free(&b);
	return ok ? 0 : -1;
}

void local_record_free(struct local *l)
{
	free(l->snapshot);
	free(l->tree);
	free(l->head);
	free(l->branch);
	l->snapshot = l->tree = l->head = l->branch = NULL;
}

int local_has_commit(const struct git *g, const char *oid)
{
	struct buf out = BUF_INIT, name = BUF_INIT;
	buf_addf(&name, "%s^{commit}", oid);
	int rc = git_run(g, &out, NULL, "rev-parse", "-q", "--verify", name.s, (char *)NULL);
	buf_free(&out);
	buf_free(&name);
	return rc == 0;
}
