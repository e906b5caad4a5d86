/* git.c: git plumbing calls. */
#include "git.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "msg.h"
#include "strv.h"

/*
 * git compresses and inflates object after object, each with a fresh zlib
 * state; glibc gives that memory back to the kernel at each free and
 * faults it in again for the next object, which costs more than the work
 * itself (half of index-pack's time for a pack of 200 edited files). Kept
 * for reuse, up to this much, unless the user says otherwise. The remote
 * script does the same for the sidecar's git.
 */
#define GIT_HEAP_PAD "MALLOC_TOP_PAD_=4194304"

static void git_argv(const struct git *g, struct strv *a, struct strv *env,
		     const char *const *args)
{
	strv_push(a, g->prog);
	if (g->git_dir)
		strv_pushf(a, "--git-dir=%s", g->git_dir);
	if (g->work_tree)
		strv_pushf(a, "--work-tree=%s", g->work_tree);
	for (const char *const *c = g->config; c && *c; c++) {
		strv_push(a, "-c");
		strv_push(a, *c);
	}
	strv_pushv(a, args);
	if (g->index)
		strv_pushf(env, "GIT_INDEX_FILE=%s", g->index);
	const char *pad = getenv("MALLOC_TOP_PAD_");
	if (!pad || !*pad)
		strv_push(env, GIT_HEAP_PAD);
	strv_pushv(env, g->env);
}

void git_matching_args(struct strv *a, const char *toplevel, const char *kind,
		       const struct strv *patterns)
{
	strv_push(a, "-C");
	strv_push(a, toplevel);
	strv_push(a, "ls-files");
	strv_push(a, "-z");
	strv_push(a, kind);
	strv_push(a, "-i");
	for (size_t i = 0; i < patterns->n; i++)
		strv_pushf(a, "--exclude=%s", patterns->v[i]);
}

enum err git_cannot_run(const struct git *g, int status)
{
	return err_cannot_run(g->prog, status, 0, "install git or set SIDECAR_GIT");
}

/*
 * in: bytes for stdin, else in_fd (-1: /dev/null). whole: a signal to
 * sidecar is not passed on, and git runs to its end.
 */
static int run(const struct git *g, struct buf *out, struct buf *err, const char *in,
	       size_t in_len, int in_fd, int whole, const char *const *args)
{
	struct strv a = STRV_INIT, env = STRV_INIT;
	struct proc p;
	int rc;

	git_argv(g, &a, &env, args);
	proc_init(&p, strv_argv(&a));
	p.env = env.v ? strv_argv(&env) : NULL;
	p.in = in ? IO_PIPE : in_fd >= 0 ? IO_FD : IO_NULL;
	p.in_fd = in_fd;
	p.in_data = in;
	p.in_len = in_len;
	p.out = out ? IO_PIPE : IO_NULL;
	p.out_buf = out;
	p.err = err ? IO_PIPE : IO_INHERIT;
	p.err_buf = err;
	p.own_group = 1;	/* a signal reaches git's own children too */
	p.keep_signals = whole;
	trace_argv(p.argv);
	rc = proc_run(&p);
	int e = errno;	/* why git could not run, for git_exec_failure */
	if (out)
		buf_chomp(out);
	strv_free(&a);
	strv_free(&env);
	errno = e;
	return rc;
}

int git_runv(const struct git *g, struct buf *out, struct buf *err,
	     const char *const *args)
{
	return run(g, out, err, NULL, 0, -1, 0, args);
}

int git_run_input(const struct git *g, struct buf *out, struct buf *err, const char *in,
		  size_t in_len, const char *const *args)
{
	return run(g, out, err, in ? in : "", in_len, -1, 0, args);
}

int git_run_fd(const struct git *g, struct buf *out, struct buf *err, int in_fd,
	       const char *const *args)
{
	return run(g, out, err, NULL, 0, in_fd, 0, args);
}

int git_update_ref(const struct git *g, struct buf *err, const char *ref, const char *oid,
		   const char *old)
{
	const char *args[] = { "update-ref", ref, oid, old, NULL };

	return run(g, NULL, err, NULL, 0, -1, 1, args);
}

int git_run(const struct git *g, struct buf *out, struct buf *err, ...)
{
	struct strv args = STRV_INIT;
	va_list ap;
	const char *s;
	int rc;

	va_start(ap, err);
	while ((s = va_arg(ap, const char *)))
		strv_push(&args, s);
	va_end(ap);
	rc = git_runv(g, out, err, strv_argv(&args));
	strv_free(&args);
	return rc;
}


static int spawn(const struct git *g, struct git_job *j, const char *const *args, int input)
{
	struct strv env = STRV_INIT;
	int rc;

	memset(j, 0, sizeof *j);
	git_argv(g, &j->argv, &env, args);
	proc_init(&j->p, strv_argv(&j->argv));
	j->p.env = env.v ? strv_argv(&env) : NULL;	/* copied at fork */
	j->p.in = input ? IO_PIPE : IO_NULL;
	j->p.out = j->p.err = IO_PIPE;
	j->p.out_buf = &j->out;
	j->p.err_buf = &j->err;
	j->p.own_group = 1;	/* pack-objects under bundle goes with it */
	trace_argv(j->p.argv);
	rc = proc_start(&j->p);
	int e = errno;	/* why git could not run, for git_exec_failure */
	j->p.env = NULL;
	j->running = rc == 0;
	strv_free(&env);
	errno = e;
	return rc;
}

int git_spawnv(const struct git *g, struct git_job *j, const char *const *args)
{
	return spawn(g, j, args, 0);
}

int git_spawn_input(const struct git *g, struct git_job *j, const char *const *args,
		    const char *input, size_t len)
{
	int rc = spawn(g, j, args, 1);

	if (rc)
		return rc;
	fcntl(j->p.in_pipe, F_SETFL, 0);	/* blocking: git reads it all first */
	while (len) {
		ssize_t w = write(j->p.in_pipe, input, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;	/* git died: its status says why */
		input += w;
		len -= (size_t)w;
	}
	close(j->p.in_pipe);
	j->p.in_pipe = -1;
	return 0;
}

int git_spawn(const struct git *g, struct git_job *j, ...)
{
	struct strv args = STRV_INIT;
	va_list ap;
	const char *s;
	int rc;

	va_start(ap, j);
	while ((s = va_arg(ap, const char *)))
		strv_push(&args, s);
	va_end(ap);
	rc = git_spawnv(g, j, strv_argv(&args));
	strv_free(&args);
	return rc;
}

int git_wait(struct git_job *j)
{
	if (!j->running)
		return -1;
	j->running = 0;
	int rc = proc_finish(&j->p);
	buf_chomp(&j->out);
	return rc;
}

void git_job_free(struct git_job *j)
{
	if (j->running)
		git_wait(j);
	strv_free(&j->argv);
	buf_free(&j->out);
	buf_free(&j->err);
}

int git_version_parse(const char *text, int *major, int *minor)
{
	static const char prefix[] = "git version ";
	char *end;

	if (!text || strncmp(text, prefix, sizeof prefix - 1) != 0)
		return -1;
	text += sizeof prefix - 1;
	if (*text < '0' || *text > '9')
		return -1;
	long a = strtol(text, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -1;
	long b = strtol(end + 1, &end, 10);
	if (a > 9999 || b > 9999)
		return -1;
	*major = (int)a;
	*minor = (int)b;
	return 0;
}

int git_check_version(const struct git *g, const char *dir)
{
	struct buf mark = BUF_INIT, out = BUF_INIT, id = BUF_INIT;
	unsigned long long h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	struct stat st;
	int err, major, minor, rc = 0;
	const char *dirs = getenv("PATH");
	char *path = proc_resolve(g->prog, dirs ? dirs : "/usr/bin:/bin", &err);

	if (!path || stat(path, &st) < 0)
		goto out;	/* the git calls say what is wrong */
	buf_addf(&id, "%s%c%llu %llu %lld %lld.%09ld", path, '\0', (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		 (long)st.st_mtim.tv_nsec);
	for (size_t i = 0; i < id.len; i++)
		h = (h ^ (unsigned char)id.s[i]) * 0x100000001b3ULL;
	buf_addf(&mark, "%s/git-%016llx", dir, h);
	if (access(mark.s, F_OK) == 0)
		goto out;
	if (git_run(g, &out, NULL, "version", (char *)NULL) != 0 ||
	    git_version_parse(out.s, &major, &minor) < 0)
		goto out;
	if (major < GIT_MIN_MAJOR || (major == GIT_MIN_MAJOR && minor < GIT_MIN_MINOR)) {
		rc = error("%s is %s, too old: sidecar needs git " GIT_MIN " or later on this machine "
			  "(and on the sidecar); upgrade git, or point SIDECAR_GIT to a newer one",
			  g->prog, out.s + 4);
		goto out;
	}
	int fd = open(mark.s, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
out:
	free(path);
	buf_free(&mark);
	buf_free(&out);
	buf_free(&id);
	return rc;
}
