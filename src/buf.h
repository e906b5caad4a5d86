/* buf.h: a growable byte buffer, always NUL-terminated. */
#ifndef SIDECAR_BUF_H
#define SIDECAR_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *s;	/* NUL-terminated contents, or NULL when empty */
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_add(struct buf *b, const void *data, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Contents as a C string; "" when empty. Valid until the next change. */
const char *buf_str(const struct buf *b);
/* Removes trailing newlines and carriage returns. */
void buf_chomp(struct buf *b);

/*
 * The value of the first "KEY VALUE" line of text (ssh -G output, the
 * sidecar's replies), as a new string; NULL when no line has KEY.
 */
char *line_value(const char *text, const char *key);

/* Appends what fd gives until EOF; the file at path. 0, or -1 with errno. */
int buf_read_fd(struct buf *b, int fd);
int buf_read_file(struct buf *b, const char *path);

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
