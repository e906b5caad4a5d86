/* rundir.h: sidecar's private directory: control sockets, index cache. */
#ifndef SIDECAR_RUNDIR_H
#define SIDECAR_RUNDIR_H

#include <stddef.h>

/*
 * $XDG_RUNTIME_DIR/sidecar, else ${TMPDIR:-/tmp}/sidecar-UID: created 0700
 * when missing, refused unless it is a directory of ours that nobody else
 * may enter. Returns a new string, or NULL after saying why.
 */
char *rundir(void);

/*
 * Writes the file at path whole, by rename, so that a reader never sees
 * part of it. 0, or non-zero after saying why.
 */
int rundir_write(const char *path, const char *data, size_t len);

#endif
