/*
 * test_pull: the pure parts of pull: PATH arguments made paths from the
 * top (or refused), the time in a saved ref's name, and the plan that
 * decides, path by path, what is written, what is there already and
 * what changed on both sides.
 */
#include "pull.h"

#include <stdlib.h>

#include "unit.h"

static void path_is(const char *prefix, const char *arg, const char *want)
{
	struct buf out = BUF_INIT;
	char what[200];
	int rc = pull_path(prefix, arg, &out);
	snprintf(what, sizeof what, "'%s' in '%s' is %s", arg, prefix, want ? want : "refused");
	if (want)
		CHECK(rc == 0 && strcmp(buf_str(&out), want) == 0, what);
	else
		CHECK(rc == -1, what);
	buf_free(&out);
}

static void test_paths(void)
{
	path_is("", "build", "build");
	path_is("", "build/", "build");
	path_is("", "./build//app", "build/app");
	path_is("src/", "lib", "src/lib");
	path_is("src/", "../README.md", "README.md");
	path_is("src/", "..", ".");
	path_is("", ".", ".");
	path_is("", "a/../b", "b");
	path_is("", "name with space", "name with space");
	path_is("", "-rf", "-rf");
	path_is("", "..", NULL);
	path_is("src/", "../..", NULL);
	path_is("", "a/../../b", NULL);
	path_is("", ".git", NULL);
	path_is("", ".git/config", NULL);
	path_is("sub/", ".git", NULL);
	path_is("", "/etc/passwd", NULL);
	path_is("", "", NULL);
	/* only .git itself: a name that merely starts so is a file like any other */
	path_is("", ".gitignore", ".gitignore");
	path_is("", ".github/x", ".github/x");
}

static void test_time(void)
{
	char t[40];
	saved_time("refs/sidecar/saved/20261207T035121Z", 0, t, sizeof t);
	CHECK_STR(t, "2026-12-07 03:51:21 UTC", "a saved ref's time, for people");
	saved_time("refs/sidecar/saved/20261207T035121Z-2", 1, t, sizeof t);
	CHECK_STR(t, "2026-12-07T03:51:21Z", "and for JSON, with a suffix");
	saved_time("20261207T035121Z-main", 0, t, sizeof t);
	CHECK_STR(t, "2026-12-07 03:51:21 UTC", "its last part alone");
	saved_time("refs/sidecar/saved/yesterday", 0, t, sizeof t);
	CHECK_STR(t, "", "a name without a time has none");
	saved_time("2026120XT035121Z", 0, t, sizeof t);
	CHECK_STR(t, "", "nor one with a letter among the digits");
}

/* Appends one raw -z record: ":OLD NEW OLDOID NEWOID ST\0PATH\0". */
static void rec(struct buf *b, const char *mode, char oid, char st, const char *path)
{
	char o[41];
	memset(o, oid, 40);
	o[40] = '\0';
	buf_addf(b, ":100644 %s %040d %s %c", mode, 0, o, st);
	buf_addc(b, '\0');
	buf_adds(b, path);
	buf_addc(b, '\0');
}

static void test_plan(void)
{
	struct buf theirs = BUF_INIT, ours = BUF_INIT;
	struct strv write = STRV_INIT, same = STRV_INIT, conflicts = STRV_INIT;

	rec(&theirs, "100644", 'a', 'M', "only there");
	rec(&theirs, "100644", 'b', 'M', "both, alike");
	rec(&theirs, "100755", 'c', 'M', "both, otherwise");
	rec(&theirs, "000000", '0', 'D', "gone there");
	rec(&theirs, "100644", 'd', 'M', "mode differs");
	rec(&ours, "100644", 'b', 'M', "both, alike");
	rec(&ours, "100644", 'e', 'M', "both, otherwise");
	rec(&ours, "100644", 'f', 'M', "only here");
	rec(&ours, "100755", 'd', 'M', "mode differs");
	pull_plan(theirs.s, theirs.len, ours.s, ours.len, &write, &same, &conflicts);
	CHECK_INT(write.n, 4, "written: what changed there only, and the conflicts");
	/* in the order of their paths */
	CHECK_STR(write.n > 3 ? write.v[3] : NULL,
		  "100644 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa M\tonly there", "as MODE OID ST\\tPATH");
	CHECK_STR(write.n > 1 ? write.v[1] : NULL,
		  "000000 0000000000000000000000000000000000000000 D\tgone there", "a deletion");
	CHECK_INT(same.n, 1, "one is so here already");
	CHECK_STR(same.n ? same.v[0] : NULL, "both, alike", "the one alike");
	CHECK_INT(conflicts.n, 2, "two changed on both sides");
	CHECK_STR(conflicts.n ? conflicts.v[0] : NULL, "both, otherwise", "content");
	CHECK_STR(conflicts.n > 1 ? conflicts.v[1] : NULL, "mode differs", "mode alone");
	strv_free(&write);
	strv_free(&same);
	strv_free(&conflicts);

	/* nothing changed here: all of theirs is written; a cut record ends the list */
	buf_add(&ours, ":100644", 7);
	pull_plan(theirs.s, theirs.len, "", 0, &write, &same, &conflicts);
	CHECK_INT(write.n, 5, "nothing here: everything there is written");
	CHECK_INT(conflicts.n, 0, "and nothing conflicts");
	strv_free(&write);
	pull_plan(theirs.s, theirs.len - 3, "", 0, &write, &same, &conflicts);
	CHECK_INT(write.n, 4, "a record cut short is not read");
	strv_free(&write);
	strv_free(&same);
	strv_free(&conflicts);
	buf_free(&theirs);
	buf_free(&ours);
}

int main(void)
{
	test_paths();
	test_time();
	test_plan();
	return unit_done();
}
