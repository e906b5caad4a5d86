/* watch.c: news that the working tree may have changed; see watch.h. */
#include "watch.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "msg.h"

int watch_fd(const struct watch *w)
{
	return w->fd;
}

/* SIDECAR_WATCH_POLL: the portable way on Linux too (the tests' sidecar-poll). */
#if defined(__linux__) && !defined(SIDECAR_WATCH_POLL)

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a directory of the working tree reports, and one of git's. */
#define TREE_EVENTS (IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
		     IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW)
#define GIT_EVENTS (IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_ONLYDIR)

static struct watch_dir *find_wd(const struct watch *w, int wd)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->dirs[i].wd == wd)
			return &w->dirs[i];
	return NULL;
}

static void forget_wd(struct watch *w, int wd)
{
	struct watch_dir *d = find_wd(w, wd);

	if (d) {
		free(d->path);
		*d = w->dirs[--w->n];
	}
}

static void remember(struct watch *w, int wd, const char *path, int git)
{
	if (find_wd(w, wd))
		return;
	if (w->n == w->alloc) {
		w->alloc = w->alloc ? 2 * w->alloc : 64;
		w->dirs = xrealloc(w->dirs, w->alloc * sizeof *w->dirs);
	}
	w->dirs[w->n++] = (struct watch_dir){ wd, xstrdup(path), git };
}

/* Gives up on inotify: from now on, polling. */
static void lose(struct watch *w, const char *why)
{
	warn("cannot watch %s for changes (%s); looking every interval instead", w->root, why);
	close(w->fd);
	w->fd = -1;
}

static int skipped(const struct watch *w, const char *rel)
{
	size_t n = strlen(rel);

	for (size_t i = 0; w->skip && i < w->skip->n; i++) {
		const char *s = w->skip->v[i];
		if (strlen(s) == n + 1 && memcmp(s, rel, n) == 0 && s[n] == '/')
			return 1;
	}
	return 0;
}

/*
 * Watches path (rel below the root, "" for it) and every directory under
 * it; -1 once the kernel refused (then it polls).
 */
static int add_tree(struct watch *w, const char *path, const char *rel, int git)
{
	int wd = inotify_add_watch(w->fd, path, git ? GIT_EVENTS : TREE_EVENTS);
	DIR *dir;
	struct dirent *de;

	if (wd < 0) {
		if (errno == ENOSPC || errno == ENOMEM) {
			lose(w, "the kernel's limit on watches, fs.inotify.max_user_watches, is reached");
			return -1;
		}
		return 0;	/* gone or unreadable meanwhile: its parent still tells */
	}
	remember(w, wd, rel, git);
	if (!(dir = opendir(path)))
		return 0;
	while ((de = readdir(dir))) {
		struct buf sub = BUF_INIT, subrel = BUF_INIT;
		struct stat st;
		int rc = 0;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (!git && !strcmp(de->d_name, ".git")))
			continue;
		buf_addf(&sub, "%s/%s", path, de->d_name);
		buf_addf(&subrel, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		if (lstat(sub.s, &st) == 0 && S_ISDIR(st.st_mode) && !skipped(w, subrel.s))
			rc = add_tree(w, sub.s, subrel.s, git);
		buf_free(&sub);
		buf_free(&subrel);
		if (rc < 0) {
			closedir(dir);
			return -1;
		}
	}
	closedir(dir);
	return 0;
}

/* Watches a directory of git's own, by itself (flat) or with what is under it. */
static int add_git(struct watch *w, const char *dir, const char *sub, int flat)
{
	struct buf path = BUF_INIT;
	int rc = 0, wd;

	buf_addf(&path, "%s%s%s", dir, *sub ? "/" : "", sub);
	if (!flat) {
		rc = add_tree(w, path.s, path.s, 1);
	} else if ((wd = inotify_add_watch(w->fd, path.s, GIT_EVENTS)) >= 0) {
		remember(w, wd, path.s, 2);
	}
	buf_free(&path);
	return rc;
}

int watch_open(struct watch *w, const char *root, const char *gitdir, const char *commondir,
	       const struct strv *skip)
{
	memset(w, 0, sizeof *w);
	w->root = xstrdup(root);
	w->skip = skip;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		warn("cannot watch %s for changes (inotify: %s); looking every interval instead",
		     root, strerror(errno));
		return -1;
	}
	if (add_tree(w, root, "", 0) < 0 || add_git(w, gitdir, "", 1) < 0 ||
	    add_git(w, commondir, "", 1) < 0 || add_git(w, commondir, "refs/heads", 0) < 0)
		return -1;
	return 0;
}

/* Whether a name in one of git's directories says where HEAD is. */
static int git_news(const struct watch_dir *d, const char *name)
{
	size_t n = strlen(name);

	if (n >= 5 && strcmp(name + n - 5, ".lock") == 0)
		return 0;
	if (d->git == 2)	/* the git directory itself */
		return !strcmp(name, "HEAD") || !strcmp(name, "index") || !strcmp(name, "packed-refs");
	return 1;
}

/* One event: what it is news of (WATCH_TREE, WATCH_GIT, 0); a new directory is watched. */
static int take_event(struct watch *w, const struct inotify_event *ev)
{
	struct watch_dir *d = find_wd(w, ev->wd);
	struct buf path = BUF_INIT, rel = BUF_INIT;
	int news;

	if (ev->mask & IN_Q_OVERFLOW) {
		add_tree(w, w->root, "", 0);	/* a new directory may have been missed */
		return WATCH_TREE | WATCH_GIT;
	}
	if (ev->mask & IN_IGNORED) {
		forget_wd(w, ev->wd);
		return 0;
	}
	if (!d)
		return 0;
	if (d->git)
		news = ev->len && git_news(d, ev->name);
	else
		news = !ev->len || strcmp(ev->name, ".git") != 0;
	if (news && ev->len && (ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
	    d->git != 2) {
		if (d->git) {
			buf_addf(&path, "%s/%s", d->path, ev->name);
			add_tree(w, path.s, path.s, 1);
		} else {
			buf_addf(&rel, "%s%s%s", d->path, *d->path ? "/" : "", ev->name);
			buf_addf(&path, "%s/%s", w->root, rel.s);
			add_tree(w, path.s, rel.s, 0);
		}
	}
	buf_free(&path);
	buf_free(&rel);
	return news ? d->git ? WATCH_GIT : WATCH_TREE : 0;
}

int watch_take(struct watch *w)
{
	union {
		struct inotify_event ev;	/* for its alignment */
		char bytes[8192];
	} chunk;
	int news = 0;
	ssize_t n;

	while (w->fd >= 0 && (n = read(w->fd, chunk.bytes, sizeof chunk.bytes)) > 0) {
		for (char *p = chunk.bytes; p < chunk.bytes + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
			news |= take_event(w, ev);
			p += sizeof *ev + ev->len;
			if (w->fd < 0)
				return WATCH_TREE | WATCH_GIT;	/* polling now: the caller looks */
		}
	}
	return news;
}

void watch_close(struct watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	for (size_t i = 0; i < w->n; i++)
		free(w->dirs[i].path);
	free(w->dirs);
	free(w->root);
	memset(w, 0, sizeof *w);
	w->fd = -1;
}

#else	/* no inotify: the caller polls */

int watch_open(struct watch *w, const char *root, const char *gitdir, const char *commondir,
	       const struct strv *skip)
{
	(void)gitdir;
	(void)commondir;
	memset(w, 0, sizeof *w);
	w->fd = -1;
	w->root = xstrdup(root);
	w->skip = skip;
	return -1;
}

int watch_take(struct watch *w)
{
	(void)w;
	return WATCH_TREE | WATCH_GIT;
}

void watch_close(struct watch *w)
{
	free(w->root);
	memset(w, 0, sizeof *w);
	w->fd = -1;
}

#endif
