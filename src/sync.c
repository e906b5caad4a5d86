/*
 * sync.c: the sync protocol of DESIGN section 5, both strategies.
 *
 * Snapshot (default): the working tree as commit S; in steady state one
 * round trip carries the thin pack S ^(last synced S) and the sidecar applies
 * it if its base is still what we think, else answers base-moved and a
 * probe finds out what the sidecar has. Patch: the seed's algorithm, a
 * binary diff against the base the sidecar reports, applied after a reset.
 */
#include "sync.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "err.h"
#include "msg.h"
#include "pack.h"
#include "protocol.h"
#include "refs.h"
#include "rundir.h"
#include "session.h"
#include "sig.h"
#include "snapshot.h"

struct sync_job {
	const struct git *g;
	struct conn *c;
	const struct sync_opts *o;
	struct sync_result *r;
	struct local l;
	struct remote rm;	/* the sessions' link to the sidecar */
	enum err start_rc;	/* what starting the scan said */
	int scan_started;	/* local_scan_start ran */
	int scanned;		/* local_scan_finish ran */
	char *known_oid;	/* the last snapshot synced to this place, or NULL */
	struct git_job known;	/* reads its parents (and it, when git must say) */
	int parents_asked;	/* known was started */
	struct strv known_have;	/* that snapshot and its parents, once read */
	struct buf memo;	/* its memo, for a snapshot made before (the scan's own: l.again) */
	int fed;		/* l's snapshot came on o->feed */
	char *roots;		/* the local root commits, once read */
	char key[17];
};

/* Every ref the sidecar saved edits to is said, whatever happens after. */
static void take_saved(void *ctx, const struct reply *r)
{
	struct sync_job *x = ctx;

	for (size_t i = 0; i < r->saved.n; i++) {
		const char *ref = r->saved.v[i];
		strv_push(&x->r->saved_refs, ref);
		warn("edits found on %s were saved to %s before being overwritten; "
		     "see them with 'sidecar saved', take them here with 'sidecar pull --saved %s'",
		     x->o->dest, ref, ref + strlen("refs/sidecar/saved/"));
	}
	for (size_t i = 0; i < r->staged.n; i++)
		warn("the index (staged changes) found on %s was saved too, as %s; "
		     "see it with 'sidecar exec -- git show --stat %s'", x->o->dest,
		     r->staged.v[i], r->staged.v[i]);
}

/* Starts git, its stdout to be streamed into a session. */
static enum err start_stream(const struct git *g, struct git_job *j, const char *const *args)
{
	int rc = git_spawnv(g, j, args);
	return rc ? git_cannot_run(g, rc) : ERR_OK;
}

/*
 * Waits for the streaming git once the session is over. Its failure
 * matters only when the session succeeded and read everything (a sidecar
 * that stopped reading, on purpose or not, leaves git a broken pipe).
 */
static enum err finish_stream(struct git_job *j, enum err session_rc, int stopped_reading)
{
	if (j->p.out_pipe >= 0) {
		close(j->p.out_pipe);
		j->p.out_pipe = -1;
	}
	int rc = git_wait(j);
	/*
	 * A sidecar that fails stops reading and git dies of the broken pipe:
	 * then the sidecar's words stand. Any other failure of git is ours.
	 */
	int broken_pipe = rc == PROC_SIGNALED(SIGPIPE) || strstr(buf_str(&j->err), "pack-objects died");
	if (rc != 0 && !stopped_reading && (session_rc == 0 || !broken_pipe)) {
		buf_chomp(&j->err);
		session_rc = error("git failed here while making what the sidecar needs (status %d)%s%s",
				  rc, j->err.len ? ": " : "", buf_str(&j->err));
	}
	git_job_free(j);
	return session_rc;
}

/* Records oid as the last snapshot synced to this place, unless it is already. */
static void set_synced(struct sync_job *x, const char *oid)
{
	struct buf ref = BUF_INIT;

	if (x->known_oid && strcmp(x->known_oid, oid) == 0)
		return;
	sidecar_ref(&ref, "synced", x->key);
	git_update_ref(x->g, NULL, ref.s, oid, NULL);
	buf_free(&ref);
}

/* Takes what the sidecar reported into the result. */
static void take_reply(struct sync_job *x, const struct reply *r)
{
	if (r->changed >= 0)
		x->r->files_changed = r->changed;
	if (r->workdir) {
		free(x->r->remote_workdir);
		x->r->remote_workdir = xstrdup(r->workdir);
	}
}

/* Says what the scan leaves out. */
static void not_synced(const struct sync_opts *o, const struct local *l)
{
	if (l->has_submodules && !o->submodules)
		trace("--no-submodules: only the superproject's files are synced");
	for (size_t i = 0; i < l->nested.n; i++)
		warn("%s is a git repository inside the working tree: its files are not synced "
		     "(git add leaves it out; an empty directory on the sidecar); make it a submodule, "
		     "or sync it on its own with 'sidecar -C %s sync -w NAME'",
		     l->nested.v[i], l->nested.v[i]);
}

/* Starts the local scan, once: in sync_start, or once the steady state's session is up. */
static void scan_start(struct sync_job *x)
{
	if (x->scan_started)
		return;
	x->scan_started = 1;
	x->start_rc = local_scan_start(x->g, x->o->repo, x->o->rundir, &x->l);
}

/* Ends the scan, once. */
static enum err ensure_scanned(struct sync_job *x)
{
	enum err rc;

	scan_start(x);
	if (x->scanned)
		return 0;
	if (x->start_rc)
		return x->start_rc;
	local_memo_load(&x->l, x->o->rundir, x->key, x->known_oid);
	if ((rc = local_scan_finish(x->g, &x->l)))
		return rc;
	x->scanned = 1;
	x->r->has_submodules = x->l.has_submodules;
	not_synced(x->o, &x->l);
	return 0;
}

/*
 * The snapshot another process made meanwhile (fan-out): its record, read
 * to the end of the feed once there is something to read (it is written
 * whole, then the feed is closed). An empty one: it could not be made,
 * and that process said why.
 */
static enum err take_fed(struct sync_job *x)
{
	struct pollfd pfd[2] = { { x->o->feed, POLLIN, 0 }, { sig_wakefd(), POLLIN, 0 } };
	struct buf rec = BUF_INIT;
	enum err rc = ERR_OK;

	for (pfd[0].revents = 0; !pfd[0].revents;) {
		if (sig_caught)
			return ERR_SIGNAL;
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return error("cannot wait for the snapshot: %s", strerror(errno));
		if (pfd[1].revents)
			sig_drain();
	}
	if (buf_read_fd(&rec, x->o->feed) < 0)
		rc = error("cannot read the snapshot: %s", strerror(errno));
	else if (!rec.len)
		rc = ERR_FAIL;	/* said once, by the maker */
	else if (local_take_record(&x->l, rec.s) < 0)
		rc = error("the snapshot made for %s is garbled: '%s'", x->o->dest, rec.s);
	else
		x->fed = 1;
	buf_free(&rec);
	return rc;
}

/* Builds S once: the scan and the commit (the sidecar may be busy meanwhile). */
static enum err ensure_snapshot(struct sync_job *x)
{
	enum err rc;

	if (x->l.snapshot)
		return 0;
	if (x->o->feed > 0)
		rc = take_fed(x);
	else if ((rc = ensure_scanned(x)) == ERR_OK)
		rc = local_snapshot(x->g, &x->l);
	if (rc)
		return rc;
	x->r->snapshot = xstrdup(x->l.snapshot);
	x->r->has_submodules = x->l.has_submodules;
	return 0;
}

/*
 * The local repository's root commits, space separated, or "-" on an
 * unborn branch: recorded on the sidecar beside the work tree's path when
 * it creates or adopts a workspace (a walk of the whole history, so only
 * then). The path alone says whose a workspace is.
 */
static const char *roots(struct sync_job *x)
{
	struct buf out = BUF_INIT;

	if (x->roots)
		return x->roots;
	if (x->l.head && git_run(x->g, &out, NULL, "rev-list", "--max-parents=0", x->l.head, "--",
				 (char *)NULL) == 0 && out.len) {
		for (char *p = out.s; *p; p++)
			if (*p == '\n')
				*p = ' ';
		x->roots = xstrdup(out.s);
	} else {
		x->roots = xstrdup("-");
	}
	buf_free(&out);
	return x->roots;
}

/* What names the ignore rules outside the tree, for the sidecar. */
static const char *rules_id(const struct sync_job *x)
{
	return x->l.rules_id[0] ? x->l.rules_id : "-";
}

/*
 * sidecar run: the reply ended with the snapshot applied, and the command
 * starts. The result is said now, before what the command prints.
 */
static void run_begins(void *ctx, const struct session *s, const struct reply *r)
{
	struct sync_job *x = ctx;

	take_reply(x, r);
	x->r->result = r->result == RESULT_UP_TO_DATE ? "up-to-date" : "synced";
	x->r->bytes_sent = x->rm.bytes_sent + s->cmd.len + s->p.bytes_in;
	if (x->o->announce)
		x->o->announce(x->o->announce_ctx, x->r);
}

/*
 * rts: the root commits to record, or "-" (steady state: no walk). With
 * opts.run, the command follows in the same session.
 */
static enum err apply_start(struct sync_job *x, struct session *s, const char *expect, const char *rts)
{
	const char *args[] = { "apply", x->o->workdir, expect, x->o->toplevel, rts,
			       x->o->adopt ? "1" : "0", rules_id(x), NULL };
	struct strv all = STRV_INIT;
	enum err rc;

	if (!x->o->run)
		return session_start(&x->rm, s, args);
	strv_pushv(&all, args);
	strv_pushv(&all, (const char *const *)x->o->run->v);
	x->rm.on_run = run_begins;
	rc = session_start_run(&x->rm, s, strv_argv(&all));
	strv_free(&all);
	return rc;
}

/*
 * Ends the apply round trip begun by apply_start: sends the header
 * "SNAPSHOT TREE COMMIT PACK BRANCH NSHALLOW", NSHALLOW commits the sidecar
 * records as shallow when it has them, and, unless have is NULL, the pack
 * of S for a sidecar that has the commits in have. *moved: the sidecar's
 * base was not the expected one, and nothing changed there.
 *
 * --shallow: the sidecar's commits are roots of the walk (pack.h), and only
 * so does git take the trees of every one named as delta bases (git 2.39:
 * a one-file edit after 200 others, 0.4 KB instead of 24 KB). For a
 * sidecar that has none of it, the delta search looks at one neighbour
 * (--window=1): git sorts the objects by path, so a file's version in
 * HEAD is next to the working tree's; a wider search among the files of
 * one tree costs more than it saves (the bench's tree and 200 edits:
 * 0.15 s of CPU less, the same bytes; --window=0: 7% more bytes). What
 * git compresses anew there, the whole tree, it compresses fast
 * (--compression=1): a third less time for 2.4% more bytes.
 */
static enum err apply_finish(struct sync_job *x, struct session *s, const char *expect,
			     const struct strv *have, int *moved)
{
	static const char *const pack_args[] = { "pack-objects", "--revs", "--stdout", "--thin",
						 "--shallow", "--delta-base-offset", "-q",
						 "--window=1", "--compression=1", NULL };
	static const size_t fresh_only = 7;	/* the index of --window=1 */
	struct buf header = BUF_INIT, revs = BUF_INIT;
	struct pack_plan plan = { STRV_INIT, STRV_INIT, STRV_INIT, 0 };
	struct git_job gp;
	enum err rc = ERR_OK;
	int in = -1;

	*moved = 0;
	if (have && (rc = pack_plan(x->g, x->o->gitdir, x->o->rundir, x->l.head, have, x->o->depth,
				   &plan))) {
		session_finish(&x->rm, s, NULL, 0, -1);	/* the sidecar gives up */
		goto out;
	}
	buf_addf(&header, "%s %s %s %d %s %zu\n", x->l.snapshot, x->l.tree,
		 x->l.head ? x->l.head : "-", have ? 1 : 0, x->l.branch ? x->l.branch : "-",
		 plan.shallow.n);
	for (size_t i = 0; i < plan.shallow.n; i++)
		buf_addf(&header, "%s\n", plan.shallow.v[i]);
	if (have) {
		pack_revs(&plan, x->l.snapshot, &revs);
		const char *args[sizeof pack_args / sizeof *pack_args];
		memcpy(args, pack_args, sizeof args);
		if (have->n)
			args[fresh_only] = NULL;
		int st = git_spawn_input(x->g, &gp, args, revs.s, revs.len);
		if (st) {
			rc = git_cannot_run(x->g, st);
			session_finish(&x->rm, s, NULL, 0, -1);
			goto out;
		}
		in = gp.p.out_pipe;
		free(x->r->base);
		x->r->base = have->n ? xstrdup(have->v[0]) : NULL;
	}
	if (!have && strcmp(expect, "-") != 0) {
		free(x->r->base);
		x->r->base = xstrdup(expect);	/* said as a run's command starts */
	}
	rc = session_finish(&x->rm, s, header.s, header.len, in);
	if (s->run_started) {
		x->r->ran = 1;
		x->r->run_status = s->run_status;
	}
	if (have)
		rc = finish_stream(&gp, rc, s->r.base_moved || rc == ERR_RESTART);
	if (rc)
		goto out;
	if (s->r.base_moved) {
		trace("the sidecar's synced snapshot is %s, not %s: asking what it has",
		      s->r.synced ? s->r.synced : "none", expect);
		*moved = 1;
		goto out;
	}
	take_reply(x, &s->r);
	x->r->result = s->r.result == RESULT_UP_TO_DATE ? "up-to-date" : "synced";
out:
	pack_plan_free(&plan);
	buf_free(&revs);
	buf_free(&header);
	return rc;
}

static enum err probe(struct sync_job *x, struct reply *rp)
{
	const char *args[] = { "probe", x->o->workdir, x->l.snapshot, x->o->toplevel,
			       x->o->adopt ? "1" : "0", x->o->dry_run ? "1" : "0", NULL };
	enum err rc = remote_op(&x->rm, args, NULL, 0, -1, rp);
	if (rc)
		return rc;
	if (rp->no_git)
		return error("git is not installed on %s; install it there (e.g. apt-get install git)",
			     x->o->dest);
	if (rp->exists == EXISTS_OTHER)
		return error("%s on %s exists and is not a git repository; choose another workdir (-w) or remove it",
			     x->o->workdir, x->o->dest);
	take_reply(x, rp);
	return 0;
}

/*
 * One line of `git diff-tree -r` raw output, ":M1 M2 O1 O2 S\tPATH" (PATH
 * as git quotes it): what its path ends as (mode M2, object O2), its
 * status and path.
 */
struct raw {
	const char *m2, *o2;
	size_t m2_len, o2_len;
	char st;
	const char *path;
};

/* 0 when the line is not of that form. */
static int raw_entry(const char *line, struct raw *r)
{
	const char *tab = strchr(line, '\t'), *f[5], *p = line + 1;

	if (line[0] != ':' || !tab)
		return 0;
	for (int i = 0; i < 5; i++) {
		f[i] = p;
		p = strchr(p, ' ');
		if (i < 4 && (!p || p > tab))
			return 0;
		if (p)
			p++;
	}
	r->m2 = f[1];
	r->m2_len = (size_t)(f[2] - f[1]) - 1;
	r->o2 = f[3];
	r->o2_len = (size_t)(f[4] - f[3]) - 1;
	r->st = *f[4];
	r->path = tab + 1;
	return 1;
}

/* Whether two lines leave their path with the same mode and content. */
static int same_result(const struct raw *a, const struct raw *b)
{
	return a->m2_len == b->m2_len && a->o2_len == b->o2_len &&
	       memcmp(a->m2, b->m2, a->m2_len) == 0 && memcmp(a->o2, b->o2, a->o2_len) == 0;
}

/*
 * What a sync would change, exactly: the local changes since the last sync
 * (local, raw diff-tree lines) and the edits found on the sidecar since
 * (edits), which the sync takes back. A path in both changes unless both
 * sides end with the same content. Appends "S\tPATH" lines to list;
 * returns their number.
 */
static long long predict(const struct buf *local, const struct strv *edits, struct buf *list)
{
	struct strv lines = STRV_INIT;
	struct raw l, r;
	long long n = 0;

	for (const char *p = buf_str(local); *p;) {
		size_t k = strcspn(p, "\n");
		char *line = strndup(p, k);
		strv_push(&lines, line);
		free(line);
		p += k + (p[k] == '\n');
	}
	char *used = calloc(edits->n + 1, 1);
	for (size_t i = 0; i < lines.n; i++) {
		if (!raw_entry(lines.v[i], &l))
			continue;
		char out = l.st;
		for (size_t j = 0; j < edits->n; j++) {
			if (used[j] || !raw_entry(edits->v[j], &r) || strcmp(l.path, r.path) != 0)
				continue;
			used[j] = 1;
			out = same_result(&l, &r) ? 0 : l.st == 'D' ? 'D' : r.st == 'D' ? 'A' : 'M';
			break;
		}
		if (out) {
			buf_addf(list, "%c\t%s\n", out, l.path);
			n++;
		}
	}
	/* an edit nobody changed locally is taken back */
	for (size_t j = 0; j < edits->n; j++) {
		if (used[j] || !raw_entry(edits->v[j], &r))
			continue;
		buf_addf(list, "%c\t%s\n", r.st == 'A' ? 'D' : r.st == 'D' ? 'A' : 'M', r.path);
		n++;
	}
	free(used);
	strv_free(&lines);
	return n;
}

/* The lines of git's output, its last newline removed (git_run's out). */
static long long count_lines(const struct buf *out)
{
	long long n = out->len > 0;

	for (const char *p = buf_str(out); *p; p++)
		n += *p == '\n';
	return n;
}

/* Prints what a sync would change, from the probe and local objects only. */
static enum err dry_run(struct sync_job *x, const struct reply *rp)
{
	const char *synced = rp->synced;

	x->r->result = "dry-run";
	if (rp->exists != EXISTS_YES) {
		struct buf out = BUF_INIT;
		git_run(x->g, &out, NULL, "ls-tree", "-r", "--name-only", x->l.tree, (char *)NULL);
		x->r->files_changed = count_lines(&out);
		info("would create %s on %s and write %lld files", x->o->workdir, x->o->dest,
		     x->r->files_changed);
		buf_free(&out);
	} else if (synced && local_has_commit(x->g, synced)) {
		struct buf out = BUF_INIT, list = BUF_INIT;
		git_run(x->g, &out, NULL, "-c", "core.quotepath=on", "diff-tree", "-r", "--no-renames",
			synced, x->l.snapshot, (char *)NULL);
		x->r->files_changed = predict(&out, &rp->edits, &list);
		if (list.len && !msg_quiet() && !x->o->json)
			fputs(list.s, stdout);
		buf_free(&list);
		info("would change %lld file%s on %s", x->r->files_changed,
		     x->r->files_changed == 1 ? "" : "s", x->o->dest);
		buf_free(&out);
	} else {
		info("would replace the workspace %s on %s with the local working tree",
		     x->o->workdir, x->o->dest);
	}
	if (rp->modified == 1)
		info("would first save the edits found on %s under refs/sidecar/saved/", x->o->dest);
	return ERR_OK;
}

/* Commits the sidecar has that the local repository has too: git asked once each. */
static void common_bases(struct sync_job *x, const struct reply *rp, struct strv *bases)
{
	const char *const have[] = { rp->synced, rp->head, rp->origin };
	for (size_t i = 0; i < sizeof have / sizeof have[0]; i++) {
		int seen = !have[i];
		for (size_t j = 0; j < i && !seen; j++)
			seen = have[j] && strcmp(have[j], have[i]) == 0;
		if (!seen && local_has_commit(x->g, have[i]))
			strv_push(bases, have[i]);
	}
}

/*
 * Starts reading the parents of the snapshot read from its ref's file,
 * once: only a sync that sends something needs them.
 */
static void parents_start(struct sync_job *x)
{
	struct buf parents = BUF_INIT;

	if (x->parents_asked || x->known.running || !x->known_oid)
		return;
	x->parents_asked = 1;
	buf_addf(&parents, "%s^@", x->known_oid);
	if (git_spawn(x->g, &x->known, "rev-parse", parents.s, (char *)NULL))
		x->known.running = 0;
	buf_free(&parents);
}

/*
 * The last snapshot synced to this place and its parents (HEAD then): what
 * the sidecar has, for the pack. Read meanwhile; waited for here, once.
 */
static const struct strv *known_haves(struct sync_job *x)
{
	const struct buf *memo = x->l.again.len ? &x->l.again : &x->memo;
	char parent[OID_HEX_MAX];

	if (!x->known_have.n && memo->len && local_memo_parent(memo->s, memo->len, parent)) {
		/* the memo of that snapshot says */
		strv_push(&x->known_have, x->known_oid);
		if (*parent)
			strv_push(&x->known_have, parent);
	}
	if (x->known_have.n)
		return &x->known_have;
	parents_start(x);
	if (!x->known.running)
		return &x->known_have;
	if (git_wait(&x->known) == 0) {
		/* "PARENT..." after the one read from the file, else "S\nPARENT..." */
		if (x->known_oid)
			strv_push(&x->known_have, x->known_oid);
		for (char *p = x->known.out.s; p && *p;) {
			char *nl = strchr(p, '\n');
			if (nl)
				*nl = '\0';
			strv_push(&x->known_have, p);
			p = nl ? nl + 1 : NULL;
		}
		if (!x->known_oid && x->known_have.n)
			x->known_oid = xstrdup(x->known_have.v[0]);
	} else if (x->known_oid) {
		strv_push(&x->known_have, x->known_oid);	/* git will say what is wrong */
	}
	git_job_free(&x->known);
	return &x->known_have;
}

static enum err snapshot_flow(struct sync_job *x)
{
	char *known = NULL;
	struct session s;
	enum err rc;
	int moved = 0, gone = 0;

	if (!x->known_oid)
		known_haves(x);	/* git reads the ref */
	if (x->known_oid)
		known = xstrdup(x->known_oid);
	if (known && !x->o->dry_run) {
		/*
		 * Steady state, one round trip: the session starts first, and
		 * the sidecar takes its lock and scans its workspace while S is
		 * built here; it checks its base is still `known` before it
		 * applies the pack.
		 */
		if ((rc = apply_start(x, &s, known, "-")) == 0) {
			if (x->o->changes_only)
				trace_look(x->o->dest);
			scan_start(x);
			if ((rc = ensure_snapshot(x))) {
				/* said why here; the sidecar, cut short, changes nothing */
				session_cancel(&x->rm, &s);
			} else if (x->o->changes_only && strcmp(known, x->l.snapshot) == 0) {
				session_cancel(&x->rm, &s);
				x->r->result = "unchanged";
			} else {
				rc = apply_finish(x, &s, known,
						  strcmp(known, x->l.snapshot) ? known_haves(x) : NULL,
						  &moved);
				/* no workspace there: what a probe would say */
				gone = moved && s.r.exists == EXISTS_NO;
			}
			session_free(&s);
		}
		if (rc || !moved)
			goto out;
	}
	if ((rc = ensure_snapshot(x)))
		goto out;
	for (int round = 0; round < 2; round++) {
		struct reply rp;
		struct strv bases = STRV_INIT;
		const char *synced;

		if (gone && round == 0) {
			trace("there is no workspace %s on the sidecar: it starts fresh", x->o->workdir);
			reply_init(&rp);
			rp.exists = EXISTS_NO;
		} else if ((rc = probe(x, &rp))) {
			reply_free(&rp);
			goto out;
		}
		if (x->o->dry_run) {
			rc = dry_run(x, &rp);
			reply_free(&rp);
			goto out;
		}
		synced = rp.synced;
		common_bases(x, &rp, &bases);
		trace("the sidecar shares %zu commit%s with the local repository", bases.n,
		      bases.n == 1 ? "" : "s");
		if ((rc = apply_start(x, &s, synced ? synced : "-",
				      rp.exists != EXISTS_YES || x->o->adopt ? roots(x) : "-")) == 0) {
			rc = apply_finish(x, &s, synced ? synced : "-",
					  rp.has_snapshot ? NULL : &bases, &moved);
			session_free(&s);
		}
		strv_free(&bases);
		reply_free(&rp);
		if (rc || !moved)
			goto out;
	}
	rc = error("another sync to %s changed %s at the same time; run sync again",
		   x->o->dest, x->o->workdir);
out:
	if (rc == 0 && !x->o->dry_run) {
		set_synced(x, x->l.snapshot);
		if (!x->o->feed)	/* else the fan-out's maker keeps it, knowing what made it */
			local_memo_save(&x->l, x->o->rundir, x->key);
	}
	free(known);
	return rc;
}

/* The rules outside the tree as patch-apply reads them: a count of lines, the lines. */
static void rules_header(const struct sync_job *x, struct buf *out)
{
	size_t lines = 0;

	for (size_t i = 0; i < x->l.rules.len; i++)
		lines += x->l.rules.s[i] == '\n';
	buf_addf(out, "%zu\n", lines);
	buf_add(out, x->l.rules.s, x->l.rules.len);
}

static enum err patch_flow(struct sync_job *x)
{
	struct buf url = BUF_INIT, head = BUF_INIT;
	enum err rc = ERR_OK;

	if ((rc = ensure_scanned(x)))
		return rc;
	if (!x->l.head)
		return error("the repository has no commits yet: patch mode needs a base commit; "
			     "commit once, or use the default snapshot mode");
	if (git_run(x->g, &url, NULL, "config", "--get", "remote.origin.url", (char *)NULL) || !url.len) {
		buf_free(&url);
		return error("no 'origin' remote: patch mode clones origin on the sidecar; add one with "
			     "'git remote add origin URL', or use the default snapshot mode");
	}
	for (int round = 0; round < 2; round++) {
		const char *setup[] = { "patch-setup", x->o->workdir, url.s,
					x->l.branch ? x->l.branch : "-", x->o->dry_run ? "1" : "0",
					x->o->toplevel, "-", x->o->adopt ? "1" : "0", NULL };
		struct reply rp;
		struct git gi = *x->g;
		char *base;

		gi.index = x->l.index;
		if ((rc = remote_op(&x->rm, setup, NULL, 0, -1, &rp))) {
			reply_free(&rp);
			break;
		}
		take_reply(x, &rp);
		if (rp.exists == EXISTS_NO) {
			info("would clone origin (%s) into %s on %s and apply the local changes",
			     url.s, x->o->workdir, x->o->dest);
			x->r->result = "dry-run";
			reply_free(&rp);
			break;
		}
		base = rp.base ? xstrdup(rp.base) : NULL;
		if (!base || !local_has_commit(x->g, base)) {
			rc = error("the sidecar's base %s is not in the local repository; run 'git fetch origin'",
				   base ? base : "(none)");
			free(base);
			reply_free(&rp);
			break;
		}
		free(x->r->base);
		x->r->base = xstrdup(base);
		free(x->r->snapshot);
		x->r->snapshot = xstrdup(base);
		int changes = git_run(&gi, NULL, NULL, "diff", "--cached", "--quiet",
				      "--ignore-submodules=all", base, (char *)NULL) != 0;
		if (!changes && rp.at_base) {
			info("no local changes relative to remote base %.12s", base);
			x->r->result = "up-to-date";
			free(base);
			reply_free(&rp);
			break;
		}
		int modified = rp.modified == 1;
		reply_free(&rp);
		if (x->o->dry_run) {
			struct buf out = BUF_INIT;
			git_run(&gi, &out, NULL, "diff", "--cached", "--name-status", "--no-renames",
				"--ignore-submodules=all", base, (char *)NULL);
			x->r->files_changed = count_lines(&out);
			if (out.len && !msg_quiet() && !x->o->json)
				printf("%s\n", out.s);
			if (modified)
				info("would first save the edits found on %s", x->o->dest);
			x->r->result = "dry-run";
			buf_free(&out);
			free(base);
			break;
		}
		const char *diff[] = { "diff", "--cached", "--binary", "--full-index", "--no-renames",
				       "--no-color", "--no-ext-diff", "--no-textconv",
				       "--ignore-submodules=all", base, NULL };
		const char *apply_args[] = { "patch-apply", x->o->workdir, base, changes ? "1" : "0",
					     x->o->toplevel, x->o->adopt ? "1" : "0", rules_id(x),
					     NULL };
		struct git_job gp;
		if ((rc = start_stream(&gi, &gp, diff))) {
			free(base);
			break;
		}
		buf_reset(&head);
		rules_header(x, &head);
		rc = remote_op(&x->rm, apply_args, head.s, head.len, gp.p.out_pipe, &rp);
		rc = finish_stream(&gp, rc, rc == ERR_RESTART);
		free(base);
		if (rc) {
			reply_free(&rp);
			break;
		}
		take_reply(x, &rp);
		if (rp.result != RESULT_DRIFT) {
			x->r->result = "synced";
			reply_free(&rp);
			break;
		}
		reply_free(&rp);
		if (round == 1) {
			rc = error("the patch does not apply on %s even to a fresh clone; "
				   "is origin up to date? try the default snapshot mode", x->o->dest);
			break;
		}
		warn("the workspace on %s drifted from its base; recreating it", x->o->dest);
		const char *rm[] = { "remove", x->o->workdir, NULL };
		if ((rc = remote_op(&x->rm, rm, NULL, 0, -1, &rp))) {
			reply_free(&rp);
			break;
		}
		reply_free(&rp);
	}
	buf_free(&url);
	buf_free(&head);
	return rc;
}

struct sync_job *sync_start(const struct git *g, const struct sync_opts *o,
			    struct sync_result *r)
{
	struct sync_job *x = xmalloc(sizeof *x);
	struct buf ref = BUF_INIT, parents = BUF_INIT;

	memset(x, 0, sizeof *x);
	memset(r, 0, sizeof *r);
	x->g = g;
	x->o = o;
	x->r = r;
	sync_key(o->dest, o->workdir, x->key);
	remote_init(&x->rm, o->dest, o->rundir);
	x->rm.write_nothing = o->dry_run;
	x->rm.no_progress = o->no_progress;
	x->rm.on_reply = take_saved;
	x->rm.ctx = x;
	if (!o->patch) {
		/* the last snapshot synced there, and its parents (HEAD then) */
		char oid[OID_HEX_MAX];

		sidecar_ref(&ref, "synced", x->key);
		switch (ref_read(o->repo->commondir, ref.s, oid)) {
		case REF_FOUND:
			x->known_oid = xstrdup(oid);	/* its parents: parents_start */
			break;
		case REF_UNKNOWN:
			buf_addf(&parents, "%s^@", ref.s);
			if (git_spawn(g, &x->known, "rev-parse", ref.s, parents.s, (char *)NULL))
				x->known.running = 0;
			break;
		case REF_ABSENT:
			break;
		}
	}
	if (o->prepared) {
		x->l = *o->prepared;	/* borrowed: sync_end leaves it */
		x->scan_started = x->scanned = 1;
		/* fan-out: what this place's memo says, so that no git reads it */
		if (!x->l.again.len)
			local_memo_read(&x->l, o->rundir, x->key, x->known_oid, &x->memo);
		if (x->l.snapshot) {	/* else it comes on o->feed */
			r->snapshot = xstrdup(x->l.snapshot);
			r->has_submodules = x->l.has_submodules;
		}
	} else if (o->patch || o->dry_run || !x->known_oid) {
		scan_start(x);
	} else if ((x->start_rc = local_rules(g, o->repo, o->rundir, &x->l))) {
		x->scan_started = 1;
	}
	/*
	 * else the steady state: the rules, which its command line names,
	 * are read; the session starts first, then the scan
	 */
	buf_free(&ref);
	buf_free(&parents);
	return x;
}

/* One attempt of the whole sync, for conn_retry. */
static enum err sync_attempt(void *ctx)
{
	struct sync_job *x = ctx;
	enum err rc;

	/* a sidecar that lost its script gets it again, in the same attempt */
	for (int restarts = 0;; restarts++) {
		rc = x->o->patch ? patch_flow(x) : snapshot_flow(x);
		if (rc != ERR_RESTART)
			break;
		if (restarts == SESSION_MAX_RESTARTS)
			return error("the script could not be installed on %s", x->o->dest);
	}
	return rc;
}

enum err sync_run(struct sync_job *x, struct conn *c)
{
	enum err rc;

	x->c = x->rm.c = c;
	if (x->start_rc)
		return x->start_rc;	/* said why; nothing to connect for */
	rc = conn_retry(c, sync_attempt, x, "syncing again");
	x->r->bytes_sent = x->rm.bytes_sent;
	return rc;
}

void trace_look(const char *dest)
{
	trace("looking at the working tree against what was last synced to %s", dest);
}

void sync_end(struct sync_job *x)
{
	git_job_free(&x->known);
	free(x->known_oid);
	free(x->roots);
	strv_free(&x->known_have);
	buf_free(&x->memo);
	remote_free(&x->rm);
	if (!x->o->prepared)
		local_free(&x->l);
	else if (x->fed)
		local_record_free(&x->l);
	free(x);
}

enum err sync_prepare(const struct git *g, const struct sync_opts *o, struct local *l)
{
	enum err rc;

	if ((rc = local_scan_start(g, o->repo, o->rundir, l)) ||
	    (rc = local_scan_finish(g, l)) || (rc = local_snapshot(g, l)))
		return rc;
	not_synced(o, l);
	return 0;
}

void sync_result_free(struct sync_result *r)
{
	free(r->snapshot);
	free(r->base);
	strv_free(&r->saved_refs);
	free(r->remote_workdir);
	memset(r, 0, sizeof *r);
}
