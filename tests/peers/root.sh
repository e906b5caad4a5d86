#!/bin/sh
# root.sh: prints the path of a Debian bullseye root (OpenSSH 8.4, git 2.30)
# for the peer suites, building it with debootstrap the first time.
#
# The root is cached in $SIDECAR_TEST_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/sidecar-tests), outside the repository,
# and rebuilt only when the package list below changes. It appears by one
# rename, so an interrupted build leaves nothing half made. The mirror is
# the Debian archive apt already uses here ($SIDECAR_PEER_MIRROR overrides).
#
# Exit 0: the root is ready. Exit 77: it could not be built (no mirror
# reachable, no debootstrap, not root); the reason is on stderr.
set -u

suite=bullseye
include=openssh-server,openssh-client,git
key="$suite --variant=minbase --include=$include"
cache=${SIDECAR_TEST_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/cache}/.cache}/sidecar-tests}
root=$cache/$suite

skip() {
	echo "peers: $*" >&2
	exit 77
}

if [ -f "$root/.sidecar-peer" ] && [ "$(cat "$root/.sidecar-peer")" = "$key" ]; then
	echo "$root"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || skip "building the $suite root needs root"
command -v debootstrap >/dev/null 2>&1 || skip "debootstrap is not installed"

# The Debian archive apt uses, else the default one.
mirror=${SIDECAR_PEER_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
		awk '$1 ~ /\/debian\/?$/ && $2 !~ /-/ { print $1; exit }')
fi
mirror=${mirror:-http://deb.debian.org/debian/}

mkdir -p "$cache" || skip "cannot create $cache"
# One build at a time; a second caller waits and then finds it made.
exec 9>"$cache/.lock"
flock 9 || skip "cannot lock $cache/.lock"
if [ -f "$root/.sidecar-peer" ] && [ "$(cat "$root/.sidecar-peer")" = "$key" ]; then
	echo "$root"
	exit 0
fi
# A root still in use has /tmp bound into it: removing it would remove /tmp.
if grep -q " $root/" /proc/self/mountinfo; then
	skip "$root is in use (mounts under it); not rebuilding it"
fi
tmp=$(mktemp -d "$cache/$suite.XXXXXX") || skip "cannot create a directory in $cache"
trap 'rm -rf "$tmp"' EXIT
echo "peers: building a $suite root in $root from $mirror (once; it is cached)" >&2
start=$(date +%s)
if ! debootstrap --variant=minbase --include="$include" "$suite" "$tmp" "$mirror" \
	>"$tmp.log" 2>&1; then
	tail -n 5 "$tmp.log" >&2
	rm -f "$tmp.log"
	skip "debootstrap of $suite from $mirror failed"
fi
rm -f "$tmp.log"
echo "peers: debootstrap took $(($(date +%s) - start))s" >&2
printf '%s\n' "$key" >"$tmp/.sidecar-peer"
mkdir -p "$tmp/run/sshd"
rm -rf "$root"
mv "$tmp" "$root" || skip "cannot move the root to $root"
trap - EXIT
echo "$root"
