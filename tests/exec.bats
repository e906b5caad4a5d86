#!/usr/bin/env bats
# exec.bats: running commands in the remote workspace over the shared
# connection, against a real sshd on 127.0.0.1 (DESIGN sections 1-2).

load test_helper

setup() {
	common_setup
	# Outside any git repository, so no repository's config is read.
	cd "$BATS_TEST_TMPDIR" || return 1
	sshd_start
	# A workspace whose name needs quoting on the remote side.
	WS='my ws'
	mkdir -p "$REMOTE_HOME/$WS"
}

teardown() {
	common_teardown
}

# Counts stderr lines (of the last `run --separate-stderr`) matching $1.
stderr_count() {
	local n
	n=$(grep -c -- "$1" <<<"$stderr" || true)
	echo "$n"
}

# --- arguments ------------------------------------------------------------

@test "exec: every argument arrives verbatim" {
	local args=(
		'two words'
		"it's"
		'say "hi"'
		'$(id)'
		'`id`'
		'${HOME}'
		'a;b'
		'a|b'
		'*'
		'~'
		$'line one\nline two'
		''
		'é 日本'
		'-n'
		'--'
		'\\back\\slash'
		$'tab\there'
		'%s %d'
		'!x'
		"'"
		"''"
		'a&&b'
		'>out'
	)
	local want="$BATS_TEST_TMPDIR/want" got="$BATS_TEST_TMPDIR/got"
	printf '%s\n' "${args[@]}" >"$want"
	sc exec -w "$WS" "$DEST" -- printf '%s\n' "${args[@]}" >"$got"
	cmp "$want" "$got"
	# Nothing was expanded or run on the remote side.
	[ ! -e "$REMOTE_HOME/$WS/out" ]
	[ ! -e "$REMOTE_HOME/$WS/b" ]
}

@test "exec: the command runs in the workspace" {
	run -0 sc exec -w "$WS" "$DEST" -- pwd
	[ "$output" = "$REMOTE_HOME/$WS" ]
	mkdir -p "$REMOTE_HOME/$WS/sub dir"
	run -0 sc exec -w "$WS/sub dir" "$DEST" -- pwd
	[ "$output" = "$REMOTE_HOME/$WS/sub dir" ]
}

@test "exec: options may follow DEST" {
	run -0 sc exec "$DEST" -w "$WS" -- pwd
	[ "$output" = "$REMOTE_HOME/$WS" ]
}

@test "exec: a command name with a space is one word" {
	mkdir -p "$REMOTE_HOME/$WS/bin dir"
	printf '#!/bin/sh\necho "ran with $#: $1"\n' >"$REMOTE_HOME/$WS/bin dir/my tool"
	chmod 755 "$REMOTE_HOME/$WS/bin dir/my tool"
	run -0 sc exec -w "$WS" "$DEST" -- './bin dir/my tool' 'x y'
	[ "$output" = "ran with 1: x y" ]
}

# --- exit status ----------------------------------------------------------

@test "exec: the remote exit status is passed through" {
	run -0 sc exec -w "$WS" "$DEST" -- sh -c 'exit 0'
	run -1 sc exec -w "$WS" "$DEST" -- sh -c 'exit 1'
	run -7 sc exec -w "$WS" "$DEST" -- sh -c 'exit 7'
	run -1 sc exec -w "$WS" "$DEST" -- false
	run -127 sc exec -w "$WS" "$DEST" -- no-such-command-here
}

@test "exec: a remote exit 255 is passed through without claiming a connection failure" {
	run -255 --separate-stderr sc exec -w "$WS" "$DEST" -- sh -c 'echo out; echo err >&2; exit 255'
	[ "$output" = out ]
	[ "$stderr" = err ]
	[[ $stderr != *"connection"* ]]
	[[ $stderr != *"sidecar:"* ]]
}

@test "exec: remote stdout and stderr stay apart" {
	run -0 --separate-stderr sc exec -w "$WS" "$DEST" -- sh -c 'echo to-out; echo to-err >&2'
	[ "$output" = to-out ]
	[ "$stderr" = to-err ]
}

@test "exec: a connection failure is exit 255 and says which class" {
	local port
	port=$(free_port)
	run -255 --separate-stderr sc exec -o "Port=$port" --max-wait 0 -w "$WS" "$DEST" -- true
	# The transient class: it gave up (after the one attempt --max-wait 0
	# allows) and names ssh's error.
	[[ $stderr == *"gave up on $DEST after 1 attempt"*"Connection refused"* ]]
}

@test "exec: a permanent connection failure is exit 255 too" {
	sshd_restart_with_new_hostkey
	run -255 --separate-stderr sc exec -w "$WS" "$DEST" -- true
	[[ $stderr == *"host key"* ]]
	[[ $stderr != *"waiting for"* ]]
}

# --- stdin ------------------------------------------------------------------

@test "exec: stdin is forwarded" {
	local got="$BATS_TEST_TMPDIR/got"
	printf 'abc' | sc exec -w "$WS" "$DEST" -- cat >"$got"
	[ "$(cat "$got")" = abc ]
	[ "$(wc -c <"$got")" -eq 3 ]
}

@test "exec: 1 MB of binary stdin round trips byte for byte" {
	local big="$BATS_TEST_TMPDIR/big" got="$BATS_TEST_TMPDIR/got"
	head -c 1048576 /dev/urandom >"$big"
	sc exec -w "$WS" "$DEST" -- cat <"$big" >"$got"
	cmp "$big" "$got"
	# And the other way, into a remote file.
	sc exec -w "$WS" "$DEST" -- sh -c 'cat > copy' <"$big"
	cmp "$big" "$REMOTE_HOME/$WS/copy"
}

@test "exec: a command that does not read stdin does not wait for it" {
	local fifo="$BATS_TEST_TMPDIR/fifo"
	mkfifo "$fifo"
	# stdin stays open (the fifo has a writer that never writes).
	exec 4<>"$fifo"
	run -0 timeout 10 "$SIDECAR_BIN" exec -w "$WS" "$DEST" -- echo finished <&4
	exec 4<&-
	[ "$output" = finished ]
}

# --- environment ------------------------------------------------------------

@test "exec: -e sets variables, values verbatim" {
	local v1="hello 'single' \"double\" \$HOME \`id\` ; x" v2=$'two\nlines'
	local want="$BATS_TEST_TMPDIR/want" got="$BATS_TEST_TMPDIR/got"
	printf '%s\n' "$v1" "$v2" "" >"$want"
	sc exec -e "GREETING=$v1" -e "MULTI=$v2" --env EMPTY= -w "$WS" "$DEST" -- \
		sh -c 'printf "%s\n" "$GREETING" "$MULTI" "${EMPTY-unset}"' >"$got"
	cmp "$want" "$got"
}

@test "exec: --env-file skips comments and blank lines; -e wins over it" {
	local f="$BATS_TEST_TMPDIR/env"
	cat >"$f" <<-'EOF'
	# a comment

	FIRST=one
	  # an indented comment
	SECOND=two words and 'quotes'
	URL=a=b=c
	SHARED=from-file

	EOF
	run -0 sc exec --env-file "$f" -e SHARED=from-flag -w "$WS" "$DEST" -- \
		sh -c 'printf "%s|" "$FIRST" "$SECOND" "$URL" "$SHARED"'
	[ "$output" = "one|two words and 'quotes'|a=b=c|from-flag|" ]
}

@test "exec: --env-file reads whole lines: a 100 KB value arrives intact" {
	local f="$BATS_TEST_TMPDIR/env" pad tail value
	# cut at 8,191 bytes, the tail would start "J=..." and become a variable
	pad=$(head -c 8185 /dev/zero | tr '\0' a)
	tail=$(head -c 100000 /dev/zero | tr '\0' b)
	value="${pad}INJ=1$tail"
	printf 'BIG=%s\nAFTER=ok\n' "$value" >"$f"
	run -0 --separate-stderr sc exec --env-file "$f" -w "$WS" "$DEST" -- \
		sh -c 'printf "%s\n" "${#BIG}" "${J-unset}" "$AFTER"; printf "%s" "$BIG" >big'
	[ "$output" = "$(printf '%s\n' "${#value}" unset ok)" ]
	[ "$(cat "$REMOTE_HOME/$WS/big")" = "$value" ]
}

@test "exec: --env-file with a NUL byte in a line is refused, naming the line" {
	local f="$BATS_TEST_TMPDIR/env"
	printf 'A=1\nB=x\0y\n' >"$f"
	run -1 --separate-stderr sc exec --env-file "$f" -w "$WS" "$DEST" -- true
	[[ $stderr == *"env:2:"* ]]
	[ "$(count_auth)" -eq 0 ]
}

@test "exec: invalid -e assignments are usage errors" {
	run -2 --separate-stderr sc exec -e 1X=3 -w "$WS" "$DEST" -- true
	[[ $stderr == *"1X=3"* ]]
	run -2 sc exec -e NOEQUALS -w "$WS" "$DEST" -- true
	run -2 sc exec -e =value -w "$WS" "$DEST" -- true
	run -2 sc exec -e 'A B=1' -w "$WS" "$DEST" -- true
	run -2 sc exec -e 'A-B=1' -w "$WS" "$DEST" -- true
	# Nothing connected.
	[ "$(count_auth)" -eq 0 ]
}

@test "exec: a missing --env-file is an error before connecting" {
	run -1 --separate-stderr sc exec --env-file "$BATS_TEST_TMPDIR/none" -w "$WS" "$DEST" -- true
	[[ $stderr == *"none"* ]]
	[ "$(count_auth)" -eq 0 ]
}

# --- workspace ----------------------------------------------------------------

@test "exec: a missing workspace says so, suggests sidecar sync, exits 1" {
	run -1 --separate-stderr sc exec -w no-such-ws "$DEST" -- touch created
	[[ $stderr == *"no-such-ws"* ]]
	[[ $stderr == *"sidecar sync"* ]]
	[ "$output" = "" ]
	[ ! -e "$REMOTE_HOME/created" ]
	[ ! -e "$BATS_TEST_TMPDIR/created" ]
}

@test "exec: the workspace defaults to the repository's directory name" {
	make_repo "$BATS_TEST_TMPDIR/proj"
	cd "$BATS_TEST_TMPDIR/proj"
	run -1 --separate-stderr sc exec "$DEST" -- pwd
	[[ $stderr == *"proj"*"sidecar sync"* ]]
	mkdir -p "$REMOTE_HOME/proj"
	run -0 sc exec "$DEST" -- pwd
	[ "$output" = "$REMOTE_HOME/proj" ]
}

@test "exec: an absolute -w is used as it is" {
	local abs="$BATS_TEST_TMPDIR/abs ws"
	mkdir -p "$abs"
	run -0 sc exec -w "$abs" "$DEST" -- pwd
	[ "$output" = "$abs" ]
}

# --- ssh ----------------------------------------------------------------------

@test "ssh: -- CMD runs in the workspace without a tty" {
	run -0 --separate-stderr sc ssh -w "$WS" "$DEST" -- pwd </dev/null
	[ "$output" = "$REMOTE_HOME/$WS" ]
	run -1 sc ssh -w "$WS" "$DEST" -- test -t 0 </dev/null
}

@test "ssh: without a command, a shell reads stdin in the workspace" {
	run -0 sc ssh -w "$WS" "$DEST" <<<'pwd; echo "shell:$?"'
	[[ $output == *"$REMOTE_HOME/$WS"* ]]
	[[ $output == *"shell:0"* ]]
}

@test "ssh: a missing workspace is exit 1 with the same advice" {
	run -1 --separate-stderr sc ssh -w no-such-ws "$DEST" -- pwd </dev/null
	[[ $stderr == *"sidecar sync"* ]]
}

# --- usage ------------------------------------------------------------------

@test "exec: an unknown option is exit 2 with a suggestion" {
	run -2 --separate-stderr sc exec --workdri "$WS" "$DEST" -- true
	[[ $stderr == *"did you mean"*"--workdir"* ]]
	[ "$(count_auth)" -eq 0 ]
}

@test "an unknown command is exit 2 with a suggestion" {
	run -2 --separate-stderr sc exce "$DEST" -- true
	[[ $stderr == *"exce"* ]]
	[[ $stderr == *"did you mean"*"exec"* ]]
	run -2 --separate-stderr sc frobnicate
	[[ $stderr == *"frobnicate"* ]]
}

@test "exec: no command after -- is exit 2" {
	run -2 sc exec -w "$WS" "$DEST"
	run -2 sc exec -w "$WS" "$DEST" --
	[ "$(count_auth)" -eq 0 ]
}

@test "exec: a second positional argument is exit 2" {
	run -2 --separate-stderr sc exec -w "$WS" "$DEST" echo hi
	[ "$(count_auth)" -eq 0 ]
}

@test "exec: a bad ssh option is a connection failure: exit 255, and it says so" {
	run -255 --separate-stderr sc exec -o BogusOption=1 -w "$BATS_TEST_TMPDIR" "$DEST" -- true
	[[ $stderr == *"bad ssh configuration"* ]]
}

@test "exec: -w '~' is the remote home itself" {
	run -0 --separate-stderr sc exec -w '~' "$DEST" -- pwd
	[ "$output" = "$REMOTE_HOME" ]
}

# --- a login shell that is not sh -------------------------------------------

# login_shell PROGRAM: sessions of the test account now start in PROGRAM
# (sshd runs the session wrapper, which execs "$SHELL -c ...").
login_shell() {
	local dir="$BATS_TEST_TMPDIR/sshd" key
	key=$(cut -d' ' -f1,2 "$dir/client_ed25519.pub")
	printf 'environment="HOME=%s",environment="SHELL=%s" %s\n' "$REMOTE_HOME" "$1" "$key" \
		>"$dir/authorized_keys"
}

@test "exec: with fish as the login shell every argument still arrives verbatim" {
	[ -x "$(_sc_sshd_root)/usr/bin/fish" ] || skip "fish is not installed on the sidecar"
	login_shell /usr/bin/fish
	# the wrapper starts sessions with "$SHELL -c"
	run -0 sc exec -w "$WS" "$DEST" -- sh -c 'printf "%s" "$SHELL"'
	[ "$output" = /usr/bin/fish ]
	local args=(
		'two words' "it's" 'say "hi"' '$(id)' '`id`' '${HOME}' 'a;b' '*' '~'
		$'line one\nline two' '' '-n' '--' '\\back\\slash' 'trailing\' "\\'" '\'
		$'tab\there' '%s %d' '!x' "'" "''" '>out' '(x)' '{a,b}' '$fish_pid'
	)
	local want="$BATS_TEST_TMPDIR/want" got="$BATS_TEST_TMPDIR/got"
	printf '%s\n' "${args[@]}" >"$want"
	sc exec -w "$WS" "$DEST" -- printf '%s\n' "${args[@]}" >"$got"
	cmp "$want" "$got"
	[ ! -e "$REMOTE_HOME/$WS/out" ]
	# the status is the command's, and a missing workspace is exit 1
	run -7 sc exec -w "$WS" "$DEST" -- sh -c 'exit 7'
	run -1 --separate-stderr sc exec -w no-such-ws "$DEST" -- touch created
	[[ $stderr == *"no-such-ws"*"sidecar sync"* ]]
	[ ! -e "$REMOTE_HOME/created" ]
	# -e values, and ssh -- CMD
	run -0 sc exec -e 'V=a\b'\''c' -w "$WS" "$DEST" -- sh -c 'printf "%s" "$V"'
	[ "$output" = 'a\b'\''c' ]
	run -0 sc ssh -w "$WS" "$DEST" -- pwd </dev/null
	[ "$output" = "$REMOTE_HOME/$WS" ]
}

# --- signals --------------------------------------------------------------

@test "exec: Ctrl-C reaches the remote command and every process it started" {
	sc_background exec -w "$WS" "$DEST" -- sh -c 'sleep 3171 & sleep 3172'
	interrupt_and_check INT 130 'sleep 3171' 'sleep 3172'
	# nothing of the mark on stderr
	[ ! -s "$BATS_TEST_TMPDIR/err" ] || fail "stderr: $(cat "$BATS_TEST_TMPDIR/err")"
}

@test "exec: SIGTERM and SIGHUP reach the remote command: exit 143 and 129" {
	sc_background exec -w "$WS" "$DEST" -- sleep 3173
	interrupt_and_check TERM 143 'sleep 3173'
	sc_background exec -w "$WS" "$DEST" -- sleep 3174
	interrupt_and_check HUP 129 'sleep 3174'
}

@test "exec: a remote command that ignores SIGINT is killed after a bound" {
	sc_background exec -w "$WS" "$DEST" -- sh -c 'trap "" INT; sleep 3175; :'
	interrupt_and_check INT 130 'sleep 3175'
}

@test "ssh -- CMD without a tty: Ctrl-C reaches the remote command" {
	sc_background ssh -w "$WS" "$DEST" -- sleep 3176
	interrupt_and_check INT 130 'sleep 3176'
}

@test "exec: stderr arrives exactly, before and after what a login shell prints" {
	run -0 --separate-stderr sc exec -w "$WS" "$DEST" -- \
		sh -c 'printf "no newline" >&2; printf "out"; printf "\n%s\n" "SIDECAR-PID 1" >&2'
	[ "$output" = out ]
	[ "$stderr" = "no newline
SIDECAR-PID 1" ]
}
