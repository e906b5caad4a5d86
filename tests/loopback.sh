# loopback.sh: a throwaway sshd "sidecar" on 127.0.0.1, for make demo and
# make bench (the bats suites have their own in test_helper.bash).
# Source it, then: loopback_workspace NAME (a scratch directory, cleaned up
# with everything below at exit), loopback_start DIR [DELAY_SECONDS].
# Exports LOOPBACK_SSH (an ssh that knows the host "sidecar-demo"),
# LOOPBACK_SSH_CONFIG (its configuration file), LOOPBACK_HOME (the remote
# $HOME), LOOPBACK_PORT and LOOPBACK_PID (sshd's pid, once it runs).
# loopback_alias NAME PORT adds a host NAME that reaches the same sshd
# through 127.0.0.1:PORT (a forwarder such as tests/helpers/linksim).
# loopback_other NAME PORT adds a host NAME, reached through 127.0.0.1:PORT
# (a forwarder to the same sshd), that is another sidecar: its own key,
# whose sessions have their own $HOME, DIR/home-NAME.

loopback_need() {
	local missing=() tool
	for tool in /usr/sbin/sshd ssh git ssh-keygen; do
		command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing openssh-server openssh-client git ..." >&2
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client git >/dev/null &&
			return 0
	fi
	echo "missing: ${missing[*]}; install the packages openssh-server openssh-client git" >&2
	return 1
}

# LOOPBACK_WORK: a fresh /tmp/NAME.XXXXXX with a private runtime directory
# for the control sockets; at exit the sidecar stops and it is removed.
loopback_workspace() {
	LOOPBACK_WORK=$(mktemp -d "/tmp/$1.XXXXXX") || return 1
	export XDG_RUNTIME_DIR=$LOOPBACK_WORK/run
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	trap 'loopback_stop; rm -rf "$LOOPBACK_WORK"' EXIT
	trap 'exit 130' INT TERM
}

loopback_port() {
	local port
	for port in $(seq 22300 22399); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
	done
	return 1
}

loopback_start() {
	local dir=$1 delay=${2:-0}
	LOOPBACK_DIR=$dir
	LOOPBACK_HOME=$dir/remote-home
	LOOPBACK_PORT=$(loopback_port) || { echo "no free port" >&2; return 1; }
	mkdir -p "$dir" "$LOOPBACK_HOME"
	[ -d /run/sshd ] || mkdir -p /run/sshd
	ssh-keygen -q -N '' -t ed25519 -f "$dir/host_key"
	ssh-keygen -q -N '' -t ed25519 -f "$dir/client_key"
	printf 'environment="HOME=%s" %s\n' "$LOOPBACK_HOME" "$(cat "$dir/client_key.pub")" >"$dir/authorized_keys"
	cat >"$dir/sshd_config" <<CONF
Port $LOOPBACK_PORT
ListenAddress 127.0.0.1
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd.pid
StrictModes no
UsePAM no
PermitUserEnvironment yes
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxSessions 100
LogLevel VERBOSE
CONF
	printf '[127.0.0.1]:%s %s\n' "$LOOPBACK_PORT" "$(cut -d' ' -f1,2 "$dir/host_key.pub")" >"$dir/known_hosts"
	cat >"$dir/ssh_config" <<CONF
Host sidecar-demo
	HostName 127.0.0.1
	Port $LOOPBACK_PORT
	User $(id -un)
	IdentityFile $dir/client_key
	IdentitiesOnly yes
	UserKnownHostsFile $dir/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
CONF
	printf '#!/bin/sh\nexec ssh -F %s "$@"\n' "$dir/ssh_config" >"$dir/ssh"
	chmod +x "$dir/ssh"
	LOOPBACK_SSH=$dir/ssh
	LOOPBACK_SSH_CONFIG=$dir/ssh_config
	# a booting host: sshd comes up only after the delay
	( sleep "$delay"; exec /usr/sbin/sshd -D -f "$dir/sshd_config" -E "$dir/sshd.log" ) \
		</dev/null >/dev/null 2>&1 3>&- &
	LOOPBACK_PID=$!
	export LOOPBACK_SSH LOOPBACK_SSH_CONFIG LOOPBACK_HOME LOOPBACK_PORT
}

loopback_alias() {
	local name=$1 port=$2 dir=$LOOPBACK_DIR
	printf '%s %s\n' "$name" "$(cut -d' ' -f1,2 "$dir/host_key.pub")" >>"$dir/known_hosts"
	cat >>"$dir/ssh_config" <<CONF
Host $name
	HostName 127.0.0.1
	Port $port
	HostKeyAlias $name
	User $(id -un)
	IdentityFile $dir/client_key
	IdentitiesOnly yes
	UserKnownHostsFile $dir/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
CONF
}

loopback_other() {
	local name=$1 port=$2 dir=$LOOPBACK_DIR
	mkdir -p "$dir/home-$name"
	ssh-keygen -q -N '' -t ed25519 -f "$dir/key-$name"
	printf 'environment="HOME=%s" %s\n' "$dir/home-$name" "$(cat "$dir/key-$name.pub")" \
		>>"$dir/authorized_keys"
	cat >>"$dir/ssh_config" <<CONF
Host $name
	HostName 127.0.0.1
	Port $port
	HostKeyAlias [127.0.0.1]:$LOOPBACK_PORT
	User $(id -un)
	IdentityFile $dir/key-$name
	IdentitiesOnly yes
	UserKnownHostsFile $dir/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
CONF
}

loopback_stop() {
	local sock
	for sock in "${XDG_RUNTIME_DIR:-/nonexistent}"/sidecar/*; do
		[ -S "$sock" ] && ssh -o ControlPath="$sock" -O exit x >/dev/null 2>&1
	done
	if [ -n "${LOOPBACK_PID:-}" ]; then
		# sshd's own pid first: under strace it is strace's child
		[ -s "${LOOPBACK_DIR:-/nonexistent}/sshd.pid" ] &&
			kill "$(cat "$LOOPBACK_DIR/sshd.pid")" 2>/dev/null
		# the subshell execs sshd (or strace), so this pid is that (or the
		# sleep before it)
		kill "$LOOPBACK_PID" 2>/dev/null
		wait "$LOOPBACK_PID" 2>/dev/null
	fi
	LOOPBACK_PID=
}
