/*
 * test_fidelity: the pure parts of what keeps the sidecar's files the local
 * bytes and its ignore rules the local ones: where core.excludesFile is,
 * which lines of a pattern file are rules, the private config that turns
 * conversions off.
 */
#include "excludes.h"
#include "rawgit.h"
#include "unit.h"

#include <stdlib.h>

static void check_path(const char *value, const char *want, int want_ask, const char *what)
{
	int ask = -1;
	char *got = excludes_path(value, "/home/u", "", "/work/repo", &ask);
	if (want)
		CHECK_STR(got, want, what);
	else
		CHECK(got == NULL, what);
	CHECK_INT(ask, want_ask, what);
	free(got);
}

static void test_excludes_path(void)
{
	int ask;
	char *p;

	check_path(NULL, "/home/u/.config/git/ignore", 0, "unset: the XDG default under HOME");
	p = excludes_path(NULL, "/home/u", "/xdg", "/r", &ask);
	CHECK_STR(p, "/xdg/git/ignore", "unset: $XDG_CONFIG_HOME/git/ignore when it is set");
	free(p);
	check_path("", NULL, 0, "empty: no file");
	check_path("~/.gitignore_global", "/home/u/.gitignore_global", 0, "~/ is HOME");
	check_path("~", "/home/u", 0, "~ alone is HOME");
	check_path("~other/ignore", NULL, 1, "~user: git says where");
	check_path("%(prefix)/etc/ignore", NULL, 1, "%(prefix): git says where");
	check_path("/etc/ignore", "/etc/ignore", 0, "an absolute path as it is");
	check_path("rules/ignore", "/work/repo/rules/ignore", 0, "a relative one from the top of the tree");
	p = excludes_path("~/x", NULL, NULL, "/r", &ask);
	CHECK(p == NULL && ask == 0, "~ without HOME: none, as in git");
	free(p);
}

static void test_excludes_filter(void)
{
	struct buf out = BUF_INIT;
	static const char text[] = "# a comment\n\n*.o\n  spaced  \n\\#not-a-comment\n!keep.o\nlast";

	excludes_filter(text, sizeof text - 1, &out);
	CHECK_STR(out.s, "*.o\n  spaced  \n\\#not-a-comment\n!keep.o\nlast\n",
		  "comments and blank lines go; every other line stays as it is, newline-ended");
	buf_reset(&out);
	excludes_filter("a\0b\nc\n", 6, &out);
	CHECK_STR(out.s, "c\n", "a line with a NUL byte goes");
	buf_reset(&out);
	excludes_filter("", 0, &out);
	CHECK_INT(out.len, 0, "an empty file: no rules");
	buf_free(&out);
}

static void test_rawgit_config(void)
{
	struct buf out = BUF_INIT;
	static const char format[] = "core.repositoryformatversion\n1\0extensions.objectformat\nsha256";

	rawgit_config(format, sizeof format, "/r/.git/config", &out);
	CHECK_STR(out.s, "[core]\n\trepositoryformatversion = \"1\"\n"
		  "[extensions]\n\tobjectformat = \"sha256\"\n"
		  "[include]\n\tpath = \"/r/.git/config\"\n",
		  "the format, then the repository's own config");
	buf_reset(&out);
	rawgit_config(NULL, 0, "/a \"b\"\\c/config", &out);
	CHECK_STR(out.s, "[include]\n\tpath = \"/a \\\"b\\\"\\\\c/config\"\n",
		  "no format keys; a path with quotes and backslashes, quoted");
	CHECK(strstr(RAW_ATTRIBUTES, "-text") && strstr(RAW_ATTRIBUTES, "-filter") &&
	      strstr(RAW_ATTRIBUTES, "-ident") && strstr(RAW_ATTRIBUTES, "-working-tree-encoding"),
	      "the attributes turn off every conversion");
	buf_free(&out);
}

int main(void)
{
	test_excludes_path();
	test_excludes_filter();
	test_rawgit_config();
	return unit_done();
}
