/* unit.h: a few macros that make a C test program speak TAP. */
#ifndef SIDECAR_UNIT_H
#define SIDECAR_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_count, unit_failures;

static void unit_report(int ok, const char *file, int line, const char *what)
{
	unit_count++;
	if (ok) {
		printf("ok %d - %s\n", unit_count, what);
	} else {
		unit_failures++;
		printf("not ok %d - %s\n#   at %s:%d\n", unit_count, what, file, line);
	}
}

#define CHECK(cond, what) unit_report(!!(cond), __FILE__, __LINE__, (what))
#define CHECK_STR(got, want, what) do { \
	const char *g_ = (got), *w_ = (want); \
	int ok_ = g_ && w_ && strcmp(g_, w_) == 0; \
	unit_report(ok_, __FILE__, __LINE__, (what)); \
	if (!ok_) printf("#   got  [%s]\n#   want [%s]\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)
#define CHECK_INT(got, want, what) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	unit_report(g_ == w_, __FILE__, __LINE__, (what)); \
	if (g_ != w_) printf("#   got  %lld\n#   want %lld\n", g_, w_); \
} while (0)

static int unit_done(void)
{
	printf("1..%d\n", unit_count);
	return unit_failures ? 1 : 0;
}

#endif
