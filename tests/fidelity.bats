#!/usr/bin/env bats
# fidelity.bats: the sidecar holds the local working tree byte for byte,
# and leaves alone what git ignores on either side, whatever says so: ignore
# rules kept outside the tree (.git/info/exclude, core.excludesFile), line
# endings (core.autocrlf, text and eol attributes), ident, clean and smudge
# filters. Real sshd on 127.0.0.1; the workspace is under REMOTE_HOME.

load test_helper
load sync_helper

setup() {
	sync_setup
}

teardown() {
	common_teardown
}

# psync [ARG]...: a patch-mode sync that must succeed (see patch.bats).
psync() {
	run_json psync sync --mode patch --json "$DEST" "$@"
}

# stamp FILE: its inode, modification time and size: a file no one wrote
# keeps all three.
stamp() {
	stat -c '%i %.9Y %s' "$1"
}

# assert_untouched FILE STAMP TEXT: FILE was not written since STAMP and
# still holds TEXT.
assert_untouched() {
	[ "$(cat "$1")" = "$3" ] || { echo "$1 holds: $(cat "$1" 2>&1)" >&2; return 1; }
	[ "$(stamp "$1")" = "$2" ] || { echo "$1 was written: $2 -> $(stamp "$1")" >&2; return 1; }
}

# assert_no_saved_ref: the last sync saved nothing.
assert_no_saved_ref() {
	[ "$(field saved_ref)" = null ] || { echo "saved: $json" >&2; return 1; }
}

# --- ignore rules outside the tree -------------------------------------------

@test "a file ignored only by the local .git/info/exclude is left alone on the sidecar" {
	printf '*.local\n' >>.git/info/exclude
	echo "local settings" >settings.local
	sync_json
	[ ! -e "$REMOTE/settings.local" ]
	echo "built on the sidecar" >"$REMOTE/out.local"
	local before
	before=$(stamp "$REMOTE/out.local")
	echo "a local change" >>README.md
	sync_json
	assert_field result synced
	assert_no_saved_ref
	assert_untouched "$REMOTE/out.local" "$before" "built on the sidecar"
	sync_json
	assert_field result up-to-date
	assert_untouched "$REMOTE/out.local" "$before" "built on the sidecar"
	# the sidecar's own git ignores it as the local one does
	[ "$(git -C "$REMOTE" status --porcelain)" = "$(git status --porcelain)" ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a file ignored only by core.excludesFile (~/ form, then the XDG default) is left alone" {
	printf '*.cache\n' >"$HOME/global-ignore"
	git config --global core.excludesFile '~/global-ignore'
	mkdir -p "$XDG_CONFIG_HOME/git"
	printf 'scratch/\n*.cache\n' >"$XDG_CONFIG_HOME/git/ignore"
	sync_json
	echo "cached there" >"$REMOTE/data.cache"
	local c s
	c=$(stamp "$REMOTE/data.cache")
	echo "a local change" >>README.md
	sync_json
	assert_no_saved_ref
	assert_untouched "$REMOTE/data.cache" "$c" "cached there"
	# the XDG file counts only while core.excludesFile is unset, as in git
	git config --global --unset core.excludesFile
	sync_json
	assert_no_saved_ref
	mkdir -p "$REMOTE/scratch"
	echo "scratch there" >"$REMOTE/scratch/notes"
	s=$(stamp "$REMOTE/scratch/notes")
	echo "another local change" >>README.md
	sync_json
	assert_no_saved_ref
	assert_untouched "$REMOTE/scratch/notes" "$s" "scratch there"
	assert_untouched "$REMOTE/data.cache" "$c" "cached there"
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a rule added locally protects at once; one removed protects until the next sync, which saves the file first" {
	sync_json
	echo "made on the sidecar" >"$REMOTE/gen.out"
	local before
	before=$(stamp "$REMOTE/gen.out")
	# the rule arrives with this sync, and already holds for it
	printf '*.out\n' >>.git/info/exclude
	sync_json
	assert_no_saved_ref
	assert_untouched "$REMOTE/gen.out" "$before" "made on the sidecar"
	grep -qx '\*\.out' "$REMOTE/.git/info/exclude"
	# the rule goes: the sync that brings that still keeps the file ...
	sed -i '/^\*\.out$/d' .git/info/exclude
	sync_json
	assert_no_saved_ref
	assert_untouched "$REMOTE/gen.out" "$before" "made on the sidecar"
	run grep -qx '\*\.out' "$REMOTE/.git/info/exclude"
	assert_failure
	# ... and the next one finds an untracked file the local tree lacks:
	# an edit made there, saved, then removed
	sync_json
	local saved
	saved=$(field saved_ref)
	[ "$saved" != null ]
	[ ! -e "$REMOTE/gen.out" ]
	[ "$(git -C "$REMOTE" cat-file blob "$saved:gen.out")" = "made on the sidecar" ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "the sidecar's own lines in its .git/info/exclude stay, after the local rules" {
	cp .git/info/exclude "$BATS_TEST_TMPDIR/exclude.orig"
	printf '*.local\n' >>.git/info/exclude
	sync_json
	printf 'mine.txt\n' >>"$REMOTE/.git/info/exclude"
	echo "the sidecar's" >"$REMOTE/mine.txt"
	printf '*.tmp\n' >>.git/info/exclude
	sync_json
	assert_no_saved_ref
	grep -qx 'mine.txt' "$REMOTE/.git/info/exclude"
	grep -qx '\*\.tmp' "$REMOTE/.git/info/exclude"
	[ "$(grep -c '^# sidecar: end$' "$REMOTE/.git/info/exclude")" = 1 ]
	[ "$(cat "$REMOTE/mine.txt")" = "the sidecar's" ]
	# no local rules left: no block left
	cp "$BATS_TEST_TMPDIR/exclude.orig" .git/info/exclude
	sync_json
	run grep -q '^# sidecar:' "$REMOTE/.git/info/exclude"
	assert_failure
	grep -qx 'mine.txt' "$REMOTE/.git/info/exclude"
	[ "$(cat "$REMOTE/mine.txt")" = "the sidecar's" ]
}

@test "patch mode: a file ignored only by the local .git/info/exclude is left alone, git clean included" {
	printf '*.local\n' >>.git/info/exclude
	echo "a local change" >>README.md
	psync
	echo "built on the sidecar" >"$REMOTE/out.local"
	local before
	before=$(stamp "$REMOTE/out.local")
	echo "another local change" >>README.md
	psync
	assert_field result synced
	assert_no_saved_ref
	assert_untouched "$REMOTE/out.local" "$before" "built on the sidecar"
	psync
	assert_untouched "$REMOTE/out.local" "$before" "built on the sidecar"
	assert_same_tree "$LOCAL" "$REMOTE"
}

# --- bytes: line endings, ident, filters ---------------------------------------

# conversions_setup: a repository where git converts what it stores: with
# core.autocrlf, text eol=crlf, ident, and a clean/smudge filter that only
# this machine knows. crlf.txt and file.id are as git's checkout writes
# them (CRLF, the ident expanded: git status calls them unchanged), the
# others as git would never write them, tracked and untracked.
conversions_setup() {
	git config core.autocrlf true
	git config filter.shout.clean 'tr a-z A-Z'
	git config filter.shout.smudge cat
	printf '*.txt text eol=crlf\n*.id ident -text\n*.loud filter=shout\n' >.gitattributes
	printf 'one\r\ntwo\r\n' >crlf.txt
	printf '$Id$\nsome text\n' >file.id
	printf 'one\r\ntwo\r\n' >mixed.txt
	printf 'quiet words\n' >words.loud
	printf 'a c file\r\nwith crlf\r\n' >code.c
	git add -A 2>/dev/null
	git commit -qm "files git converts"
	rm crlf.txt file.id
	git checkout -- crlf.txt file.id
	grep -q '^\$Id: [0-9a-f]* \$' file.id
	# on disk now: mixed line endings, lower case where git stores upper
	printf 'one\ntwo\r\n' >mixed.txt
	printf 'quiet words, and more\n' >words.loud
	# untracked ones too
	printf 'new\r\nfile\n' >new.txt
	printf 'also quiet\n' >new.loud
	printf 'lf\nthen crlf\r\n' >new.c
}

# assert_same_bytes: every file the local tree has is byte for byte the
# sidecar's.
assert_same_bytes() {
	local f bad=0
	for f in .gitattributes crlf.txt file.id mixed.txt words.loud code.c new.txt new.loud new.c; do
		if ! cmp "$LOCAL/$f" "$REMOTE/$f"; then
			echo "local $f:" >&2
			od -c "$LOCAL/$f" >&2
			echo "sidecar $f:" >&2
			od -c "$REMOTE/$f" >&2
			bad=1
		fi
	done
	return "$bad"
}

# line_endings_synced: mixed.txt's line endings change locally; the sync
# changes that one file there, saves nothing, and the bytes are the local ones.
line_endings_synced() {
	printf 'one\r\ntwo\n' >mixed.txt
	sync_json
	assert_field result synced
	assert_field files_changed 1
	assert_no_saved_ref
	assert_same_bytes
}

@test "snapshot: with autocrlf, eol=crlf, ident and a local filter, the sidecar's files are the local bytes" {
	conversions_setup
	cp .git/index "$BATS_TEST_TMPDIR/index.before"
	sync_json
	assert_field result synced
	assert_same_bytes
	# the local index was not touched
	cmp .git/index "$BATS_TEST_TMPDIR/index.before"
	# nothing is taken for an edit made there: the scan there reads bytes too
	sync_json
	assert_field result up-to-date
	assert_no_saved_ref
	# a change of line endings alone is a change
	line_endings_synced
	# and a fresh scan (the cache gone) sees the same bytes
	rm -rf "${XDG_RUNTIME_DIR:?}"/sidecar/index-*
	sync_json
	assert_field result up-to-date
	# the sidecar's git sees what the local git sees where .gitattributes
	# decides (it lacks the local config: autocrlf, the filter)
	[ "$(git -C "$REMOTE" status --porcelain -- crlf.txt file.id)" = \
		"$(git status --porcelain -- crlf.txt file.id)" ]
}

@test "snapshot: a file written in the same clock tick as the sidecar's index (racily clean) is updated, not refused" {
	conversions_setup
	sync_json
	assert_field result synced
	# as when a sync's checkout and its index write share a tick
	touch -r "$REMOTE/.git/sidecar/index" "$REMOTE/mixed.txt" "$REMOTE/crlf.txt"
	line_endings_synced
	# an edit there is still one, and is saved
	touch -r "$REMOTE/.git/sidecar/index" "$REMOTE/mixed.txt"
	printf 'edited there\r\n' >>"$REMOTE/crlf.txt"
	printf 'one\ntwo\n' >mixed.txt
	sync_json
	assert_field result synced
	[ "$(jsonget saved_refs <<<"$json" | wc -l)" -eq 1 ]
	assert_same_bytes
}

@test "snapshot: a first sync of many files, written by git's parallel workers, keeps the local bytes" {
	conversions_setup
	# 900 files more (git writes regular files in parallel from 500):
	# CRLF text, executables, symlinks, filtered ones
	mkdir -p many/sub
	for i in $(seq 900); do
		case $((i % 4)) in
		0) printf 'line %d\r\nmore\r\n' "$i" >"many/f$i.txt" ;;
		1) printf '#!/bin/sh\necho %d\n' "$i" >"many/sub/x$i" && chmod +x "many/sub/x$i" ;;
		2) ln -s "../crlf.txt" "many/l$i" ;;
		3) printf 'quiet %d\n' "$i" >"many/q$i.loud" ;;
		esac
	done
	git add -A 2>/dev/null && git commit -qm "many files"
	printf 'one\ntwo\r\n' >many/f4.txt
	# the sidecar's git says which processes it ran
	mkdir -p "$BATS_TEST_TMPDIR/trace2"
	git config --file "$REMOTE_HOME/.gitconfig" trace2.eventTarget "$BATS_TEST_TMPDIR/trace2"
	sync_json
	assert_field result synced
	git config --file "$REMOTE_HOME/.gitconfig" --unset trace2.eventTarget
	grep -q '"checkout--worker"' "$BATS_TEST_TMPDIR"/trace2/*
	assert_same_bytes
	assert_same_tree "$LOCAL" "$REMOTE"
	cmp many/f4.txt "$REMOTE/many/f4.txt"
	cmp many/q7.loud "$REMOTE/many/q7.loud"
	sync_json
	assert_field result up-to-date
	assert_no_saved_ref
}

@test "patch mode: with autocrlf, eol=crlf, ident and a local filter, the sidecar's files are the local bytes" {
	conversions_setup
	git push -q origin main
	psync
	assert_field result synced
	assert_same_bytes
	printf 'one\r\ntwo\n' >mixed.txt
	psync
	assert_field result synced
	assert_no_saved_ref
	assert_same_bytes
	[ "$(git -C "$REMOTE" status --porcelain -- crlf.txt file.id)" = \
		"$(git status --porcelain -- crlf.txt file.id)" ]
}

@test "a linked work tree: its files as bytes, and the rules of the repository it belongs to" {
	printf '*.local\n' >>.git/info/exclude
	git config core.autocrlf true
	git worktree add -q -b other "$BATS_TEST_TMPDIR/linked"
	cd "$BATS_TEST_TMPDIR/linked"
	printf 'crlf\r\nkept\r\n' >new.c
	echo "local only" >here.local
	run_json sync_json sync --json "$DEST" -w linked
	local r=$REMOTE_HOME/linked
	cmp new.c "$r/new.c"
	[ ! -e "$r/here.local" ]
	echo "built there" >"$r/out.local"
	echo "a change" >>README.md
	run_json sync_json sync --json "$DEST" -w linked
	assert_no_saved_ref
	[ "$(cat "$r/out.local")" = "built there" ]
	[ "$(git -C "$r" symbolic-ref HEAD)" = refs/heads/other ]
	assert_same_tree "$BATS_TEST_TMPDIR/linked" "$r"
}
