# test_helper.bash: shared setup for every bats suite of sidecar.
#
# Each suite does:
#
#   load test_helper
#   setup() { common_setup; }
#   teardown() { common_teardown; }
#
# Everything a test creates lives in $BATS_TEST_TMPDIR, except the runtime
# directory, which must stay short because control socket paths are bound
# by sun_path (108 bytes). Servers run on 127.0.0.1 only. Every background
# process started here is recorded and stopped by its pid in teardown; none
# of them keeps bats' file descriptors (stdout and stderr go to files, fd 3
# is closed), or bats would wait for it forever.

# `run -N` and `run --separate-stderr` need bats 1.5.
bats_require_minimum_version 1.5.0

# The repository root, found from this file (tests/test_helper.bash).
_SC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_SC_POLL=0.02		# seconds between two looks in a bounded poll

# --- environment ----------------------------------------------------------

common_setup() {
	load /usr/lib/bats/bats-support/load
	load /usr/lib/bats/bats-assert/load

	_sc_pids=()
	export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
	export LC_ALL=C
	export HOME="$BATS_TEST_TMPDIR/home"
	export XDG_CONFIG_HOME="$HOME/.config"
	mkdir -p "$HOME" "$XDG_CONFIG_HOME"
	XDG_RUNTIME_DIR=$(mktemp -d /tmp/sc.XXXXXX)
	chmod 700 "$XDG_RUNTIME_DIR"
	_sc_runtime_dir=$XDG_RUNTIME_DIR
	export XDG_RUNTIME_DIR

	unset SSH_AUTH_SOCK SIDECAR_DEST SIDECAR_SSH SIDECAR_GIT
	unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_CONFIG GIT_CONFIG_GLOBAL \
		GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_AUTHOR_DATE \
		GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_COMMITTER_DATE
	export GIT_CONFIG_NOSYSTEM=1
	git config --global user.name 'Sidecar Test'
	git config --global user.email 'sidecar-test@example.invalid'
	git config --global init.defaultBranch main

	# SIDECAR_TEST_BIN: another build to test (the static one, say)
	export SIDECAR_BIN="${SIDECAR_TEST_BIN:-$_SC_ROOT/sidecar}"
	export LISTENER_BIN="$_SC_ROOT/tests/helpers/listener"
	export JSONGET_BIN="$_SC_ROOT/tests/helpers/jsonget"
}

common_teardown() {
	_sc_close_masters
	local i
	for ((i = ${#_sc_pids[@]} - 1; i >= 0; i--)); do
		_sc_stop_tree "${_sc_pids[i]}"
	done
	_sc_pids=()
	if [ -n "${_sc_runtime_dir:-}" ]; then
		rm -rf "$_sc_runtime_dir"
	fi
}

# Asks every ControlMaster whose socket lies in this test's directories
# ($XDG_RUNTIME_DIR/sidecar/ above all, or a TMPDIR a test pointed into
# $BATS_TEST_TMPDIR) to exit, and makes sure it did. The masters were
# started by the program under test and daemonized by ssh; their pid comes
# from the master itself (-O check).
_sc_close_masters() {
	local sock pid out dirs=()
	[ -d "${_sc_runtime_dir:-}" ] && dirs+=("$_sc_runtime_dir")
	[ -d "${BATS_TEST_TMPDIR:-}" ] && dirs+=("$BATS_TEST_TMPDIR")
	[ ${#dirs[@]} -gt 0 ] || return 0
	while IFS= read -r sock; do
		out=$(timeout 2 /usr/bin/ssh -F /dev/null -o ControlPath="$sock" -O check x 2>&1 || true)
		pid=$(sed -n 's/.*(pid=\([0-9][0-9]*\)).*/\1/p' <<<"$out")
		timeout 2 /usr/bin/ssh -F /dev/null -o ControlPath="$sock" -O exit x >/dev/null 2>&1 || true
		if [ -n "$pid" ]; then
			_sc_wait_gone 2000 "$pid" || kill -KILL "$pid" 2>/dev/null || true
		fi
	done < <(find "${dirs[@]}" -type s 2>/dev/null)
}

# --- processes ------------------------------------------------------------

# Remembers a pid for teardown.
_sc_track() {
	_sc_pids+=("$1")
}

# track_pid PID: a background process a test started itself (with its
# output in files and 3>&-), to be stopped by teardown like the helpers' own.
track_pid() {
	_sc_track "$1"
}

# Succeeds when any of the given pids is a live process (not a zombie).
_sc_alive() {
	local pid stat
	for pid in "$@"; do
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		stat=${stat##*) }
		[ "${stat%% *}" = Z ] || return 0
	done
	return 1
}

# Waits up to $1 ms for the remaining pids to be gone.
_sc_wait_gone() {
	local ms=$1 waited=0
	shift
	while _sc_alive "$@"; do
		[ "$waited" -lt "$ms" ] || return 1
		sleep "$_SC_POLL"
		waited=$((waited + 20))
	done
}

# Prints the pids of every descendant of $1, parents before children.
_sc_descendants() {
	local queue=("$1") pid kid
	while [ ${#queue[@]} -gt 0 ]; do
		pid=${queue[0]}
		queue=("${queue[@]:1}")
		for kid in $(pgrep -P "$pid" || true); do
			echo "$kid"
			queue+=("$kid")
		done
	done
}

# Stops a process we started, and everything it started (an sshd's
# sessions, a delayed starter's sleep): SIGTERM, a bounded wait, then
# SIGKILL. The descendants go first, so a client sees its connection drop
# as it would when the machine goes down.
_sc_stop_tree() {
	local pid=$1 kids
	kids=$(_sc_descendants "$pid")
	if [ -n "$kids" ]; then
		# shellcheck disable=SC2086 # one pid per word
		kill -TERM $kids 2>/dev/null || true
		# shellcheck disable=SC2086
		_sc_wait_gone 3000 $kids || kill -KILL $kids 2>/dev/null || true
	fi
	kill -TERM "$pid" 2>/dev/null || true
	_sc_wait_gone 3000 "$pid" || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# Forgets a pid after stopping it.
_sc_untrack_stop() {
	local pid=$1 i kept=()
	_sc_stop_tree "$pid"
	for i in "${_sc_pids[@]}"; do
		[ "$i" = "$pid" ] || kept+=("$i")
	done
	_sc_pids=("${kept[@]}")
}

# --- waiting --------------------------------------------------------------

# wait_for_file PATH [TIMEOUT_MS]: polls until PATH exists (default 5000 ms).
wait_for_file() {
	wait_until --timeout-ms "${2:-5000}" test -e "$1" 2>/dev/null && return 0
	echo "wait_for_file: $1 did not appear within ${2:-5000}ms" >&2
	return 1
}

# wait_until [--timeout-ms N] CMD [ARG]...: polls CMD until it succeeds
# (default bound 5000 ms); its output is discarded.
wait_until() {
	local ms=5000 waited=0
	if [ "${1:-}" = --timeout-ms ]; then
		ms=$2
		shift 2
	fi
	until "$@" >/dev/null 2>&1; do
		if [ "$waited" -ge "$ms" ]; then
			echo "wait_until: still failing after ${ms}ms: $*" >&2
			return 1
		fi
		sleep "$_SC_POLL"
		waited=$((waited + 20))
	done
}

# --- listeners ------------------------------------------------------------

_sc_need_listener() {
	if [ ! -x "$LISTENER_BIN" ]; then
		echo "missing $LISTENER_BIN: run 'make build-tests'" >&2
		return 1
	fi
}

# free_port: prints a port on 127.0.0.1 that nothing listens on (the
# kernel's pick; free when printed).
free_port() {
	local file
	_sc_need_listener || return 1
	file=$(mktemp "$BATS_TEST_TMPDIR/port.XXXXXX")
	rm -f "$file"
	"$LISTENER_BIN" port "$file" || return 1
	cat "$file"
	rm -f "$file"
}

# listener_start MODE: starts a misbehaving server (close, reset, silent,
# banner-close); exports LISTENER_PORT and LISTENER_PID.
listener_start() {
	local mode=$1 file
	_sc_need_listener || return 1
	file=$(mktemp "$BATS_TEST_TMPDIR/listener-$mode.XXXXXX")
	rm -f "$file"
	"$LISTENER_BIN" "$mode" "$file" </dev/null >"$file.log" 2>&1 3>&- &
	LISTENER_PID=$!
	_sc_track "$LISTENER_PID"
	if ! wait_for_file "$file" 5000; then
		cat "$file.log" >&2
		return 1
	fi
	LISTENER_PORT=$(cat "$file")
	export LISTENER_PORT LISTENER_PID
}

# --- JSON -----------------------------------------------------------------

# jsonget [[--] KEY | -k KEY...]: checks and reads JSON on stdin
# (tests/helpers/jsonget.c), so the suites need no jq. Without arguments it
# succeeds when stdin is one JSON value; with KEY it prints that top-level
# member, a string unescaped; with -k it succeeds when every KEY is one.
jsonget() {
	if [ ! -x "$JSONGET_BIN" ]; then
		echo "missing $JSONGET_BIN: run 'make build-tests'" >&2
		return 1
	fi
	"$JSONGET_BIN" "$@"
}

# fault_config PORT [LINE...]: an ssh config whose Host "fault" is
# 127.0.0.1:PORT, with LINEs added to it; sets FAULT_CONFIG. Used with -F,
# or by an ssh wrapper.
fault_config() {
	local port=$1 line
	shift
	FAULT_CONFIG="$BATS_TEST_TMPDIR/fault_config"
	cat >"$FAULT_CONFIG" <<-EOF
	Host fault
		HostName 127.0.0.1
		Port $port
		User $(id -un)
		UserKnownHostsFile "$BATS_TEST_TMPDIR/fault_known_hosts"
		GlobalKnownHostsFile /dev/null
		StrictHostKeyChecking yes
	EOF
	for line; do
		printf '\t%s\n' "$line" >>"$FAULT_CONFIG"
	done
	chmod 600 "$FAULT_CONFIG"
}

# --- peers and shells -------------------------------------------------------

# Whole suites run unchanged against other sidecars and clients, chosen by
# the environment (the Makefile's check-peers and check-shells set it):
#
#   SIDECAR_PEER_ROOT=DIR  a Debian root built by tests/peers/root.sh, with
#                          /tmp, /proc and /dev bound into it (tests/peers/run)
#   SIDECAR_PEER_SSHD=1    the sidecar is that root's sshd, with its sh and git
#   SIDECAR_PEER_SSH=1     the ssh that sidecar runs is that root's client
#   SIDECAR_TEST_LOGIN_SHELL=NAME  the remote account's login shell (see
#                          test_shell): every session runs as `NAME -c COMMAND`
#   SIDECAR_TEST_REMOTE_SH=NAME    `sh` on the remote PATH is NAME, so the
#                          remote script runs under it
#
# The root's programs see the same paths as the tests because /tmp is the
# same directory inside it: every test directory must live under /tmp.

# Succeeds when the peer root is in use for $1 (SIDECAR_PEER_SSHD or _SSH).
_sc_peer() {
	[ -n "${SIDECAR_PEER_ROOT:-}" ] && [ "${1:-}" = 1 ]
}

# The root the sshd runs in: the peer's, or nothing for this machine's.
_sc_sshd_root() {
	! _sc_peer "${SIDECAR_PEER_SSHD:-}" || echo "$SIDECAR_PEER_ROOT"
}

# The sshd command, and the ssh command that sidecar's ssh wrapper runs
# (one word each, or `chroot ROOT PROGRAM`; ROOT has no blanks).
_sc_sshd_prog() {
	if _sc_peer "${SIDECAR_PEER_SSHD:-}"; then
		echo "chroot $SIDECAR_PEER_ROOT /usr/sbin/sshd"
	else
		echo /usr/sbin/sshd
	fi
}
_sc_ssh_prog() {
	if _sc_peer "${SIDECAR_PEER_SSH:-}"; then
		echo "chroot $SIDECAR_PEER_ROOT /usr/bin/ssh"
	else
		echo /usr/bin/ssh
	fi
}

# test_shell NAME DIR [AS]: makes DIR/AS (default DIR/NAME) a program that is
# the shell NAME and prints its path. NAME is a shell on PATH (dash, bash,
# zsh, mksh, ksh93, yash, posh, fish, csh, tcsh, ...), `ash` (busybox's,
# which picks its applet by the name it is called by) or `bash-posix`
# (bash --posix). Fails when that shell is not installed.
test_shell() {
	local name=$1 dir=$2 as=${3:-$1} path
	mkdir -p "$dir"
	case $name in
	ash) path=$(command -v busybox) ;;
	bash-posix) path=$(command -v bash) ;;
	*) path=$(command -v "$name") ;;
	esac
	if [ -z "$path" ]; then
		echo "test_shell: $name is not installed" >&2
		return 1
	fi
	if [ "$name" = bash-posix ]; then
		printf '#!/bin/sh\nexec %s --posix "$@"\n' "$path" >"$dir/$as"
		chmod 755 "$dir/$as"
	else
		ln -sfn "$path" "$dir/$as"
	fi
	echo "$dir/$as"
}

# peer_bind DIR: a mount a test made at DIR (under /tmp) made visible to
# the peer's sshd too (mounts do not propagate into its root); undone by
# peer_unbind DIR. Nothing to do with this machine's sshd.
peer_bind() {
	local root
	root=$(_sc_sshd_root)
	[ -z "$root" ] || mount --bind "$1" "$root$1"
}
peer_unbind() {
	local root
	root=$(_sc_sshd_root)
	[ -z "$root" ] || umount "$root$1" 2>/dev/null || true
}

# The authorized_keys options that give sessions SIDECAR_TEST_LOGIN_SHELL
# and SIDECAR_TEST_REMOTE_SH: ',environment="..."' for each that is set.
_sc_key_env() {
	local shells="$BATS_TEST_TMPDIR/shells" path
	if [ -n "${SIDECAR_TEST_LOGIN_SHELL:-}" ]; then
		path=$(test_shell "$SIDECAR_TEST_LOGIN_SHELL" "$shells/login") || return 1
		printf ',environment="SHELL=%s"' "$path"
	fi
	if [ -n "${SIDECAR_TEST_REMOTE_SH:-}" ]; then
		test_shell "$SIDECAR_TEST_REMOTE_SH" "$shells/bin" sh >/dev/null || return 1
		printf ',environment="PATH=%s:/usr/local/bin:/usr/bin:/bin"' "$shells/bin"
	fi
}

# --- sshd -----------------------------------------------------------------

# Copies a host key and a client key into $1. Generated once per run and
# kept in $BATS_RUN_TMPDIR; the cache appears by one rename, so parallel
# tests never see half of it.
_sc_keys() {
	local cache="$BATS_RUN_TMPDIR/sidecar-keys" tmp
	if [ ! -d "$cache" ]; then
		tmp=$(mktemp -d "$BATS_RUN_TMPDIR/sidecar-keys.XXXXXX")
		ssh-keygen -q -t ed25519 -N '' -C sidecar-test-host -f "$tmp/host_ed25519" &&
		ssh-keygen -q -t ed25519 -N '' -C sidecar-test-client -f "$tmp/client_ed25519" ||
			return 1
		mv -T "$tmp" "$cache" 2>/dev/null || rm -rf "$tmp"
	fi
	cp -p "$cache/host_ed25519" "$cache/host_ed25519.pub" \
		"$cache/client_ed25519" "$cache/client_ed25519.pub" "$1/"
}

# Writes sshd_config, authorized_keys, the session wrapper, known_hosts,
# the client config and the ssh wrapper for port $1.
_sc_sshd_configure() {
	local port=$1 dir="$BATS_TEST_TMPDIR/sshd" user key env
	user=$(id -un)
	key=$(cut -d' ' -f1,2 "$dir/client_ed25519.pub")
	env=$(_sc_key_env) || return 1

	# sshd starts sessions in the passwd home directory; this wrapper moves
	# them to $HOME (REMOTE_HOME), as on an account whose home that is.
	cat >"$dir/session" <<-'EOF'
	#!/bin/sh
	cd "$HOME" || exit 1
	# a test that sets SIDECAR_TEST_CMDLEN learns each command line's length
	[ -z "${SIDECAR_TEST_CMDLEN:-}" ] ||
		printf '%s\n' "${#SSH_ORIGINAL_COMMAND}" >>"$SIDECAR_TEST_CMDLEN"
	if [ -n "${SSH_ORIGINAL_COMMAND+set}" ]; then
		exec "$SHELL" -c "$SSH_ORIGINAL_COMMAND"
	fi
	exec "$SHELL" -l
	EOF
	chmod 755 "$dir/session"

	cat >"$dir/sshd_config" <<-EOF
	ListenAddress 127.0.0.1:$port
	HostKey $dir/host_ed25519
	PidFile $dir/sshd.pid
	AuthorizedKeysFile $dir/authorized_keys
	PermitUserEnvironment yes
	ForceCommand $dir/session
	StrictModes no
	UsePAM no
	UseDNS no
	LogLevel VERBOSE
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	MaxSessions 50
	MaxStartups 50
	PrintMotd no
	PrintLastLog no
	X11Forwarding no
	EOF

	printf 'environment="HOME=%s"%s %s\n' "$REMOTE_HOME" "$env" "$key" \
		>"$dir/authorized_keys"
	printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" \
		>"$BATS_TEST_TMPDIR/known_hosts"

	cat >"$SSH_CONFIG" <<-EOF
	Host sidecar-test
		HostName 127.0.0.1
		Port $port
		User $user
	Host *
		IdentityFile "$dir/client_ed25519"
		IdentitiesOnly yes
		UserKnownHostsFile "$BATS_TEST_TMPDIR/known_hosts"
		GlobalKnownHostsFile /dev/null
		StrictHostKeyChecking yes
		UpdateHostKeys no
	EOF
	chmod 600 "$SSH_CONFIG"

	mkdir -p "$BATS_TEST_TMPDIR/bin"
	printf '#!/bin/sh\nexec %s -F %s "$@"\n' "$(_sc_ssh_prog)" "'$SSH_CONFIG'" \
		>"$BATS_TEST_TMPDIR/bin/ssh"
	chmod 755 "$BATS_TEST_TMPDIR/bin/ssh"
}

# Starts sshd in the background, at once or after $1 ms; sets SSHD_PID.
_sc_sshd_launch() {
	local delay_ms=$1 dir="$BATS_TEST_TMPDIR/sshd"
	local cmd=($(_sc_sshd_prog) -D -f "$dir/sshd_config" -E "$SSHD_LOG")
	rm -f "$dir/sshd.pid"
	if [ -n "$delay_ms" ]; then
		# The sleep is the fault being staged (a machine still booting),
		# not a way to wait for something.
		(
			# Stopped while asleep, it must not start sshd after all.
			sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))" &&
				exec "${cmd[@]}"
		) </dev/null >>"$dir/sshd.out" 2>&1 3>&- &
	else
		"${cmd[@]}" </dev/null >>"$dir/sshd.out" 2>&1 3>&- &
	fi
	SSHD_PID=$!
	export SSHD_PID
	_sc_track "$SSHD_PID"
	[ -z "$delay_ms" ] || return 0

	# sshd writes its PidFile once its socket listens: waiting for the file
	# waits for the port without making a connection that would show up in
	# the log.
	local waited=0
	until [ -s "$dir/sshd.pid" ]; do
		if ! _sc_alive "$SSHD_PID" || [ "$waited" -ge 5000 ]; then
			echo "sshd did not start on 127.0.0.1:$SSHD_PORT" >&2
			cat "$dir/sshd.out" "$SSHD_LOG" >&2 2>/dev/null
			return 1
		fi
		sleep "$_SC_POLL"
		waited=$((waited + 20))
	done
}

# sshd_start [--delay-ms N] [--port P] [--login-shell NAME] [--remote-sh NAME]:
# a real sshd on 127.0.0.1 with its own keys and config in
# $BATS_TEST_TMPDIR/sshd; --login-shell and --remote-sh set
# SIDECAR_TEST_LOGIN_SHELL and SIDECAR_TEST_REMOTE_SH (below). Exports SSHD_PORT,
# SSHD_PID, SSHD_LOG, SSH_CONFIG, REMOTE_HOME, DEST (the Host alias) and
# SIDECAR_SSH (an ssh that reads SSH_CONFIG). Returns once the port
# accepts connections, or at once with --delay-ms.
sshd_start() {
	local delay_ms='' port='' dir="$BATS_TEST_TMPDIR/sshd"
	while [ $# -gt 0 ]; do
		case $1 in
		--delay-ms) delay_ms=$2; shift 2 ;;
		--port) port=$2; shift 2 ;;
		--login-shell) export SIDECAR_TEST_LOGIN_SHELL=$2; shift 2 ;;
		--remote-sh) export SIDECAR_TEST_REMOTE_SH=$2; shift 2 ;;
		*) echo "sshd_start: unknown option $1" >&2; return 2 ;;
		esac
	done
	local picked=
	[ -n "$port" ] || { picked=1; port=$(free_port) || return 1; }

	[ -d "$(_sc_sshd_root)/run/sshd" ] || mkdir -m 755 "$(_sc_sshd_root)/run/sshd"
	mkdir -p "$dir"
	export REMOTE_HOME="$BATS_TEST_TMPDIR/remote-home"
	mkdir -p "$REMOTE_HOME"
	export SSHD_PORT=$port
	export SSHD_LOG="$dir/sshd.log"
	export SSH_CONFIG="$BATS_TEST_TMPDIR/ssh_config"
	export SIDECAR_SSH="$BATS_TEST_TMPDIR/bin/ssh"
	export DEST=sidecar-test

	_sc_keys "$dir" || return 1
	local tries=0
	while :; do
		_sc_sshd_configure "$port" || return 1
		if ! $(_sc_sshd_prog) -t -f "$dir/sshd_config" >&2; then
			echo "sshd_start: bad sshd_config" >&2
			return 1
		fi
		_sc_sshd_launch "$delay_ms" 2>"$dir/launch.err" && return 0
		# A picked port can still be taken by another test between the
		# pick and sshd's bind: pick again.
		tries=$((tries + 1))
		if [ -z "$picked" ] || [ "$tries" -ge 5 ] ||
			! grep -q 'Address already in use' "$dir/launch.err"; then
			cat "$dir/launch.err" >&2
			return 1
		fi
		_sc_untrack_stop "$SSHD_PID"
		port=$(free_port) || return 1
		export SSHD_PORT=$port
		: >"$SSHD_LOG"; : >"$dir/sshd.out"
	done
}

# sshd_stop: stops the server and every session it holds, as a machine
# going down would.
sshd_stop() {
	if [ -n "${SSHD_PID:-}" ]; then
		_sc_untrack_stop "$SSHD_PID"
		SSHD_PID=
	fi
}

# sshd_restart_with_new_hostkey: the same server on the same port, now with
# a host key that known_hosts does not hold (a rebuilt machine).
sshd_restart_with_new_hostkey() {
	local dir="$BATS_TEST_TMPDIR/sshd"
	sshd_stop
	rm -f "$dir/host_ed25519" "$dir/host_ed25519.pub"
	ssh-keygen -q -t ed25519 -N '' -C sidecar-test-new-host -f "$dir/host_ed25519" || return 1
	_sc_sshd_launch ''
}

# sshd_log_count PATTERN: how many lines of sshd's log match PATTERN.
sshd_log_count() {
	local n=0
	if [ -f "${SSHD_LOG:-}" ]; then
		n=$(grep -c -- "$1" "$SSHD_LOG" || true)
	fi
	echo "$n"
}

# remote_env K=V...: every connection authenticated from now on gets these
# variables on the sidecar (environment= options in authorized_keys, read
# at each authentication). Call it before the shared connection starts.
remote_env() {
	local dir="$BATS_TEST_TMPDIR/sshd" opts kv key
	opts="environment=\"HOME=$REMOTE_HOME\""
	for kv in "$@"; do
		opts="$opts,environment=\"$kv\""
	done
	key=$(cut -d' ' -f1,2 "$dir/client_ed25519.pub")
	printf '%s %s\n' "$opts" "$key" >"$dir/authorized_keys"
}

# --- signals to remote commands ------------------------------------------

# Prints the PIDs of the sidecar's processes whose command line is exactly $1.
remote_pids() {
	ps -eo pid=,args= | awk -v want="$1" '{ pid = $1; $1 = ""; sub(/^ /, "") } $0 == want { print pid }'
}

remote_running() { [ -n "$(remote_pids "$1")" ]; }
remote_gone() { [ -z "$(remote_pids "$1")" ]; }

# Runs sidecar "$@" in the background, its stderr in $BATS_TEST_TMPDIR/err;
# sets SC_PID.
sc_background() {
	"$SIDECAR_BIN" "$@" </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	SC_PID=$!
	_sc_track "$SC_PID"
}

# interrupt_and_check SIG STATUS CMDLINE...: sends SIG to SC_PID once a
# remote process runs each CMDLINE, then checks that sidecar exits STATUS
# and that none of them remains (a survivor is killed, and the test fails).
interrupt_and_check() {
	local sig=$1 want=$2 p
	shift 2
	for p in "$@"; do
		wait_until --timeout-ms 10000 remote_running "$p"
	done
	kill -s "$sig" "$SC_PID"
	local rc=0
	wait "$SC_PID" || rc=$?
	[ "$rc" -eq "$want" ] || fail "exit status $rc, not $want: $(cat "$BATS_TEST_TMPDIR/err")"
	for p in "$@"; do
		if ! wait_until --timeout-ms 5000 remote_gone "$p"; then
			local left
			left=$(remote_pids "$p")
			kill -s KILL $left 2>/dev/null
			fail "still running on the sidecar: $p ($left)"
		fi
	done
}

# count_auth: how many sessions authenticated so far ("Accepted publickey").
count_auth() {
	sshd_log_count 'Accepted publickey'
}

# --- the program under test ------------------------------------------------

# sc ARG...: runs sidecar (under valgrind when SIDECAR_VALGRIND is set).
sc() {
	case ${SIDECAR_VALGRIND:-} in
	'' | 0)
		"$SIDECAR_BIN" "$@" ;;
	*)
		valgrind -q --error-exitcode=99 --leak-check=full --trace-children=no \
			"$SIDECAR_BIN" "$@" ;;
	esac
}

# --- repositories -----------------------------------------------------------

# make_repo DIR [ORIGIN]: a git repository with one commit on main: a file
# whose name has a space, an executable script, a symlink, a subdirectory;
# its origin is a bare repository (default $BATS_TEST_TMPDIR/origin.git)
# holding main, with origin/HEAD set.
make_repo() {
	local dir=$1 origin=${2:-$BATS_TEST_TMPDIR/origin.git}
	git init -q "$dir" || return 1
	mkdir -p "$dir/src/lib"
	printf '# demo\n\nA small project.\n' >"$dir/README.md"
	printf 'a file whose name has a space\n' >"$dir/notes with space.txt"
	printf '#!/bin/sh\necho built\n' >"$dir/build.sh"
	chmod 755 "$dir/build.sh"
	ln -s README.md "$dir/readme-link"
	printf 'int answer(void)\n{\n\treturn 42;\n}\n' >"$dir/src/lib/answer.c"
	git -C "$dir" add -A &&
	GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z' \
		git -C "$dir" commit -q -m 'initial commit' &&
	git init -q --bare "$origin" &&
	git -C "$dir" remote add origin "$origin" &&
	git -C "$dir" push -q -u origin main &&
	git -C "$dir" remote set-head origin main >/dev/null
}
