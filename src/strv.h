/* strv.h: a growable NULL-terminated vector of owned strings (argv). */
#ifndef SIDECAR_STRV_H
#define SIDECAR_STRV_H

#include <stddef.h>

struct strv {
	char **v;	/* NULL-terminated once anything is pushed */
	size_t n, cap;
};

#define STRV_INIT { NULL, 0, 0 }

void strv_push(struct strv *s, const char *str);
void strv_pushf(struct strv *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strv_pushv(struct strv *s, const char *const *v);
/* Keeps the first n strings, freeing the others. */
void strv_truncate(struct strv *s, size_t n);
void strv_free(struct strv *s);
/* As argv for proc; an empty vector gives a valid empty list. */
const char *const *strv_argv(struct strv *s);

#endif
