/* cmd_sync.c: sync. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "backoff.h"
#include "commands.h"
#include "duration.h"
#include "err.h"
#include "json.h"
#include "msg.h"
#include "snapshot.h"
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

static void print_json(const struct sync_opts *o, const char *mode, const struct conn *c,
		       const struct sync_result *r, long long elapsed)
{
	struct buf b = BUF_INIT;
	buf_addc(&b, '{');
	json_kv_str(&b, "dest", o->dest);
	json_kv_str(&b, "workdir", o->workdir);
	json_kv_str(&b, "remote_workdir", r->remote_workdir);
	json_kv_str(&b, "mode", mode);
	json_kv_str(&b, "result", r->result);
	json_kv_str(&b, "snapshot", r->snapshot);
	json_kv_str(&b, "base", r->base);
	json_kv_int(&b, "files_changed", r->files_changed);
	json_kv_int(&b, "bytes_sent", (long long)r->bytes_sent);
	json_kv_int(&b, "round_trips", c->sessions);
	json_kv_int(&b, "handshakes", c->handshakes);
	json_kv_int(&b, "attempts", c->attempts);
	json_kv_int(&b, "elapsed_ms", elapsed);
	json_kv_str(&b, "saved_ref", r->saved_refs.n ? r->saved_refs.v[0] : NULL);
	buf_adds(&b, ",\"saved_refs\":[");
	for (size_t i = 0; i < r->saved_refs.n; i++) {
		if (i)
			buf_addc(&b, ',');
		json_str(&b, r->saved_refs.v[i]);
	}
	buf_addc(&b, ']');
	json_kv_int(&b, "peak_rss_kib", peak_rss_kib());
	buf_adds(&b, "}\n");
	fputs(b.s, stdout);
	buf_free(&b);
}

enum err sync_workspace(struct env *e, struct conn *c)
{
	struct args *a = e->a;
	struct sync_opts o = { 0 };
	struct sync_result r = { 0 };
	struct sync_job *job;
	long long start = now_ms();
	const char *mode = e->set->mode.value;
	int rc;

	memset(c, 0, sizeof *c);
	if (strcmp(mode, "snapshot") && strcmp(mode, "patch")) {
		error("invalid mode '%s' in %s: use snapshot or patch", mode, e->set->mode.from);
		return ERR_USAGE;
	}
	if (!e->toplevel)
		return error("not inside a git repository with a working tree "
			     "(run sidecar in your checkout, or use -C DIR)");
	o.workdir = env_workdir(e);
	if ((rc = check_workdir(o.workdir, e->set->workdir.from)))
		return rc;
	o.toplevel = e->toplevel;
	o.gitdir = e->gitdir;
	o.repo = &e->repo;
	o.patch = strcmp(mode, "patch") == 0;
	if (parse_depth(e->set->depth.value, &o.depth) < 0) {
		error("invalid depth '%s' in %s: use a whole number, 0 for all history",
		      e->set->depth.value, e->set->depth.from);
		return ERR_USAGE;
	}
	o.dry_run = a->dry_run;
	o.adopt = a->adopt;
	o.json = a->json;
	o.dest = env_dest(e);
	if (!o.dest || o.dest[0] == '-' || e->a->positional.n > 1)
		return env_conn(e, c);	/* says what is wrong */
	if (!(o.rundir = env_rundir(e)))
		return ERR_FAIL;
	job = sync_start(&e->git, &o, &r);
	if ((rc = env_conn(e, c)) == 0)
		rc = sync_run(job, c);
	sync_end(job);
	if (rc == 0 && !a->json && r.result) {
		char size[32], took[32];
		human_size(r.bytes_sent, size, sizeof size);
		format_duration(now_ms() - start, took, sizeof took);
		if (strcmp(r.result, "up-to-date") == 0)
			info("%s:%s is up to date", o.dest, o.workdir);
		else if (strcmp(r.result, "synced") == 0)
			info("synced %s:%s: %lld file%s changed, %s sent, %d round trip%s, %s",
			     o.dest, o.workdir, r.files_changed, r.files_changed == 1 ? "" : "s",
			     size, c->sessions, c->sessions == 1 ? "" : "s", took);
	}
	if (rc == 0 && a->json)
		print_json(&o, mode, c, &r, now_ms() - start);
	sync_result_free(&r);
	return rc;
}

static enum err cmd_sync(struct env *e)
{
	struct conn c;
	enum err rc = sync_workspace(e, &c);

	env_conn_done(e, &c);
	conn_free(&c);
	return rc;
}

const struct cmd_entry cmd_sync_entry = {
	.name = "sync",
	.synopsis = "[options] [DEST]",
	.summary = "make DEST's workspace equal to the local working tree",
	.options = (const enum opt_id[]){ OPT_WORKDIR, OPT_MODE, OPT_DEPTH, OPT_INCLUDE,
					  OPT_EXCLUDE, OPT_DRY_RUN, OPT_ADOPT, OPT_JSON, OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY | CMD_CONNECTS,
	.run = cmd_sync,
};
