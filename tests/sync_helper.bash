# sync_helper.bash: what the sync suites (sync.bats, patch.bats) share:
# comparing the local tree with the sidecar's, and reading the JSON summary
# of a sync. A suite loads it after the common helper:
#
#   load test_helper
#   load sync_helper

# The sync suites' setup: a sidecar on loopback, a local repository LOCAL
# (with origin ORIGIN) and the place REMOTE where its workspace goes.
# Each suite says: setup() { sync_setup; } and teardown() { common_teardown; }
sync_setup() {
	common_setup
	sshd_start
	LOCAL=$BATS_TEST_TMPDIR/proj
	REMOTE=$REMOTE_HOME/proj
	ORIGIN=$BATS_TEST_TMPDIR/origin.git
	make_repo "$LOCAL" "$ORIGIN"
	cd "$LOCAL" || return 1
}

# sync_json [ARG]...: `sidecar sync --json DEST ARG...` that must succeed;
# leaves the summary in $json (and bats' $output, $stderr).
sync_json() {
	run_json sync_json sync --json "$DEST" "$@"
}

# _tree_paths DIR: every path git does not ignore in DIR (tracked and
# untracked, as `git ls-files -co --exclude-standard` lists them) that is a
# file or a symlink on disk, quoted with %q (so a newline in a name stays on
# one line), sorted.
_tree_paths() {
	local dir=$1 f
	git -C "$dir" ls-files -co --exclude-standard -z |
		while IFS= read -r -d '' f; do
			if [ -L "$dir/$f" ] || { [ -e "$dir/$f" ] && [ ! -d "$dir/$f" ]; }; then
				printf '%q\n' "$f"
			fi
		done | LC_ALL=C sort -u
}

# _xbit FILE: 1 when the owner may execute FILE, else 0.
_xbit() {
	echo $(((8#$(stat -c %a "$1") & 8#100) != 0))
}

# assert_same_tree LOCAL REMOTE: the same non-ignored files on both sides,
# with the same content, the same executable bit and the same symlink
# targets; the remote has no extra non-ignored file.
assert_same_tree() {
	local l=$1 r=$2 f q bad=0
	if ! diff <(_tree_paths "$l") <(_tree_paths "$r") >"$BATS_TEST_TMPDIR/tree.diff"; then
		echo "assert_same_tree: the non-ignored files differ (< $l, > $r):" >&2
		cat "$BATS_TEST_TMPDIR/tree.diff" >&2
		return 1
	fi
	while IFS= read -r -d '' f; do
		q=$(printf '%q' "$f")
		if [ -L "$l/$f" ]; then
			if [ ! -L "$r/$f" ]; then
				echo "assert_same_tree: $q is a symlink locally, not on the remote" >&2
				bad=1
			elif [ "$(readlink "$l/$f")" != "$(readlink "$r/$f")" ]; then
				echo "assert_same_tree: $q points to '$(readlink "$l/$f")' locally," \
					"'$(readlink "$r/$f")' on the remote" >&2
				bad=1
			fi
			continue
		fi
		[ -f "$l/$f" ] || continue	# deleted on disk, or a submodule
		if [ -L "$r/$f" ] || [ ! -f "$r/$f" ]; then
			echo "assert_same_tree: $q is a regular file locally, not on the remote" >&2
			bad=1
		elif ! cmp -s "$l/$f" "$r/$f"; then
			echo "assert_same_tree: $q has other content on the remote" >&2
			bad=1
		elif [ "$(_xbit "$l/$f")" != "$(_xbit "$r/$f")" ]; then
			echo "assert_same_tree: $q: executable bit $(_xbit "$l/$f") locally," \
				"$(_xbit "$r/$f") on the remote" >&2
			bad=1
		fi
	done < <(git -C "$l" ls-files -co --exclude-standard -z)
	return "$bad"
}

# run_json NAME ARG...: `sidecar ARG...`, which must succeed and print one
# JSON object; leaves the summary in $json (and bats' $output, $stderr).
# NAME, the caller's, heads the messages when it does not.
# shellcheck disable=SC2154 # status, output and stderr are set by bats' run
run_json() {
	local name=$1
	shift
	run --separate-stderr sc "$@"
	if [ "$status" -ne 0 ]; then
		echo "$name: sidecar $* exited $status" >&2
		echo "stderr: $stderr" >&2
		echo "stdout: $output" >&2
		return 1
	fi
	json=$output
	jsonget <<<"$json" || {
		echo "$name: stdout is not one JSON object: $json" >&2
		return 1
	}
}

# field NAME: a field of the last JSON summary (null prints as "null"); fails
# when the summary has no such field.
field() {
	jsonget "$1" <<<"$json"
}

# assert_field NAME VALUE
assert_field() {
	local got
	got=$(field "$1")
	if [ "$got" != "$2" ]; then
		echo "JSON field $1: expected '$2', got '$got' in: $json" >&2
		return 1
	fi
}
