/* quote.c: the one function through which strings reach the remote shell. */
#include "quote.h"

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
