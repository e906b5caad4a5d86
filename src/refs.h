/*
 * refs.h: the refs sidecar keeps in the local repository, and reading one
 * without starting git.
 *
 * A sync to one place (destination and workspace, named by sync_key)
 * keeps refs/sidecar/synced/<key>: the last snapshot synced there. Reading
 * it is on the steady state's critical path, before the session starts,
 * so it is read from git's own files where they say it plainly: a file
 * under the common directory holding the object name, else a line of
 * packed-refs (the file wins, as in git). Anything else (a symbolic ref,
 * the reftable format, a file that cannot be read) is git's to answer.
 */
#ifndef SIDECAR_REFS_H
#define SIDECAR_REFS_H

#include <stddef.h>

#include "buf.h"

/* Room for an object name in hex (SHA-256) and its NUL. */
#define OID_HEX_MAX 65

enum ref_found { REF_FOUND, REF_ABSENT, REF_UNKNOWN };

/* Appends refs/sidecar/KIND/KEY to out. */
void sidecar_ref(struct buf *out, const char *kind, const char *key);

/*
 * Pure: a loose ref file's text. REF_FOUND with the name in oid, or
 * REF_UNKNOWN when it is not an object name alone (a symbolic ref, say).
 */
enum ref_found ref_parse_loose(const char *text, size_t len, char oid[OID_HEX_MAX]);

/* Pure: name in the text of a packed-refs file. */
enum ref_found ref_parse_packed(const char *text, size_t len, const char *name,
				char oid[OID_HEX_MAX]);

/* name (refs/...) in the repository whose common directory is commondir. */
enum ref_found ref_read(const char *commondir, const char *name, char oid[OID_HEX_MAX]);

#endif
