/* json.h: just enough JSON output. Pure. */
#ifndef SIDECAR_JSON_H
#define SIDECAR_JSON_H

#include "buf.h"

/*
 * Appends s as a JSON string literal; NULL becomes null. Valid UTF-8 is
 * written as it is; each byte that is not part of a well-formed UTF-8
 * sequence becomes \ufffd (U+FFFD), so the output is always valid JSON.
 */
void json_str(struct buf *out, const char *s);
/* Appends ,"key":value pairs; the first call opens nothing: see users. */
void json_kv_str(struct buf *out, const char *key, const char *val);
void json_kv_int(struct buf *out, const char *key, long long val);
void json_kv_bool(struct buf *out, const char *key, int val);

#endif
