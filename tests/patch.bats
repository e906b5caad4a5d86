#!/usr/bin/env bats
# patch.bats: `sidecar sync --mode patch`, the seed's algorithm: the sidecar
# clones the local origin URL, and gets `git diff --binary BASE` applied
# after `git reset --hard BASE && git clean -fd`. Against a real sshd on
# 127.0.0.1; the origin is a bare repository on this machine, so the sidecar
# can clone it.

load test_helper
load sync_helper

setup() {
	sync_setup
}

teardown() {
	common_teardown
}

# --- helpers ----------------------------------------------------------------

# psync [ARG]...: `sidecar sync --mode patch --json DEST ARG...` that must
# succeed; leaves the summary in $json (and bats' $output, $stderr).
psync() {
	run_json psync sync --mode patch --json "$DEST" "$@"
}

# some_changes: uncommitted, untracked, deleted and mode-changed files.
some_changes() {
	printf 'changed locally\n' >>README.md
	printf 'untracked\n' >untracked.txt
	mkdir -p newdir
	printf 'deep\n' >newdir/deep.txt
	rm src/lib/answer.c
	chmod -x build.sh
}

# index_snapshot: remember the local index, refreshed first.
index_snapshot() {
	git status --porcelain >/dev/null
	cp .git/index "$BATS_TEST_TMPDIR/index.before"
	git status --porcelain=v1 >"$BATS_TEST_TMPDIR/status.before"
}

# assert_index_untouched: the local index is byte for byte what it was.
assert_index_untouched() {
	cmp .git/index "$BATS_TEST_TMPDIR/index.before"
	git status --porcelain=v1 | diff "$BATS_TEST_TMPDIR/status.before" -
}

# drift_setup: makes the sidecar's workspace differ from what a reset and a
# clean give back: a file the sidecar ignores (so `git clean -fd` keeps it)
# where the local tree has a new, untracked file of the same name; the
# patch that creates it cannot apply.
drift_setup() {
	mkdir -p "$REMOTE/.git/info"
	printf 'generated.out\n' >>"$REMOTE/.git/info/exclude"
	printf 'left behind on the sidecar\n' >"$REMOTE/generated.out"
	printf 'made locally\n' >generated.out
}

# --- syncing ------------------------------------------------------------------

@test "the first patch sync clones origin and applies uncommitted and untracked changes" {
	some_changes
	psync
	assert_field result synced
	assert_field mode patch
	assert_field remote_workdir "$REMOTE"
	[ "$(git -C "$REMOTE" remote get-url origin)" = "$ORIGIN" ]
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse origin/main)" ]
	[ "$(field base)" = "$(git rev-parse origin/main)" ]
	[ -f "$REMOTE/.git/sidecar/created" ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "repeated patch syncs follow the working tree" {
	some_changes
	psync
	printf 'second round\n' >>untracked.txt
	git checkout -q -- README.md
	printf 'again\n' >again.txt
	psync
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
	psync
	assert_same_tree "$LOCAL" "$REMOTE"
	[ ! -e "$REMOTE/.git/sidecar/lock" ]
}

@test "no local changes: 'no local changes relative to remote base', exit 0" {
	printf 'x\n' >untracked.txt
	psync
	rm untracked.txt
	# the first sync left a patch on the sidecar: now the working tree is
	# the base again, and so must be the sidecar
	run --separate-stderr sc sync --mode patch "$DEST"
	assert_success
	run --separate-stderr sc sync --mode patch "$DEST"
	assert_success
	[[ $stderr == *"no local changes relative to remote base"* ]]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "no local changes on the first patch sync: a clean clone, exit 0" {
	run --separate-stderr sc sync --mode patch "$DEST"
	echo "$stderr" >&2
	assert_success
	[ -d "$REMOTE/.git" ]
	assert_same_tree "$LOCAL" "$REMOTE"
	run --separate-stderr sc sync --mode patch "$DEST"
	assert_success
	[[ $stderr == *"no local changes relative to remote base"* ]]
}

@test "patch mode: binary files, modes, symlinks and deletions" {
	printf '\000\001\377binary\000\r\n' >blob.bin
	chmod +x README.md
	ln -s src/lib/answer.c new-link
	ln -sfn build.sh readme-link
	rm "notes with space.txt"
	psync
	assert_same_tree "$LOCAL" "$REMOTE"
	cmp blob.bin "$REMOTE/blob.bin"
	[ "$(readlink "$REMOTE/readme-link")" = build.sh ]
	[ ! -e "$REMOTE/notes with space.txt" ]
	# and the binary file changes again
	dd if=/dev/urandom of=blob.bin bs=1k count=64 status=none
	rm new-link
	psync
	assert_same_tree "$LOCAL" "$REMOTE"
	[ ! -L "$REMOTE/new-link" ]
}

@test "patch mode: file names with spaces, quotes, a newline and non-ASCII" {
	mkdir -p 'dir with space'
	printf 'a\n' >'dir with space/it'\''s "quoted".txt'
	printf 'b\n' >$'new\nline.txt'
	printf 'c\n' >'ünïcødé ✓.txt'
	printf 'd\n' >$'tab\there'
	printf 'e\n' >>"notes with space.txt"
	psync
	assert_same_tree "$LOCAL" "$REMOTE"
	[ -f "$REMOTE/"$'new\nline.txt' ]
}

@test "patch mode: ignored files are not sent, remote build outputs survive" {
	printf 'build/\n*.log\n' >.gitignore
	printf 'log\n' >debug.log
	psync
	[ ! -e "$REMOTE/debug.log" ]
	mkdir -p "$REMOTE/build"
	printf 'object\n' >"$REMOTE/build/out.o"
	printf 'edit\n' >>README.md
	psync
	assert_field saved_ref null
	[ "$(cat "$REMOTE/build/out.o")" = object ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "patch mode: edits made on the remote are saved to refs/sidecar/saved/" {
	some_changes
	psync
	printf 'edited on the sidecar\n' >>"$REMOTE/README.md"
	psync
	assert_field result synced
	local saved
	saved=$(field saved_ref)
	[[ $saved == refs/sidecar/saved/* ]]
	[[ $stderr == *"$saved"* ]]
	git -C "$REMOTE" show "$saved:README.md" | grep -q 'edited on the sidecar'
	assert_same_tree "$LOCAL" "$REMOTE"
	cmp README.md "$REMOTE/README.md"
}

# --- drift ------------------------------------------------------------------------

@test "a drifted workspace is recreated, with a warning" {
	some_changes
	psync
	drift_setup
	psync
	[[ $stderr == *"drifted"* ]]
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
	[ "$(cat "$REMOTE/generated.out")" = 'made locally' ]
	# a new clone: the old exclude line is gone, the marker is back
	run grep -q generated.out "$REMOTE/.git/info/exclude"
	assert_failure
	[ -f "$REMOTE/.git/sidecar/created" ]
}

@test "edits saved before a drifted workspace is recreated survive the recreation" {
	some_changes
	psync
	printf 'edited on the sidecar\n' >>"$REMOTE/README.md"
	drift_setup
	psync
	[[ $stderr == *"drifted"* ]]
	assert_field result synced
	local saved
	saved=$(field saved_ref)
	[[ $saved == refs/sidecar/saved/* ]]
	git -C "$REMOTE" show "$saved:README.md" | grep -q 'edited on the sidecar'
	assert_same_tree "$LOCAL" "$REMOTE"
	# nothing left beside the workspace
	[ -z "$(find "$REMOTE_HOME" -maxdepth 1 -name '*sidecar-saved*')" ]
}

@test "patch mode adopts a clone it did not make (an image with the checkout)" {
	git clone -q "$ORIGIN" "$REMOTE"
	some_changes
	psync --adopt
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
	[ ! -e "$REMOTE/.git/sidecar/created" ]
}

@test "a drifted workspace sidecar did not create is not removed" {
	git clone -q "$ORIGIN" "$REMOTE"
	# sidecar's state directory, as a sync would leave it, but no marker
	mkdir -p "$REMOTE/.git/sidecar"
	[ ! -e "$REMOTE/.git/sidecar/created" ]
	drift_setup
	run --separate-stderr sc sync --mode patch "$DEST"
	assert_failure 1
	[[ $stderr == *"refusing to remove"* ]]
	[[ $stderr == *"did not create"* ]]
	[ -d "$REMOTE/.git" ]
	[ "$(cat "$REMOTE/generated.out")" = 'left behind on the sidecar' ]
	[ -f "$REMOTE/README.md" ]
}

# --- errors --------------------------------------------------------------------------

@test "patch mode without an origin remote: exit 1, 'git remote add origin'" {
	git remote remove origin
	run --separate-stderr sc sync --mode patch "$DEST"
	assert_failure 1
	[[ $stderr == *"git remote add origin"* ]]
	[ ! -e "$REMOTE" ]
}

@test "patch mode in a repository with no commits: exit 1" {
	local fresh=$BATS_TEST_TMPDIR/fresh
	git init -q "$fresh"
	cd "$fresh"
	printf 'x\n' >x
	git add x	# an index, so only the missing commit stands in the way
	git remote add origin "$ORIGIN"
	run --separate-stderr sc sync --mode patch "$DEST"
	assert_failure 1
	[[ $stderr == *"no commits"* ]]
	[ ! -e "$REMOTE_HOME/fresh" ]
}

@test "a base the local repository lacks: exit 1, 'git fetch origin'; the index untouched" {
	some_changes
	psync
	# the sidecar's origin/HEAD moves to a commit only the sidecar has
	git -C "$REMOTE" -c user.name=r -c user.email=r@r commit -q --allow-empty -m 'only here'
	git -C "$REMOTE" update-ref refs/remotes/origin/main "$(git -C "$REMOTE" rev-parse HEAD)"
	index_snapshot
	run --separate-stderr sc sync --mode patch "$DEST"
	assert_failure 1
	[[ $stderr == *"git fetch origin"* ]]
	assert_index_untouched
}

@test "the sidecar cannot clone origin: exit 1, pointing to snapshot mode" {
	git remote set-url origin "$BATS_TEST_TMPDIR/no-such-origin.git"
	run --separate-stderr sc sync --mode patch "$DEST"
	assert_failure 1
	[[ $stderr == *"clone"* ]]
	[[ $stderr == *"snapshot mode"* ]]
}

@test "patch mode leaves the local index byte for byte as it was" {
	printf 'staged\n' >staged.txt
	git add staged.txt
	some_changes
	index_snapshot
	psync
	assert_index_untouched
	assert_same_tree "$LOCAL" "$REMOTE"
	# and after a failed sync
	git -C "$REMOTE" -c user.name=r -c user.email=r@r commit -q --allow-empty -m 'only here'
	git -C "$REMOTE" update-ref refs/remotes/origin/main "$(git -C "$REMOTE" rev-parse HEAD)"
	run --separate-stderr sc sync --mode patch "$DEST"
	assert_failure 1
	assert_index_untouched
	[ "$(git for-each-ref --format='%(refname)' | grep -v '^refs/sidecar/' | tr '\n' ' ')" = \
		'refs/heads/main refs/remotes/origin/HEAD refs/remotes/origin/main ' ]
}

@test "patch mode --dry-run changes nothing on the sidecar" {
	some_changes
	psync
	printf 'more\n' >>README.md
	local before
	before=$(find "$REMOTE" -path "$REMOTE/.git" -prune -o -printf '%p %s %T@ %i\n' | sort)
	run --separate-stderr sc sync --mode patch -n "$DEST"
	assert_success
	[[ $output == *README.md* ]]
	[ "$(find "$REMOTE" -path "$REMOTE/.git" -prune -o -printf '%p %s %T@ %i\n' | sort)" = "$before" ]
}

@test "patch mode --dry-run before the first sync clones nothing" {
	some_changes
	run --separate-stderr sc sync --mode patch --dry-run "$DEST"
	assert_success
	[ ! -e "$REMOTE" ]
}

@test "patch mode --dry-run --json prints one JSON object with result dry-run" {
	some_changes
	psync
	printf 'more\n' >>README.md
	run --separate-stderr sc sync --mode patch --dry-run --json "$DEST"
	assert_success
	json=$output
	jsonget <<<"$json"
	assert_field result dry-run
	assert_field mode patch
}

@test "patch mode with a submodule: the submodule syncs as a snapshot of its own" {
	local sub=$BATS_TEST_TMPDIR/subrepo
	git init -q "$sub"
	printf 'inside\n' >"$sub/inside.txt"
	git -C "$sub" add -A
	git -C "$sub" commit -q -m sub
	git -c protocol.file.allow=always submodule add -q "$sub" sub 2>/dev/null
	git commit -q -m 'add submodule'
	git push -q origin main
	printf 'edit\n' >>README.md
	psync
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
	[ "$(jsonget submodules <<<"$json" | jsonget -e | jsonget mode)" = snapshot ]
	assert_same_tree "$LOCAL/sub" "$REMOTE/sub"
	[ "$(git -C "$REMOTE/sub" rev-parse HEAD)" = "$(git -C sub rev-parse HEAD)" ]
}
