/* refs.c: sidecar's ref names, and refs read from git's files. See refs.h. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "protocol.h"
#include "refs.h"

void sidecar_ref(struct buf *out, const char *kind, const char *key)
{
	buf_addf(out, "refs/sidecar/%s/%s", kind, key);
}

/* The object name that [s, s + n) is, into oid; 0 when it is none. */
static int take_oid(const char *s, size_t n, char oid[OID_HEX_MAX])
{
	if (n >= OID_HEX_MAX)
		return 0;
	memcpy(oid, s, n);
	oid[n] = '\0';
	return protocol_is_oid(oid);
}

enum ref_found ref_parse_loose(const char *text, size_t len, char oid[OID_HEX_MAX])
{
	if (len && text[len - 1] == '\n')
		len--;
	return take_oid(text, len, oid) ? REF_FOUND : REF_UNKNOWN;
}

/*
 * packed-refs: an optional "# pack-refs with: ..." line, then "OID NAME"
 * lines, each perhaps followed by a "^OID" line (what a tag peels to).
 */
enum ref_found ref_parse_packed(const char *text, size_t len, const char *name,
				char oid[OID_HEX_MAX])
{
	size_t nlen = strlen(name);

	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *sp = memchr(p, ' ', (size_t)(eol - p));

		if (*p != '#' && *p != '^' && sp && (size_t)(eol - sp - 1) == nlen &&
		    memcmp(sp + 1, name, nlen) == 0)
			return take_oid(p, (size_t)(sp - p), oid) ? REF_FOUND : REF_UNKNOWN;
		p = eol + 1;
	}
	return REF_ABSENT;
}

enum ref_found ref_read(const char *commondir, const char *name, char oid[OID_HEX_MAX])
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	enum ref_found found = REF_UNKNOWN;
	struct stat st;

	/* the reftable format keeps refs where only git reads them */
	buf_addf(&path, "%s/reftable", commondir);
	if (stat(path.s, &st) == 0 || errno != ENOENT)
		goto out;
	buf_reset(&path);
	buf_addf(&path, "%s/%s", commondir, name);
	if (buf_read_file(&text, path.s) == 0) {
		found = ref_parse_loose(text.s, text.len, oid);
		goto out;
	}
	if (errno != ENOENT && errno != ENOTDIR)
		goto out;
	buf_reset(&path);
	buf_addf(&path, "%s/packed-refs", commondir);
	if (buf_read_file(&text, path.s) == 0)
		found = ref_parse_packed(text.s, text.len, name, oid);
	else if (errno == ENOENT)
		found = REF_ABSENT;
out:
	buf_free(&path);
	buf_free(&text);
	return found;
}
