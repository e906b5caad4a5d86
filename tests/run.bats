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

@test "run: an edit, then the command sees it, in the one session that syncs" {
	remote_env "SIDECAR_TEST_CMDLEN=$BATS_TEST_TMPDIR/cmdlen"
	run -0 sc sync "$DEST"
	printf 'edited\n' >README.md
	: >"$BATS_TEST_TMPDIR/cmdlen"
	run -0 --separate-stderr sc run "$DEST" -- cat README.md
	[ "$output" = edited ]
	[[ $stderr == "sidecar: synced $DEST:proj: 1 file changed, "* ]] || fail "stderr: $stderr"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/cmdlen")" -eq 1 ]
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
	# files older than the index, so git trusts their stat data: the check
	# takes the last snapshot again, and writes no tree or commit for it
	find . -path ./.git -prune -o -exec touch -h -d '2001-02-03 04:05:06' {} +
	run -0 sc sync "$DEST"
	run -0 --separate-stderr sc -v exec "$DEST" -- true
	[[ $stderr == *"the same snapshot"* ]] || fail "stderr: $stderr"
	[[ $stderr != *"run: git write-tree"* ]] || fail "stderr: $stderr"
	[[ $stderr != *"run: git commit-tree"* ]] || fail "stderr: $stderr"
	[[ $stderr != *"has changed since"* ]] || fail "stderr: $stderr"
}

@test "run: Ctrl-C in the one session reaches the command's whole process tree; SIGTERM too" {
	run -0 sc sync "$DEST"
	printf 'edited\n' >README.md
	sc_background run "$DEST" -- sh -c 'sleep 3181 & sleep 3182; wait'
	interrupt_and_check INT 130 'sleep 3181' 'sleep 3182'
	printf 'again\n' >README.md
	local before
	before=$(git for-each-ref --format='%(objectname)' refs/sidecar/synced)
	sc_background run "$DEST" -- sh -c 'sleep 3183 & sleep 3184; wait'
	interrupt_and_check TERM 143 'sleep 3183' 'sleep 3184'
	# the sync itself was done and recorded here, whole (the signal does not
	# stop the ref's write), and the next run has nothing to send
	[ "$(git for-each-ref --format='%(objectname)' refs/sidecar/synced)" != "$before" ]
	[ -z "$(find .git/refs/sidecar -name '*.lock')" ]
	run -0 --separate-stderr sc run "$DEST" -- cat README.md
	[ "$output" = again ]
	[[ $stderr == "sidecar: $DEST:proj is up to date" ]] || fail "stderr: $stderr"
}

@test "run: the command gets the session as exec gives it: environment, umask, directory, bytes" {
	run -0 sc sync "$DEST"
	local probe='printf "%s|%s|%s|%s|" "${GIT_DIR-none}" "${GIT_WORK_TREE-none}" "${LC_ALL-none}" "${MALLOC_TOP_PAD_-none}"; umask; pwd; printf "a\0b"; printf "e\0f" >&2'
	run -0 --separate-stderr sc exec "$DEST" -- sh -c "$probe"
	local want=$output want_err=$stderr
	printf 'edited\n' >README.md
	run -0 --separate-stderr sc run "$DEST" -- sh -c "$probe"
	[ "$output" = "$want" ] || fail "run gave '$output', exec '$want'"
	# what the script sets for its own git is gone too
	[ "${output#none|none|*|none|}" != "$output" ] || fail "run gave '$output'"
	[ "${stderr#*"changed, "*$'\n'}" = "$want_err" ] || fail "stderr: $stderr"
	# the NUL bytes arrive as they are
	sc run "$DEST" -- printf 'a\0b' | od -c | grep -q 'a  \\0   b'
}

@test "run: when the sidecar's base moved, the command runs once, after the sync" {
	run -0 sc sync "$DEST"
	git -C "$REMOTE" update-ref refs/sidecar/workspace/synced "$(git -C "$REMOTE" rev-parse HEAD)"
	printf 'edited\n' >README.md
	run -0 --separate-stderr sc run --json "$DEST" -- sh -c 'echo ran >>"$1"; cat README.md' sh "$BATS_TEST_TMPDIR/count"
	[ "$(cat "$BATS_TEST_TMPDIR/count")" = ran ]
	[ "${lines[1]}" = edited ]
	[ "$(jsonget result <<<"${lines[0]}")" = synced ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "run in patch mode: the command runs in a session after the sync's" {
	remote_env "SIDECAR_TEST_CMDLEN=$BATS_TEST_TMPDIR/cmdlen"
	run -0 sc sync --mode patch "$DEST"
	printf 'first\n' >README.md
	: >"$BATS_TEST_TMPDIR/cmdlen"
	run -0 sc sync --mode patch "$DEST"
	local sync_sessions
	sync_sessions=$(wc -l <"$BATS_TEST_TMPDIR/cmdlen")
	printf 'edited\n' >README.md
	: >"$BATS_TEST_TMPDIR/cmdlen"
	run -0 --separate-stderr sc run --mode patch "$DEST" -- cat README.md
	[ "$output" = edited ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/cmdlen")" -eq $((sync_sessions + 1)) ]
}
