/* test_git: reading git's version, and the minimum both sides agree on. */
#include "git.h"
#include "remote.h"
#include "unit.h"

static void check(const char *text, int rc, int major, int minor, const char *what)
{
	int a = -1, b = -1;
	CHECK_INT(git_version_parse(text, &a, &b), rc, what);
	if (rc == 0) {
		CHECK_INT(a, major, what);
		CHECK_INT(b, minor, what);
	}
}

int main(void)
{
	check("git version 2.39.5", 0, 2, 39, "a release");
	check("git version 2.20.1", 0, 2, 20, "Debian 10's");
	check("git version 2.45.1.windows.1", 0, 2, 45, "a vendor suffix");
	check("git version 2.47.0.rc1", 0, 2, 47, "a release candidate");
	check("git version 1.8.3.1", 0, 1, 8, "an old one");
	check("hub version 2.14.2", -1, 0, 0, "not git's words");
	check("git version 2", -1, 0, 0, "no minor version");
	check("git version x.y", -1, 0, 0, "no number");
	check(NULL, -1, 0, 0, "no output");
	struct buf want = BUF_INIT;
	buf_adds(&want, "\nGIT_MIN=" GIT_MIN "\n");
	CHECK(strstr(remote_sh, want.s) != NULL, "the sidecar's minimum is this machine's");
	buf_free(&want);
	return unit_done();
}
