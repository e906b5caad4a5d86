#!/usr/bin/env bats
# peers.bats: what a given OpenSSH client or server really says, classified.
# Run by `make check` with this machine's OpenSSH, and by `make check-peers`
# with Debian bullseye's (OpenSSH 8.4, git 2.30): its ssh as the client
# (SIDECAR_PEER_SSH) or its sshd, sh and git as the sidecar
# (SIDECAR_PEER_SSHD); see tests/peers/run. Every ssh that sidecar runs
# here is the client under test, also where no sshd is started.

load test_helper
load sync_helper

FAST=(--initial-interval 50ms --max-interval 200ms)

setup() {
	common_setup
	cd "$BATS_TEST_TMPDIR" || return 1
}

teardown() {
	common_teardown
}

# fault_client PORT: Host "fault" is 127.0.0.1:PORT, and SIDECAR_SSH the
# client under test reading that config.
fault_client() {
	fault_config "$1" "IdentityFile /dev/null"
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	printf '#!/bin/sh\nexec %s -F %s "$@"\n' "$(_sc_ssh_prog)" "'$FAULT_CONFIG'" \
		>"$BATS_TEST_TMPDIR/bin/fault-ssh"
	chmod 755 "$BATS_TEST_TMPDIR/bin/fault-ssh"
	export SIDECAR_SSH="$BATS_TEST_TMPDIR/bin/fault-ssh"
}

# The budgets leave room for a second attempt even when one takes a second
# on a busy machine: the waiting line comes with the first retry.
#
# unreachable MODE REASON SSH_SAYS [OPTION...]: a listener that misbehaves
# as MODE (or a closed port for MODE closed): exit 4 after retrying, the
# waiting line and every attempt classified transient with REASON, and
# ssh's own line SSH_SAYS named when giving up (both extended regular
# expressions: versions of OpenSSH word some of these differently).
unreachable() {
	local mode=$1 reason=$2 says=$3 port
	shift 3
	if [ "$mode" = closed ]; then
		port=$(free_port)
	else
		listener_start "$mode"
		port=$LISTENER_PORT
	fi
	fault_client "$port"
	run -4 --separate-stderr sc -v wait "${FAST[@]}" "$@" fault
	echo "$stderr" >&2
	grep -Eq "^sidecar: waiting for fault to accept SSH \(($reason)\); retrying for up to " <<<"$stderr"
	grep -Eq "^sidecar: attempt 1: ($reason): .*\(transient\); next attempt in " <<<"$stderr"
	grep -Eq "^sidecar: gave up on fault after [0-9]+ attempts in [^:]*: .*($says)" <<<"$stderr"
	! grep -q '(permanent' <<<"$stderr"
}

@test "the client under test is the one this run names" {
	run -0 $(_sc_ssh_prog) -V
	echo "$output" >&2
	if _sc_peer "${SIDECAR_PEER_SSH:-}"; then
		[[ $output == OpenSSH_8.4* ]]
	else
		[[ $output == "$(/usr/bin/ssh -V 2>&1)" ]]
	fi
}

@test "a closed port: exit 4, connection refused" {
	unreachable closed 'connection refused' \
		'connect to host 127.0.0.1 port [0-9]+: Connection refused' --max-wait 3s
}

@test "a listener that accepts and closes: exit 4, closed during banner exchange" {
	unreachable close 'connection closed during banner exchange' \
		'(kex|ssh)_exchange_identification: .*([Cc]losed|reset)' --max-wait 3s
}

@test "a listener that resets: exit 4, connection reset or closed" {
	unreachable reset 'connection closed during banner exchange|connection reset' \
		'(kex|ssh)_exchange_identification: .*(reset|[Cc]losed)|Connection reset by' --max-wait 3s
}

@test "a listener that never speaks: exit 4, connection timed out" {
	unreachable silent 'connection timed out' \
		'[Cc]onnection timed out during banner exchange|banner exchange: .*timed out' \
		--connect-timeout 1s --max-wait 4s
}

@test "a listener that sends a banner and closes: exit 4, connection closed" {
	unreachable banner-close 'connection closed by server|connection closed during banner exchange' \
		'Connection closed by 127.0.0.1 port [0-9]+|(kex|ssh)_exchange_identification' --max-wait 3s
}

@test "a key the server does not know: exit 3 at once, authentication failed" {
	sshd_start
	local key="$BATS_TEST_TMPDIR/wrong_ed25519"
	ssh-keygen -q -t ed25519 -N '' -C wrong -f "$key"
	sed -i "s|^\([[:space:]]*IdentityFile\).*|\1 \"$key\"|" "$SSH_CONFIG"
	run -3 --separate-stderr sc -v wait "${FAST[@]}" "$DEST"
	echo "$stderr" >&2
	[[ $stderr == *"authentication failed"* ]]
	[[ $stderr == *"Permission denied (publickey"* ]]
	[[ $stderr != *"waiting for"* ]]
	[ "$(count_auth)" -eq 0 ]
}

@test "a changed host key: exit 3 at once, host key changed" {
	sshd_start
	sshd_restart_with_new_hostkey
	run -3 --separate-stderr sc -v wait "${FAST[@]}" "$DEST"
	echo "$stderr" >&2
	[[ $stderr == *"host key changed"* ]]
	[[ $stderr == *"REMOTE HOST IDENTIFICATION HAS CHANGED"* ]]
	[[ $stderr != *"waiting for"* ]]
	[ "$(count_auth)" -eq 0 ]
}

@test "a sync, an edit and exec through the client and server under test" {
	sshd_start
	make_repo "$BATS_TEST_TMPDIR/proj"
	cd "$BATS_TEST_TMPDIR/proj" || return 1
	printf 'new\n' >untracked.txt
	sync_json
	assert_field result synced
	assert_same_tree . "$REMOTE_HOME/proj"
	printf 'edit\n' >>README.md
	sync_json
	assert_field result synced
	assert_field handshakes 0
	assert_same_tree . "$REMOTE_HOME/proj"
	run -0 sc exec "$DEST" -- git --version
	if _sc_peer "${SIDECAR_PEER_SSHD:-}"; then
		[[ $output == "git version 2.30."* ]]
		run -0 "$SIDECAR_SSH" -v -o BatchMode=yes "$DEST" true
		[[ $output == *"remote software version OpenSSH_8.4"* ]]
	else
		[ "$output" = "$(git --version)" ]
	fi
	run -3 sc exec "$DEST" -- sh -c 'exit 3'
}
