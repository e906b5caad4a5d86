#!/usr/bin/env bats
# fanout.bats: one sync to several sidecars at once: one local snapshot,
# one copy of sidecar per destination, each with its own connection and
# retries, against several real sshd instances on 127.0.0.1.

load test_helper
load sync_helper

setup() {
	sync_setup
}

teardown() {
	common_teardown
}

# extra_sidecar NAME [--later]: one more sshd on 127.0.0.1, with the same
# keys as the first, whose sessions live in their own home
# ($BATS_TEST_TMPDIR/home-NAME); ssh knows it as the Host alias NAME. With
# --later it is only configured (a machine still booting): start_sidecar
# NAME starts it.
extra_sidecar() {
	local name=$1 dir="$BATS_TEST_TMPDIR/sshd" port home
	port=$(free_port) || return 1
	home=$BATS_TEST_TMPDIR/home-$name
	mkdir -p "$home"
	sed -e "s|^ListenAddress .*|ListenAddress 127.0.0.1:$port|" \
		-e "s|^PidFile .*|PidFile $dir/$name.pid|" \
		-e "s|^AuthorizedKeysFile .*|AuthorizedKeysFile $dir/$name.keys|" \
		"$dir/sshd_config" >"$dir/$name.config"
	sed "s|HOME=[^\"]*|HOME=$home|" "$dir/authorized_keys" >"$dir/$name.keys"
	printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" \
		>>"$BATS_TEST_TMPDIR/known_hosts"
	printf 'Host %s\n\tHostName 127.0.0.1\n\tPort %s\n\tUser %s\n' "$name" "$port" "$(id -un)" \
		>>"$SSH_CONFIG"
	[ "${2:-}" = --later ] || start_sidecar "$name"
}

start_sidecar() {
	local name=$1 dir="$BATS_TEST_TMPDIR/sshd"
	$(_sc_sshd_prog) -D -f "$dir/$name.config" -E "$dir/$name.log" \
		</dev/null >>"$dir/$name.out" 2>&1 3>&- &
	_sc_track $!
	wait_until --timeout-ms 5000 test -s "$dir/$name.pid" || {
		cat "$dir/$name.out" >&2
		return 1
	}
}

# dead_sidecar NAME: a Host alias NAME for a port nothing listens on.
dead_sidecar() {
	printf 'Host %s\n\tHostName 127.0.0.1\n\tPort %s\n' "$1" "$(free_port)" >>"$SSH_CONFIG"
}

# both_running CMDLINE: the command runs on two sidecars.
both_running() {
	[ "$(remote_pids "$1" | wc -w)" -eq 2 ]
}

# elements: the objects of the JSON array in $output, one a line, into $objs.
elements() {
	mapfile -t objs < <(jsonget -e <<<"$output")
}

@test "three sidecars at once: all equal to the local tree; one JSON object each, in the order named" {
	extra_sidecar b
	extra_sidecar c
	printf 'changed\n' >>README.md
	printf 'new\n' >untracked.txt
	run -0 --separate-stderr sc sync --json "$DEST" b c
	elements
	[ "${#objs[@]}" -eq 3 ]
	local i d
	for i in 0 1 2; do
		d=$(jsonget dest <<<"${objs[i]}")
		[ "$d" = "$(printf '%s\n' "$DEST" b c | sed -n "$((i + 1))p")" ]
		[ "$(jsonget result <<<"${objs[i]}")" = synced ]
		[ "$(jsonget workdir <<<"${objs[i]}")" = proj ]
		[ "$(jsonget handshakes <<<"${objs[i]}")" = 1 ]
	done
	# one snapshot for all
	[ "$(jsonget snapshot <<<"${objs[0]}")" = "$(jsonget snapshot <<<"${objs[1]}")" ]
	[ "$(jsonget snapshot <<<"${objs[0]}")" = "$(jsonget snapshot <<<"${objs[2]}")" ]
	assert_same_tree "$LOCAL" "$REMOTE"
	assert_same_tree "$LOCAL" "$BATS_TEST_TMPDIR/home-b/proj"
	assert_same_tree "$LOCAL" "$BATS_TEST_TMPDIR/home-c/proj"
	[[ $stderr == *"3 destinations: 3 synced, 0 up to date"* ]]
	# again: each is up to date, and says so on its own line
	run -0 --separate-stderr sc sync "$DEST" b c
	[[ $stderr == *"$DEST:proj is up to date"* ]]
	[[ $stderr == *"b:proj is up to date"* ]]
	[[ $stderr == *"c:proj is up to date"* ]]
	[[ $stderr == *"3 destinations: 0 synced, 3 up to date"* ]]
	[ -z "$output" ]
}

@test "one booting late and one unreachable: the others sync, the dead one is exit 4, and it delays no one" {
	extra_sidecar late --later
	dead_sidecar dead
	sc_background sync --max-wait 20s --initial-interval 100ms --max-interval 300ms \
		dead late "$DEST"
	# the late one boots once it has been waited for
	wait_until --timeout-ms 20000 grep -q 'waiting for late to accept SSH' "$BATS_TEST_TMPDIR/err"
	start_sidecar late
	# both reachable ones synced while the dead one is still waited for
	wait_until --timeout-ms 20000 grep -q 'synced late:proj' "$BATS_TEST_TMPDIR/err"
	wait_until --timeout-ms 20000 grep -q "synced $DEST:proj" "$BATS_TEST_TMPDIR/err"
	! grep -q 'gave up' "$BATS_TEST_TMPDIR/err"
	local rc=0
	wait "$SC_PID" || rc=$?
	[ "$rc" -eq 4 ] || fail "exit $rc: $(cat "$BATS_TEST_TMPDIR/err")"
	grep -q "gave up on dead after" "$BATS_TEST_TMPDIR/err"
	grep -q "1 of 3 destinations failed: dead (exit 4)" "$BATS_TEST_TMPDIR/err"
	assert_same_tree "$LOCAL" "$REMOTE"
	assert_same_tree "$LOCAL" "$BATS_TEST_TMPDIR/home-late/proj"
	# --json: one array, in the order named, the dead one's object short
	run -4 --separate-stderr sc sync --json --max-wait 1s --initial-interval 100ms dead late "$DEST"
	elements
	[ "${#objs[@]}" -eq 3 ]
	[ "${objs[0]}" = '{"dest":"dead","workdir":"proj","mode":"snapshot","result":"failed","exit_status":4}' ]
	[ "$(jsonget dest <<<"${objs[1]}")" = late ]
	[ "$(jsonget result <<<"${objs[1]}")" = up-to-date ]
	[ "$(jsonget dest <<<"${objs[2]}")" = "$DEST" ]
	[ "$(jsonget result <<<"${objs[2]}")" = up-to-date ]
}

@test "the most severe status wins: 4 over 3 over 1" {
	dead_sidecar dead
	# a host whose key is not the one known: permanent, 3
	local port
	port=$(sed -n 's/^ListenAddress 127.0.0.1://p' "$BATS_TEST_TMPDIR/sshd/sshd_config")
	printf 'Host badkey\n\tHostName localhost\n\tPort %s\n\tStrictHostKeyChecking yes\n' \
		"$port" >>"$SSH_CONFIG"
	run -3 --separate-stderr sc sync badkey "$DEST"
	[[ $stderr == *"1 of 2 destinations failed: badkey (exit 3)"* ]]
	run -4 --separate-stderr sc sync --max-wait 1s --initial-interval 100ms badkey dead "$DEST"
	[[ $stderr == *"2 of 3 destinations failed: badkey (exit 3), dead (exit 4)"* ||
		$stderr == *"2 of 3 destinations failed: dead (exit 4), badkey (exit 3)"* ]]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "--dest-file and a sidecar.destination that names several" {
	extra_sidecar b
	printf '# the pool\n%s\n\n  b  \n' "$DEST" >"$BATS_TEST_TMPDIR/pool"
	run -0 --separate-stderr sc sync --dest-file "$BATS_TEST_TMPDIR/pool"
	[[ $stderr == *"2 destinations: 2 synced, 0 up to date"* ]]
	assert_same_tree "$LOCAL" "$BATS_TEST_TMPDIR/home-b/proj"
	printf 'more\n' >>README.md
	run -0 --separate-stderr sc sync --dest-file - <"$BATS_TEST_TMPDIR/pool"
	[[ $stderr == *"2 destinations: 2 synced, 0 up to date"* ]]
	printf 'again\n' >>README.md
	git config sidecar.destination "$DEST b"
	run -0 --separate-stderr sc sync
	[[ $stderr == *"2 destinations: 2 synced, 0 up to date"* ]]
	assert_same_tree "$LOCAL" "$REMOTE"
	assert_same_tree "$LOCAL" "$BATS_TEST_TMPDIR/home-b/proj"
	# a destination named twice is synced once
	run -0 --separate-stderr sc sync "$DEST" "$DEST"
	[[ $stderr == *"$DEST:proj is up to date"* ]]
	[[ $stderr != *destinations* ]]
}

@test "--jobs 1: one at a time, all the same" {
	extra_sidecar b
	run -0 --separate-stderr sc sync --jobs 1 --json b "$DEST"
	elements
	[ "${#objs[@]}" -eq 2 ]
	assert_same_tree "$LOCAL" "$REMOTE"
	assert_same_tree "$LOCAL" "$BATS_TEST_TMPDIR/home-b/proj"
}

@test "the local snapshot is made once for every destination" {
	extra_sidecar b
	extra_sidecar c
	printf 'changed\n' >>README.md
	mkdir -p "$BATS_TEST_TMPDIR/trace"
	run -0 --separate-stderr sc -v sync "$DEST" b c
	# the scan's `add -A` and the snapshot's commit-tree, once each
	[ "$(grep -c ' add -A' <<<"$stderr")" -eq 1 ]
	[ "$(grep -c 'commit-tree' <<<"$stderr")" -eq 1 ]
}

@test "steady state: each copy takes its base from its own memo, and no git of its own reads it" {
	extra_sidecar b
	extra_sidecar c
	run -0 sc sync "$DEST" b c
	printf 'changed again\n' >>README.md
	run -0 --separate-stderr sc -v sync "$DEST" b c
	# the snapshot's parents, read by git only when no memo says them
	[ "$(grep -c 'rev-parse .*\^@' <<<"$stderr")" -eq 0 ]
	[ "$(grep -c 'pack-objects' <<<"$stderr")" -eq 3 ]
	assert_same_tree "$LOCAL" "$REMOTE"
	assert_same_tree "$LOCAL" "$BATS_TEST_TMPDIR/home-b/proj"
	assert_same_tree "$LOCAL" "$BATS_TEST_TMPDIR/home-c/proj"
	# the memos gone: git reads the parents, once for each copy
	rm "$XDG_RUNTIME_DIR"/sidecar/snap-*
	printf 'and again\n' >>README.md
	run -0 --separate-stderr sc -v sync "$DEST" b c
	[ "$(grep -c 'rev-parse .*\^@' <<<"$stderr")" -eq 3 ]
	assert_same_tree "$LOCAL" "$BATS_TEST_TMPDIR/home-c/proj"
}

# session_counts: how many sessions each sshd of this suite's three has
# started, space separated.
session_counts() {
	local log n=()
	for log in "$SSHD_LOG" "$BATS_TEST_TMPDIR/sshd/b.log" "$BATS_TEST_TMPDIR/sshd/c.log"; do
		n+=("$(grep -c 'Starting session' "$log")")
	done
	echo "${n[*]}"
}

@test "the copies start their sessions while the snapshot is made; a snapshot that fails stops them, said once" {
	extra_sidecar b
	extra_sidecar c
	run -0 sc sync "$DEST" b c
	# a git whose commit-tree goes on only once every sidecar has
	# started a session more than now (a bounded poll: else it fails,
	# and so does the sync)
	local real
	real=$(command -v git)
	cat >"$BATS_TEST_TMPDIR/bin/git" <<-EOF
	#!/bin/bash
	[ "\$1" = commit-tree ] || exec "$real" "\$@"
	[ -z "\${FAIL_SNAPSHOT:-}" ] || { echo "fatal: a staged snapshot failure" >&2; exit 128; }
	before=($(session_counts))
	logs=("$SSHD_LOG" "$BATS_TEST_TMPDIR/sshd/b.log" "$BATS_TEST_TMPDIR/sshd/c.log")
	for _ in \$(seq 1000); do
		more=0
		for i in 0 1 2; do
			[ "\$(grep -c 'Starting session' "\${logs[i]}")" -gt "\${before[i]}" ] && more=\$((more + 1))
		done
		[ "\$more" -eq 3 ] && exec "$real" "\$@"
		sleep 0.01
	done
	echo "fatal: no session started while the snapshot was made" >&2
	exit 128
	EOF
	chmod 755 "$BATS_TEST_TMPDIR/bin/git"
	printf 'changed\n' >>README.md
	SIDECAR_GIT=$BATS_TEST_TMPDIR/bin/git run -0 --separate-stderr sc sync "$DEST" b c
	assert_same_tree "$LOCAL" "$REMOTE"
	assert_same_tree "$LOCAL" "$BATS_TEST_TMPDIR/home-b/proj"
	assert_same_tree "$LOCAL" "$BATS_TEST_TMPDIR/home-c/proj"
	# the snapshot fails: its error once, no summary; nothing changed there
	printf 'changed again\n' >>README.md
	FAIL_SNAPSHOT=1 SIDECAR_GIT=$BATS_TEST_TMPDIR/bin/git run -1 --separate-stderr sc sync "$DEST" b c
	[ "$(grep -c 'a staged snapshot failure' <<<"$stderr")" -eq 1 ]
	[[ $stderr != *"destinations"* ]]
	[ -z "$output" ]
	for home in "$REMOTE_HOME" "$BATS_TEST_TMPDIR/home-b" "$BATS_TEST_TMPDIR/home-c"; do
		[ "$(tail -n 1 "$home/proj/README.md")" = changed ]
		[ -z "$(git -C "$home/proj" for-each-ref refs/sidecar/saved)" ]
	done
	# one at a time: after the failure, no other copy starts
	local before
	before=$(session_counts)
	FAIL_SNAPSHOT=1 SIDECAR_GIT=$BATS_TEST_TMPDIR/bin/git run -1 --separate-stderr \
		sc sync --jobs 1 "$DEST" b c
	[ "$(grep -c 'a staged snapshot failure' <<<"$stderr")" -eq 1 ]
	[ "$(session_counts | cut -d' ' -f2-)" = "$(cut -d' ' -f2- <<<"$before")" ]
}

@test "usage: a bad --jobs, an empty or missing --dest-file (exit 2); nothing created" {
	run -2 --separate-stderr sc sync --jobs 0 "$DEST" b
	[[ $stderr == *"invalid value '0' for --jobs"* ]]
	run -2 --separate-stderr sc sync --jobs x "$DEST"
	printf '# nobody\n\n' >"$BATS_TEST_TMPDIR/empty"
	run -2 --separate-stderr sc sync --dest-file "$BATS_TEST_TMPDIR/empty"
	[[ $stderr == *"names no destination"* ]]
	run -2 --separate-stderr sc sync --dest-file "$BATS_TEST_TMPDIR/missing"
	[[ $stderr == *"cannot read --dest-file"* ]]
	# a destination that ssh would read as an option stops all of them
	printf '%s\n-oProxyCommand=touch\n' "$DEST" >"$BATS_TEST_TMPDIR/hostile"
	run -2 --separate-stderr sc sync --dest-file "$BATS_TEST_TMPDIR/hostile"
	[[ $stderr == *"strange destination '-oProxyCommand=touch' blocked"* ]]
	git config sidecar.destination "$DEST -oProxyCommand=touch"
	run -2 --separate-stderr sc sync
	[[ $stderr == *"strange destination '-oProxyCommand=touch' blocked"* ]]
	[ ! -e "$REMOTE" ]
}

@test "one destination at a time for the commands that take one" {
	git config sidecar.destination "$DEST b"
	local cmd
	for cmd in wait status disconnect; do
		run -2 --separate-stderr sc "$cmd"
		[[ $stderr == *"git config sidecar.destination names 2 destinations ('$DEST b'); only sync, run and exec take several"* ]]
	done
	run -2 --separate-stderr sc ssh -- true
	[[ $stderr == *"names 2 destinations"* ]]
}

@test "Ctrl-C during a fan-out: 130, and no copy of sidecar is left" {
	dead_sidecar dead
	dead_sidecar dead2
	sc_background sync --max-wait 60s --initial-interval 100ms --max-interval 200ms dead dead2
	wait_until --timeout-ms 10000 grep -q 'waiting for dead2' "$BATS_TEST_TMPDIR/err"
	wait_until --timeout-ms 10000 grep -q 'waiting for dead ' "$BATS_TEST_TMPDIR/err"
	local copies
	copies=$(pgrep -P "$SC_PID" -x sidecar || true)
	[ "$(wc -w <<<"$copies")" -eq 2 ]
	interrupt_and_check INT 130
	# shellcheck disable=SC2086 # one pid per word
	_sc_wait_gone 5000 $copies || fail "a copy of sidecar outlived the interrupt: $copies"
}

# --- exec and run ------------------------------------------------------------

@test "exec on several: each line headed by its destination, stdout and stderr apart; the highest status" {
	extra_sidecar b
	run -0 --separate-stderr sc sync "$DEST" b
	run -0 --separate-stderr sc exec "$DEST" b -- sh -c 'echo "out $PWD"; echo err >&2'
	[ "$(grep -c . <<<"$output")" -eq 2 ]
	grep -qx "$DEST: out $REMOTE" <<<"$output"
	grep -qx "b: out $BATS_TEST_TMPDIR/home-b/proj" <<<"$output"
	grep -qx "$DEST: err" <<<"$stderr"
	grep -qx "b: err" <<<"$stderr"
	# standard input is not forwarded to several
	run -0 --separate-stderr sc exec "$DEST" b -- sh -c 'cat; echo end' <<<"not for them"
	[ "$(sort <<<"$output")" = "$(printf '%s\n' "$DEST: end" "b: end" | sort)" ]
	# one fails: its status, and the summary names it
	touch "$BATS_TEST_TMPDIR/home-b/proj/marker"
	run -3 --separate-stderr sc exec "$DEST" b -- sh -c '[ ! -e marker ] || exit 3'
	[[ $stderr == *"exec failed on 1 of 2 destinations: b (exit 3)"* ]]
}

@test "exec on several: bytes pass as they are, NUL included; a reader that goes away ends them all" {
	extra_sidecar b
	run -0 --separate-stderr sc sync "$DEST" b
	sc exec "$DEST" b -- printf 'a\000b\n' >"$BATS_TEST_TMPDIR/nul"
	[ "$(grep -ac . "$BATS_TEST_TMPDIR/nul")" -eq 2 ]
	[ "$(printf 'b: a\000b\n' | od -An -c)" = "$(grep -a '^b: ' "$BATS_TEST_TMPDIR/nul" | od -An -c)" ]
	[ "$(tr -d '\n' <"$BATS_TEST_TMPDIR/nul" | wc -c)" -eq "$((${#DEST} + 11))" ]
	# head takes one line and leaves: the endless writers are stopped, and so is sidecar
	local rc=0
	timeout 30 bash -c "'$SIDECAR_BIN' exec '$DEST' b -- sh -c 'while :; do echo yes; done' | head -n 1" \
		>"$BATS_TEST_TMPDIR/head" || rc=$?
	[ "$rc" -eq 0 ] || fail "the fan-out did not end when its reader left (status $rc)"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/head")" -eq 1 ]
}

@test "several destinations and a bad sidecar.maxWait: said once, before anything runs" {
	extra_sidecar b
	git config sidecar.maxWait soon
	run -2 --separate-stderr sc sync "$DEST" b
	[ "$(grep -c 'sidecar.maxWait' <<<"$stderr")" -eq 1 ]
	run -2 --separate-stderr sc exec "$DEST" b -- true
	[ "$(grep -c 'sidecar.maxWait' <<<"$stderr")" -eq 1 ]
	[ ! -e "$REMOTE" ]
	[ ! -e "$BATS_TEST_TMPDIR/home-b/proj" ]
}

@test "exec on several with one unreachable: 255 for it, as ssh; the others ran" {
	dead_sidecar dead
	run -0 --separate-stderr sc sync "$DEST"
	run -255 --separate-stderr sc exec --max-wait 1s --initial-interval 100ms dead "$DEST" -- echo hi
	[ "$output" = "$DEST: hi" ]
	[[ $stderr == *"exec failed on 1 of 2 destinations: dead (exit 255)"* ]]
	# run: the sync to it failed (4); --json's array has its short object, as sync's has
	run -4 --separate-stderr sc run --json --max-wait 1s --initial-interval 100ms dead "$DEST" -- true
	elements
	[ "${#objs[@]}" -eq 2 ]
	[ "${objs[0]}" = '{"dest":"dead","workdir":"proj","mode":"snapshot","result":"failed","exit_status":4}' ]
	[ "$(jsonget result <<<"${objs[1]}")" = up-to-date ]
	[[ $stderr == *"run failed on 1 of 2 destinations: dead (exit 4)"* ]]
}

@test "run on several: one local snapshot, then the command on each; --json is one array" {
	extra_sidecar b
	printf 'edited\n' >>README.md
	run -0 --separate-stderr sc -v run "$DEST" b -- tail -n 1 README.md
	[ "$(sort <<<"$output")" = "$(printf '%s\n' "$DEST: edited" "b: edited" | sort)" ]
	[ "$(grep -c ' add -A' <<<"$stderr")" -eq 1 ]
	[ "$(grep -c 'commit-tree' <<<"$stderr")" -eq 1 ]
	printf 'again\n' >>README.md
	run -0 --separate-stderr sc run --json "$DEST" b -- true
	elements
	[ "${#objs[@]}" -eq 2 ]
	[ "$(jsonget dest <<<"${objs[0]}")" = "$DEST" ]
	[ "$(jsonget dest <<<"${objs[1]}")" = b ]
	[ "$(jsonget result <<<"${objs[0]}")" = synced ]
	[ "$(jsonget result <<<"${objs[1]}")" = synced ]
	assert_same_tree "$LOCAL" "$BATS_TEST_TMPDIR/home-b/proj"
}

@test "Ctrl-C during exec on several: 130, and the command is stopped on every sidecar" {
	extra_sidecar b
	run -0 --separate-stderr sc sync "$DEST" b
	sc_background exec "$DEST" b -- sh -c 'sleep 271 & sleep 272; wait'
	wait_until --timeout-ms 10000 both_running 'sleep 272'
	interrupt_and_check INT 130 'sleep 271' 'sleep 272'
}
