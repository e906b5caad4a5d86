#!/usr/bin/env bats
# shallow.bats: a first sync sends the working tree, not the history
# (DESIGN section 5, snapshot step 4): the sidecar gets the snapshot and
# HEAD's commit, a shallow repository as `git clone --depth 1` leaves, and
# later syncs send only what it lacks, whatever the local history does.

load test_helper
load sync_helper

setup() {
	sync_setup
}

teardown() {
	common_teardown
}

# history N [NAME]: N commits that rewrite NAME.txt (default big: 16 KiB
# of fresh random bytes each time, so the history outweighs the tree) and
# NAME-old.txt.
history() {
	local i name=${2:-big}
	for ((i = 1; i <= $1; i++)); do
		head -c 16384 /dev/urandom | od -An -tx1 >"$name.txt"
		echo "version $i" >"$name-old.txt"
		git add "$name.txt" "$name-old.txt"
		git commit -qm "version $i"
	done
}

# remote_ok: the sidecar's history is whole as far as it goes: every
# commit and tree reachable from its refs is there (rev-list --objects
# walks them all and fails on a missing one).
remote_ok() {
	git -C "$REMOTE" rev-list --objects --all >/dev/null
	[ "$(git -C "$REMOTE" status --porcelain)" = "$(git status --porcelain)" ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a first sync is shallow: the snapshot and HEAD's commit only" {
	history 20
	echo "uncommitted" >>README.md
	sync_json
	[ "$(git -C "$REMOTE" rev-parse --is-shallow-repository)" = true ]
	[ "$(cat "$REMOTE/.git/shallow")" = "$(git rev-parse HEAD)" ]
	[ "$(git -C "$REMOTE" rev-list --count HEAD)" -eq 1 ]
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
	git -C "$REMOTE" log -1 --format=%s | grep -qx "version 20"
	[ "$(git -C "$REMOTE" diff --stat | tail -n 1)" = "$(git diff --stat | tail -n 1)" ]
	remote_ok
	# the tree, not the history: under two versions of big.txt
	echo "# first sync: $(field bytes_sent) bytes" >&3
	[ "$(field bytes_sent)" -lt $((2 * 16384 * 3 + 20000)) ]
}

@test "a file brought back from old history is sent to a shallow sidecar" {
	history 5
	sync_json
	git show HEAD~3:big.txt >big.txt
	git show HEAD~3:big-old.txt >big-old.txt
	sync_json
	assert_field result synced
	remote_ok
}

@test "commits on top of a shallow sidecar join its history" {
	history 5
	sync_json
	history 3
	sync_json
	assert_field round_trips 1
	[ "$(git -C "$REMOTE" rev-list --count HEAD)" -eq 4 ]
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
	remote_ok
}

@test "a rebase after a shallow first sync" {
	history 3
	git checkout -q -b feature
	history 2 feature
	sync_json
	git checkout -q main
	history 4
	git checkout -q feature
	git rebase -q main
	echo "after the rebase" >>README.md
	sync_json
	assert_field result synced
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
	remote_ok
}

@test "a switch to a branch of unrelated, long history cuts it again" {
	history 2
	sync_json
	# 1,100 commits of another history, made at once by fast-import
	{
		local i
		for ((i = 1; i <= 1100; i++)); do
			printf 'commit refs/heads/other\ncommitter T <t@t> %d +0000\ndata 2\nc\n' $((1000000 + i))
			[ "$i" -gt 1 ] || printf 'deleteall\n'
			printf 'M 644 inline other.txt\ndata %d\n%s\n\n' $((${#i} + 1)) "$i"
		done
	} | git fast-import --quiet
	git checkout -q other
	sync_json
	assert_field result synced
	[ "$(git -C "$REMOTE" rev-list --count HEAD)" -eq 1 ]
	grep -qx "$(git rev-parse HEAD)" "$REMOTE/.git/shallow"
	remote_ok
	# and back: main's commit is still there, so only the snapshot moves
	git checkout -q main
	sync_json
	assert_field result synced
	remote_ok
}

@test "a shallow local clone syncs, and so does its next commit" {
	history 4
	git push -q origin main
	git clone -q --depth 1 "file://$ORIGIN" "$BATS_TEST_TMPDIR/thin"
	cd "$BATS_TEST_TMPDIR/thin"
	LOCAL=$PWD
	REMOTE=$REMOTE_HOME/thin
	sync_json
	remote_ok
	[ "$(git -C "$REMOTE" rev-parse --is-shallow-repository)" = true ]
	history 1
	sync_json
	assert_field result synced
	remote_ok
}

@test "a pre-cloned sidecar with full history stays whole and gets only what it lacks" {
	history 5
	git push -q origin main
	git clone -q "$ORIGIN" "$REMOTE"
	history 2
	sync_json --adopt
	assert_field result synced
	[ "$(git -C "$REMOTE" rev-parse --is-shallow-repository)" = false ]
	[ "$(git -C "$REMOTE" rev-list --count HEAD)" -eq "$(git rev-list --count HEAD)" ]
	remote_ok
}

@test "--depth 3 keeps three commits below the snapshot; --depth 0 all of them" {
	history 6
	sync_json --depth 3 -w three
	[ "$(git -C "$REMOTE_HOME/three" rev-list --count HEAD)" -eq 3 ]
	[ "$(git -C "$REMOTE_HOME/three" rev-parse --is-shallow-repository)" = true ]
	sync_json --depth 0 -w all
	[ "$(git -C "$REMOTE_HOME/all" rev-list --count HEAD)" -eq "$(git rev-list --count HEAD)" ]
	[ "$(git -C "$REMOTE_HOME/all" rev-parse --is-shallow-repository)" = false ]
}

@test "sidecar.depth is the default of --depth; a bad value is a usage error" {
	history 4
	git config sidecar.depth 2
	sync_json
	[ "$(git -C "$REMOTE" rev-list --count HEAD)" -eq 2 ]
	run --separate-stderr sc sync --depth two "$DEST"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"invalid depth 'two' for --depth"* ]]
	git config sidecar.depth -1
	run --separate-stderr sc sync "$DEST"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"invalid depth '-1' in git config sidecar.depth"* ]]
}

@test "one file edited after many others goes as a delta of the last snapshot" {
	local i
	mkdir many
	for ((i = 0; i < 300; i++)); do echo "file $i" >"many/f$i.txt"; done
	git add many && git commit -qm "many files"
	sync_json
	# 200 uncommitted edits, each a line git cannot squeeze, synced
	for ((i = 0; i < 200; i++)); do od -An -N16 -tx1 /dev/urandom >>"many/f$i.txt"; done
	sync_json
	assert_field files_changed 200
	# then one more: the pack is thin against the last snapshot, not HEAD
	# (against HEAD it would carry the 200 again: over 10 KB)
	echo "one more line" >>many/f299.txt
	sync_json
	assert_field files_changed 1
	echo "# one file after 200: $(field bytes_sent) bytes" >&3
	[ "$(field bytes_sent)" -lt 2048 ]
	remote_ok
}
