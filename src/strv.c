/* strv.c: argument vectors. */
#include "strv.h"

#include <stdarg.h>
#include <stdlib.h>

#include "buf.h"

static void push_owned(struct strv *s, char *str)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

void strv_push(struct strv *s, const char *str)
{
	push_owned(s, xstrdup(str));
}

void strv_pushf(struct strv *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	push_owned(s, b.s ? b.s : xstrdup(""));
}

void strv_pushv(struct strv *s, const char *const *v)
{
	for (; v && *v; v++)
		strv_push(s, *v);
}

void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

void strv_truncate(struct strv *s, size_t n)
{
	while (s->n > n) {
		free(s->v[--s->n]);
		s->v[s->n] = NULL;
	}
}

const char *const *strv_argv(struct strv *s)
{
	static const char *const empty[] = { NULL };
	return s->v ? (const char *const *)s->v : empty;
}
