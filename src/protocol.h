/*
 * protocol.h: the client's side of the sync protocol. The operations, their
 * arguments and stdin, and every reply key are declared once, at the top of
 * src/remote.sh; the table in protocol.c mirrors that block (a unit test
 * holds the two together).
 *
 * A session runs a short bootstrap as its command line. The bootstrap runs
 * the script installed on the sidecar under a content-addressed name; in
 * install mode it first reads the script from stdin, installs it (best
 * effort: a read-only or full home still runs it) and runs it. The reply is
 * framed: whatever a login shell prints before it is skipped, a version line
 * opens it and an "end" line closes it, so a reply cut short is seen.
 */
#ifndef SIDECAR_PROTOCOL_H
#define SIDECAR_PROTOCOL_H

#include <stddef.h>

#include "buf.h"
#include "strv.h"

#define PROTOCOL_VERSION 1

enum exists { EXISTS_UNSAID, EXISTS_NO, EXISTS_YES, EXISTS_OTHER };
enum result { RESULT_UNSAID, RESULT_SYNCED, RESULT_UP_TO_DATE, RESULT_DRIFT };

/* A parsed reply: every key of remote.sh's block, typed. */
struct reply {
	int complete;		/* the "end" line came */
	int missing_script;	/* the bootstrap found no installed script */
	int installed;		/* 1: installed now; 0: could not be (or unsaid) */
	int no_git;		/* git no */
	char *workdir;
	enum exists exists;
	char *synced, *head, *origin, *base;	/* commits, or NULL when unsaid */
	int has_snapshot, base_moved, cloned, at_base;
	int modified;		/* 1, 0, or -1 when unsaid */
	enum result result;
	long long changed;	/* -1 when unsaid */
	char *removed;
	char *refused;		/* "usage": the workspace was refused (exit 2) */
	struct strv saved;	/* every ref the sidecar saved edits to */
	struct strv staged;	/* the parts of those holding the index found there */
	struct strv edits;	/* raw diff-tree lines: what sidecar left -> the workspace */
	struct strv entries;	/* "REF COMMIT BASE KIND": saved refs, or what collect made */
	struct strv entry_paths;	/* "REF ST PATH": what each entry changes */
	int pack;		/* a pack follows the reply */
};

/*
 * Parses the session's stdout into r. Returns 0, or -1 with the reason in
 * why (no reply at all, another version, a key twice, a bad value). A reply
 * without its end line parses, with complete 0.
 */
int reply_parse(const char *text, size_t len, struct reply *r, struct buf *why);
void reply_init(struct reply *r);
void reply_free(struct reply *r);

/* Whether s is a whole object name (SHA-1 or SHA-256, lowercase hex). */
int protocol_is_oid(const char *s);

/* How the bootstrap finds the script. */
enum boot {
	BOOT_RUN,	/* runs the installed one, or says it is missing */
	BOOT_INSTALL,	/* reads it from stdin, installs it, runs it */
	BOOT_INLINE	/* reads it from stdin and runs it: nothing is written */
};

/* Appends the session's remote command line for args (LOCK_WAIT OP ARG...). */
void protocol_command(struct buf *cmd, enum boot mode, const char *const *args);

/* What BOOT_INSTALL and BOOT_INLINE send on stdin ahead of the operation's input. */
void protocol_install_input(struct buf *in);

/* "CRC-SIZE" of the script: the name it is installed under. */
const char *protocol_script_id(void);

#endif
