/* quote.c: strings for the remote shell, and paths for people, as git quotes them. */
#include "quote.h"

#include <string.h>

/*
 * ' and \ stand outside the quotes, escaped: every login shell reads the
 * result alike, fish too (inside its single quotes \\ and \' are escapes).
 */
void sh_quote(struct buf *out, const char *s)
{
	buf_addc(out, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_adds(out, "'\\''");
		else if (*s == '\\')
			buf_adds(out, "'\\\\'");
		else
			buf_addc(out, *s);
	}
	buf_addc(out, '\'');
}

void path_quote(struct buf *out, const char *s)
{
	static const char esc[] = "\a\b\t\n\v\f\r";
	static const char letter[] = "abtnvfr";
	const unsigned char *p = (const unsigned char *)s;
	int plain = 1;

	for (; *p; p++)
		plain &= *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\';
	if (plain) {
		buf_adds(out, s);
		return;
	}
	buf_addc(out, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		const char *e = *p ? strchr(esc, *p) : NULL;
		if (e)
			buf_addf(out, "\\%c", letter[e - esc]);
		else if (*p == '"' || *p == '\\')
			buf_addf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			buf_addf(out, "\\%03o", *p);
		else
			buf_addc(out, (char)*p);
	}
	buf_addc(out, '"');
}
