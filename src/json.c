/* json.c: string escaping and key/value helpers for one-line objects. */
#include "json.h"

void json_str(struct buf *out, const char *s)
{
	if (!s) {
		buf_adds(out, "null");
		return;
	}
	buf_addc(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': buf_adds(out, "\\\""); break;
		case '\\': buf_adds(out, "\\\\"); break;
		case '\n': buf_adds(out, "\\n"); break;
		case '\r': buf_adds(out, "\\r"); break;
		case '\t': buf_adds(out, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				buf_addf(out, "\\u%04x", *p);
			else
				buf_addc(out, (char)*p);
		}
	}
	buf_addc(out, '"');
}

static void key(struct buf *out, const char *k)
{
	if (out->len && out->s[out->len - 1] != '{')
		buf_addc(out, ',');
	json_str(out, k);
	buf_addc(out, ':');
}

void json_kv_str(struct buf *out, const char *k, const char *val)
{
	key(out, k);
	json_str(out, val);
}

void json_kv_int(struct buf *out, const char *k, long long val)
{
	key(out, k);
	buf_addf(out, "%lld", val);
}

void json_kv_bool(struct buf *out, const char *k, int val)
{
	key(out, k);
	buf_adds(out, val ? "true" : "false");
}
