/* git.h: the local git, always run through proc. */
#ifndef SIDECAR_GIT_H
#define SIDECAR_GIT_H

#include "buf.h"
#include "err.h"
#include "proc.h"
#include "strv.h"

struct git {
	const char *prog;	/* $SIDECAR_GIT or "git" */
	const char *index;	/* GIT_INDEX_FILE for the child, or NULL */
	const char *const *env;	/* more "K=V" for the child, or NULL */
	const char *const *config;	/* "key=value" given as -c each, or NULL */
	/* --git-dir and --work-tree (a submodule's), or NULL: the one found from here */
	const char *git_dir, *work_tree;
};

/*
 * Runs git with the NULL-terminated arguments; stdout into out (trailing
 * newlines removed) unless NULL, stderr into err unless NULL (then it is
 * shown). Returns git's status; 127/126 when git cannot run.
 */
int git_run(const struct git *g, struct buf *out, struct buf *err, ...)
	__attribute__((sentinel));
/* The same with an argument vector. */
int git_runv(const struct git *g, struct buf *out, struct buf *err, const char *const *args);
/*
 * git_runv with in_len bytes of in on git's stdin, written while its output
 * is read (no pipe can fill up and stop both sides).
 */
int git_run_input(const struct git *g, struct buf *out, struct buf *err, const char *in,
		  size_t in_len, const char *const *args);

/* git_runv with stdin from in_fd, read from its current offset. */
int git_run_fd(const struct git *g, struct buf *out, struct buf *err, int in_fd,
	       const char *const *args);

/*
 * git update-ref REF OID [OLD] (OLD NULL: whatever REF was; "": only a REF
 * that is not there yet). A ref records what is done, so a signal to
 * sidecar does not stop it: a git stopped there leaves its lock behind,
 * and the next write of REF fails. Returns git's status.
 */
int git_update_ref(const struct git *g, struct buf *err, const char *ref, const char *oid,
		   const char *old);

/* A git command that runs while sidecar does something else. */
struct git_job {
	struct proc p;
	struct strv argv;
	struct buf out;		/* its stdout, trailing newlines removed */
	struct buf err;		/* its stderr */
	int running;
};

/*
 * Starts git with the NULL-terminated arguments, stdout and stderr
 * captured. Returns 0, or the status when git could not start.
 */
int git_spawn(const struct git *g, struct git_job *j, ...) __attribute__((sentinel));
/* The same with an argument vector. To stream its stdout elsewhere, read
 * j->p.out_pipe and set it to -1 (closed) before git_wait. */
int git_spawnv(const struct git *g, struct git_job *j, const char *const *args);
/*
 * git_spawnv with input on its stdin, written whole before this returns:
 * for a git that reads all its input before it writes (pack-objects --revs).
 */
int git_spawn_input(const struct git *g, struct git_job *j, const char *const *args,
		    const char *input, size_t len);
/* Waits for the job; its status. */
int git_wait(struct git_job *j);
/* Waits if still running, then frees. */
void git_job_free(struct git_job *j);

/*
 * Appends "-C toplevel ls-files -z KIND -i --exclude=P..." to a: the files
 * of kind ("-o" untracked, "-c" tracked) that one of the patterns matches,
 * as git matches ignore rules. Pure.
 */
void git_matching_args(struct strv *a, const char *toplevel, const char *kind,
		       const struct strv *patterns);

/* Says why git could not run (a status of proc_start); the error. */
enum err git_cannot_run(const struct git *g, int status);

/*
 * The oldest git sidecar runs with, on this machine and on the sidecar
 * (remote.sh says it too): 2.20, the one of Debian 10; Ubuntu 20.04 has
 * 2.25. What sidecar asks of git is older than that (rev-parse
 * --absolute-git-dir, 2.13, is the newest of it).
 */
#define GIT_MIN_MAJOR 2
#define GIT_MIN_MINOR 20
#define GIT_MIN "2.20"

/* The version "git version 2.39.5" (or "2.39.5.windows.1") names: 0, or -1. Pure. */
int git_version_parse(const char *text, int *major, int *minor);

/*
 * Refuses a git older than GIT_MIN: ERR_FAIL after saying so. `git version`
 * runs once for each git program file: that it was new enough is
 * remembered in dir, under a name made of the file's path, inode, size
 * and time, so that an upgrade (or a downgrade) is seen. A git that cannot
 * be found, or a version that cannot be read, is left to the git calls
 * that follow.
 */
int git_check_version(const struct git *g, const char *dir);

#endif
