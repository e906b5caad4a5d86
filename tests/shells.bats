#!/usr/bin/env bats
# shells.bats: the sidecar account's login shell, and the `sh` that runs the
# remote script, set to each common shell (a real sshd on 127.0.0.1 whose
# sessions run as `SHELL -c COMMAND`, sh found through PATH). One sync and
# exec round per shell here; `make check-shells` runs the whole sync and
# exec suites under each.

load test_helper
load sync_helper

setup() {
	common_setup
	LOCAL=$BATS_TEST_TMPDIR/proj
	REMOTE_WS=proj
}

teardown() {
	common_teardown
}

# need_shell NAME: skips when NAME is not installed (CI installs them all).
need_shell() {
	test_shell "$1" "$BATS_TEST_TMPDIR/probe" >/dev/null 2>&1 ||
		skip "$1 is not installed"
}

# The arguments exec must deliver verbatim whatever the shells in between.
ARGS=(
	'two words' "it's" 'say "hi"' '$(id)' '`id`' '${HOME}' 'a;b' '*' '~'
	$'line one\nline two' '' '\back\slash' '!x' "'" '%s' '-n' '{a,b}' '#x'
)

# shell_round KIND NAME: with the login shell (KIND login) or the remote
# sh (KIND sh) being NAME: a first sync of awkward names, an edit and a
# deletion, exec with awkward arguments, stdin and an exit status, and a
# check that NAME really was the shell in use.
shell_round() {
	local kind=$1 name=$2
	need_shell "$name"
	case $kind in
	login) sshd_start --login-shell "$name" ;;
	sh) sshd_start --remote-sh "$name" ;;
	esac
	make_repo "$LOCAL"
	cd "$LOCAL" || return 1
	printf 'one\n' >$'new\nline'
	printf 'two\n' >"it's \$(id) *"
	mkdir -p 'dir with space'
	printf 'three\n' >'dir with space/-n'

	sync_json
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE_HOME/$REMOTE_WS"
	printf 'edit\n' >>README.md
	rm build.sh
	sync_json
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE_HOME/$REMOTE_WS"
	sync_json
	assert_field result up-to-date

	printf '%s\n' "${ARGS[@]}" >"$BATS_TEST_TMPDIR/want"
	sc exec "$DEST" -- printf '%s\n' "${ARGS[@]}" >"$BATS_TEST_TMPDIR/got"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	run -0 sc exec "$DEST" -- cat 'dir with space/-n'
	assert_output three
	run -0 sc exec "$DEST" -- pwd
	assert_output "$REMOTE_HOME/$REMOTE_WS"
	run -0 sc exec "$DEST" -- tr a-z A-Z <<<'piped in'
	assert_output 'PIPED IN'
	run -7 sc exec "$DEST" -- sh -c 'exit 7'

	case $kind in
	login)
		run -0 sc exec "$DEST" -- printenv SHELL
		assert_output "$BATS_TEST_TMPDIR/shells/login/$name" ;;
	sh)
		run -0 sc exec "$DEST" -- sh -c 'command -v sh'
		assert_output "$BATS_TEST_TMPDIR/shells/bin/sh" ;;
	esac
}

@test "login shell dash: sync and exec" { shell_round login dash; }
@test "login shell bash: sync and exec" { shell_round login bash; }
@test "login shell bash --posix: sync and exec" { shell_round login bash-posix; }
@test "login shell busybox ash: sync and exec" { shell_round login ash; }
@test "login shell zsh: sync and exec" { shell_round login zsh; }
@test "login shell mksh: sync and exec" { shell_round login mksh; }
@test "login shell ksh93: sync and exec" { shell_round login ksh93; }
@test "login shell yash: sync and exec" { shell_round login yash; }
@test "login shell posh: sync and exec" { shell_round login posh; }

@test "remote sh is dash: sync and exec" { shell_round sh dash; }
@test "remote sh is bash: sync and exec" { shell_round sh bash; }
@test "remote sh is busybox ash: sync and exec" { shell_round sh ash; }
@test "remote sh is zsh: sync and exec" { shell_round sh zsh; }
@test "remote sh is mksh: sync and exec" { shell_round sh mksh; }
@test "remote sh is ksh93: sync and exec" { shell_round sh ksh93; }
@test "remote sh is yash: sync and exec" { shell_round sh yash; }
@test "remote sh is posh: sync and exec" { shell_round sh posh; }

# --- login shells that do not read sh quoting ----------------------------------

# refused_or_works NAME: with the login shell NAME, sync and exec either work
# (exec's arguments arrive verbatim) or fail with exit 1 and a line that
# names the login shell; never a success that did nothing, nor the
# shell's own parse errors alone.
refused_or_works() {
	local name=$1 ok
	need_shell "$name"
	sshd_start --login-shell "$name"
	make_repo "$LOCAL"
	cd "$LOCAL" || return 1

	run --separate-stderr sc sync "$DEST"
	echo "sync: $status: $stderr" >&2
	if [ "$status" -eq 0 ]; then
		assert_same_tree "$LOCAL" "$REMOTE_HOME/$REMOTE_WS"
	else
		[ "$status" -eq 1 ]
		[[ $stderr == *"sidecar: "*"login shell"* ]]
	fi

	mkdir -p "$REMOTE_HOME/ws"
	printf '%s\n' "${ARGS[@]}" >"$BATS_TEST_TMPDIR/want"
	run --separate-stderr sc exec -w ws "$DEST" -- printf '%s\n' "${ARGS[@]}"
	echo "exec: $status: $stderr" >&2
	if [ "$status" -eq 0 ]; then
		printf '%s\n' "$output" | cmp - "$BATS_TEST_TMPDIR/want"
	else
		[ "$status" -eq 1 ]
		[[ $stderr == *"sidecar: "*"login shell"* ]]
	fi
}

@test "login shell fish: sync and exec work or are refused plainly" {
	refused_or_works fish
}

@test "login shell csh: sync and exec work or are refused plainly" {
	refused_or_works csh
}

@test "login shell tcsh: sync and exec work or are refused plainly" {
	refused_or_works tcsh
}
