/* cmd_pull.c: pull and saved: what the workspace has, back here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "msg.h"
#include "pull.h"
#include "quote.h"
#include "refs.h"
#include "snapshot.h"

/* A first argument that is a path (a slash, not ssh://) or a saved ref's name: not DEST. */
static int not_dest(const char *word)
{
	char t[40];

	saved_time(word, 0, t, sizeof t);
	if (*t && (!strchr(word, '/') || strncmp(word, "refs/sidecar/saved/", 19) == 0))
		return 1;
	return (strchr(word, '/') && strncmp(word, "ssh://", 6) != 0) || strcmp(word, ".") == 0 ||
	       strcmp(word, "..") == 0;
}

/* The words after DEST and those after "--" (cli_parse put there all of them when there is no DEST). */
static void operands(struct env *e, struct strv *words)
{
	struct args *a = e->a;
	for (size_t i = 1; i < a->positional.n; i++)
		strv_push(words, a->positional.v[i]);
	strv_pushv(words, strv_argv(&a->rest));
	strv_truncate(&a->positional, a->positional.n ? 1 : 0);
}

/* The options of both commands; the synced snapshot is read here, for the haves. */
static enum err pull_options(struct env *e, const struct conn *c, struct pull_opts *o,
			     struct buf *synced)
{
	struct buf ref = BUF_INIT;
	char key[17];

	memset(o, 0, sizeof *o);
	if (!e->toplevel)
		return error("not inside a git repository with a working tree "
			     "(run sidecar in your checkout, or use -C DIR)");
	o->dest = c->dest;
	o->workdir = env_workdir(e);
	o->repo = &e->repo;
	o->dry_run = e->a->dry_run;
	if (!(o->rundir = env_rundir(e)))
		return ERR_FAIL;
	sync_key(o->dest, o->workdir, key);
	sidecar_ref(&ref, "synced", key);
	buf_adds(&ref, "^{commit}");
	if (git_run(&e->git, synced, NULL, "rev-parse", "-q", "--verify", ref.s, (char *)NULL) == 0 &&
	    synced->len)
		o->synced = synced->s;
	buf_free(&ref);
	return check_workdir(o->workdir, e->set->workdir.from);
}

/* PATH arguments as paths from the top of the work tree. */
static enum err top_paths(struct env *e, const struct strv *words, struct strv *paths)
{
	struct buf prefix = BUF_INIT, p = BUF_INIT;
	enum err rc = ERR_OK;
	size_t top = strlen(e->toplevel);

	git_run(&e->git, &prefix, NULL, "rev-parse", "--show-prefix", (char *)NULL);
	for (size_t i = 0; i < words->n && rc == ERR_OK; i++) {
		const char *w = words->v[i];
		/* an absolute path inside the work tree is taken from its top */
		if (w[0] == '/' && strncmp(w, e->toplevel, top) == 0 && (w[top] == '/' || !w[top]))
			rc = pull_path("", w[top] ? w + top + 1 : ".", &p) ? ERR_USAGE : ERR_OK;
		else
			rc = pull_path(buf_str(&prefix), w, &p) ? ERR_USAGE : ERR_OK;
		if (rc)
			error("'%s' is outside the working tree (or in .git): pull brings files into %s only",
			      w, e->toplevel);
		else
			strv_push(paths, p.s);
	}
	buf_free(&prefix);
	buf_free(&p);
	return rc;
}

static void print_changes(const struct strv *changes)
{
	for (size_t i = 0; i < changes->n; i++)
		printf("%s\n", changes->v[i]);
	fflush(stdout);
}

static enum err cmd_pull(struct env *e)
{
	struct strv words = STRV_INIT, paths = STRV_INIT;
	struct buf synced = BUF_INIT;
	struct pull_opts o;
	struct pull_result r = { 0 };
	struct conn c;
	enum err rc;

	memset(&c, 0, sizeof c);
	operands(e, &words);
	if (e->a->saved && words.n > 1) {
		error("pull --saved takes one saved ref, not %zu", words.n);
		rc = ERR_USAGE;
		goto out;
	}
	if (!e->a->saved && !words.n) {
		error("pull needs a PATH, or --saved: sidecar pull [DEST] PATH... "
		      "(with the remembered destination and a PATH without a slash: sidecar pull -- PATH...)");
		rc = ERR_USAGE;
		goto out;
	}
	if ((rc = env_conn(e, &c)) || (rc = pull_options(e, &c, &o, &synced)))
		goto out;
	if (e->a->saved)
		o.saved = words.n ? words.v[0] : "-";
	else if ((rc = top_paths(e, &words, &paths)))
		goto out;
	o.paths = &paths;
	rc = pull_run(&e->git, &o, &c, &r);
	if (r.conflicts.n && o.saved) {
		struct buf list = BUF_INIT;
		for (size_t i = 0; i < r.conflicts.n; i++) {
			buf_adds(&list, "\n  ");
			path_quote(&list, r.conflicts.v[i]);
		}
		error("the edits saved in %s change files that changed here too since that sync; "
		      "nothing %s changed:%s", r.ref, o.dry_run ? "would be" : "was", list.s);
		buf_free(&list);
		rc = ERR_FAIL;
	}
	if (rc == ERR_OK) {
		print_changes(&r.changes);
		if (r.saved_to)
			warn("the local files pull replaced were saved to %s; see them with "
			     "'git show --stat %s'", r.saved_to, r.saved_to);
		if (o.dry_run)
			info("%zu file%s would change (dry run)", r.changes.n, r.changes.n == 1 ? "" : "s");
		else if (o.saved)
			info("applied %s from %s: %zu file%s changed", r.ref, c.dest, r.changes.n,
			     r.changes.n == 1 ? "" : "s");
		else
			info("pulled from %s:%s: %zu file%s changed", c.dest, o.workdir, r.changes.n,
			     r.changes.n == 1 ? "" : "s");
	}
out:
	env_conn_done(e, &c);
	conn_free(&c);
	pull_result_free(&r);
	strv_free(&words);
	strv_free(&paths);
	buf_free(&synced);
	return rc;
}

static enum err cmd_saved(struct env *e)
{
	struct strv words = STRV_INIT;
	struct buf synced = BUF_INIT;
	struct saved_entry *v = NULL;
	struct pull_opts o;
	struct conn c;
	size_t n = 0;
	enum err rc = ERR_OK;

	memset(&c, 0, sizeof c);
	operands(e, &words);
	if (words.n) {
		error("unexpected argument '%s'", words.v[0]);
		rc = ERR_USAGE;
	}
	if (rc || (rc = env_conn(e, &c)) || (rc = pull_options(e, &c, &o, &synced)) ||
	    (rc = saved_list(&o, &c, &v, &n)))
		goto out;
	if (e->a->json) {
		struct buf b = BUF_INIT;
		buf_addc(&b, '[');
		for (size_t i = 0; i < n; i++) {
			char t[40];
			saved_time(v[i].ref, 1, t, sizeof t);
			buf_adds(&b, i ? ",{" : "{");
			json_kv_str(&b, "ref", v[i].ref);
			json_kv_str(&b, "commit", v[i].commit);
			json_kv_str(&b, "time", *t ? t : NULL);
			json_kv_str(&b, "kind", v[i].kind);
			buf_adds(&b, ",\"paths\":[");
			for (size_t k = 0; k < v[i].paths.n; k++) {
				/* "ST\tPATH" */
				const char *p = v[i].paths.v[k], *tab = strchr(p, '\t');
				char st[2] = { p[0], 0 };
				buf_adds(&b, k ? ",{" : "{");
				json_kv_str(&b, "status", st);
				json_kv_str(&b, "path", tab ? tab + 1 : p);
				buf_addc(&b, '}');
			}
			buf_adds(&b, "]}");
		}
		buf_adds(&b, "]\n");
		fputs(b.s, stdout);
		buf_free(&b);
	} else {
		for (size_t i = 0; i < n; i++) {
			char t[40];
			saved_time(v[i].ref, 0, t, sizeof t);
			printf("%s  %s  %s, %zu path%s\n", v[i].ref, t, strcmp(v[i].kind, "edits") == 0 ?
			       "edits" : "commits a branch move left", v[i].paths.n,
			       v[i].paths.n == 1 ? "" : "s");
			for (size_t k = 0; k < v[i].paths.n; k++)
				printf("\t%s\n", v[i].paths.v[k]);
		}
		if (!n)
			info("no edits were saved in %s on %s", o.workdir, c.dest);
	}
out:
	env_conn_done(e, &c);
	conn_free(&c);
	saved_free(v, n);
	strv_free(&words);
	buf_free(&synced);
	return rc;
}

const struct cmd_entry cmd_pull_entry = {
	.name = "pull",
	.synopsis = "[options] [DEST] PATH... | --saved [options] [DEST] [REF]",
	.summary = "bring files, or edits a sync saved, back from the workspace",
	.options = (const enum opt_id[]){ OPT_WORKDIR, OPT_SAVED, OPT_DRY_RUN, OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY | CMD_CONNECTS | CMD_REMOTE,
	.run = cmd_pull,
	.not_dest = not_dest,
};

const struct cmd_entry cmd_saved_entry = {
	.name = "saved",
	.synopsis = "[options] [DEST]",
	.summary = "list the edits syncs saved on the sidecar",
	.options = (const enum opt_id[]){ OPT_WORKDIR, OPT_JSON, OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY | CMD_CONNECTS,
	.run = cmd_saved,
};
