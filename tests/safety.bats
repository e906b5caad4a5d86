#!/usr/bin/env bats
# safety.bats: what a sync must refuse, and what it must never lose or
# misreport on the sidecar: the home directory as a workspace, a repository
# sidecar did not create, another local repository's workspace, staged
# changes found there, a copied .git, false "edits found". Real sshd on
# 127.0.0.1; the sidecar's workspace is under REMOTE_HOME.

load test_helper
load sync_helper

setup() {
	sync_setup
}

teardown() {
	common_teardown
}

# home_listing: everything in the remote home but sidecar's script cache
# (whose creation is the one change the home directory itself sees),
# with stat data, and the refs of the home repository when there is one.
home_listing() {
	find "$REMOTE_HOME" -mindepth 1 -path "$REMOTE_HOME/.cache" -prune -o \
		-printf '%p %y %s %T@ %i %m\n' | LC_ALL=C sort
	if [ -d "$REMOTE_HOME/.git" ]; then
		git -C "$REMOTE_HOME" for-each-ref --format='%(refname) %(objectname)'
	fi
}

# refused ARG...: `sidecar sync DEST ARG...` is refused as a usage error
# (exit 2) with a message that names the home directory and never suggests
# removing anything.
refused() {
	run --separate-stderr sc sync "$DEST" "$@"
	if [ "$status" -ne 2 ] || [[ $stderr != *"refusing"*"home directory"* ]] ||
	   [[ $stderr == *remove* ]]; then
		echo "sidecar sync $*: exit $status, stderr: $stderr" >&2
		return 1
	fi
}

# --- the home directory and its ancestors -------------------------------------

@test "the remote home (a dotfiles repository) or an ancestor is refused in both modes, exit 2" {
	# the home directory is a git repository, as dotfiles often are
	git init -q "$REMOTE_HOME"
	mkdir -p "$REMOTE_HOME/.ssh"
	printf 'ssh-ed25519 AAAA precious\n' >"$REMOTE_HOME/.ssh/authorized_keys"
	printf 'alias ll=ls\n' >"$REMOTE_HOME/.bashrc"
	git -C "$REMOTE_HOME" add -A
	git -C "$REMOTE_HOME" -c user.name=h -c user.email=h@h commit -qm dotfiles
	local before wd
	before=$(home_listing)
	# shellcheck disable=SC2088 # the sidecar expands it, not this shell
	for wd in '~' '~/' . / .. "$BATS_TEST_TMPDIR" "$REMOTE_HOME" 'no-such-dir/../..' '~/./'; do
		refused -w "$wd"
		refused -n -w "$wd"
	done
	# shellcheck disable=SC2088
	for wd in '~' / ..; do
		refused --mode patch -w "$wd"
		refused --mode patch -n -w "$wd"
		refused --adopt -w "$wd"
	done
	diff <(echo "$before") <(home_listing)
	[ ! -e "$REMOTE_HOME/no-such-dir" ]
	[ "$(cat "$REMOTE_HOME/.ssh/authorized_keys")" = 'ssh-ed25519 AAAA precious' ]
	# a directory inside the home is a workspace like any other
	sync_json -w ws
	assert_same_tree "$LOCAL" "$REMOTE_HOME/ws"
}

# --- a repository sidecar did not create ----------------------------------------

@test "a repository sidecar did not create is refused without --adopt, naming what would change" {
	git clone -q "$ORIGIN" "$REMOTE"
	printf 'edited in the image\n' >>"$REMOTE/README.md"
	printf 'local change\n' >>build.sh
	local before
	before=$(find "$REMOTE" -printf '%p %y %s %T@ %i %m\n' | LC_ALL=C sort)
	local args
	for args in "" "-n" "--mode patch" "--mode patch -n"; do
		# shellcheck disable=SC2086 # the words of args
		run --separate-stderr sc sync "$DEST" $args
		[ "$status" -eq 2 ] || { echo "sync $args: exit $status: $stderr" >&2; false; }
		[[ $stderr == *"sidecar did not create"* ]]
		[[ $stderr == *"--adopt"* ]]
		[[ $stderr == *"files equal to the local working tree"* ]]
		[[ $stderr == *"HEAD (main)"* ]]
	done
	[ "$(find "$REMOTE" -printf '%p %y %s %T@ %i %m\n' | LC_ALL=C sort)" = "$before" ]
	# --adopt takes it, saving its edit first
	sync_json --adopt
	assert_field result synced
	local saved
	saved=$(field saved_ref)
	git -C "$REMOTE" show "$saved:README.md" | grep -q 'edited in the image'
	assert_same_tree "$LOCAL" "$REMOTE"
	[ "$(sed 1d "$REMOTE/.git/sidecar/owner")" = "$(git rev-parse --show-toplevel)" ]
	# and it is ours from now on
	printf 'again\n' >>build.sh
	sync_json
	assert_field result synced
	assert_field round_trips 1
}

# --- another local repository's workspace ---------------------------------------

@test "another local repository with the same name is refused, suggesting -w; nothing is called edits" {
	printf 'build/\n' >.gitignore
	sync_json
	mkdir -p "$REMOTE/build"
	printf 'object code\n' >"$REMOTE/build/out.o"
	[ "$(head -n 1 "$REMOTE/.git/sidecar/owner")" = "$(git rev-list --max-parents=0 HEAD)" ]
	local before
	before=$(find "$REMOTE" -path "$REMOTE/.git/objects" -prune -o -printf '%p %y %s %T@ %i %m\n' | LC_ALL=C sort)

	# another project whose directory has the same name
	local other=$BATS_TEST_TMPDIR/elsewhere/proj
	make_repo "$other" "$BATS_TEST_TMPDIR/other-origin.git"
	cd "$other"
	printf 'other project\n' >other.txt
	run --separate-stderr sc sync "$DEST"
	assert_failure 2
	[[ $stderr == *"another local repository ($LOCAL)"* ]]
	[[ $stderr == *"-w NAME"* ]]
	[[ $stderr != *edits\ found* ]]
	run --separate-stderr sc sync -n "$DEST"
	assert_failure 2
	run --separate-stderr sc sync --mode patch "$DEST"
	assert_failure 2
	[ "$(find "$REMOTE" -path "$REMOTE/.git/objects" -prune -o -printf '%p %y %s %T@ %i %m\n' | LC_ALL=C sort)" = "$before" ]
	run git -C "$REMOTE" for-each-ref refs/sidecar/saved/
	assert_output ''
	# its own workspace works
	sync_json -w proj-2
	assert_same_tree "$other" "$REMOTE_HOME/proj-2"
	# and the first repository still syncs to its own
	cd "$LOCAL"
	printf 'edit\n' >>README.md
	sync_json
	assert_field saved_ref null
	[ "$(cat "$REMOTE/build/out.o")" = 'object code' ]
}

@test "an unborn repository is known by its path: its first commit syncs, a namesake is refused" {
	local fresh=$BATS_TEST_TMPDIR/fresh
	git init -q "$fresh"
	cd "$fresh"
	printf 'hello\n' >hello.txt
	sync_json
	[ "$(head -n 1 "$REMOTE_HOME/fresh/.git/sidecar/owner")" = - ]
	git add -A && git commit -qm first
	sync_json
	assert_field result synced
	assert_same_tree "$fresh" "$REMOTE_HOME/fresh"
	local twin=$BATS_TEST_TMPDIR/twin/fresh
	git init -q "$twin"
	cd "$twin"
	printf 'twin\n' >twin.txt
	run --separate-stderr sc sync "$DEST"
	assert_failure 2
	[[ $stderr == *"another local repository ($fresh)"* ]]
	[ ! -e "$REMOTE_HOME/fresh/twin.txt" ]
	# --adopt takes it over
	sync_json --adopt
	assert_same_tree "$twin" "$REMOTE_HOME/fresh"
	[ "$(sed 1d "$REMOTE_HOME/fresh/.git/sidecar/owner")" = "$twin" ]
}

# --- staged changes on the sidecar -----------------------------------------------

@test "staged-but-uncommitted content on the sidecar is saved: the index is the saved commit's second parent" {
	sync_json
	printf 'staged on the sidecar\n' >"$REMOTE/README.md"
	git -C "$REMOTE" add README.md
	printf 'then edited again\n' >"$REMOTE/README.md"
	sync_json
	local saved
	saved=$(field saved_ref)
	[[ $saved == refs/sidecar/saved/* ]]
	[ "$(git -C "$REMOTE" show "$saved:README.md")" = 'then edited again' ]
	[ "$(git -C "$REMOTE" show "$saved^2:README.md")" = 'staged on the sidecar' ]
	[ "$(git -C "$REMOTE" rev-parse "$saved^1")" = "$(git rev-parse HEAD)" ]
	[[ $stderr == *"index (staged changes)"*" as $saved^2;"* ]]
	assert_same_tree "$LOCAL" "$REMOTE"
	[ "$(git -C "$REMOTE" status --porcelain)" = "$(git status --porcelain)" ]

	# staged, and the file put back as it was: only the index differs
	printf 'staged only\n' >"$REMOTE/build.sh"
	git -C "$REMOTE" add build.sh
	git -C "$REMOTE" show HEAD:build.sh >"$REMOTE/build.sh"
	sync_json
	saved=$(field saved_ref)
	[[ $saved == refs/sidecar/saved/* ]]
	[ "$(git -C "$REMOTE" show "$saved^2:build.sh")" = 'staged only' ]
	[ -z "$(git -C "$REMOTE" status --porcelain)" ]
	sync_json
	assert_field result up-to-date
	assert_field saved_ref null
}

# --- sidecar's refs apart from the local ones -------------------------------------

@test "a workspace filled by copying a synced local repository (rsync -a ./) syncs" {
	sync_json
	[ -n "$(git for-each-ref refs/sidecar/synced/)" ]
	# the whole local repository, .git with its refs/sidecar/synced/<key>
	mkdir -p "$REMOTE_HOME/copy"
	cp -a "$LOCAL/." "$REMOTE_HOME/copy/"
	[ -n "$(git -C "$REMOTE_HOME/copy" for-each-ref refs/sidecar/synced/)" ]
	printf 'after the copy\n' >>README.md
	sync_json -w copy --adopt
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE_HOME/copy"
	printf 'and again\n' >>README.md
	sync_json -w copy
	assert_field result synced
	assert_field round_trips 1
	assert_field saved_ref null
	run git -C "$REMOTE_HOME/copy" for-each-ref refs/sidecar/saved/
	assert_output ''
	assert_same_tree "$LOCAL" "$REMOTE_HOME/copy"
}

@test "a workspace an earlier version synced (refs/sidecar/synced) keeps working, its refs renamed" {
	sync_json
	# the names sidecar used there before
	local s h
	s=$(git -C "$REMOTE" rev-parse refs/sidecar/workspace/synced)
	h=$(git -C "$REMOTE" rev-parse refs/sidecar/workspace/head)
	printf 'update refs/sidecar/synced %s\nupdate refs/sidecar/head %s\ndelete refs/sidecar/workspace/synced\ndelete refs/sidecar/workspace/head\n' \
		"$s" "$h" | git -C "$REMOTE" update-ref --stdin
	printf 'edit\n' >>README.md
	sync_json
	assert_field result synced
	assert_field saved_ref null
	assert_field round_trips 1
	assert_same_tree "$LOCAL" "$REMOTE"
	[ "$(git -C "$REMOTE" rev-parse refs/sidecar/workspace/synced)" = "$(field snapshot)" ]
	run git -C "$REMOTE" rev-parse -q --verify refs/sidecar/synced
	assert_failure
	run git -C "$REMOTE" rev-parse -q --verify refs/sidecar/head
	assert_failure
}

@test "a ref in the way of sidecar's own: the error says which and how to recover" {
	sync_json
	local s
	s=$(git -C "$REMOTE" rev-parse refs/sidecar/workspace/synced)
	git -C "$REMOTE" update-ref -d refs/sidecar/workspace/synced
	git -C "$REMOTE" update-ref refs/sidecar/workspace/synced/x "$s"
	printf 'edit\n' >>README.md
	run --separate-stderr sc sync "$DEST"
	assert_failure 1
	[[ $stderr == *"refs/sidecar/workspace/synced"* ]]
	[[ $stderr == *"git update-ref -d REF"* ]]
	git -C "$REMOTE" update-ref -d refs/sidecar/workspace/synced/x
	sync_json
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
}

# --- no false "edits found" --------------------------------------------------------

@test "a file replaced by a directory, and the reverse, with no remote edit saves nothing" {
	sync_json
	rm README.md
	mkdir README.md
	printf 'inside\n' >README.md/inner.txt
	rm -r src/lib
	printf 'now a file\n' >src/lib
	sync_json
	assert_field result synced
	assert_field saved_ref null
	[[ $stderr != *"were saved"* ]]
	assert_same_tree "$LOCAL" "$REMOTE"
	rm -r README.md src/lib
	git checkout -q -- .
	sync_json
	assert_field saved_ref null
	[[ $stderr != *"were saved"* ]]
	assert_same_tree "$LOCAL" "$REMOTE"
	run git -C "$REMOTE" for-each-ref refs/sidecar/saved/
	assert_output ''
}

# --- dry runs predict ---------------------------------------------------------------

@test "-n predicts the files the sync then changes, remote edits included" {
	sync_json
	# local changes
	printf 'local edit\n' >>README.md
	printf 'new\n' >added.txt
	rm build.sh
	printf 'both sides alike\n' >>src/lib/answer.c
	# edits on the sidecar: one the sync takes back, one it overwrites,
	# one that already matches the local change, one it deletes
	printf 'remote edit\n' >>"$REMOTE/notes with space.txt"
	printf 'remote edit\n' >>"$REMOTE/README.md"
	printf 'both sides alike\n' >>"$REMOTE/src/lib/answer.c"
	printf 'remote only\n' >"$REMOTE/remote-only.txt"
	run --separate-stderr sc sync -n "$DEST"
	assert_success
	local list
	list=$(printf '%s\n' "$output" | LC_ALL=C sort)
	[ "$list" = "$(printf 'A\tadded.txt\nD\tbuild.sh\nD\tremote-only.txt\nM\tREADME.md\nM\tnotes with space.txt' | LC_ALL=C sort)" ]
	run --separate-stderr sc sync -n --json "$DEST"
	json=$output
	assert_field files_changed 5
	sync_json
	assert_field files_changed 5
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "patch mode -n reports as many files as it lists, and the sync then changes as many" {
	printf 'x\n' >>README.md
	run_json psync sync --mode patch --json "$DEST"
	printf 'more\n' >>README.md
	printf 'new\n' >added.txt
	rm build.sh
	run --separate-stderr sc sync --mode patch -n "$DEST"
	assert_success
	local n
	n=$(printf '%s\n' "$output" | grep -c .)
	[ "$n" -eq 3 ]
	run --separate-stderr sc sync --mode patch -n --json "$DEST"
	json=$output
	assert_field files_changed "$n"
	run_json psync sync --mode patch --json "$DEST"
	assert_field files_changed "$n"
}

# --- repositories inside the working tree ---------------------------------------------

@test "a git repository inside the working tree is named in one warning, with or without a commit" {
	git init -q inner
	printf 'x\n' >inner/x.txt
	git init -q empty-inner
	printf 'y\n' >empty-inner/y.txt
	git -C inner add x.txt
	git -C inner -c user.name=i -c user.email=i@i commit -qm inner
	sync_json
	assert_field result synced
	[ "$(grep -c '^sidecar: warning: inner/ is a git repository inside the working tree' <<<"$stderr")" -eq 1 ]
	[ "$(grep -c '^sidecar: warning: empty-inner/ is a git repository inside the working tree' <<<"$stderr")" -eq 1 ]
	[ -d "$REMOTE/inner" ]
	[ ! -e "$REMOTE/inner/x.txt" ]
	[ ! -e "$REMOTE/empty-inner/y.txt" ]
	[ -f "$REMOTE/README.md" ]
}
