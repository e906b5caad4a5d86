#!/usr/bin/env bats
# Faults in the middle of a sync: a shared connection killed mid-transfer,
# a remote disk that fills up. Real sshd on 127.0.0.1, real repositories.

load test_helper

setup() {
	common_setup
	sshd_start
	repo=$BATS_TEST_TMPDIR/repo
	make_repo "$repo"
	cd "$repo" || return 1
}

teardown() {
	if [ -n "${small_fs:-}" ]; then
		peer_unbind "$small_fs"
		umount "$small_fs" 2>/dev/null
	fi
	common_teardown
}

master_pid() {
	sc status --json "$DEST" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p'
}

# Every file git would sync, with mode and content hash, sorted.
tree_listing() {
	(cd "$1" && git ls-files -co --exclude-standard -z | sort -z |
		xargs -0 -r sh -c 'for f; do printf "%s %s %s\n" "$(stat -c %a "$f")" "$(git hash-object --no-filters "$f" 2>/dev/null || readlink "$f")" "$f"; done' sh)
}

@test "a master killed mid-transfer: the sync reconnects, starts again and completes" {
	sc wait "$DEST"
	# long enough to be caught mid-transfer (a pack of random data takes
	# about a second to make and send), not more
	head -c 30000000 /dev/urandom >big.bin
	sc -v sync --initial-interval 50ms --max-interval 200ms "$DEST" 2>"$BATS_TEST_TMPDIR/err" &
	local sync_pid=$!
	track_pid "$sync_pid"
	# the transfer is under way once the sidecar writes a temporary pack
	wait_until --timeout-ms 20000 sh -c 'ls "$1"/repo/.git/objects/pack/tmp_pack_* >/dev/null 2>&1' sh "$REMOTE_HOME"
	kill -9 "$(master_pid)"
	local status=0
	wait "$sync_pid" || status=$?
	[ "$status" -eq 0 ] || { cat "$BATS_TEST_TMPDIR/err"; false; }
	run grep -c "reconnecting and syncing again" "$BATS_TEST_TMPDIR/err"
	assert_output 1
	cmp big.bin "$REMOTE_HOME/repo/big.bin"
	run ls "$REMOTE_HOME/repo/.git/objects/pack"
	refute_output --partial tmp_pack_
	[ "$(tree_listing "$repo")" = "$(tree_listing "$REMOTE_HOME/repo")" ]
	run -0 sc sync --json "$DEST"
	assert_output --partial '"result":"up-to-date"'
}

@test "a remote disk that fills up: a clear error, and the next sync still works" {
	small_fs=$REMOTE_HOME/small
	mkdir -p "$small_fs"
	if ! mount -t tmpfs -o size=4m tmpfs "$small_fs" 2>/dev/null; then
		small_fs=
		skip "cannot mount a small tmpfs here (needs root)"
	fi
	peer_bind "$small_fs"
	run -0 sc sync -w small/ws "$DEST"
	head -c 6000000 /dev/urandom >big.bin
	run -1 sc sync -w small/ws "$DEST"
	assert_output --partial "the sidecar's disk is full"
	[ ! -e "$small_fs/ws/big.bin" ]
	run ls "$small_fs/ws/.git/objects/pack"
	refute_output --partial tmp_pack_
	rm big.bin
	echo "after the disk filled" >>README.md
	run -0 sc sync --json -w small/ws "$DEST"
	assert_output --partial '"result":"synced"'
	[ "$(tree_listing "$repo")" = "$(tree_listing "$small_fs/ws")" ]
}

# The pids of the git processes among $1's descendants.
git_descendants() {
	local pid
	for pid in $(_sc_descendants "$1"); do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = git ] && echo "$pid"
	done
	return 0
}

# Succeeds when a `git pack-objects` runs under $1.
packing_under() {
	local pid
	for pid in $(_sc_descendants "$1"); do
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'pack-objects' && return 0
	done
	return 1
}

@test "SIGINT while the pack is being made: no git process of that run outlives sidecar" {
	sc wait "$DEST"
	mkdir big
	local i
	for i in $(seq 200); do
		head -c 100000 /dev/urandom >"big/f$i"
	done
	git add big && git commit -q -m big
	"$SIDECAR_BIN" sync "$DEST" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	local pid=$! status=0 gits
	track_pid "$pid"
	wait_until --timeout-ms 20000 packing_under "$pid"
	gits=$(git_descendants "$pid")
	[ -n "$gits" ]
	kill -INT "$pid"
	wait "$pid" || status=$?
	[ "$status" -eq 130 ] || { echo "exit $status" >&2; cat "$BATS_TEST_TMPDIR/err" >&2; false; }
	# shellcheck disable=SC2086 # one pid per word
	_sc_wait_gone 2000 $gits
}
