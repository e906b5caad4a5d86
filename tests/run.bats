#!/usr/bin/env bats
# run.bats: `sidecar run`, a sync and then a command in the workspace,
# against a real sshd on 127.0.0.1.

load test_helper
load sync_helper

setup() {
	sync_setup
}

teardown() {
	common_teardown
}

@test "run: an edit, then the command sees it: one sync session, one command session" {
	remote_env "SIDECAR_TEST_CMDLEN=$BATS_TEST_TMPDIR/cmdlen"
	run -0 sc sync "$DEST"
	printf 'edited\n' >README.md
	: >"$BATS_TEST_TMPDIR/cmdlen"
	run -0 --separate-stderr sc run "$DEST" -- cat README.md
	[ "$output" = edited ]
	[[ $stderr == "sidecar: synced $DEST:proj: 1 file changed, "* ]] || fail "stderr: $stderr"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/cmdlen")" -eq 2 ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "run: a fresh sidecar gets the workspace, then the command runs in it" {
	run -0 --separate-stderr sc run "$DEST" -- sh -c 'pwd; git rev-parse HEAD'
	[ "${lines[0]}" = "$REMOTE" ]
	[ "${lines[1]}" = "$(git rev-parse HEAD)" ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "run: a sync that fails is the exit status, and the command does not run" {
	mkdir -p "$REMOTE"
	git -C "$REMOTE" init -q
	run -2 --separate-stderr sc run "$DEST" -- touch "$BATS_TEST_TMPDIR/ran"
	[[ $stderr == *"--adopt"* ]] || fail "stderr: $stderr"
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	run -4 --separate-stderr sc run --max-wait 0 -o Port=1 "$DEST" -- touch "$BATS_TEST_TMPDIR/ran"
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
}

@test "run: the command's status, stdin, arguments and -e as exec has them" {
	printf 'V2=two\n' >"$BATS_TEST_TMPDIR/env"
	run -7 --separate-stderr sc run -e 'V1=a b' --env-file "$BATS_TEST_TMPDIR/env" "$DEST" -- \
		sh -c 'cat; printf "%s|%s|%s\n" "$V1" "$V2" "$1"; exit 7' sh "it's" <<<'from stdin'
	[ "$output" = "from stdin
a b|two|it's" ]
}

@test "run --json: the sync's object first on stdout, then the command's output" {
	run -0 --separate-stderr sc run --json "$DEST" -- echo after
	[ "${#lines[@]}" -eq 2 ]
	json=${lines[0]}
	[ "$(jsonget result <<<"$json")" = synced ]
	[ "$(jsonget dest <<<"$json")" = "$DEST" ]
	[ "${lines[1]}" = after ]
	[ -z "$stderr" ]
}

@test "run: no command after -- is exit 2, and nothing is synced" {
	run -2 --separate-stderr sc run "$DEST"
	[[ $stderr == *"run needs a command after '--'"* ]]
	[ ! -e "$REMOTE" ]
}

@test "run: Ctrl-C reaches the remote command" {
	sc_background run "$DEST" -- sleep 3178
	interrupt_and_check INT 130 'sleep 3178'
}

@test "exec: one line of warning when the local tree changed since the last sync" {
	# never synced from here: nothing to compare with
	run -1 --separate-stderr sc exec "$DEST" -- true
	[ "$stderr" = "sidecar: workspace proj does not exist on $DEST; run 'sidecar sync' first" ]
	run -0 sc sync "$DEST"
	run -0 --separate-stderr sc exec "$DEST" -- cat README.md
	[ -z "$stderr" ] || fail "up to date, yet: $stderr"
	printf 'edited\n' >README.md
	run -0 --separate-stderr sc exec "$DEST" -- cat README.md
	[ "$output" = "$(git show HEAD:README.md)" ]
	[ "$stderr" = "sidecar: warning: the local working tree has changed since the last sync to $DEST:proj; 'sidecar run' syncs, then runs the command" ]
	run -0 --separate-stderr sc run "$DEST" -- true
	run -0 --separate-stderr sc exec "$DEST" -- cat README.md
	[ "$output" = edited ]
	[ -z "$stderr" ] || fail "synced again, yet: $stderr"
	# the local repository is not changed by the check
	[ -z "$(git status --porcelain --untracked-files=no | grep -v README.md)" ]
}
