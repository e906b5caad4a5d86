/* quote.h: quoting for the remote POSIX shell. Pure. */
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

#endif
