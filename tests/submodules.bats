#!/usr/bin/env bats
# submodules.bats: initialized submodules are synced too, each as its own
# repository at its path in the workspace (its own snapshot, base and
# saved edits), nested ones as well; uninitialized ones are left alone
# with one line; --no-submodules and sidecar.submodules=false keep them
# out. Against a real sshd on 127.0.0.1.

load test_helper
load sync_helper

# sub_repo DIR NAME: a repository with one commit, NAME.txt in it.
sub_repo() {
	git init -q "$1"
	printf '%s\n' "$2" >"$1/$2.txt"
	git -C "$1" add -A
	git -C "$1" commit -q -m "$2"
}

# add_sub URL PATH [REPO]: git submodule add, from local paths.
add_sub() {
	git -C "${3:-.}" -c protocol.file.allow=always submodule add -q "$1" "$2" 2>/dev/null
}

setup() {
	sync_setup
	sub_repo "$BATS_TEST_TMPDIR/nested" nested
	sub_repo "$BATS_TEST_TMPDIR/lib" lib
	add_sub "$BATS_TEST_TMPDIR/nested" deep "$BATS_TEST_TMPDIR/lib"
	git -C "$BATS_TEST_TMPDIR/lib" commit -q -m 'nested submodule'
	sub_repo "$BATS_TEST_TMPDIR/other" other
	add_sub "$BATS_TEST_TMPDIR/lib" vendor/lib
	add_sub "$BATS_TEST_TMPDIR/other" other
	git commit -q -m 'two submodules'
	git -c protocol.file.allow=always submodule update -q --init --recursive vendor/lib
	git submodule deinit -q other
}

teardown() {
	common_teardown
}

# sub N... KEY: KEY of the object of submodule N (from 0) of the last
# summary, of its submodule N after a second N, and so on.
sub() {
	local obj=$json
	while [ $# -gt 1 ]; do
		obj=$(jsonget submodules <<<"$obj" | jsonget -e | sed -n "$(($1 + 1))p")
		shift
	done
	jsonget "$1" <<<"$obj"
}

# same_status DIR: git status alike here and on the sidecar, in DIR.
same_status() {
	local here there
	here=$(git -C "$LOCAL/$1" status --porcelain)
	there=$(git -C "$REMOTE/$1" status --porcelain)
	if [ "$here" != "$there" ]; then
		echo "git status in '$1' differs: here '$here', there '$there'" >&2
		return 1
	fi
}

@test "initialized submodules sync as repositories of their own, nested ones too; an uninitialized one is left alone, said once" {
	printf 'edited in the submodule\n' >>vendor/lib/lib.txt
	printf 'new in the nested one\n' >vendor/lib/deep/new.txt
	sync_json
	[ "$(grep -c 'submodule other is not initialized here' <<<"$stderr")" -eq 1 ]
	[[ "$stderr" == *"submodule other is not initialized here: left alone on $DEST ('git submodule update --init' to sync it)"* ]]
	assert_same_tree "$LOCAL/vendor/lib" "$REMOTE/vendor/lib"
	assert_same_tree "$LOCAL/vendor/lib/deep" "$REMOTE/vendor/lib/deep"
	same_status .
	same_status vendor/lib
	same_status vendor/lib/deep
	[ "$(git -C "$REMOTE/vendor/lib" rev-parse HEAD)" = "$(git -C vendor/lib rev-parse HEAD)" ]
	[ "$(git -C "$REMOTE/vendor/lib/deep" rev-parse HEAD)" = "$(git -C vendor/lib/deep rev-parse HEAD)" ]
	# the uninitialized one: an empty directory there, as here
	[ -d "$REMOTE/other" ] && [ -z "$(ls -A "$REMOTE/other")" ]
	# each is its own workspace: its own snapshot, one object each, nested
	[ "$(sub 0 path)" = vendor/lib ]
	[ "$(sub 0 workdir)" = proj/vendor/lib ]
	[ "$(sub 0 result)" = synced ]
	[ "$(sub 0 0 path)" = deep ]
	[ "$(sub 0 0 workdir)" = proj/vendor/lib/deep ]
	[ "$(sub 0 0 files_changed)" = 2 ]
	[ "$(git -C "$REMOTE/vendor/lib" rev-parse refs/sidecar/workspace/synced)" = \
		"$(sub 0 snapshot)" ]
}

@test "an edit inside a submodule alone syncs that submodule alone; a commit there moves the superproject too" {
	sync_json
	printf 'later\n' >>vendor/lib/deep/nested.txt
	sync_json
	assert_field result up-to-date
	[ "$(sub 0 result)" = up-to-date ]
	[ "$(sub 0 0 result)" = synced ]
	[ "$(sub 0 0 files_changed)" = 1 ]
	cmp vendor/lib/deep/nested.txt "$REMOTE/vendor/lib/deep/nested.txt"
	git -C vendor/lib/deep commit -q -am 'a commit in the nested one'
	sync_json
	assert_field result up-to-date
	[ "$(sub 0 result)" = synced ]
	same_status .
	same_status vendor/lib
	same_status vendor/lib/deep
	[ "$(git -C "$REMOTE/vendor/lib/deep" rev-parse HEAD)" = "$(git -C vendor/lib/deep rev-parse HEAD)" ]
}

@test "an edit made inside a submodule on the sidecar is saved there before it is overwritten" {
	sync_json
	printf 'edited on the sidecar\n' >"$REMOTE/vendor/lib/lib.txt"
	printf 'edited here\n' >vendor/lib/lib.txt
	sync_json
	local ref
	ref=$(sub 0 saved_ref)
	[[ "$ref" == refs/sidecar/saved/* ]]
	[ "$(git -C "$REMOTE/vendor/lib" show "$ref:lib.txt")" = 'edited on the sidecar' ]
	cmp vendor/lib/lib.txt "$REMOTE/vendor/lib/lib.txt"
	# and the superproject saved nothing
	[ "$(field saved_ref)" = null ]
}

@test "--no-submodules and sidecar.submodules=false leave them out, silently; a bad value is a usage error" {
	sync_json --no-submodules
	[[ "$stderr" != *submodule* ]]
	[ -z "$(ls -A "$REMOTE/vendor/lib")" ]
	run jsonget -k submodules <<<"$json"
	[ "$status" -eq 1 ]
	git config sidecar.submodules false
	sync_json
	[ -z "$(ls -A "$REMOTE/vendor/lib")" ]
	git config sidecar.submodules maybe
	run --separate-stderr sc sync "$DEST"
	[ "$status" -eq 2 ]
	[ "$stderr" = "sidecar: invalid value 'maybe' in git config sidecar.submodules: use true or false" ]
	# the option wins over the setting, a bad one too
	sync_json --no-submodules
	[ -z "$(ls -A "$REMOTE/vendor/lib")" ]
	git config sidecar.submodules true
	sync_json
	[ -f "$REMOTE/vendor/lib/lib.txt" ]
	run --separate-stderr sc -q sync "$DEST"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
}

@test "a submodule removed here after a sync: the superproject syncs without saving its workspace as an edit each time" {
	sync_json
	git rm -q vendor/lib
	git commit -q -m 'no more lib'
	sync_json
	assert_field result synced
	sync_json
	assert_field result up-to-date
	assert_field saved_ref null
	printf 'edit\n' >>README.md
	sync_json
	assert_field saved_ref null
	# its workspace stays there, with its files, untracked: nothing is lost
	[ "$(git -C "$REMOTE" status --porcelain)" = "$(printf ' M README.md\n?? vendor/')" ]
	[ -f "$REMOTE/vendor/lib/lib.txt" ]
	[ "$(git -C "$REMOTE/vendor/lib" rev-parse HEAD)" = "$(git -C "$BATS_TEST_TMPDIR/lib" rev-parse HEAD)" ]
}

@test "a git repository made inside the workspace on the sidecar is neither saved nor removed" {
	sync_json --no-submodules
	git init -q "$REMOTE/scratch"
	printf 'x\n' >"$REMOTE/scratch/x"
	git -C "$REMOTE/scratch" add x
	git -C "$REMOTE/scratch" commit -q -m x
	printf 'edit\n' >>README.md
	sync_json --no-submodules
	assert_field result synced
	assert_field saved_ref null
	[ -f "$REMOTE/scratch/x" ]
	sync_json --no-submodules
	assert_field result up-to-date
}

@test "a dry run says what each submodule would get, and changes nothing there" {
	sync_json
	printf 'edited\n' >>vendor/lib/lib.txt
	sync_json --dry-run
	assert_field result dry-run
	assert_field files_changed 0
	[ "$(sub 0 result)" = dry-run ]
	[ "$(sub 0 files_changed)" = 1 ]
	! cmp -s vendor/lib/lib.txt "$REMOTE/vendor/lib/lib.txt"
}

@test "run with submodules: they sync before the command, which runs in a session after" {
	sync_json
	printf 'edited in the submodule\n' >>vendor/lib/lib.txt
	run -0 --separate-stderr sc run "$DEST" -- git -C vendor/lib status --porcelain
	[ "$output" = "$(git -C vendor/lib status --porcelain)" ]
	[ "$output" = " M lib.txt" ]
}
