/*
 * test_refs: refs read from git's files, and the root tree an index file
 * names, each against what git itself says in a real repository.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cachetree.h"
#include "refs.h"
#include "snapshot.h"
#include "unit.h"

static char dir[] = "/tmp/sidecar-test-refs.XXXXXX";

/* Runs sh -c cmd in dir; its stdout, chomped, in out (may be NULL). */
static int sh(const char *cmd, struct buf *out)
{
	struct buf full = BUF_INIT;
	char chunk[512];
	size_t n;
	FILE *f;
	int rc;

	buf_addf(&full, "cd '%s' && { %s; }", dir, cmd);
	f = popen(full.s, "r");
	buf_free(&full);
	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (out)
			buf_add(out, chunk, n);
	rc = pclose(f);
	if (out)
		buf_chomp(out);
	return rc;
}

/* The root tree of dir/repo's index as read here, or "" when it is not known. */
static void root(const char *repo, size_t hashlen, char tree[OID_HEX_MAX])
{
	struct buf path = BUF_INIT, data = BUF_INIT;

	buf_addf(&path, "%s/%s/.git/index", dir, repo);
	if (buf_read_file(&data, path.s) != 0 ||
	    !cachetree_root((const unsigned char *)data.s, data.len, hashlen, tree))
		tree[0] = '\0';
	buf_free(&path);
	buf_free(&data);
}

/* In repo, after setup: the root read here is what git write-tree prints. */
static void same_as_git(const char *repo, const char *setup, size_t hashlen, const char *what)
{
	struct buf cmd = BUF_INIT, want = BUF_INIT;
	char got[OID_HEX_MAX];

	buf_addf(&cmd, "cd %s && %s && git write-tree", repo, setup);
	if (sh(cmd.s, &want) != 0)
		buf_reset(&want);
	root(repo, hashlen, got);
	CHECK(want.len > 0, what);
	CHECK_STR(got, buf_str(&want), what);
	buf_free(&cmd);
	buf_free(&want);
}

static void unknown_after(const char *repo, const char *change, size_t hashlen, const char *what)
{
	struct buf cmd = BUF_INIT;
	char got[OID_HEX_MAX];

	buf_addf(&cmd, "cd %s && %s", repo, change);
	CHECK_INT(sh(cmd.s, NULL), 0, what);
	root(repo, hashlen, got);
	CHECK_STR(got, "", what);
	buf_free(&cmd);
}

static void loose_and_packed(void)
{
	char oid[OID_HEX_MAX];
	const char *a = "0123456789abcdef0123456789abcdef01234567";
	const char *packed = "# pack-refs with: peeled fully-peeled sorted \n"
			     "1111111111111111111111111111111111111111 refs/heads/main\n"
			     "2222222222222222222222222222222222222222 refs/sidecar/synced/k\n"
			     "^3333333333333333333333333333333333333333\n"
			     "4444444444444444444444444444444444444444 refs/sidecar/synced/k2";
	struct buf b = BUF_INIT;

	CHECK_INT(ref_parse_loose("0123456789abcdef0123456789abcdef01234567\n", 41, oid), REF_FOUND,
		  "a loose ref");
	CHECK_STR(oid, a, "a loose ref's name");
	CHECK_INT(ref_parse_loose("ref: refs/heads/main\n", 21, oid), REF_UNKNOWN, "a symbolic ref");
	CHECK_INT(ref_parse_loose("0123\n", 5, oid), REF_UNKNOWN, "a short name");
	CHECK_INT(ref_parse_loose("", 0, oid), REF_UNKNOWN, "an empty file");
	CHECK_INT(ref_parse_packed(packed, strlen(packed), "refs/sidecar/synced/k", oid), REF_FOUND,
		  "a packed ref");
	CHECK_STR(oid, "2222222222222222222222222222222222222222", "a packed ref's name, not its peel");
	CHECK_INT(ref_parse_packed(packed, strlen(packed), "refs/sidecar/synced/k2", oid), REF_FOUND,
		  "the last line, without a newline");
	CHECK_STR(oid, "4444444444444444444444444444444444444444", "the last line's name");
	CHECK_INT(ref_parse_packed(packed, strlen(packed), "refs/sidecar/synced", oid), REF_ABSENT,
		  "a prefix is not the ref");
	CHECK_INT(ref_parse_packed(packed, strlen(packed), "refs/heads/mai", oid), REF_ABSENT,
		  "nor is a shorter name");
	sidecar_ref(&b, "synced", "0123abcd");
	CHECK_STR(b.s, "refs/sidecar/synced/0123abcd", "the ref of a place");
	buf_free(&b);
}

/* ref_read against git update-ref and git pack-refs. */
static void read_as_git_wrote(void)
{
	struct buf want = BUF_INIT, common = BUF_INIT;
	char oid[OID_HEX_MAX];

	CHECK_INT(sh("git init -q r && cd r && git commit -q --allow-empty -m one && "
		     "git update-ref refs/sidecar/synced/k HEAD && git rev-parse HEAD", &want), 0,
		  "a repository with a ref");
	buf_addf(&common, "%s/r/.git", dir);
	CHECK_INT(ref_read(common.s, "refs/sidecar/synced/k", oid), REF_FOUND, "a loose ref, read");
	CHECK_STR(oid, buf_str(&want), "as git wrote it");
	CHECK_INT(ref_read(common.s, "refs/sidecar/synced/other", oid), REF_ABSENT, "no such ref");
	CHECK_INT(sh("cd r && git pack-refs --all", NULL), 0, "refs packed");
	CHECK_INT(ref_read(common.s, "refs/sidecar/synced/k", oid), REF_FOUND, "a packed ref, read");
	CHECK_STR(oid, buf_str(&want), "as git packed it");
	buf_reset(&want);
	CHECK_INT(sh("cd r && git commit -q --allow-empty -m two && "
		     "git update-ref refs/sidecar/synced/k HEAD && git rev-parse HEAD", &want), 0,
		  "the ref moves: a loose file again");
	CHECK_INT(ref_read(common.s, "refs/sidecar/synced/k", oid), REF_FOUND, "loose over packed");
	CHECK_STR(oid, buf_str(&want), "the loose file wins");
	CHECK_INT(sh("mkdir r/.git/reftable", NULL), 0, "a reftable directory");
	CHECK_INT(ref_read(common.s, "refs/sidecar/synced/k", oid), REF_UNKNOWN,
		  "reftable: git's to say");
	buf_free(&want);
	buf_free(&common);
}

static void trees(void)
{
	CHECK_INT(sh("git init -q t && cd t && mkdir -p a/b c && echo 1 > a/b/f && echo 2 > c/g && "
		     "echo 3 > top && printf 'x%.0s' $(seq 300) > \"$(printf 'n%.0s' $(seq 200))\" && "
		     "git add -A", NULL), 0, "a repository with files");
	char got[OID_HEX_MAX];
	root("t", 20, got);
	CHECK_STR(got, "", "no tree written yet: not known");
	same_as_git("t", "git write-tree >/dev/null", 20, "format 2, after write-tree");
	unknown_after("t", "echo 4 >> a/b/f && git add -A", 20, "a file changed: not known");
	same_as_git("t", "git write-tree >/dev/null", 20, "known again");
	unknown_after("t", "echo 5 > new && git add -N new", 20, "intent to add (format 3)");
	same_as_git("t", "git rm -q --cached new && git update-index --skip-worktree top && "
		    "git write-tree >/dev/null && test \"$(od -An -tu1 -j7 -N1 .git/index)\" -eq 3", 20,
		    "format 3 (an extended entry)");
	same_as_git("t", "git update-index --index-version 4 && git write-tree >/dev/null", 20,
		    "format 4");
	unknown_after("t", "rm c/g && git add -A", 20, "format 4, a file removed");
	same_as_git("t", "git write-tree >/dev/null", 20, "format 4, known again");
	root("t", 32, got);
	CHECK_STR(got, "", "the wrong hash length: not known");
	if (sh("git init -q --object-format=sha256 s 2>/dev/null", NULL) == 0) {
		CHECK_INT(sh("cd s && echo 1 > f && mkdir d && echo 2 > d/g && git add -A", NULL), 0,
			  "a SHA-256 repository");
		same_as_git("s", "git write-tree >/dev/null", 32, "SHA-256");
	}
	CHECK_INT(cachetree_root((const unsigned char *)"DIRC", 4, 20, got), 0, "a cut file");
}

/* The parent a memo of a snapshot names. */
static void memo_parents(void)
{
	const char *m = "1111111111111111111111111111111111111111\n"
			"tree 2222222222222222222222222222222222222222\n"
			"head 3333333333333333333333333333333333333333\nident\0x\nrules\n";
	const char *unborn = "1111111111111111111111111111111111111111\ntree 22\nhead -\n";
	char parent[OID_HEX_MAX];

	CHECK_INT(local_memo_parent(m, strlen(m) + 8, parent), 1, "a memo's parent");
	CHECK_STR(parent, "3333333333333333333333333333333333333333", "HEAD then");
	CHECK_INT(local_memo_parent(unborn, strlen(unborn), parent), 1, "an unborn branch's memo");
	CHECK_STR(parent, "", "no parent");
	CHECK_INT(local_memo_parent("x\ntree y\nhead zz\n", 17, parent), 0, "not a name");
	CHECK_INT(local_memo_parent("x\ntree y\n", 9, parent), 0, "cut short");
	CHECK_INT(local_memo_parent("", 0, parent), 0, "empty");
}

/* A snapshot made for the copies of a fan-out, as a line and back. */
static void records(void)
{
	static const char *const bad[] = {
		"", "\n",
		"1111111111111111111111111111111111111111 2222222222222222222222222222222222222222 - 0\n",
		"1111111111111111111111111111111111111111 2222222222222222222222222222222222222222 - 0 main",
		"1111111111111111111111111111111111111111 2222222222222222222222222222222222222222 - 2 main\n",
		"111 2222222222222222222222222222222222222222 - 0 main\n",
		"1111111111111111111111111111111111111111 2222222222222222222222222222222222222222 x 0 main\n",
		"1111111111111111111111111111111111111111 2222222222222222222222222222222222222222 - 0 main\nmore",
		"1111111111111111111111111111111111111111  2222222222222222222222222222222222222222 - 0 main\n",
	};
	char snap[] = "1111111111111111111111111111111111111111",
	     tree[] = "2222222222222222222222222222222222222222",
	     head[] = "3333333333333333333333333333333333333333", branch[] = "feature/x";
	struct local l, back;
	struct buf rec = BUF_INIT;

	memset(&l, 0, sizeof l);
	memset(&back, 0, sizeof back);
	l.snapshot = snap;
	l.tree = tree;
	l.head = head;
	l.branch = branch;
	l.has_submodules = 1;
	local_record(&l, &rec);
	CHECK_INT(local_take_record(&back, rec.s), 0, "a record read back");
	CHECK_STR(back.snapshot, l.snapshot, "its snapshot");
	CHECK_STR(back.tree, l.tree, "its tree");
	CHECK_STR(back.head, l.head, "its HEAD");
	CHECK_STR(back.branch, l.branch, "its branch");
	CHECK_INT(back.has_submodules, 1, "its submodules");
	local_record_free(&back);
	CHECK(!back.snapshot && !back.branch, "freed");
	/* an unborn, detached HEAD: no commit, no branch */
	l.head = l.branch = NULL;
	l.has_submodules = 0;
	buf_reset(&rec);
	local_record(&l, &rec);
	CHECK_INT(local_take_record(&back, rec.s), 0, "no HEAD, no branch");
	CHECK(!back.head && !back.branch && !back.has_submodules, "none read back");
	local_record_free(&back);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_INT(local_take_record(&back, bad[i]), -1, bad[i]);
		CHECK(!back.snapshot, "nothing set");
	}
	buf_free(&rec);
}

int main(void)
{
	struct buf rm = BUF_INIT;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("HOME", dir, 1);
	setenv("GIT_AUTHOR_NAME", "t", 1);
	setenv("GIT_AUTHOR_EMAIL", "t@t", 1);
	setenv("GIT_COMMITTER_NAME", "t", 1);
	setenv("GIT_COMMITTER_EMAIL", "t@t", 1);
	loose_and_packed();
	read_as_git_wrote();
	trees();
	memo_parents();
	records();
	buf_addf(&rm, "rm -rf '%s'", dir);
	if (system(rm.s) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	buf_free(&rm);
	return unit_done();
}
