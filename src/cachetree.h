/*
 * cachetree.h: the tree an index file already names.
 *
 * git keeps in the index (its TREE extension) the tree each directory's
 * entries make, and forgets a directory's as soon as an entry under it
 * changes. When the root's is still known, `git write-tree` would print
 * it: reading it is the same answer without a process.
 */
#ifndef SIDECAR_CACHETREE_H
#define SIDECAR_CACHETREE_H

#include <stddef.h>

#include "refs.h"

/*
 * Pure: the root tree the index file data (len bytes; hashlen 20 for
 * SHA-1, 32 for SHA-256) names in hex into tree, and 1; 0 when git no
 * longer knows it, or when the file is not one this reads (a split index).
 */
int cachetree_root(const unsigned char *data, size_t len, size_t hashlen,
		   char tree[OID_HEX_MAX]);

#endif
