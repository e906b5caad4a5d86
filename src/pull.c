/* pull.c: what the workspace has, back into the local working tree. */
#include "pull.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "quote.h"
#include "session.h"

int pull_path(const char *prefix, const char *arg, struct buf *out)
{
	struct strv parts = STRV_INIT;
	struct buf whole = BUF_INIT;
	int rc = 0;

	buf_reset(out);
	if (!*arg || arg[0] == '/') {
		buf_free(&whole);
		return -1;	/* absolute paths are the caller's to make relative */
	}
	buf_adds(&whole, prefix);
	buf_adds(&whole, arg);
	for (char *p = whole.s, *next; p && rc == 0; p = next) {
		char *sl = strchr(p, '/');
		next = sl ? sl + 1 : NULL;
		if (sl)
			*sl = '\0';
		if (!*p || strcmp(p, ".") == 0)
			continue;
		if (strcmp(p, "..") == 0) {
			if (!parts.n)
				rc = -1;	/* above the top */
			else
				strv_truncate(&parts, parts.n - 1);
		} else if (strcmp(p, ".git") == 0) {
			rc = -1;
		} else {
			strv_push(&parts, p);
		}
	}
	for (size_t i = 0; rc == 0 && i < parts.n; i++) {
		if (i)
			buf_addc(out, '/');
		buf_adds(out, parts.v[i]);
	}
	if (rc == 0 && !parts.n)
		buf_adds(out, ".");
	strv_free(&parts);
	buf_free(&whole);
	return rc;
}

void saved_time(const char *ref, int iso, char *out, size_t size)
{
	const char *t = strrchr(ref, '/');
	t = t ? t + 1 : ref;
	if (size)
		*out = '\0';
	if (strlen(t) < 16 || strspn(t, "0123456789") != 8 || t[8] != 'T' ||
	    strspn(t + 9, "0123456789") != 6 || t[15] != 'Z')
		return;
	snprintf(out, size, iso ? "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ" : "%.4s-%.2s-%.2s %.2s:%.2s:%.2s UTC",
		 t, t + 4, t + 6, t + 9, t + 11, t + 13);
}

/* One record of raw -z diff-tree output: what the path becomes. */
struct rec {
	char mode[8];		/* "000000" when it goes */
	char oid[65];
	char st;		/* A, D, M, T */
	const char *path;
};

/* The next record at *p (before end); 0 at the end or on a record it cannot read. */
static int next_rec(const char **p, const char *end, struct rec *r)
{
	const char *s = *p, *nul, *pend;
	char oldmode[8], old[65];

	if (s >= end || *s != ':' || !(nul = memchr(s, '\0', (size_t)(end - s))) ||
	    !(pend = memchr(nul + 1, '\0', (size_t)(end - nul - 1))))
		return 0;
	/* ":OLDMODE NEWMODE OLD NEW ST" */
	if (sscanf(s, ":%7s %7s %64s %64s %c", oldmode, r->mode, old, r->oid, &r->st) != 5)
		return 0;
	r->path = nul + 1;
	*p = pend + 1;
	return 1;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct rec *)a)->path, ((const struct rec *)b)->path);
}

/* The records of raw output, sorted by path: *n of them, in a new array. */
static struct rec *records(const char *s, size_t len, size_t *n)
{
	struct rec *v = NULL, r;
	size_t cap = 0;
	const char *p = s, *end = s + len;

	*n = 0;
	while (next_rec(&p, end, &r)) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[(*n)++] = r;
	}
	if (*n)
		qsort(v, *n, sizeof *v, by_path);
	return v;
}

static int same_dst(const struct rec *a, const struct rec *b)
{
	return strcmp(a->mode, b->mode) == 0 && strcmp(a->oid, b->oid) == 0;
}

void pull_plan(const char *theirs, size_t theirs_len, const char *ours, size_t ours_len,
	       struct strv *write, struct strv *same, struct strv *conflicts)
{
	size_t nt, no;
	struct rec *t = records(theirs, theirs_len, &nt);
	struct rec *o = records(ours, ours_len, &no);

	for (size_t i = 0; i < nt; i++) {
		struct rec *hit = no ? bsearch(&t[i], o, no, sizeof *o, by_path) : NULL;
		if (!hit) {
			strv_pushf(write, "%s %s %c\t%s", t[i].mode, t[i].oid, t[i].st, t[i].path);
		} else if (same_dst(&t[i], hit)) {
			strv_push(same, t[i].path);
		} else {
			strv_push(conflicts, t[i].path);
			strv_pushf(write, "%s %s %c\t%s", t[i].mode, t[i].oid, t[i].st, t[i].path);
		}
	}
	free(t);
	free(o);
}

/* --- the sessions ------------------------------------------------------- */

struct job {
	const struct pull_opts *o;
	struct remote rm;
	struct strv args;	/* the operation */
	int fd;			/* the session's stdout */
	struct reply r;
	long long data_at;
};

static enum err attempt(void *ctx)
{
	struct job *j = ctx;

	reply_free(&j->r);
	return remote_op_to(&j->rm, strv_argv(&j->args), j->fd, &j->r, &j->data_at);
}

/* An unnamed file for what the session prints, close-on-exec: -1 after saying why. */
static int scratch_file(void)
{
	const char *dir = getenv("TMPDIR");
	struct buf path = BUF_INIT;
	int fd;

	buf_addf(&path, "%s/sidecar-pull-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path.s);
	if (fd < 0)
		error("cannot make a temporary file in %s: %s", dir && *dir ? dir : "/tmp",
		      strerror(errno));
	else
		unlink(path.s);
	if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		close(fd);
		fd = -1;
	}
	buf_free(&path);
	return fd;
}

/* Runs the operation in j->args over c, as many times as the connection asks. */
static enum err call(struct job *j, const struct pull_opts *o, struct conn *c)
{
	enum err rc;

	j->o = o;
	reply_init(&j->r);
	j->data_at = -1;
	if ((j->fd = scratch_file()) < 0)
		return ERR_FAIL;
	remote_init(&j->rm, o->dest, o->rundir);
	j->rm.c = c;
	j->rm.no_progress = 1;
	rc = conn_retry(c, attempt, j, "asking again");
	if (rc == ERR_OK && !j->r.complete)
		rc = error("the sidecar's reply was cut short; run sidecar again");
	return rc;
}

static void job_free(struct job *j)
{
	if (j->fd >= 0)
		close(j->fd);
	reply_free(&j->r);
	remote_free(&j->rm);
	strv_free(&j->args);
}

/* The commits the sidecar may leave out of the pack: last synced, HEAD. */
static void haves(const struct git *g, const struct pull_opts *o, struct buf *out)
{
	struct buf head = BUF_INIT;
	if (o->synced)
		buf_adds(out, o->synced);
	if (git_run(g, &head, NULL, "rev-parse", "-q", "--verify", "HEAD^{commit}", (char *)NULL) == 0 &&
	    head.len)
		buf_addf(out, "%s%s", out->len ? " " : "", head.s);
	if (!out->len)
		buf_adds(out, "-");
	buf_free(&head);
}

/* Takes the pack after the reply into the local repository. */
static enum err take_pack(const struct git *g, struct job *j)
{
	/* from the top: in a subdirectory, index-pack does not find the thin pack's bases */
	const char *const args[] = { "-C", j->o->repo->toplevel, "index-pack", "--stdin", "--fix-thin", NULL };
	struct buf err = BUF_INIT;
	struct stat st;
	enum err rc = ERR_OK;

	if (j->data_at < 0 || fstat(j->fd, &st) < 0 || lseek(j->fd, j->data_at, SEEK_SET) < 0)
		return error("the sidecar's pack did not arrive; run sidecar again");
	/* a pack of no objects is a header and a checksum */
	if (st.st_size - j->data_at <= 32)
		return ERR_OK;
	if (git_run_fd(g, NULL, &err, j->fd, args) != 0) {
		buf_chomp(&err);
		rc = error("the objects from %s could not be stored here: %s", j->o->dest,
			   buf_str(&err));
	}
	buf_free(&err);
	return rc;
}

/* --- the local side --------------------------------------------------------- */

/* Splits "REF COMMIT BASE KIND" into its words (the string is cut); -1 unless COMMIT and BASE are object names. */
static int entry_words(char *entry, char **w)
{
	for (int i = 0; i < 4; i++) {
		w[i] = entry;
		if (!entry)
			return -1;
		entry = strchr(entry, ' ');
		if (entry)
			*entry++ = '\0';
	}
	return protocol_is_oid(w[1]) && protocol_is_oid(w[2]) ? 0 : -1;
}

/*
 * Saves the local tree `tree` as a commit on head (the scan's HEAD, NULL on
 * an unborn branch) under refs/sidecar/pulled/<UTC>, in r->saved_to.
 */
static enum err save_local(const struct git *g, const char *tree, const char *head,
			   struct pull_result *r)
{
	struct buf commit = BUF_INIT, ref = BUF_INIT, err = BUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	enum err rc = ERR_OK;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	struct strv args = STRV_INIT;
	strv_push(&args, "commit-tree");
	strv_push(&args, tree);
	if (head) {
		strv_push(&args, "-p");
		strv_push(&args, head);
	}
	strv_push(&args, "-m");
	strv_push(&args, "sidecar: the local files a pull replaced");
	int st = git_runv(g, &commit, &err, strv_argv(&args));
	strv_free(&args);
	if (st != 0) {
		rc = error("cannot save the local files a pull would replace: %s; nothing was changed",
			   buf_str(&err));
		goto out;
	}
	for (int n = 1; n < 100; n++) {
		buf_reset(&ref);
		buf_addf(&ref, "refs/sidecar/pulled/%s", stamp);
		if (n > 1)
			buf_addf(&ref, "-%d", n);
		/* the empty old value: only a ref that is not there yet */
		if (git_update_ref(g, &err, ref.s, commit.s, "") == 0) {
			r->saved_to = xstrdup(ref.s);
			goto out;
		}
	}
	rc = error("cannot save the local files a pull would replace; nothing was changed");
out:
	buf_free(&commit);
	buf_free(&ref);
	buf_free(&err);
	return rc;
}

/* Raw -z diff-tree from a to b into out. */
static enum err diff(const struct git *g, const char *a, const char *b, struct buf *out)
{
	struct buf err = BUF_INIT;
	enum err rc = ERR_OK;
	if (git_run(g, out, &err, "diff-tree", "-r", "-z", "--no-renames", a, b, (char *)NULL) != 0)
		rc = error("git diff-tree %s %s failed here: %s", a, b, buf_str(&err));
	buf_free(&err);
	return rc;
}

/* The local files as a tree, PATHs given to pull with ignored ones too; in tree. */
static enum err local_tree(const struct git *g, const struct pull_opts *o, struct local *l,
			   struct buf *tree)
{
	struct git raw = *g;
	struct strv args = STRV_INIT, env = STRV_INIT;
	struct buf err = BUF_INIT;
	enum err rc;

	if ((rc = local_scan(g, o->repo, o->rundir, l)))
		return rc;
	strv_pushv(&env, strv_argv(&l->raw_env));
	strv_push(&env, "GIT_LITERAL_PATHSPECS=1");
	raw.index = l->index;
	raw.env = strv_argv(&env);
	strv_pushv(&args, (const char *const[]){ "-C", o->repo->toplevel, "add", "-f", "-A", "--", NULL });
	size_t fixed = args.n;
	for (size_t i = 0; o->paths && i < o->paths->n; i++) {
		struct stat st;
		struct buf full = BUF_INIT;
		buf_addf(&full, "%s/%s", o->repo->toplevel, o->paths->v[i]);
		/* a path that is not here has nothing to add; one in the index goes as removed */
		if (lstat(full.s, &st) == 0)
			strv_push(&args, o->paths->v[i]);
		buf_free(&full);
	}
	if (args.n > fixed && git_runv(&raw, NULL, &err, strv_argv(&args)) != 0)
		rc = error("cannot read the local files to be replaced: %s", buf_str(&err));
	if (!rc && git_run(&raw, tree, &err, "write-tree", (char *)NULL) != 0)
		rc = error("cannot record the local files: %s", buf_str(&err));
	strv_free(&args);
	strv_free(&env);
	buf_free(&err);
	return rc;
}

/* The tree `from` with the writes applied, in an index of its own; into to. */
static enum err target_tree(const struct git *g, const struct local *l, const char *from,
			    const struct strv *writes, struct buf *to)
{
	struct git other = *g;
	struct buf info = BUF_INIT, err = BUF_INIT, idx = BUF_INIT;
	enum err rc = ERR_OK;

	buf_addf(&idx, "%s.pull", l->index);
	other.index = idx.s;
	for (size_t i = 0; i < writes->n; i++) {
		/* "MODE OID ST\tPATH" -> "MODE OID\tPATH\0" */
		const char *w = writes->v[i], *tab = strchr(w, '\t');
		buf_add(&info, w, (size_t)(tab - w) - 2);
		buf_adds(&info, tab);
		buf_addc(&info, '\0');
	}
	if (git_run(&other, NULL, &err, "read-tree", from, (char *)NULL) != 0 ||
	    git_run_input(&other, NULL, &err, info.s, info.len,
			  (const char *const[]){ "update-index", "-z", "--index-info", NULL }) != 0 ||
	    git_run(&other, to, &err, "write-tree", (char *)NULL) != 0)
		rc = error("cannot make the tree to write here: %s; nothing was changed", buf_str(&err));
	unlink(idx.s);
	buf_free(&idx);
	buf_free(&info);
	buf_free(&err);
	return rc;
}

/*
 * Local paths the move from `from` to `to` takes away besides the writes:
 * files in the way of a directory, or under a path that becomes a file.
 * They join conflicts (to be saved, or refused).
 */
static enum err displaced(const struct git *g, const char *from, const char *to,
			  const struct strv *writes, struct strv *conflicts)
{
	struct buf out = BUF_INIT;
	enum err rc = diff(g, from, to, &out);
	const char *p = out.s, *end = out.s + out.len;
	struct rec r;

	while (rc == ERR_OK && next_rec(&p, end, &r)) {
		int planned = 0;
		for (size_t i = 0; i < writes->n && !planned; i++)
			planned = strcmp(strchr(writes->v[i], '\t') + 1, r.path) == 0;
		if (!planned)
			strv_push(conflicts, r.path);
	}
	buf_free(&out);
	return rc;
}

/* Moves the work tree from tree `from` (l's index) to tree `to`, touching only what differs. */
static enum err checkout(const struct git *g, const struct pull_opts *o, struct local *l,
			 const char *from, const char *to)
{
	struct git raw = *g;

	raw.index = l->index;
	raw.env = strv_argv(&l->raw_env);
	if (git_run(&raw, NULL, NULL, "-C", o->repo->toplevel, "read-tree", "-m", "-u", from, to,
		    (char *)NULL) != 0)
		return error("could not write the files here (git said why above); nothing was changed");
	return ERR_OK;
}

enum err pull_run(const struct git *g, const struct pull_opts *o, struct conn *c,
		  struct pull_result *r)
{
	struct job j = { 0 };
	struct local l;
	struct buf have = BUF_INIT, tree = BUF_INIT, theirs = BUF_INIT, ours = BUF_INIT, to = BUF_INIT;
	struct strv writes = STRV_INIT, same = STRV_INIT;
	char *w[4];
	enum err rc;

	memset(r, 0, sizeof *r);
	memset(&l, 0, sizeof l);
	j.fd = -1;
	haves(g, o, &have);
	if (o->saved) {
		strv_pushv(&j.args, (const char *const[]){ "saved", o->workdir, o->repo->toplevel, "1",
							  o->saved, have.s, NULL });
	} else {
		strv_pushv(&j.args, (const char *const[]){ "collect", o->workdir, o->repo->toplevel,
							  have.s, NULL });
		strv_pushv(&j.args, (const char *const *)o->paths->v);
	}
	if ((rc = call(&j, o, c)))
		goto out;
	if (j.r.entries.n != 1 || !j.r.pack || entry_words(j.r.entries.v[0], w) < 0) {
		rc = error("the sidecar's reply names no commit to pull; run sidecar again");
		goto out;
	}
	if (o->saved)
		r->ref = xstrdup(w[0]);
	if ((rc = take_pack(g, &j)) || (rc = local_tree(g, o, &l, &tree)) ||
	    (rc = diff(g, w[2], w[1], &theirs)) || (rc = diff(g, w[2], tree.s, &ours)))
		goto out;
	pull_plan(theirs.s, theirs.len, ours.s, ours.len, &writes, &same, &r->conflicts);
	for (size_t i = 0; i < writes.n; i++) {
		const char *tab = strchr(writes.v[i], '\t');
		struct buf line = BUF_INIT;
		buf_addf(&line, "%c\t", tab[-1]);
		path_quote(&line, tab + 1);
		strv_push(&r->changes, line.s);
		buf_free(&line);
	}
	if (!writes.n || (rc = target_tree(g, &l, tree.s, &writes, &to)) ||
	    (rc = displaced(g, tree.s, to.s, &writes, &r->conflicts)) || o->dry_run)
		goto out;
	if (r->conflicts.n) {
		if (o->saved) {
			rc = ERR_FAIL;	/* the caller lists them */
			goto out;
		}
		if ((rc = save_local(g, tree.s, l.head, r)))
			goto out;
	}
	rc = checkout(g, o, &l, tree.s, to.s);
out:
	/* its index holds ignored files now: not one for the next scan to start from */
	free(l.tree);
	l.tree = NULL;
	local_free(&l);
	job_free(&j);
	buf_free(&have);
	buf_free(&tree);
	buf_free(&theirs);
	buf_free(&ours);
	buf_free(&to);
	strv_free(&writes);
	strv_free(&same);
	return rc;
}

void pull_result_free(struct pull_result *r)
{
	free(r->ref);
	free(r->saved_to);
	strv_free(&r->changes);
	strv_free(&r->conflicts);
	memset(r, 0, sizeof *r);
}

enum err saved_list(const struct pull_opts *o, struct conn *c, struct saved_entry **v, size_t *n)
{
	struct job j = { 0 };
	enum err rc;

	*v = NULL;
	*n = 0;
	j.fd = -1;
	strv_pushv(&j.args, (const char *const[]){ "saved", o->workdir, o->repo->toplevel, "0", "-", "-",
						  NULL });
	if ((rc = call(&j, o, c)) == ERR_OK) {
		size_t size = (j.r.entries.n ? j.r.entries.n : 1) * sizeof **v;
		*v = xrealloc(NULL, size);
		memset(*v, 0, size);
		for (size_t i = 0; i < j.r.entries.n; i++) {
			char *w[4];
			struct saved_entry *e = &(*v)[*n];
			if (entry_words(j.r.entries.v[i], w) < 0)
				continue;
			e->ref = xstrdup(w[0]);
			e->commit = xstrdup(w[1]);
			e->base = xstrdup(w[2]);
			e->kind = xstrdup(w[3]);
			size_t rl = strlen(e->ref);
			for (size_t k = 0; k < j.r.entry_paths.n; k++) {
				/* "REF ST\tPATH" */
				const char *p = j.r.entry_paths.v[k];
				if (strncmp(p, e->ref, rl) == 0 && p[rl] == ' ')
					strv_push(&e->paths, p + rl + 1);
			}
			(*n)++;
		}
	}
	job_free(&j);
	return rc;
}

void saved_free(struct saved_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].ref);
		free(v[i].commit);
		free(v[i].base);
		free(v[i].kind);
		strv_free(&v[i].paths);
	}
	free(v);
}
