#!/usr/bin/env bats
# protocol.bats: the sync protocol (DESIGN section 5, "Protocol"): the
# script installed once on the sidecar under a content-addressed name, a
# short bootstrap for every session, and a framed reply that stray output
# cannot corrupt and that is known to be whole.

load test_helper
load sync_helper

setup() {
	sync_setup
	SCRIPTS=$REMOTE_HOME/.cache/sidecar
}

teardown() {
	common_teardown
}

# installed_scripts: the names of the scripts installed on the sidecar.
installed_scripts() {
	find "$SCRIPTS" -maxdepth 1 -name 'remote-*.sh' -printf '%f\n' 2>/dev/null | LC_ALL=C sort
}

@test "the script is installed once; later sessions send only a short bootstrap" {
	remote_env "SIDECAR_TEST_CMDLEN=$BATS_TEST_TMPDIR/cmdlen"
	sync_json
	local first_bytes
	first_bytes=$(field bytes_sent)
	[ "$(installed_scripts | wc -l)" -eq 1 ]
	# the script as built: src/remote.sh less its comment lines
	cmp "$SCRIPTS/$(installed_scripts)" "$_SC_ROOT/build/remote.sh"
	run grep -c '^[[:space:]]*#' "$SCRIPTS/$(installed_scripts)"
	assert_output 0
	[ "$(stat -c %a "$SCRIPTS")" = 700 ]
	# its name is its POSIX cksum: what the bootstrap looks for
	local sum
	sum=$(cksum <"$_SC_ROOT/build/remote.sh" | tr ' ' -)
	[ "$(installed_scripts)" = "remote-$sum.sh" ]

	echo "an edit" >>README.md
	sync_json
	assert_field result synced
	assert_field round_trips 1
	# the sidecar's view: every session's command line, measured by sshd's
	# session wrapper; the last one is the steady-state sync's
	local last
	last=$(tail -n 1 "$BATS_TEST_TMPDIR/cmdlen")
	echo "# session command lines: $(tr '\n' ' ' <"$BATS_TEST_TMPDIR/cmdlen")" >&3
	[ "$last" -lt 1024 ]
	[ "$(field bytes_sent)" -lt "$first_bytes" ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a script gone from the sidecar is sent again, and the sync completes" {
	sync_json
	rm -rf "$REMOTE_HOME/.cache"
	echo "an edit" >>README.md
	sync_json
	assert_field result synced
	# the bootstrap said it was missing; the sync started again with it
	assert_field round_trips 2
	[ "$(installed_scripts | wc -l)" -eq 1 ]
	assert_same_tree "$LOCAL" "$REMOTE"
	echo "another edit" >>README.md
	sync_json
	assert_field round_trips 1
}

@test "older versions of the script are removed when a new one is installed" {
	mkdir -p "$SCRIPTS"
	echo 'echo old' >"$SCRIPTS/remote-1-10.sh"
	echo 'keep me' >"$SCRIPTS/notes.txt"
	sync_json
	[ "$(installed_scripts | wc -l)" -eq 1 ]
	[ ! -e "$SCRIPTS/remote-1-10.sh" ]
	[ "$(cat "$SCRIPTS/notes.txt")" = "keep me" ]
}

@test "a sidecar where the script cannot be installed still syncs, with the script inline" {
	# a cache directory that cannot be created
	remote_env "XDG_CACHE_HOME=/proc/sidecar-cannot-write-here"
	sync_json
	assert_field result synced
	echo "an edit" >>README.md
	sync_json
	assert_field result synced
	# never a round trip to learn again that it is missing
	assert_field round_trips 1
	[ ! -e "$REMOTE_HOME/.cache" ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a dry run installs nothing on the sidecar" {
	run --separate-stderr sc sync -n "$DEST"
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$REMOTE_HOME")" ]
}

@test "a login shell that prints on stdout cannot corrupt the reply" {
	cat >"$REMOTE_HOME/.bashrc" <<-'EOF'
	echo "hello from .bashrc"
	echo "result up-to-date"
	echo "SIDECAR-REPLY 2"
	printf 'no newline at the end'
	EOF
	remote_env SHELL=/bin/bash "BASH_ENV=$REMOTE_HOME/.bashrc"
	sync_json
	assert_field result synced
	assert_field files_changed "$(git ls-files | wc -l)"
	echo "an edit" >>README.md
	sync_json
	assert_field result synced
	assert_field files_changed 1
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a workdir with a newline in its name comes back exactly in the reply" {
	local wd=$'two\nlines'
	sync_json -w "$wd"
	assert_field remote_workdir "$REMOTE_HOME/$wd"
	assert_same_tree "$LOCAL" "$REMOTE_HOME/$wd"
}

@test "a reply cut short is an error that says so; the next sync repairs" {
	# a git on the sidecar that kills the script in the middle of an apply
	mkdir -p "$BATS_TEST_TMPDIR/rbin"
	cat >"$BATS_TEST_TMPDIR/rbin/git" <<-'EOF'
	#!/bin/sh
	case $1 in diff-tree) kill -9 "$PPID"; exit 1 ;; esac
	exec /usr/bin/git "$@"
	EOF
	chmod 755 "$BATS_TEST_TMPDIR/rbin/git"
	remote_env "PATH=$BATS_TEST_TMPDIR/rbin:/usr/bin:/bin"
	run --separate-stderr sc sync "$DEST"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"reply was cut short"* ]]
	sc disconnect "$DEST"
	remote_env
	sync_json
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a local git failure is reported by this side, in git's own words" {
	sync_json
	cat >"$BATS_TEST_TMPDIR/bin/git" <<-'EOF'
	#!/bin/sh
	case $1 in pack-objects) echo "fatal: a staged local failure" >&2; exit 128 ;; esac
	exec /usr/bin/git "$@"
	EOF
	chmod 755 "$BATS_TEST_TMPDIR/bin/git"
	echo "an edit" >>README.md
	SIDECAR_GIT=$BATS_TEST_TMPDIR/bin/git run --separate-stderr sc sync "$DEST"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"git failed here"*"a staged local failure"* ]]
	[[ "$stderr" != *"disk"* ]]
}

@test "every saved ref is reported: remote edits and an overwritten ignored file" {
	printf 'config.local\n' >.gitignore
	git add .gitignore && git commit -qm "ignore local config"
	sync_json
	echo "edited on the sidecar" >>"$REMOTE/README.md"
	echo "the sidecar's secret" >"$REMOTE/config.local"
	: >.gitignore
	echo "local config" >config.local
	sync_json
	local refs
	refs=$(jsonget saved_refs <<<"$json")
	echo "# saved_refs: $refs" >&3
	[[ "$refs" == '["refs/sidecar/saved/'*'","refs/sidecar/saved/'*'"]' ]]
	[[ "$stderr" == *"were saved to"*"were saved to"* ]]
	local all
	all=$(git -C "$REMOTE" for-each-ref --format='%(refname)' refs/sidecar/saved/)
	[ "$(wc -l <<<"$all")" -eq 2 ]
	# between them, both the edit and the ignored file are kept
	local found_edit=0 found_secret=0 r
	for r in $all; do
		git -C "$REMOTE" show "$r:README.md" | grep -q "edited on the sidecar" && found_edit=1
		[ "$(git -C "$REMOTE" show "$r:config.local" 2>/dev/null)" = "the sidecar's secret" ] &&
			found_secret=1
	done
	[ "$found_edit" -eq 1 ] && [ "$found_secret" -eq 1 ]
}
