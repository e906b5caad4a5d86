/* rawgit.c: the private common directory through which git sees bytes. */
#include "rawgit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "rundir.h"
#include "snapshot.h"

/* A config value or subsection, quoted as git config reads it. */
static void quoted(struct buf *out, const char *s, size_t n)
{
	buf_addc(out, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_addc(out, '\\');
		if (s[i] == '\n')
			buf_adds(out, "\\n");
		else
			buf_addc(out, s[i]);
	}
	buf_addc(out, '"');
}

void rawgit_config(const char *format, size_t len, const char *config_path, struct buf *out)
{
	/* "section.sub.name\nvalue\0" each */
	for (const char *p = format, *end = format ? format + len : NULL; p && p < end;
	     p += strlen(p) + 1) {
		const char *nl = strchr(p, '\n'), *value = nl ? nl + 1 : "true";
		size_t klen = nl ? (size_t)(nl - p) : strlen(p);
		const char *dot = memchr(p, '.', klen), *last = dot;
		if (!dot)
			continue;
		for (const char *q = dot; q < p + klen; q++)
			if (*q == '.')
				last = q;
		buf_addc(out, '[');
		buf_add(out, p, (size_t)(dot - p));
		if (last > dot) {
			buf_addc(out, ' ');
			quoted(out, dot + 1, (size_t)(last - dot - 1));
		}
		buf_adds(out, "]\n\t");
		buf_add(out, last + 1, (size_t)(p + klen - last - 1));
		buf_adds(out, " = ");
		quoted(out, value, strlen(value));
		buf_addc(out, '\n');
	}
	buf_adds(out, "[include]\n\tpath = ");
	quoted(out, config_path, strlen(config_path));
	buf_addc(out, '\n');
}

/* Writes data to path whole, under a temporary name first. */
/* Whether a's modification time is after b's, or b is missing. */
static int newer(const struct stat *a, const char *b)
{
	struct stat sb;
	if (stat(b, &sb) < 0)
		return 1;
	return a->st_mtim.tv_sec != sb.st_mtim.tv_sec ? a->st_mtim.tv_sec > sb.st_mtim.tv_sec
						      : a->st_mtim.tv_nsec > sb.st_mtim.tv_nsec;
}

/* dir/info/exclude is a symlink to target, made again when it is not. */
static int link_exclude(const char *dir, const char *target)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT;
	char got[4096];
	ssize_t n;
	int rc = 0;

	buf_addf(&path, "%s/info/exclude", dir);
	n = readlink(path.s, got, sizeof got - 1);
	if (n < 0 || (size_t)n != strlen(target) || memcmp(got, target, (size_t)n) != 0) {
		buf_addf(&tmp, "%s.%ld", path.s, (long)getpid());
		unlink(tmp.s);
		if (symlink(target, tmp.s) < 0 || rename(tmp.s, path.s) < 0) {
			rc = error("cannot write %s: %s", path.s, strerror(errno));
			unlink(tmp.s);
		}
	}
	buf_free(&path);
	buf_free(&tmp);
	return rc;
}

/* The private config, written again when the repository's changed since. */
static int refresh_config(const struct git *g, const char *dir, const char *commondir)
{
	struct buf real = BUF_INIT, mine = BUF_INIT, format = BUF_INIT, text = BUF_INIT;
	struct stat st;
	int rc = 0;

	buf_addf(&real, "%s/config", commondir);
	buf_addf(&mine, "%s/config", dir);
	if (stat(real.s, &st) == 0 && !newer(&st, mine.s))
		goto out;
	/* git reads a repository's format from its config file alone */
	if (git_run(g, &format, NULL, "config", "--file", real.s, "-z", "--get-regexp",
		    "^(core\\.repositoryformatversion|extensions\\.)", (char *)NULL))
		buf_reset(&format);
	rawgit_config(format.s, format.len, real.s, &text);
	rc = rundir_write(mine.s, text.s, text.len);
out:
	buf_free(&real);
	buf_free(&mine);
	buf_free(&format);
	buf_free(&text);
	return rc;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return error("cannot create %s: %s", path, strerror(errno));
	return 0;
}

int rawgit_env(const struct git *g, const struct local_repo *repo, const char *run,
	       struct strv *env)
{
	struct buf dir = BUF_INIT, p = BUF_INIT;
	char key[17];
	struct stat st;
	int rc = -1;

	sync_key(repo->commondir, "raw", key);
	buf_addf(&dir, "%s/raw-%s", run, key);
	if (make_dir(dir.s))
		goto out;
	buf_addf(&p, "%s/info", dir.s);
	if (make_dir(p.s))
		goto out;
	buf_reset(&p);
	buf_addf(&p, "%s/refs", dir.s);
	if (make_dir(p.s))
		goto out;
	buf_reset(&p);
	buf_addf(&p, "%s/info/attributes", dir.s);
	if (stat(p.s, &st) < 0 && rundir_write(p.s, RAW_ATTRIBUTES, strlen(RAW_ATTRIBUTES)))
		goto out;
	buf_reset(&p);
	buf_addf(&p, "%s/info/exclude", repo->commondir);
	if (link_exclude(dir.s, p.s) || refresh_config(g, dir.s, repo->commondir))
		goto out;
	strv_pushf(env, "GIT_DIR=%s", repo->gitdir);
	strv_pushf(env, "GIT_WORK_TREE=%s", repo->toplevel);
	strv_pushf(env, "GIT_COMMON_DIR=%s", dir.s);
	if (!getenv("GIT_OBJECT_DIRECTORY"))
		strv_pushf(env, "GIT_OBJECT_DIRECTORY=%s/objects", repo->commondir);
	rc = 0;
out:
	buf_free(&dir);
	buf_free(&p);
	return rc;
}
