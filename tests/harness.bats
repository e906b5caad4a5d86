#!/usr/bin/env bats
# The test harness itself, against a real sshd and the fault listeners,
# with plain ssh (no sidecar): if these fail, no other suite can be trusted.
#
# What OpenSSH 9.2p1 prints on stderr for each staged fault (exit 255 each;
# every line ends in "\r\n", as ssh's log lines do):
#
#   closed port        ssh: connect to host 127.0.0.1 port P: Connection refused
#   listener close     kex_exchange_identification: Connection closed by remote host
#                      Connection closed by 127.0.0.1 port P
#   listener reset     one of, depending on when the RST lands:
#                        ssh: connect to host 127.0.0.1 port P: Connection reset by peer
#                        kex_exchange_identification: read: Connection reset by peer
#                          + Connection reset by 127.0.0.1 port P
#                        Connection reset by 127.0.0.1 port P   (the write failed)
#                        Connection reset by UNKNOWN port -1     (rare)
#   listener silent    Connection timed out during banner exchange
#   (ConnectTimeout=1) Connection to 127.0.0.1 port P timed out
#   banner-close       Connection closed by 127.0.0.1 port P
#                      (the banner was read, so no kex_exchange_identification line)
#   new host key       @@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@ ...
#                      Host key verification failed.
#   unknown client key root@127.0.0.1: Permission denied (publickey).
#   sshd stopped under Connection to 127.0.0.1 closed by remote host.
#   a running session

load test_helper

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# Plain ssh to a listener: no host alias, nothing read from the real home.
ssh_to_listener() {
	local timeout=$1
	/usr/bin/ssh -F /dev/null -o BatchMode=yes -o ConnectTimeout="$timeout" \
		-o UserKnownHostsFile="$BATS_TEST_TMPDIR/known_hosts" \
		-o GlobalKnownHostsFile=/dev/null \
		-p "$LISTENER_PORT" 127.0.0.1 true
}

# Succeeds when no pid given is a live process (zombies count as gone).
all_gone() {
	local pid state
	for pid in "$@"; do
		state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
		case $state in
		'' | Z*) ;;
		*) return 1 ;;
		esac
	done
}

@test "common_setup isolates the environment" {
	[ "$HOME" = "$BATS_TEST_TMPDIR/home" ]
	[ -d "$HOME" ]
	[ -d "$XDG_RUNTIME_DIR" ]
	[ "$(stat -c %a "$XDG_RUNTIME_DIR")" = 700 ]
	# room for sidecar/<%C hash> plus ssh's 17-byte temporary suffix
	[ "${#XDG_RUNTIME_DIR}" -le 20 ]
	[ -z "${SSH_AUTH_SOCK+set}" ]
	[ -z "${SIDECAR_DEST+set}" ]
	[ "$LC_ALL" = C ]
	[ "$PATH" = /usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin ]
	[ "$SIDECAR_BIN" = "$(cd "$BATS_TEST_DIRNAME/.." && pwd)/sidecar" ]
	run -0 git config --global user.email
	assert_output 'sidecar-test@example.invalid'
}

@test "sc runs SIDECAR_BIN with its arguments" {
	SIDECAR_BIN=/bin/echo
	run -0 sc 'one arg' two
	assert_output 'one arg two'
}

@test "sshd_start: ssh runs a command with HOME and cwd in REMOTE_HOME" {
	sshd_start
	[ "$DEST" = sidecar-test ]
	[ -x "$SIDECAR_SSH" ]
	run -0 --separate-stderr "$SIDECAR_SSH" -o BatchMode=yes sidecar-test -- echo ok
	assert_output ok
	run -0 --separate-stderr "$SIDECAR_SSH" -o BatchMode=yes sidecar-test -- 'echo "$HOME"; pwd'
	assert_output "$REMOTE_HOME
$REMOTE_HOME"
	[ "$(count_auth)" -eq 2 ]
}

@test "sshd_start: the session passes status, stdin and quoting through" {
	sshd_start
	run -3 "$SIDECAR_SSH" -o BatchMode=yes sidecar-test 'exit 3'
	run -0 --separate-stderr "$SIDECAR_SSH" -o BatchMode=yes sidecar-test \
		"printf '<%s>' 'a b' \"c'd\""
	assert_output "<a b><c'd>"
	run -0 --separate-stderr bash -c 'printf "line 1\nline 2\n" | "$SIDECAR_SSH" -o BatchMode=yes sidecar-test wc -l'
	assert_output 2
}

@test "sshd_start: a picked port taken before sshd binds it is picked again" {
	listener_start silent
	local taken=$LISTENER_PORT
	# The first pick is a port another server took meanwhile (free_port
	# runs in a subshell: a file marks the first call).
	eval "_real_$(declare -f free_port)"
	free_port() {
		if mkdir "$BATS_TEST_TMPDIR/picked" 2>/dev/null; then
			echo "$taken"
		else
			_real_free_port
		fi
	}
	sshd_start
	[ "$SSHD_PORT" != "$taken" ] || fail "sshd kept the taken port $taken"
	run -0 "$SIDECAR_SSH" -o BatchMode=yes sidecar-test 'echo up'
	assert_output up
}

@test "sshd_start --delay-ms: refused at first, then up" {
	sshd_start --delay-ms 1000
	run -255 "$SIDECAR_SSH" -o BatchMode=yes -o ConnectTimeout=1 sidecar-test true
	assert_output --partial "ssh: connect to host 127.0.0.1 port $SSHD_PORT: Connection refused"
	wait_until --timeout-ms 10000 "$SIDECAR_SSH" -o BatchMode=yes -o ConnectTimeout=1 sidecar-test true
	run -0 --separate-stderr "$SIDECAR_SSH" -o BatchMode=yes sidecar-test -- echo ok
	assert_output ok
}

@test "sshd_stop drops live sessions, then the port refuses" {
	sshd_start
	"$SIDECAR_SSH" -o BatchMode=yes sidecar-test 'echo started; sleep 30' \
		</dev/null >"$BATS_TEST_TMPDIR/client.out" 2>"$BATS_TEST_TMPDIR/client.err" 3>&- &
	local client=$! pid=$SSHD_PID status=0
	track_pid "$client"
	wait_until grep -q started "$BATS_TEST_TMPDIR/client.out"
	sshd_stop
	wait "$client" || status=$?
	[ "$status" -eq 255 ]
	grep -q 'Connection to 127.0.0.1 closed by remote host' "$BATS_TEST_TMPDIR/client.err"
	all_gone "$pid"
	run -255 "$SIDECAR_SSH" -o BatchMode=yes sidecar-test true
	assert_output --partial 'Connection refused'
}

@test "sshd_restart_with_new_hostkey: same port, host key changed" {
	sshd_start
	local port=$SSHD_PORT
	run -0 "$SIDECAR_SSH" -o BatchMode=yes sidecar-test true
	sshd_restart_with_new_hostkey
	[ "$SSHD_PORT" = "$port" ]
	run -255 "$SIDECAR_SSH" -o BatchMode=yes sidecar-test true
	assert_output --partial 'WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!'
	assert_output --partial 'Host key verification failed.'
}

@test "a key the server does not know: Permission denied (publickey)" {
	sshd_start
	: >"$BATS_TEST_TMPDIR/sshd/authorized_keys"
	run -255 "$SIDECAR_SSH" -o BatchMode=yes sidecar-test true
	assert_output --regexp '^[^@]+@127\.0\.0\.1: Permission denied \(publickey\)\.'
}

@test "closed port: Connection refused" {
	LISTENER_PORT=$(free_port)
	run -255 ssh_to_listener 2
	assert_output "ssh: connect to host 127.0.0.1 port $LISTENER_PORT: Connection refused"$'\r'
}

@test "listener close: closed during banner exchange, every time" {
	listener_start close
	local attempt
	for attempt in 1 2 3; do
		run -255 ssh_to_listener 2
		assert_line --index 0 'kex_exchange_identification: Connection closed by remote host'$'\r'
		assert_line --index 1 "Connection closed by 127.0.0.1 port $LISTENER_PORT"$'\r'
		[ "${#lines[@]}" -eq 2 ] || fail "attempt $attempt: ${#lines[@]} lines"
	done
}

@test "listener reset: Connection reset" {
	listener_start reset
	run -255 ssh_to_listener 2
	assert_output --regexp "Connection reset by (peer|127\.0\.0\.1 port $LISTENER_PORT|UNKNOWN port -1)"
}

@test "listener silent: Connection timed out during banner exchange" {
	listener_start silent
	run -255 ssh_to_listener 1
	assert_line --index 0 'Connection timed out during banner exchange'$'\r'
	assert_line --index 1 "Connection to 127.0.0.1 port $LISTENER_PORT timed out"$'\r'
}

@test "listener banner-close: closed after the banner" {
	listener_start banner-close
	run -255 ssh_to_listener 2
	assert_output "Connection closed by 127.0.0.1 port $LISTENER_PORT"$'\r'
}

@test "listener: usage error and the port file" {
	run -2 "$LISTENER_BIN" bogus "$BATS_TEST_TMPDIR/p"
	assert_output --partial 'usage: listener'
	run -0 "$LISTENER_BIN" port "$BATS_TEST_TMPDIR/p"
	run -0 cat "$BATS_TEST_TMPDIR/p"
	assert_output --regexp '^[0-9]+$'
	[ ! -e "$BATS_TEST_TMPDIR/p.tmp" ]
}

@test "common_teardown stops servers, listeners and control masters" {
	sshd_start
	listener_start silent
	local sshd=$SSHD_PID listener=$LISTENER_PID runtime=$XDG_RUNTIME_DIR master
	mkdir -m 700 "$XDG_RUNTIME_DIR/sidecar"
	/usr/bin/ssh -F "$SSH_CONFIG" -o BatchMode=yes -S "$XDG_RUNTIME_DIR/sidecar/m" \
		-M -N -f -o ControlPersist=60 sidecar-test </dev/null >/dev/null 2>&1 3>&-
	master=$(/usr/bin/ssh -F "$SSH_CONFIG" -S "$XDG_RUNTIME_DIR/sidecar/m" -O check sidecar-test 2>&1 |
		sed -n 's/.*(pid=\([0-9]*\)).*/\1/p')
	[ -n "$master" ]
	sshd_start --delay-ms 60000 --port "$(free_port)"
	local starter=$SSHD_PID

	common_teardown
	all_gone "$sshd" "$listener" "$master" "$starter"
	[ ! -e "$runtime" ]
	[ -z "$(pgrep -f "$BATS_TEST_TMPDIR/" || true)" ]
}

@test "wait_until and wait_for_file give up after their bound" {
	run -1 wait_until --timeout-ms 100 false
	assert_output --partial 'wait_until: still failing after 100ms: false'
	run -1 wait_for_file "$BATS_TEST_TMPDIR/never" 100
	assert_output --partial 'did not appear within 100ms'
	(: >"$BATS_TEST_TMPDIR/soon")
	wait_for_file "$BATS_TEST_TMPDIR/soon" 100
}

@test "make_repo: files, modes, a symlink, one commit, origin/HEAD" {
	make_repo "$BATS_TEST_TMPDIR/repo"
	cd "$BATS_TEST_TMPDIR/repo"
	[ -f 'notes with space.txt' ]
	[ -x build.sh ]
	[ -L readme-link ]
	[ "$(readlink readme-link)" = README.md ]
	[ -f src/lib/answer.c ]
	run -0 git symbolic-ref --short HEAD
	assert_output main
	run -0 git rev-list --count HEAD
	assert_output 1
	run -0 git status --porcelain
	assert_output ''
	[ "$(git rev-parse origin/HEAD)" = "$(git rev-parse HEAD)" ]
	run -0 git symbolic-ref refs/remotes/origin/HEAD
	assert_output refs/remotes/origin/main
	run -0 git ls-files -s build.sh readme-link
	assert_line --partial '100755'
	assert_line --partial '120000'
}
