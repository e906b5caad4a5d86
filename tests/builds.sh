#!/usr/bin/env bash
# tests/builds.sh: the other builds `make check` makes. Out of the tree, with
# the strict flags ($STRICT) and -Werror: clang, and a static musl binary
# (musl-gcc -static). Runs each build's unit tests, one real sync with the
# static binary (against the loopback sshd of tests/peers.bats), and prints
# the stripped sizes beside this tree's own build. Exit 1 when a build or a
# test fails; a compiler that is not installed is reported and skipped.
set -u
cd "$(dirname "$0")/.." || exit 2
[ -e /dev/fd/0 ] || exec </dev/null
strict=${STRICT:--Wall -Wextra -Wpedantic -Wmissing-prototypes -Wstrict-prototypes -Wvla -Wwrite-strings -Wshadow -Werror}
work=$(mktemp -d "${TMPDIR:-/tmp}/sidecar-builds.XXXXXX")
trap 'rm -rf "$work"' EXIT
status=0
sizes=()

# size NAME BINARY: records the stripped size of BINARY.
size() {
	cp "$2" "$work/$1.stripped" && strip "$work/$1.stripped" &&
		sizes+=("$(printf '# %-28s %8d bytes stripped\n' "$1" "$(stat -c %s "$work/$1.stripped")")")
}

# build NAME CC [LDFLAGS]: builds in $work/NAME, runs its unit tests.
build() {
	local name=$1 cc=$2 ldflags=${3:-} dir=$work/$1 t start
	if ! command -v "$cc" >/dev/null 2>&1; then
		echo "# builds: $cc is not installed; no $name build"
		return 0
	fi
	mkdir -p "$dir/tests"
	cp -r Makefile src completions "$dir/" && cp -r tests/unit tests/helpers "$dir/tests/" || return 1
	start=$(date +%s)
	make -s -C "$dir" clean >/dev/null 2>&1
	if ! make -s -C "$dir" build-tests CC="$cc" LDFLAGS="$ldflags" EXTRA_CFLAGS="$strict" >"$dir/build.log" 2>&1; then
		cat "$dir/build.log"
		echo "not ok - the $name build ($cc${ldflags:+ $ldflags})"
		status=1
		return 1
	fi
	if [ -s "$dir/build.log" ]; then
		cat "$dir/build.log"
	fi
	echo "ok - the $name build ($cc${ldflags:+ $ldflags}) in $(($(date +%s) - start))s, no warnings"
	for t in "$dir"/tests/unit/test_*; do
		[ -x "$t" ] && [ "${t%.c}" = "$t" ] || continue
		if "$t" >"$dir/unit.log" 2>&1; then
			echo "ok - $name: ${t##*/}: $(grep -c '^ok ' "$dir/unit.log") passed"
		else
			grep '^not ok\|^#' "$dir/unit.log"
			echo "not ok - $name: ${t##*/}"
			status=1
		fi
	done
	size "$name" "$dir/sidecar"
}

[ ! -x sidecar ] || size "this tree's build" sidecar
build clang clang
build musl-static musl-gcc -static

if [ -x "$work/musl-static/sidecar" ]; then
	# no program interpreter, no shared library: static
	if ! readelf -l -d "$work/musl-static/sidecar" | grep -q 'program interpreter\|(NEEDED)'; then
		echo "ok - the musl binary is statically linked"
	else
		echo "not ok - the musl binary is statically linked"
		status=1
	fi
	# One real sync (and an edit and exec) with the static binary.
	SIDECAR_TEST_BIN=$work/musl-static/sidecar \
		bats --tap -f 'a sync, an edit and exec' tests/peers.bats >"$work/sync.tap" 2>&1
	rc=$?
	sed 's/^\(not \)*ok [0-9]* /\1ok - musl-static: /' "$work/sync.tap"
	[ "$rc" -eq 0 ] && grep -q '^ok ' "$work/sync.tap" || status=1
fi

echo "# stripped sizes (goal for the static binary: under 150 KB)"
printf '%s\n' "${sizes[@]}"
exit "$status"
