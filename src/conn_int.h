/* conn_int.h: what the files of the connection module share; see conn.h. */
#ifndef SIDECAR_CONN_INT_H
#define SIDECAR_CONN_INT_H

#include "conn.h"

#define CHECK_TIMEOUT_MS 5000	/* -O check / -O exit: local socket talk */

/* Appends the program and the options every ssh call gets. */
void conn_common_args(const struct conn *c, struct strv *a, int with_ctl);

/*
 * Runs a short ssh call that connects nothing by itself or only connects
 * (ssh -G, -O, -M): no stdin or stdout unless out, stderr into err (or into
 * err_fd when err is NULL), its own process group, a wall-clock bound.
 */
int conn_run_ssh(const struct strv *a, struct buf *out, struct buf *err, int err_fd,
		 long long bound_ms, struct proc *p);

/* Says why ssh could not run (status of proc_start; p NULL or its proc). */
enum err conn_cannot_run(const struct conn *c, int status, const struct proc *p);

/* A file beside the control socket: its path with suffix (".opts", ".fwd"). */
void conn_side_path(const struct conn *c, struct buf *b, const char *suffix);

/* Reads the file fd, from its start, into out. */
void conn_slurp_fd(int fd, struct buf *out);

/* Writes path whole under a temporary name, then renames it; at worst no change. */
void conn_replace_file(const char *path, const char *data, size_t len);

/* 1: a master answers on the control socket; 0: none does (stale); -1: unsure. */
int conn_socket_listens(const char *path);

/* Removes the control socket once nothing listens on it any more. */
void conn_remove_stale(struct conn *c);

/* Keeps the line that decided v (or its reason) as c->last_error. */
void conn_remember_error(struct conn *c, const struct verdict *v, const struct buf *err);

/*
 * One master start (ssh -M -N -f). When ssh failed, its verdict is in *v
 * and nothing was said; any other failure has been reported.
 */
enum err conn_start_master(struct conn *c, struct verdict *v);

/*
 * Takes the master-start lock, waiting at most until deadline_ms (now_ms
 * clock). Returns the lock's fd (close it to release), -2 when there is no
 * lock to be had (go on without), -3 when the master came up meanwhile,
 * -4 when the deadline passed, -1 when interrupted.
 */
int conn_lock_master_start(struct conn *c, long long deadline_ms);

/* Says once when the live master runs with other -F/-i/-o than ours. */
void conn_check_options(struct conn *c);

/* The hint after "cannot connect to DEST: REASON (LINE)". */
const char *conn_hint(const struct verdict *v);

#endif
