/* pack.c: the plan of what a sync sends. See pack.h. */
#include "pack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "rundir.h"

static int listed(const struct strv *s, const char *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], v) == 0)
			return 1;
	return 0;
}

static void push_unique(struct strv *s, const char *v)
{
	if (!listed(s, v))
		strv_push(s, v);
}

static int is_oid(const char *s, size_t n)
{
	return (n == 40 || n == 64) && strspn(s, "0123456789abcdef") >= n;
}

/*
 * The local repository's own shallow commits: $GIT_DIR/shallow, one name a
 * line (gitrepository-layout(5); git has no plumbing that lists them).
 */
static void local_shallow(const char *gitdir, struct strv *out)
{
	struct buf path = BUF_INIT;
	char line[128];
	FILE *f;

	buf_addf(&path, "%s/shallow", gitdir);
	f = fopen(path.s, "r");
	buf_free(&path);
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		size_t n = strcspn(line, "\n");
		line[n] = '\0';
		if (is_oid(line, n))
			push_unique(out, line);
	}
	fclose(f);
}

struct node {
	const char *oid;
	char *parents;		/* the rest of its rev-list line */
	int dist;
};

static int by_oid(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->oid, ((const struct node *)b)->oid);
}

/*
 * The commits depth-1 parent steps below head, by the shortest way: where
 * `git clone --depth` cuts. Reads head's history once (only when depth > 1).
 */
static enum err depth_cut(const struct git *g, const char *head, int depth, struct strv *out)
{
	struct buf text = BUF_INIT;
	struct node *v = NULL, **queue;
	size_t n = 0, cap = 0, qh = 0, qt = 0;
	int rc;

	if (depth <= 1) {
		strv_push(out, head);
		return 0;
	}
	if ((rc = git_run(g, &text, NULL, "rev-list", "--parents", head, "--", (char *)NULL)))
		return error("git rev-list failed (status %d)", rc);
	for (char *p = text.s; p && *p;) {
		char *nl = strchr(p, '\n'), *sp;
		if (nl)
			*nl = '\0';
		if (n == cap)
			v = xrealloc(v, (cap = cap ? 2 * cap : 1024) * sizeof *v);
		v[n].oid = p;
		v[n].parents = (sp = strchr(p, ' ')) ? (*sp = '\0', sp + 1) : NULL;
		v[n++].dist = -1;
		p = nl ? nl + 1 : NULL;
	}
	qsort(v, n, sizeof *v, by_oid);
	queue = xmalloc((n + 1) * sizeof *queue);
	struct node key = { head, NULL, 0 }, *c;
	if (n && (c = bsearch(&key, v, n, sizeof *v, by_oid))) {
		c->dist = 0;
		queue[qt++] = c;
	}
	while (qh < qt) {
		c = queue[qh++];
		if (c->dist == depth - 1) {
			if (c->parents)
				strv_push(out, c->oid);
			continue;
		}
		for (char *p = c->parents; p && *p;) {
			char oid[65];
			size_t len = strcspn(p, " ");
			struct node *par = NULL;
			if (len && len < sizeof oid) {
				memcpy(oid, p, len);
				oid[len] = '\0';
				key.oid = oid;
				par = bsearch(&key, v, n, sizeof *v, by_oid);
			}
			if (par && par->dist < 0) {
				par->dist = c->dist + 1;
				queue[qt++] = par;
			}
			p += len + (p[len] == ' ');
		}
	}
	free(queue);
	free(v);
	buf_free(&text);
	return 0;
}

/*
 * Whether head's history joins what the sidecar has within CONNECT_LIMIT
 * commits: a count with the sidecar's commits (and this repository's own
 * shallow ones) taken as roots, through git's --shallow-file, the option
 * its own fetch and upload-pack use for this.
 */
static int joins(const struct git *g, const char *rundir, const char *head,
		 const struct strv *have, const struct strv *shallow)
{
	struct buf path = BUF_INIT, list = BUF_INIT, out = BUF_INIT;
	struct strv args = STRV_INIT;
	int fd, ok = 0;

	buf_addf(&path, "%s/shallow.XXXXXX", rundir);
	if ((fd = mkstemp(path.s)) < 0) {
		buf_free(&path);
		return 0;
	}
	for (size_t i = 0; i < shallow->n; i++)
		buf_addf(&list, "%s\n", shallow->v[i]);
	for (size_t i = 0; i < have->n; i++)
		buf_addf(&list, "%s\n", have->v[i]);
	if (write(fd, buf_str(&list), list.len) == (ssize_t)list.len) {
		strv_push(&args, "--shallow-file");
		strv_push(&args, path.s);
		strv_push(&args, "rev-list");
		strv_push(&args, "--count");
		strv_pushf(&args, "--max-count=%d", CONNECT_LIMIT + 1);
		strv_push(&args, head);
		for (size_t i = 0; i < have->n; i++)
			strv_pushf(&args, "^%s", have->v[i]);
		strv_push(&args, "--");
		ok = git_runv(g, &out, NULL, strv_argv(&args)) == 0 && out.len &&
		     atol(out.s) <= CONNECT_LIMIT;
	}
	close(fd);
	unlink(path.s);
	strv_free(&args);
	buf_free(&out);
	buf_free(&list);
	buf_free(&path);
	return ok;
}

enum err pack_plan(const struct git *g, const char *gitdir, const char *rundir, const char *head,
		   const struct strv *have, int depth, struct pack_plan *p)
{
	memset(p, 0, sizeof *p);
	/* the sidecar takes these as shallow too, the ones it receives */
	local_shallow(gitdir, &p->shallow);
	for (size_t i = 0; have && i < have->n; i++) {
		push_unique(&p->have, have->v[i]);
		push_unique(&p->cut, have->v[i]);
	}
	p->whole = !head || listed(&p->have, head) || depth == 0 ||
		   (p->have.n && joins(g, rundir, head, &p->have, &p->shallow));
	if (p->whole)
		return 0;
	struct strv cut = STRV_INIT;
	int rc = depth_cut(g, head, depth, &cut);
	for (size_t i = 0; i < cut.n; i++) {
		push_unique(&p->cut, cut.v[i]);
		push_unique(&p->shallow, cut.v[i]);
	}
	strv_free(&cut);
	trace("the sidecar gets %d commit%s of history below HEAD", depth, depth == 1 ? "" : "s");
	return rc;
}

void pack_revs(const struct pack_plan *p, const char *snapshot, struct buf *in)
{
	for (size_t i = 0; i < p->cut.n; i++)
		buf_addf(in, "--shallow %s\n", p->cut.v[i]);
	buf_addf(in, "%s\n", snapshot);
	for (size_t i = 0; i < p->have.n; i++)
		buf_addf(in, "^%s\n", p->have.v[i]);
}

void pack_plan_free(struct pack_plan *p)
{
	strv_free(&p->cut);
	strv_free(&p->have);
	strv_free(&p->shallow);
	memset(p, 0, sizeof *p);
}
