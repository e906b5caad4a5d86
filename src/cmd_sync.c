/* cmd_sync.c: sync. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "backoff.h"
#include "commands.h"
#include "duration.h"
#include "err.h"
#include "fanout.h"
#include "json.h"
#include "msg.h"
#include "snapshot.h"
#include "submodule.h"
#include "sync.h"

static void human_size(unsigned long long n, char *out, size_t size)
{
	if (n < 1024)
		snprintf(out, size, "%llu B", n);
	else if (n < 1048576)
		snprintf(out, size, "%.1f KiB", (double)n / 1024.0);
	else
		snprintf(out, size, "%.1f MiB", (double)n / 1048576.0);
}

/* sidecar's own peak resident set (git and ssh are other processes). */
static long peak_rss_kib(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* subs: the objects of its submodules, comma-separated, or NULL when none were synced. */
static void json_object(struct buf *b, const struct sync_opts *o, const char *mode,
			const struct conn *c, int round_trips, const struct sync_result *r,
			long long elapsed, const struct buf *subs)
{
	buf_addc(b, '{');
	json_kv_str(b, "dest", o->dest);
	json_kv_str(b, "workdir", o->workdir);
	json_kv_str(b, "remote_workdir", r->remote_workdir);
	json_kv_str(b, "mode", mode);
	json_kv_str(b, "result", r->result);
	json_kv_str(b, "snapshot", r->snapshot);
	json_kv_str(b, "base", r->base);
	json_kv_int(b, "files_changed", r->files_changed);
	json_kv_int(b, "bytes_sent", (long long)r->bytes_sent);
	json_kv_int(b, "round_trips", round_trips);
	json_kv_int(b, "handshakes", c->handshakes);
	json_kv_int(b, "attempts", c->attempts);
	json_kv_int(b, "elapsed_ms", elapsed);
	json_kv_str(b, "saved_ref", r->saved_refs.n ? r->saved_refs.v[0] : NULL);
	buf_adds(b, ",\"saved_refs\":[");
	for (size_t i = 0; i < r->saved_refs.n; i++) {
		if (i)
			buf_addc(b, ',');
		json_str(b, r->saved_refs.v[i]);
	}
	buf_addc(b, ']');
	json_kv_int(b, "peak_rss_kib", peak_rss_kib());
	if (subs) {
		buf_adds(b, ",\"submodules\":[");
		buf_add(b, subs->s, subs->len);
		buf_addc(b, ']');
	}
	buf_addc(b, '}');
}

/* The sync's options, checked once whatever the number of destinations. */
static enum err sync_options(struct env *e, struct sync_opts *o)
{
	const char *mode = e->set->mode.value;
	int rc;

	if (strcmp(mode, "snapshot") && strcmp(mode, "patch")) {
		error("invalid mode '%s' in %s: use snapshot or patch", mode, e->set->mode.from);
		return ERR_USAGE;
	}
	if (!e->toplevel)
		return error("not inside a git repository with a working tree "
			     "(run sidecar in your checkout, or use -C DIR)");
	o->workdir = env_workdir(e);
	if ((rc = check_workdir(o->workdir, e->set->workdir.from)))
		return rc;
	o->toplevel = e->toplevel;
	o->gitdir = e->gitdir;
	o->repo = &e->repo;
	o->patch = strcmp(mode, "patch") == 0;
	if (parse_depth(e->set->depth.value, &o->depth) < 0) {
		error("invalid depth '%s' in %s: use a whole number, 0 for all history",
		      e->set->depth.value, e->set->depth.from);
		return ERR_USAGE;
	}
	if ((o->submodules = parse_bool(e->set->submodules.value)) < 0) {
		error("invalid value '%s' in %s: use true or false", e->set->submodules.value,
		      e->set->submodules.from);
		return ERR_USAGE;
	}
	o->dry_run = e->a->dry_run;
	o->adopt = e->a->adopt;
	o->json = e->a->json;
	o->prepared = e->prepared;
	o->changes_only = e->changes_only;
	/*
	 * run: the command in the session that applies the snapshot; patch
	 * mode, and submodules (which sync after), run it in a session after.
	 */
	if (e->run_words && !o->patch && !(o->submodules && local_has_gitmodules(e->toplevel)))
		o->run = e->run_words;
	/* a prepared snapshot: fan-out, where several would draw over each
	   other, or watch, which says one line a sync */
	o->no_progress = e->prepared != NULL || e->changes_only;
	if (!(o->rundir = env_rundir(e)))
		return ERR_FAIL;
	return 0;
}

enum err sync_prepare_env(struct env *e, struct local *l)
{
	struct sync_opts o = { 0 };
	enum err rc;

	memset(l, 0, sizeof *l);
	if ((rc = sync_options(e, &o)) || (rc = sync_prepare(&e->git, &o, l)))
		return rc;
	e->prepared = l;
	return 0;
}

static enum err sync_tree(struct env *e, const struct git *g, const struct sync_opts *o,
			  struct conn *c, struct buf *json, const char **result);

/*
 * The initialized submodules of o's work tree, each synced after it to its
 * path in the workspace, in snapshot mode, recursively; with --json, their
 * objects go in objects, comma-separated. Those not initialized here are
 * named once and left alone.
 */
static enum err sync_submodules(struct env *e, const struct git *g, const struct sync_opts *o,
				struct conn *c, struct buf *objects)
{
	struct submodule *subs;
	struct strv absent = STRV_INIT;
	size_t n;
	enum err rc = submodules_find(g, o->repo, &subs, &n, &absent);

	for (size_t i = 0; i < absent.n; i++)
		info("submodule %s is not initialized here: left alone on %s "
		     "('git submodule update --init' to sync it)", absent.v[i], o->dest);
	for (size_t i = 0; rc == ERR_OK && i < n; i++) {
		struct sync_opts sub = *o;
		struct buf wd = BUF_INIT, one = BUF_INIT;
		const char *result;

		buf_addf(&wd, "%s/%s", o->workdir, subs[i].path);
		sub.workdir = wd.s;
		sub.toplevel = subs[i].toplevel;
		sub.gitdir = subs[i].gitdir;
		sub.repo = &subs[i].repo;
		sub.patch = 0;
		sub.prepared = NULL;
		sub.feed = 0;
		sub.run = NULL;
		rc = sync_tree(e, &subs[i].git, &sub, c, &one, &result);
		if (rc == ERR_OK && o->json) {
			/* its object, with its path first */
			buf_adds(objects, objects->len ? ",{" : "{");
			json_kv_str(objects, "path", subs[i].path);
			buf_addc(objects, ',');
			buf_add(objects, one.s + 1, one.len - 1);
		}
		buf_free(&one);
		buf_free(&wd);
	}
	submodules_free(subs, n);
	strv_free(&absent);
	return rc;
}

/*
 * One work tree (g aimed at it) to one destination over c, set up: the sync,
 * then its line on stderr, or its JSON object in json with --json, then its
 * submodules; *result says how it ended ("synced", "up-to-date",
 * "dry-run"), NULL when it failed.
 */
/* How one tree's sync is told: its line on stderr, or its JSON object. */
struct report {
	struct env *e;
	const struct sync_opts *o;
	struct conn *c;
	struct buf *json;	/* where the object goes */
	long long start;
	int before;		/* the connection's sessions before it */
	long long elapsed;
	int sessions;
	int told;		/* sidecar run: told already, its object sent on */
};

/* The line of a sync that ended (--json: none); the time and sessions it took. */
static void report_line(struct report *rp, const struct sync_result *r)
{
	const struct sync_opts *o = rp->o;
	char size[32], took[32];

	rp->elapsed = now_ms() - rp->start;
	rp->sessions = rp->c->sessions - rp->before;	/* its own: a submodule's are its own */
	if (o->json || !r->result)
		return;
	human_size(r->bytes_sent, size, sizeof size);
	format_duration(rp->elapsed, took, sizeof took);
	if (strcmp(r->result, "up-to-date") == 0)
		info("%s:%s is up to date", o->dest, o->workdir);
	else if (strcmp(r->result, "synced") == 0)
		info("synced %s:%s: %lld file%s changed, %s sent, %d round trip%s, %s",
		     o->dest, o->workdir, r->files_changed, r->files_changed == 1 ? "" : "s",
		     size, rp->sessions, rp->sessions == 1 ? "" : "s", took);
}

/*
 * sidecar run in one session: the sync is told as the command starts, and
 * its object goes out before what the command prints.
 */
static void report_now(void *ctx, const struct sync_result *r)
{
	struct report *rp = ctx;
	const struct sync_opts *o = rp->o;

	report_line(rp, r);
	rp->told = 1;
	if (!o->json)
		return;
	json_object(rp->json, o, "snapshot", rp->c, rp->sessions, r, rp->elapsed, NULL);
	if (rp->e->json_sink) {
		buf_add(rp->e->json_sink, rp->json->s, rp->json->len);
	} else {
		buf_addc(rp->json, '\n');
		fputs(rp->json->s, stdout);
		fflush(stdout);
	}
	buf_reset(rp->json);
}

/*
 * One work tree (g aimed at it) to one destination over c, set up: the sync,
 * then its line on stderr, or its JSON object in json with --json, then its
 * submodules; *result says how it ended ("synced", "up-to-date",
 * "dry-run"), NULL when it failed. With o->run, a command ran after the
 * sync, in its session: its status in e->remote_status.
 */
static enum err sync_tree(struct env *e, const struct git *g, const struct sync_opts *o,
			  struct conn *c, struct buf *json, const char **result)
{
	struct report rp = { e, o, c, json, now_ms(), c->sessions, 0, 0, 0 };
	struct sync_opts told = *o;
	struct sync_result r = { 0 };
	struct sync_job *job;
	struct buf subs = BUF_INIT;
	int with_subs, rc;

	*result = NULL;
	told.announce = report_now;
	told.announce_ctx = &rp;
	job = sync_start(g, &told, &r);
	rc = sync_run(job, c);
	sync_end(job);
	if (r.ran)
		e->remote_status = r.run_status;
	if (rc == 0 && !rp.told)
		report_line(&rp, &r);
	with_subs = rc == 0 && o->submodules && r.has_submodules &&
		    !(r.result && strcmp(r.result, "unchanged") == 0);
	if (with_subs)
		rc = sync_submodules(e, g, o, c, &subs);
	if (rc == 0 && o->json && !rp.told)
		json_object(json, o, o->patch ? "patch" : "snapshot", c, rp.sessions, &r, rp.elapsed,
			    with_subs ? &subs : NULL);
	if (rc == 0)
		*result = r.result;	/* a literal: it outlives r */
	sync_result_free(&r);
	buf_free(&subs);
	return rc;
}

/* One destination, o->dest: connects, then sync_tree of the work tree. */
static enum err sync_dest(struct env *e, struct sync_opts *o, struct conn *c, struct buf *json,
			  const char **result)
{
	enum err rc = env_conn(e, c);

	*result = NULL;
	return rc ? rc : sync_tree(e, &e->git, o, c, json, result);
}

enum err sync_workspace(struct env *e, struct conn *c)
{
	struct sync_opts o = { 0 };
	struct buf json = BUF_INIT;
	const char *result;
	int rc;

	memset(c, 0, sizeof *c);
	e->sync_result = NULL;
	if ((rc = sync_options(e, &o)))
		return rc;
	o.dest = env_dest(e);
	if (!o.dest || o.dest[0] == '-' || e->a->positional.n > 1)
		return env_conn(e, c);	/* says what is wrong */
	rc = sync_dest(e, &o, c, &json, &result);
	e->sync_result = result;
	if (rc == 0 && o.json && json.len && e->json_sink) {
		buf_add(e->json_sink, json.s, json.len);
	} else if (rc == 0 && o.json && json.len) {
		buf_addc(&json, '\n');
		fputs(json.s, stdout);
	}
	buf_free(&json);
	return rc;
}

/* --- several destinations ------------------------------------------------ */

void json_failed(struct buf *b, const struct env *e, const char *dest, int exit_status)
{
	buf_addc(b, '{');
	json_kv_str(b, "dest", dest);
	json_kv_str(b, "workdir", e->set->workdir.value);
	json_kv_str(b, "mode", e->set->mode.value);
	json_kv_str(b, "result", "failed");
	json_kv_int(b, "exit_status", exit_status);
	buf_addc(b, '}');
}

void failed_add(struct buf *list, size_t *n, const char *dest, int exit_status)
{
	buf_addf(list, "%s%s (exit %d)", *n ? ", " : "", dest, exit_status);
	(*n)++;
}

struct fan {
	struct env *e;
	struct sync_opts o;	/* as every copy has them, but the destination */
	struct local *l;	/* the snapshot, made once */
	size_t counts[3];	/* synced, up to date, dry run */
	struct buf failed;	/* "DEST (exit N), ..." */
	size_t nfailed;
	enum err worst;
};

static const char *const fan_results[] = { "synced", "up-to-date", "dry-run" };

/*
 * In a copy of sidecar: one destination; out gets "RESULT\n" then its JSON.
 * In snapshot mode the snapshot comes on feed once made.
 */
static int fan_run(void *ctx, const char *dest, int feed, struct buf *out)
{
	struct fan *f = ctx;
	struct sync_opts o = f->o;
	struct buf json = BUF_INIT;
	const char *result = NULL;
	struct conn c;
	enum err rc;

	env_one_dest(f->e, dest);
	memset(&c, 0, sizeof c);
	o.dest = dest;
	o.feed = feed < 0 ? 0 : feed;
	rc = sync_dest(f->e, &o, &c, &json, &result);
	env_conn_done(f->e, &c);
	conn_free(&c);
	buf_addf(out, "%s\n", result ? result : "failed");
	buf_add(out, json.s, json.len);
	buf_free(&json);
	return (int)rc;
}

static void fan_done(void *ctx, const struct fanout_task *t)
{
	struct fan *f = ctx;
	const char *out = buf_str(&t->out);
	enum err rc = fanout_rc(t->status);

	if (rc > f->worst)
		f->worst = rc;
	for (size_t i = 0; rc == ERR_OK && i < 3; i++) {
		size_t n = strlen(fan_results[i]);
		if (strncmp(out, fan_results[i], n) == 0 && out[n] == '\n') {
			f->counts[i]++;
			if (i < 2 && !f->o.patch) {
				/* what made the snapshot synced there, for the next sync */
				char key[17];
				sync_key(t->dest, f->o.workdir, key);
				local_memo_save(f->l, f->o.rundir, key);
			}
			return;
		}
	}
	failed_add(&f->failed, &f->nfailed, t->dest, err_exit(rc ? rc : ERR_FAIL, -1, 0, 0));
}

/* The JSON array: each destination's object, in the order they were named. */
static void fan_json(const struct fan *f, const struct fanout *run)
{
	struct buf b = BUF_INIT;

	buf_addc(&b, '[');
	for (size_t i = 0; i < run->n; i++) {
		const struct fanout_task *t = &run->tasks[i];
		const char *obj = memchr(buf_str(&t->out), '\n', t->out.len);
		enum err rc = fanout_rc(t->status);
		if (i)
			buf_addc(&b, ',');
		if (rc == ERR_OK && obj && obj[1] == '{') {
			buf_add(&b, obj + 1, t->out.len - (size_t)(obj + 1 - t->out.s));
			continue;
		}
		json_failed(&b, f->e, t->dest, err_exit(rc ? rc : ERR_FAIL, -1, 0, 0));
	}
	buf_adds(&b, "]\n");
	fputs(b.s, stdout);
	buf_free(&b);
}

/* What the copies did: the JSON array with --json, and the summary. */
static void fan_report(const struct fan *f, const struct fanout *run)
{
	if (f->e->a->json)
		fan_json(f, run);
	if (f->nfailed)
		error("%zu of %zu destinations failed: %s", f->nfailed, run->n, f->failed.s);
	else if (f->counts[2])
		info("dry run on %zu destinations", run->n);
	else
		info("%zu destinations: %zu synced, %zu up to date", run->n, f->counts[0],
		     f->counts[1]);
}

/* The snapshot, made while the first copies connect; its record for them. */
static enum err fan_begin(void *ctx, struct buf *record)
{
	struct fan *f = ctx;
	enum err rc = sync_prepare(&f->e->git, &f->o, f->l);

	if (rc == ERR_OK)
		local_record(f->l, record);
	return rc;
}

/*
 * sync to every destination of dests: one local snapshot, then one copy of
 * sidecar per destination, --jobs at once, each with its own connection
 * and retries. In snapshot mode the copies start first, with the rules
 * outside the tree, and their sessions meanwhile; patch mode's copies
 * read the scan's index, so it comes first. Exit status: the most severe
 * of theirs, or the snapshot's failure.
 */
static enum err sync_fanout(struct env *e, const struct strv *dests, long jobs)
{
	struct fan f = { .e = e };
	struct local l;
	struct fanout run;
	enum err rc;

	memset(&l, 0, sizeof l);
	f.l = &l;
	e->prepared = &l;
	if ((rc = sync_options(e, &f.o)) ||
	    (rc = f.o.patch ? sync_prepare(&e->git, &f.o, &l)
			    : local_rules(&e->git, f.o.repo, f.o.rundir, &l))) {
		e->prepared = NULL;
		local_free(&l);
		return rc;
	}
	fanout_init(&run, (const char *const *)dests->v, dests->n, jobs);
	run.run = fan_run;
	run.done = fan_done;
	run.begin = f.o.patch ? NULL : fan_begin;
	run.ctx = &f;
	if (fanout_run(&run) > f.worst)
		f.worst = ERR_SIGNAL;
	/* a snapshot that could not be made was said; the copies stopped there */
	if ((rc = run.begin_rc) == ERR_OK)
		fan_report(&f, &run);
	fanout_free(&run);
	buf_free(&f.failed);
	e->prepared = NULL;
	local_free(&l);
	return rc ? rc : f.worst;
}

static enum err cmd_sync(struct env *e)
{
	struct conn c;
	long jobs;
	enum err rc;

	if ((rc = env_targets(e, &jobs)))
		return rc;
	if (e->dests.n > 1)
		return sync_fanout(e, &e->dests, jobs);
	rc = sync_workspace(e, &c);
	env_conn_done(e, &c);
	conn_free(&c);
	return rc;
}

const struct cmd_entry cmd_sync_entry = {
	.name = "sync",
	.synopsis = "[options] [DEST]...",
	.summary = "make DEST's workspace equal to the local working tree",
	.options = (const enum opt_id[]){ OPT_WORKDIR, OPT_MODE, OPT_DEPTH, OPT_NO_SUBMODULES, OPT_INCLUDE,
					  OPT_EXCLUDE, OPT_DRY_RUN, OPT_ADOPT, OPT_JSON, OPT_JOBS,
					  OPT_DEST_FILE, OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY | CMD_CONNECTS,
	.run = cmd_sync,
};
