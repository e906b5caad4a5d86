/* protocol.c: bootstrap, install and reply of the sync protocol. */
#include "protocol.h"

#include <stdlib.h>
#include <string.h>

#include "quote.h"
#include "remote.h"

#define END_MARK "__SIDECAR_SCRIPT_END__"
#define CACHE_DIR "${XDG_CACHE_HOME:-$HOME/.cache}/sidecar"

const char *protocol_script_id(void)
{
	return remote_sh_id;
}

void protocol_command(struct buf *cmd, enum boot mode, const char *const *args)
{
	struct buf boot = BUF_INIT;
	const char *id = protocol_script_id();

	if (mode == BOOT_RUN) {
		buf_addf(&boot, "f=" CACHE_DIR "/remote-%s.sh;", id);
		buf_adds(&boot, "[ -f \"$f\" ]||{ printf '\\nSIDECAR-REPLY 1\\nmissing-script yes\\nend\\n';exit 0;};");
		/* read by the shell the bootstrap runs in: no sh more */
		buf_adds(&boot, ". \"$f\"");
	} else {
		/* read takes stdin a byte at a time: the operation's input stays */
		/* no newline in the command line: csh cannot quote one */
		buf_adds(&boot, "n=$(printf '\\n.');n=${n%.};");
		buf_adds(&boot, "s=;while IFS= read -r l;do [ \"$l\" = " END_MARK " ]&&break;s=$s$l$n;done;");
		buf_adds(&boot, "SIDECAR_INSTALLED=no;");
	}
	if (mode == BOOT_INSTALL) {
		/* under a temporary name, checked, renamed; older versions go */
		buf_addf(&boot, "d=" CACHE_DIR ";f=$d/remote-%s.sh;", id);
		buf_adds(&boot, "if (umask 077;mkdir -p \"$d\"&&printf %s \"$s\">\"$f.$$\"&&");
		buf_addf(&boot, "[ \"$(cksum<\"$f.$$\")\" = '%s' ]&&mv -f \"$f.$$\" \"$f\"&&", remote_sh_sum);
		buf_adds(&boot, "for o in \"$d\"/remote-*.sh;do [ \"$o\" = \"$f\" ]||rm -f \"$o\";done)2>/dev/null;");
		buf_adds(&boot, "then SIDECAR_INSTALLED=yes;else rm -f \"$f.$$\" 2>/dev/null;fi;");
	}
	if (mode != BOOT_RUN)
		buf_adds(&boot, "export SIDECAR_INSTALLED;exec sh -c \"$s\" sidecar \"$@\"");
	/* exec: the script, and a command run after it, lead the session's group */
	buf_adds(cmd, "exec sh -c ");
	sh_quote(cmd, boot.s);
	buf_adds(cmd, " sidecar");
	for (; *args; args++) {
		buf_addc(cmd, ' ');
		sh_quote(cmd, *args);
	}
	buf_free(&boot);
}

void protocol_install_input(struct buf *in)
{
	buf_adds(in, remote_sh);
	buf_adds(in, END_MARK "\n");
}

/* --- the reply -------------------------------------------------------- */

enum kind { K_FLAG, K_TEXT, K_OID, K_COUNT, K_EXISTS, K_RESULT, K_LIST, K_KEEPALIVE };

/* Every key of the block at the top of remote.sh, once. */
static const struct key {
	const char *name;
	enum kind kind;
	size_t off;
} keys[] = {
	{ "missing-script", K_FLAG, offsetof(struct reply, missing_script) },
	{ "installed", K_FLAG, offsetof(struct reply, installed) },
	{ "git", K_FLAG, offsetof(struct reply, no_git) },
	{ "workdir", K_TEXT, offsetof(struct reply, workdir) },
	{ "exists", K_EXISTS, offsetof(struct reply, exists) },
	{ "synced", K_OID, offsetof(struct reply, synced) },
	{ "head", K_OID, offsetof(struct reply, head) },
	{ "origin", K_OID, offsetof(struct reply, origin) },
	{ "has_snapshot", K_FLAG, offsetof(struct reply, has_snapshot) },
	{ "modified", K_FLAG, offsetof(struct reply, modified) },
	{ "base-moved", K_FLAG, offsetof(struct reply, base_moved) },
	{ "saved", K_LIST, offsetof(struct reply, saved) },
	{ "result", K_RESULT, offsetof(struct reply, result) },
	{ "changed", K_COUNT, offsetof(struct reply, changed) },
	{ "cloned", K_FLAG, offsetof(struct reply, cloned) },
	{ "base", K_OID, offsetof(struct reply, base) },
	{ "at_base", K_FLAG, offsetof(struct reply, at_base) },
	{ "removed", K_TEXT, offsetof(struct reply, removed) },
	{ "refused", K_TEXT, offsetof(struct reply, refused) },
	{ "staged", K_LIST, offsetof(struct reply, staged) },
	{ "edit", K_LIST, offsetof(struct reply, edits) },
	{ "entry", K_LIST, offsetof(struct reply, entries) },
	{ "entry-path", K_LIST, offsetof(struct reply, entry_paths) },
	{ "pack", K_FLAG, offsetof(struct reply, pack) },
	{ "waiting", K_KEEPALIVE, 0 },
};

#define NKEYS (sizeof keys / sizeof keys[0])

void reply_init(struct reply *r)
{
	memset(r, 0, sizeof *r);
	r->modified = -1;
	r->changed = -1;
}

void reply_free(struct reply *r)
{
	free(r->workdir);
	free(r->synced);
	free(r->head);
	free(r->origin);
	free(r->base);
	free(r->removed);
	free(r->refused);
	strv_free(&r->saved);
	strv_free(&r->staged);
	strv_free(&r->edits);
	strv_free(&r->entries);
	strv_free(&r->entry_paths);
	reply_init(r);
}

/* The value with \\ and \n undone, as a new string. */
static char *unescape(const char *v, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n && (v[i + 1] == '\\' || v[i + 1] == 'n')) {
			*o++ = v[++i] == 'n' ? '\n' : '\\';
		} else {
			*o++ = v[i];
		}
	}
	*o = '\0';
	return out;
}

int protocol_is_oid(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return !s[n] && (n == 40 || n == 64);
}

/* Stores one value; -1 when it is not of the key's kind. */
static int store(struct reply *r, const struct key *k, char *v, int *seen)
{
	void *slot = (char *)r + k->off;

	if (k->kind == K_KEEPALIVE) {
		free(v);
		return 0;
	}
	if (k->kind == K_LIST) {
		strv_push(slot, v);
		free(v);
		return 0;
	}
	if (*seen) {
		free(v);
		return -1;
	}
	*seen = 1;
	switch (k->kind) {
	case K_FLAG: {
		int yes = strcmp(v, "yes") == 0, no = strcmp(v, "no") == 0;
		free(v);
		if (!yes && !no)
			return -1;
		/* "git no" is the one flag stored inverted: no_git */
		*(int *)slot = strcmp(k->name, "git") == 0 ? no : yes;
		return 0;
	}
	case K_OID:
		if (!protocol_is_oid(v)) {
			free(v);
			return -1;
		}
		*(char **)slot = v;
		return 0;
	case K_TEXT:
		*(char **)slot = v;
		return 0;
	case K_COUNT: {
		char *end;
		long long n = strtoll(v, &end, 10);
		int ok = *v && !*end && n >= 0;
		free(v);
		if (!ok)
			return -1;
		*(long long *)slot = n;
		return 0;
	}
	case K_EXISTS: {
		enum exists e = strcmp(v, "no") == 0 ? EXISTS_NO : strcmp(v, "yes") == 0 ? EXISTS_YES
				: strcmp(v, "other") == 0 ? EXISTS_OTHER : EXISTS_UNSAID;
		free(v);
		*(enum exists *)slot = e;
		return e == EXISTS_UNSAID ? -1 : 0;
	}
	case K_RESULT: {
		enum result e = strcmp(v, "synced") == 0 ? RESULT_SYNCED
				: strcmp(v, "up-to-date") == 0 ? RESULT_UP_TO_DATE
				: strcmp(v, "drift") == 0 ? RESULT_DRIFT : RESULT_UNSAID;
		free(v);
		*(enum result *)slot = e;
		return e == RESULT_UNSAID ? -1 : 0;
	}
	case K_LIST:
	case K_KEEPALIVE:
		break;
	}
	free(v);
	return -1;
}

/*
 * Where the reply begins: just after its version line's "SIDECAR-REPLY ".
 * The last such line: what a login shell prints comes before it, and no
 * line after it can begin so (values are escaped).
 */
static const char *find_start(const char *text, size_t len)
{
	static const char mark[] = "SIDECAR-REPLY ";
	const size_t m = sizeof mark - 1;
	const char *found = NULL;
	for (size_t i = 0; i + m <= len; i++)
		if ((i == 0 || text[i - 1] == '\n') && memcmp(text + i, mark, m) == 0)
			found = text + i + m;
	return found;
}

int reply_parse(const char *text, size_t len, struct reply *r, struct buf *why)
{
	const char *p, *end = text + len;
	int seen[NKEYS] = { 0 };

	reply_init(r);
	if (!text || !(p = find_start(text, len))) {
		buf_adds(why, "the sidecar sent no reply");
		return -1;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl || (size_t)(nl - p) != 1 || *p != '0' + PROTOCOL_VERSION) {
		buf_addf(why, "the sidecar speaks protocol %.*s, not %d", nl ? (int)(nl - p) : 0, p,
			 PROTOCOL_VERSION);
		return -1;
	}
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;	/* a last line cut short */
		size_t n = (size_t)(nl - p);
		if (n == 3 && memcmp(p, "end", 3) == 0) {
			r->complete = 1;
			return 0;
		}
		const char *sp = memchr(p, ' ', n);
		size_t klen = sp ? (size_t)(sp - p) : n;
		size_t i;
		for (i = 0; i < NKEYS; i++)
			if (strlen(keys[i].name) == klen && memcmp(keys[i].name, p, klen) == 0)
				break;
		if (i == NKEYS || !sp) {
			buf_addf(why, "the sidecar's reply has a line this version does not know: '%.*s'",
				 (int)(n > 80 ? 80 : n), p);
			return -1;
		}
		if (store(r, &keys[i], unescape(sp + 1, (size_t)(nl - sp - 1)), &seen[i]) < 0) {
			buf_addf(why, "the sidecar's reply has a bad or repeated '%s' line", keys[i].name);
			return -1;
		}
	}
	return 0;
}
