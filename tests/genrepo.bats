#!/usr/bin/env bats
# genrepo.bats: tests/helpers/genrepo, the generator of make bench's
# repository: a fast-import stream that is the same for the same arguments,
# with the files, history and odd names a real project has.

load test_helper

GENREPO=$_SC_ROOT/tests/helpers/genrepo

setup() {
	common_setup
	[ -x "$GENREPO" ] || {
		echo "missing $GENREPO: run 'make build-tests'" >&2
		return 1
	}
}

teardown() {
	common_teardown
}

# gen DIR FILES COMMITS SEED: a bare repository from the stream
gen() {
	git init -q --bare "$1"
	"$GENREPO" "$2" "$3" "$4" | git -C "$1" fast-import --quiet
}

@test "genrepo: the same arguments give the same history, another seed another" {
	gen "$BATS_TEST_TMPDIR/a.git" 80 60 7
	gen "$BATS_TEST_TMPDIR/b.git" 80 60 7
	gen "$BATS_TEST_TMPDIR/c.git" 80 60 8
	a=$(git -C "$BATS_TEST_TMPDIR/a.git" rev-parse main)
	assert_equal "$(git -C "$BATS_TEST_TMPDIR/b.git" rev-parse main)" "$a"
	[ "$(git -C "$BATS_TEST_TMPDIR/c.git" rev-parse main)" != "$a" ]
}

@test "genrepo: at least FILES files, COMMITS commits, a history that edits the same files again" {
	gen "$BATS_TEST_TMPDIR/r.git" 120 300 1
	r=$BATS_TEST_TMPDIR/r.git
	[ "$(git -C "$r" ls-tree -r main | wc -l)" -ge 120 ]
	[ "$(git -C "$r" rev-list --count main)" -ge 300 ]
	# some file was changed by many commits
	top=$(git -C "$r" log --format= --name-only main | sort | uniq -c | sort -rn | awk 'NR == 1 { print $1 }')
	[ "$top" -ge 20 ]
	# the history holds far more blobs than the tree
	[ "$(git -C "$r" rev-list --objects --all | wc -l)" -gt $((3 * $(git -C "$r" ls-tree -r main | wc -l))) ]
}

@test "genrepo: ignore rules, attributes, a symlink, an executable, odd names, nested directories, binaries" {
	gen "$BATS_TEST_TMPDIR/r.git" 60 20 1
	run -0 git -C "$BATS_TEST_TMPDIR/r.git" -c core.quotePath=false ls-tree -r main
	assert_line --regexp $'^100644 blob [0-9a-f]+\t\\.gitignore$'
	assert_line --regexp $'^100644 blob [0-9a-f]+\tdocs/\\.gitignore$'
	assert_line --regexp $'^100644 blob [0-9a-f]+\t\\.gitattributes$'
	assert_line --regexp $'^120000 blob [0-9a-f]+\tdocs/LATEST$'
	assert_line --regexp $'^100755 blob [0-9a-f]+\ttools/run tests\\.sh$'
	assert_line --regexp $'\tsrc/with space/file name\\.c$'
	assert_line --partial $'\tdocs/caf\xc3\xa9/r\xc3\xa9sum\xc3\xa9 na\xc3\xafve.txt'
	assert_line --regexp $'\tassets/firmware\\.bin$'
	assert_line --regexp $'\t[a-z_]+/[a-z]+/[a-z]+[0-9]/[^/]+$'
	[ "$(git -C "$BATS_TEST_TMPDIR/r.git" cat-file -s main:assets/firmware.bin)" -ge 1000000 ]
}

@test "genrepo: bad arguments are a usage error" {
	run -2 "$GENREPO"
	assert_output --partial "usage: genrepo"
	run -2 "$GENREPO" 10 5 1
	run -2 "$GENREPO" 100 zero 1
}
