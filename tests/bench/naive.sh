#!/usr/bin/env bash
# naive.sh: the seed's sync, for the bench to compare against: a new ssh
# connection for every remote command (no shared connection), the workdir
# cloned from origin on the sidecar, then reset --hard, clean, and the
# working tree's diff against origin/HEAD applied.
#
# usage: naive.sh SSH_CONFIG HOST REPO ORIGIN_URL REMOTE_WORKDIR
# Prints "CONNECTIONS PATCH_BYTES" on stdout.
set -u
cfg=$1 host=$2 repo=$3 origin=$4 wd=$5
ssh1() { ssh -F "$cfg" -o ControlMaster=no -o ControlPath=none -o BatchMode=yes "$host" "$@"; }
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
n=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/naive.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

ssh1 true || exit 1
n=$((n + 1))
ssh1 "mkdir -p $(q "$(dirname "$wd")") && { [ -d $(q "$wd/.git") ] || git clone -q $(q "$origin") $(q "$wd"); }" || exit 1
n=$((n + 1))
base=$(ssh1 "cd $(q "$wd") && { git rev-parse -q --verify origin/HEAD || git rev-parse HEAD; }") || exit 1
n=$((n + 1))
# the diff of the working tree, untracked files included, through a
# temporary index: the user's own index is left alone
cp "$repo/.git/index" "$tmp/index"
(cd "$repo" && GIT_INDEX_FILE=$tmp/index git add -A &&
	GIT_INDEX_FILE=$tmp/index git diff --cached --binary "$base") >"$tmp/patch" || exit 1
ssh1 "cd $(q "$wd") && git reset -q --hard $(q "$base") && git clean -fdq" || exit 1
n=$((n + 1))
if [ -s "$tmp/patch" ]; then
	ssh1 "cd $(q "$wd") && git apply --binary" <"$tmp/patch" || exit 1
	n=$((n + 1))
fi
echo "$n $(wc -c <"$tmp/patch")"
