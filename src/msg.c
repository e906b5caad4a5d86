/* msg.c: stderr messages. The level is written once, in main. */
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "quote.h"

static enum verbosity level;
static int colored;
static int terminal;

void msg_init(enum verbosity v, int color, int tty)
{
	level = v;
	colored = color;
	terminal = tty;
}

int msg_quiet(void) { return level <= VERB_QUIET; }
int msg_tty(void) { return terminal; }

static void say(const char *color, const char *tag, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;
	if (colored && color)
		buf_addf(&b, "\033[%sm", color);
	buf_adds(&b, "sidecar:");
	if (colored && color)
		buf_adds(&b, "\033[0m");
	buf_addc(&b, ' ');
	if (tag)
		buf_adds(&b, tag);
	buf_vaddf(&b, fmt, ap);
	buf_addc(&b, '\n');
	fflush(stdout);
	fwrite(b.s, 1, b.len, stderr);
	fflush(stderr);
	buf_free(&b);
}

enum err error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say("1;31", NULL, fmt, ap);
	va_end(ap);
	return ERR_FAIL;
}

void warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say("1;33", "warning: ", fmt, ap);
	va_end(ap);
}

void info(const char *fmt, ...)
{
	if (level <= VERB_QUIET)
		return;
	va_list ap;
	va_start(ap, fmt);
	say("1", NULL, fmt, ap);
	va_end(ap);
}

void trace(const char *fmt, ...)
{
	if (level < VERB_VERBOSE)
		return;
	va_list ap;
	va_start(ap, fmt);
	say("2", NULL, fmt, ap);
	va_end(ap);
}

void trace_argv(const char *const *argv)
{
	if (level < VERB_VERBOSE)
		return;
	struct buf b = BUF_INIT;
	for (; *argv; argv++) {
		if (b.len)
			buf_addc(&b, ' ');
		if (strlen(*argv) > 200)
			buf_adds(&b, "<script>");
		else if (strspn(*argv, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789-_=./:@%,+") == strlen(*argv) && **argv)
			buf_adds(&b, *argv);
		else
			sh_quote(&b, *argv);
	}
	trace("run: %s", buf_str(&b));
	buf_free(&b);
}
