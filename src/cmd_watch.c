/*
 * cmd_watch.c: watch. Sync, then sync again whenever the working tree
 * changes, running CMD after each sync. News from the kernel (watch.h) is
 * only a reason to look: the local scan says whether anything git would
 * sync changed, against the snapshot last synced, so an ignored file
 * written makes no sync and no restart. When the news is of a file of the
 * tree (likely an edit), the sync is the look: its session starts first,
 * as a sync's does, so the sidecar's side of it runs while the tree is
 * scanned here, and is ended unused when nothing changed. News of git's
 * files alone (an index that git status refreshed) is looked at first.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "duration.h"
#include "err.h"
#include "msg.h"
#include "sig.h"
#include "watch.h"

#define DEBOUNCE_MS 200		/* a burst of saves is one sync */
#define INTERVAL_MS 1000	/* how often to look when polling */

struct watcher {
	struct env *e;
	struct watch w;
	const char *dest, *wd;
	long long debounce_ms, interval_ms;
	int news;		/* taken from the kernel, not looked at yet (WATCH_*) */
	int interrupted;	/* CMD was interrupted for a change */
};

/*
 * Whether the working tree differs from what was last synced (unsure:
 * yes). With look, the scan and snapshot that said so stay there for the
 * sync (look->snapshot NULL when there is none); local_free it after.
 */
static int changed(struct watcher *t, struct local *look)
{
	struct behind b;
	char *synced, *snapshot;
	int r;

	behind_start(t->e, t->dest, t->wd, &b);
	b.keep = look != NULL;
	r = behind_finish(t->e, &b, &synced, &snapshot);
	if (look)
		*look = b.l;
	free(synced);
	free(snapshot);
	return r != 0;
}

/*
 * While CMD runs: news that changes what would be synced interrupts it,
 * unless --no-restart (then the kernel keeps the news until CMD ends).
 */
static int restart_ready(void *ctx)
{
	struct watcher *t = ctx;

	int news = watch_take(&t->w);

	if (!news)
		return 0;
	t->news |= news;
	if (watch_fd(&t->w) < 0)
		return 1;	/* the kernel stopped telling: its fd is gone */
	return t->interrupted = changed(t, NULL);
}

/*
 * Waits until news has been quiet for the debounce time (when polling:
 * until the next look). Returns 0, or ERR_SIGNAL; the news stays in
 * t->news.
 */
static enum err settle(struct watcher *t)
{
	long long quiet_at = t->news ? now_ms() + t->debounce_ms : 0;
	long long look_at = now_ms() + t->interval_ms;

	for (;;) {
		struct pollfd pfd[2] = { { sig_wakefd(), POLLIN, 0 }, { watch_fd(&t->w), POLLIN, 0 } };
		long long at = quiet_at ? quiet_at : pfd[1].fd < 0 ? look_at : 0;
		long long now = now_ms();
		int wait = at ? (at > now ? (int)(at - now) : 0) : -1;

		if (sig_caught)
			return ERR_SIGNAL;
		if (at && now >= at)
			break;
		if (poll(pfd, pfd[1].fd < 0 ? 1 : 2, wait) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			sig_drain();
		int news = pfd[1].fd >= 0 && pfd[1].revents ? watch_take(&t->w) : 0;
		if (news) {
			t->news |= news;
			quiet_at = now_ms() + t->debounce_ms;
		}
	}
	return ERR_OK;
}

/* One sync, said in one line; a failure is said and watching goes on. */
static enum err sync_now(struct env *e)
{
	struct conn c;
	enum err rc = sync_workspace(e, &c);

	conn_free(&c);
	if (rc && rc != ERR_SIGNAL && !sig_caught)
		info("watching for the next change to sync again");
	return rc;
}

/* CMD after a sync; news may interrupt it. */
static enum err run_cmd(struct watcher *t, const struct strv *env, int restart)
{
	struct wake w = { watch_fd(&t->w), restart_ready, t };
	struct conn c;
	enum err rc;

	t->interrupted = 0;
	if ((rc = env_conn(t->e, &c)) == ERR_OK)
		rc = run_remote(t->e, &c, -1, env, &t->e->a->rest, t->wd,
				NULL, restart && w.fd >= 0 ? &w : NULL);
	conn_free(&c);
	if (sig_caught)
		return ERR_SIGNAL;
	if (rc == ERR_OK && t->interrupted)
		info("a change arrived: the command was interrupted");
	else if (rc == ERR_OK && t->e->remote_status)
		info("the command ended with status %d", t->e->remote_status);
	else if (rc)
		info("the command could not run; watching for the next change");
	return ERR_OK;
}

/* Whether some NUL-separated name of list (len bytes) starts with prefix. */
static int under(const char *list, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < len; i += strlen(list + i) + 1)
		if (strncmp(list + i, prefix, n) == 0)
			return 1;
	return 0;
}

/*
 * The directories git ignores now, from the top: not watched (build
 * outputs, say), unless they hold a file that --include sends.
 */
static void ignored_dirs(struct env *e, struct strv *skip)
{
	const struct strv *inc = e->repo.include;
	struct buf out = BUF_INIT, sent = BUF_INIT;
	struct strv a = STRV_INIT;

	if (inc && inc->n) {
		git_matching_args(&a, e->toplevel, "-o", inc);
		if (git_runv(&e->git, &sent, NULL, strv_argv(&a)))
			buf_reset(&sent);
	}
	if (git_run(&e->git, &out, NULL, "-C", e->toplevel, "ls-files", "-z", "--others", "--ignored",
		    "--exclude-standard", "--directory", (char *)NULL) == 0)
		for (size_t i = 0; i < out.len; i += strlen(out.s + i) + 1)
			if (out.s[i + strlen(out.s + i) - 1] == '/' &&
			    !under(buf_str(&sent), sent.len, out.s + i))
				strv_push(skip, out.s + i);
	strv_free(&a);
	buf_free(&out);
	buf_free(&sent);
}

static enum err cmd_watch(struct env *e)
{
	struct args *a = e->a;
	struct strv env = STRV_INIT, skip = STRV_INIT;
	struct watcher t = { .e = e };
	char every[32];
	enum err rc;

	t.debounce_ms = a->debounce_ms >= 0 ? a->debounce_ms : DEBOUNCE_MS;
	t.interval_ms = a->interval_ms > 0 ? a->interval_ms : INTERVAL_MS;
	if ((a->rest.n || a->dashdash) && (rc = command_env(e, &env))) {
		strv_free(&env);
		return rc;
	}
	/*
	 * Watching starts before the first sync, so that what changes while
	 * it runs is news after it. That sync says what is wrong with DEST,
	 * the workspace, the tree.
	 */
	ignored_dirs(e, &skip);
	watch_open(&t.w, e->toplevel, e->gitdir, e->commondir, &skip);
	if ((rc = sync_now(e))) {
		watch_close(&t.w);
		strv_free(&skip);
		strv_free(&env);
		return rc;
	}
	t.dest = env_dest(e);
	t.wd = env_workdir(e);
	format_duration(t.interval_ms, every, sizeof every);
	if (watch_fd(&t.w) >= 0)
		info("watching %s for changes; Ctrl-C to stop", e->toplevel);
	else
		info("looking at %s for changes every %s; Ctrl-C to stop", e->toplevel, every);
	for (int synced = 1;;) {
		if (synced && a->rest.n && (rc = run_cmd(&t, &env, !a->no_restart)))
			break;
		if ((rc = settle(&t)))
			break;
		synced = 0;
		int news = t.news;
		t.news = 0;
		/* (patch mode has no session to end unused: it looks first) */
		if ((news & WATCH_TREE) && watch_fd(&t.w) >= 0 &&
		    strcmp(e->set->mode.value, "patch") != 0) {
			e->changes_only = 1;
			rc = sync_now(e);
			e->changes_only = 0;
			if (rc == ERR_OK && e->sync_result && strcmp(e->sync_result, "unchanged") == 0)
				continue;
		} else {
			struct local look;
			if (!changed(&t, &look)) {
				local_free(&look);
				continue;
			}
			/* the look's scan and snapshot are the sync's: no second scan */
			e->prepared = look.snapshot ? &look : NULL;
			rc = sync_now(e);
			e->prepared = NULL;
			local_free(&look);
		}
		if (rc == ERR_SIGNAL || sig_caught)
			break;
		synced = rc == ERR_OK;
	}
	watch_close(&t.w);
	strv_free(&skip);
	strv_free(&env);
	e->remote_status = -1;	/* CMD's status is said, not the exit status */
	return sig_caught ? ERR_SIGNAL : rc;
}

const struct cmd_entry cmd_watch_entry = {
	.name = "watch",
	.synopsis = "[options] [DEST] [-- CMD [ARG]...]",
	.summary = "sync on every change of the working tree, then run CMD",
	.options = (const enum opt_id[]){ OPT_WORKDIR, OPT_MODE, OPT_DEPTH, OPT_NO_SUBMODULES, OPT_INCLUDE,
					  OPT_EXCLUDE, OPT_ADOPT,
					  OPT_DEBOUNCE, OPT_INTERVAL, OPT_NO_RESTART,
					  OPT_ENV, OPT_ENV_FILE, OPT_NONE },
	.operand = OPERAND_DEST,
	.flags = CMD_REPOSITORY | CMD_CONNECTS | CMD_REMOTE,
	.run = cmd_watch,
};
