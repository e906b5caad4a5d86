/* json.c: string escaping and key/value helpers for one-line objects. */
#include "json.h"

/*
 * The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 when s does not start
 * one. s is NUL-terminated, so a cut-short sequence stops at the NUL.
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;	/* the range of the second byte */
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void json_str(struct buf *out, const char *s)
{
	if (!s) {
		buf_adds(out, "null");
		return;
	}
	buf_addc(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t n;
		switch (*p) {
		case '"': buf_adds(out, "\\\""); break;
		case '\\': buf_adds(out, "\\\\"); break;
		case '\n': buf_adds(out, "\\n"); break;
		case '\r': buf_adds(out, "\\r"); break;
		case '\t': buf_adds(out, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				buf_addf(out, "\\u%04x", *p);
			} else if ((n = utf8_len(p)) == 0) {
				/* a byte that is no part of UTF-8 text */
				buf_adds(out, "\\ufffd");
			} else {
				buf_add(out, p, n);
				p += n - 1;
			}
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
