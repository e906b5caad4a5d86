#!/usr/bin/env bats
# What a person sees on a terminal: the progress line of a long transfer,
# colour, NO_COLOR, and nothing extra when stderr is not a terminal. sidecar
# runs inside a private tmux server; the pane is read with capture-pane.

load test_helper

setup() {
	common_setup
	command -v tmux >/dev/null || skip "tmux is not installed"
	sshd_start
	repo=$BATS_TEST_TMPDIR/repo
	make_repo "$repo"
	cd "$repo" || return 1
	TMUX_SOCK=$XDG_RUNTIME_DIR/tmux
}

teardown() {
	[ -n "${TMUX_SOCK:-}" ] && tmux -S "$TMUX_SOCK" kill-server >/dev/null 2>&1
	common_teardown
}

# Runs sidecar with ARGS in a pane 200 columns wide; its status lands in
# $BATS_TEST_TMPDIR/status when it ends.
in_terminal() {
	local cmd
	cmd=$(printf '%q ' env "SIDECAR_SSH=$SIDECAR_SSH" "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR" \
		"HOME=$HOME" "$@" "$SIDECAR_BIN")
	cmd="cd $(printf '%q' "$repo") && $cmd $SC_ARGS; echo \$? > $(printf '%q' "$BATS_TEST_TMPDIR/status"); sleep 600"
	TERM=xterm tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s t -x 200 -y 50 "$cmd"
	track_pid "$(tmux -S "$TMUX_SOCK" display-message -p -t t '#{pid}')"
}

pane() { tmux -S "$TMUX_SOCK" capture-pane -p -e -t t; }
pane_has() { pane | grep -q -- "$1"; }

@test "a long transfer shows a progress line with bytes and rate on a terminal" {
	head -c 200000000 /dev/urandom >big.bin
	SC_ARGS="sync $DEST" in_terminal
	wait_until --timeout-ms 60000 pane_has 'sending [0-9.]* MiB ([0-9.]* MiB/s)'
	wait_until --timeout-ms 120000 test -s "$BATS_TEST_TMPDIR/status"
	[ "$(cat "$BATS_TEST_TMPDIR/status")" = 0 ]
	wait_until pane_has 'synced sidecar-test:repo'
	cmp big.bin "$REMOTE_HOME/repo/big.bin"
}

@test "on a terminal sidecar: is coloured; NO_COLOR turns it off" {
	SC_ARGS="sync --bogus-option" in_terminal
	wait_until test -s "$BATS_TEST_TMPDIR/status"
	[ "$(cat "$BATS_TEST_TMPDIR/status")" = 2 ]
	pane | grep -q $'\e\\[31msidecar:'
	tmux -S "$TMUX_SOCK" kill-server
	rm "$BATS_TEST_TMPDIR/status"
	SC_ARGS="sync --bogus-option" in_terminal NO_COLOR=1
	wait_until test -s "$BATS_TEST_TMPDIR/status"
	wait_until pane_has "unknown option '--bogus-option'"
	run -1 grep -q $'\e\\[' <(pane)
}

@test "stderr that is not a terminal gets no progress line and no colour" {
	# a transfer that lasts past the second after which a terminal sees
	# progress
	head -c 40000000 /dev/urandom >big.bin
	run -0 --separate-stderr sc sync "$DEST"
	refute [ -n "$output" ]
	[[ $stderr != *sending* ]]
	[[ $stderr != *$'\r'* ]]
	[[ $stderr != *$'\e'* ]]
	[[ $stderr == *"synced sidecar-test:repo"* ]]
}

@test "ssh opens an interactive shell with a tty in the workspace" {
	mkdir -p "$REMOTE_HOME/ws"
	SC_ARGS="ssh -w ws $DEST" in_terminal
	wait_until --timeout-ms 10000 sh -c 'ls /dev/pts >/dev/null && tmux -S "$1" capture-pane -p -t t | grep -q .' sh "$TMUX_SOCK"
	tmux -S "$TMUX_SOCK" send-keys -t t 'echo "at:$(pwd)"; test -t 0 && echo "stdin:tty"; exit 3' Enter
	wait_until --timeout-ms 10000 test -s "$BATS_TEST_TMPDIR/status"
	[ "$(cat "$BATS_TEST_TMPDIR/status")" = 3 ]
	pane | grep -q "^at:$REMOTE_HOME/ws"
	pane | grep -q "^stdin:tty"
}
