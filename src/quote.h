/* quote.h: quoting for the remote POSIX shell, and of paths for people. Pure. */
#ifndef SIDECAR_QUOTE_H
#define SIDECAR_QUOTE_H

#include "buf.h"

/*
 * Appends s to out as one single-quoted sh word: every byte arrives
 * verbatim, including newlines, quotes, '$' and '`'. A ' becomes '\''.
 * A \ becomes '\\' (outside the quotes, so that fish reads it alike).
 * The empty string becomes ''.
 */
void sh_quote(struct buf *out, const char *s);

/*
 * Appends a path as git prints it (core.quotePath on): as it is, or in
 * double quotes with C escapes (\n, \t, \", \\...) and bytes outside
 * printable ASCII in octal, when it has any such byte.
 */
void path_quote(struct buf *out, const char *s);

#endif
