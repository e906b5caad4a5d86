#!/usr/bin/env bash
# genrepo.sh: prints the path of the bench's bare repository, generating it
# when the cache lacks it: tests/helpers/genrepo's fast-import stream, then
# `git gc --aggressive` for the deep delta chains a long-lived project has.
#
# Cached in ${XDG_CACHE_HOME:-~/.cache}/sidecar-bench/, under a name made of
# the parameters and the hash of the generator and of this script, so any
# change to either makes a new repository. Parameters (environment):
# BENCH_FILES (2200), BENCH_COMMITS (4000), BENCH_SEED (1).
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
gen=$here/tests/helpers/genrepo
files=${BENCH_FILES:-2200}
commits=${BENCH_COMMITS:-4000}
seed=${BENCH_SEED:-1}
[ -x "$gen" ] || { echo "genrepo.sh: $gen is not built (make build-tests)" >&2; exit 1; }

hash=$(cat "$here/tests/helpers/genrepo.c" "$0" | git hash-object --stdin)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/sidecar-bench
repo=$cache/f$files-c$commits-s$seed-${hash:0:12}.git
if [ -f "$repo/bench-complete" ]; then
	echo "$repo"
	exit 0
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/new.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
t0=$EPOCHREALTIME
echo "generating the bench repository ($files files, $commits commits; cached in $cache) ..." >&2
git init -q --bare "$tmp/repo.git"
git -C "$tmp/repo.git" symbolic-ref HEAD refs/heads/main
"$gen" "$files" "$commits" "$seed" | git -C "$tmp/repo.git" fast-import --quiet
git -C "$tmp/repo.git" -c pack.threads=2 gc -q --aggressive --prune=now
git -C "$tmp/repo.git" fsck --connectivity-only --no-progress
: >"$tmp/repo.git/bench-complete"
rm -rf "$repo"
mv "$tmp/repo.git" "$repo"
awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "generated in %.0f s\n", b - a }' >&2
echo "$repo"
