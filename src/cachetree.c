/* cachetree.c: the root tree of an index file's TREE extension. See cachetree.h. */
#include "cachetree.h"

#include <string.h>

static unsigned long be32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

/*
 * The size of the entry at p (end: the end of the entries' room), or 0
 * when it runs past it. Format 2 and 3: 40 bytes of stat data, the object
 * name, 16 bits of flags (the name's length in the low 12, "extended" in
 * bit 14: 16 more bits in format 3), the name and 1 to 8 NULs, so that
 * the entry is a multiple of 8 bytes long. Format 4: no padding; the name
 * is a varint (bytes to drop from the previous name) and a NUL-ended rest.
 */
static size_t entry_size(const unsigned char *p, const unsigned char *end, size_t hashlen,
			 unsigned long version)
{
	size_t fixed = 40 + hashlen + 2, room = (size_t)(end - p);
	unsigned flags;
	const unsigned char *name, *nul;

	if (room < fixed)
		return 0;
	flags = (unsigned)p[40 + hashlen] << 8 | p[40 + hashlen + 1];
	if (version >= 3 && (flags & 0x4000))
		fixed += 2;
	if (room < fixed)
		return 0;
	name = p + fixed;
	if (version == 4) {
		while (name < end && (*name & 0x80))
			name++;	/* the varint */
		if (name++ >= end)
			return 0;
		nul = memchr(name, '\0', (size_t)(end - name));
		return nul ? (size_t)(nul + 1 - p) : 0;
	}
	nul = memchr(name, '\0', (size_t)(end - name));
	if (!nul)
		return 0;
	size_t size = (fixed + (size_t)(nul - name) + 8) & ~(size_t)7;
	return size <= room ? size : 0;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The TREE extension's first entry, the root: "" NUL, "COUNT SUBTREES" LF, the name when COUNT >= 0. */
static int root_of(const unsigned char *p, size_t len, size_t hashlen, char tree[OID_HEX_MAX])
{
	const unsigned char *end = p + len, *nl;

	if (len < 1 || *p != '\0')
		return 0;
	p++;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl || *p == '-' || !(*p >= '0' && *p <= '9') || (size_t)(end - nl - 1) < hashlen)
		return 0;
	hex(nl + 1, hashlen, tree);
	return 1;
}

int cachetree_root(const unsigned char *data, size_t len, size_t hashlen, char tree[OID_HEX_MAX])
{
	const unsigned char *p = data, *end;
	unsigned long version, n;

	if ((hashlen != 20 && hashlen != 32) || len < 12 + hashlen || memcmp(data, "DIRC", 4) != 0)
		return 0;
	version = be32(data + 4);
	n = be32(data + 8);
	if (version < 2 || version > 4)
		return 0;
	end = data + len - hashlen;	/* the checksum ends the file */
	p += 12;
	for (unsigned long i = 0; i < n; i++) {
		size_t size = entry_size(p, end, hashlen, version);
		if (!size)
			return 0;
		p += size;
	}
	while ((size_t)(end - p) >= 8) {
		unsigned long size = be32(p + 4);
		if (size > (size_t)(end - p) - 8)
			return 0;
		if (memcmp(p, "link", 4) == 0)
			return 0;	/* a split index: entries live elsewhere */
		if (memcmp(p, "TREE", 4) == 0)
			return root_of(p + 8, size, hashlen, tree);
		p += 8 + size;
	}
	return 0;
}
