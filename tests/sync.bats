#!/usr/bin/env bats
# sync.bats: `sidecar sync` in snapshot mode (the default), against a real
# sshd on 127.0.0.1. The sidecar's workspace lives under REMOTE_HOME on this
# machine, so the tests look at it directly.

load test_helper
load sync_helper

setup() {
	sync_setup
}

teardown() {
	common_teardown
}

# --- helpers ----------------------------------------------------------------


# local_state: what sidecar must never change in the local repository.
local_state() {
	git status --porcelain=v1 -z | od -c
	git symbolic-ref -q HEAD || echo detached
	git rev-parse -q --verify HEAD || echo unborn
	git for-each-ref --format='%(refname) %(objectname)' | grep -v '^refs/sidecar/'
	git stash list
	find . -path ./.git -prune -o -printf '%p %y %s %T@ %i\n' | LC_ALL=C sort
}

# remote_listing DIR: everything under DIR with its stat data, and the
# remote's refs and HEAD. Inside .git, objects are left out (a probe may hash
# a file there, which changes nothing visible) and so are the mtimes of
# directories (a probe works on a scratch copy of sidecar's index).
remote_listing() {
	find "$1" -path "$1/.git" -prune -o -printf '%p %y %s %T@ %i %m\n' | LC_ALL=C sort
	if [ -d "$1/.git" ]; then
		find "$1/.git" -path "$1/.git/objects" -prune -o \
			\( -type d -printf '%p %y %m\n' \) -o -printf '%p %y %s %T@ %i %m\n' | LC_ALL=C sort
		git -C "$1" for-each-ref --format='%(refname) %(objectname)'
		git -C "$1" symbolic-ref -q HEAD || git -C "$1" rev-parse -q --verify HEAD || :
	fi
}

# _gone PID: PID is no live process (a zombie counts as gone).
_gone() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[ "${stat%% *}" = Z ]
}

# --- first sync, no-op, small edit -------------------------------------------

@test "first sync makes the remote equal to the working tree" {
	printf 'changed\n' >>README.md
	printf 'new\n' >untracked.txt
	sync_json
	assert_field result synced
	assert_field mode snapshot
	assert_field dest "$DEST"
	assert_field workdir proj
	assert_field remote_workdir "$REMOTE"
	assert_field handshakes 1
	[ "$(field snapshot)" = "$(git for-each-ref --format='%(objectname)' refs/sidecar/synced/)" ]
	[ "$(field snapshot)" = "$(git -C "$REMOTE" rev-parse refs/sidecar/workspace/synced)" ]
	[ "$(field bytes_sent)" -gt 0 ]
	[ "$(field files_changed)" -ge 6 ]
	[ "$(field attempts)" -ge 1 ]
	[ "$(field elapsed_ms)" -ge 0 ]
	jsonget -k base round_trips saved_ref <<<"$json"
	[ -f "$REMOTE/.git/sidecar/created" ]
	[ ! -e "$REMOTE/.git/sidecar/lock" ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a second sync with nothing changed is up to date in one round trip" {
	sync_json
	sync_json
	assert_field result up-to-date
	assert_field round_trips 1
	assert_field handshakes 0
	assert_field files_changed 0
	# no bundle: at most the one header line of the apply request
	[ "$(field bytes_sent)" -lt 512 ]
	run --separate-stderr sc sync "$DEST"
	assert_success
	[[ $stderr == *"up to date"* ]]
}

@test "a no-op sync takes the last snapshot again: no write-tree, commit-tree or update-ref" {
	# files older than the index: git trusts their stat data (a file
	# written in the index's second is hashed again, and the index with it)
	find . -path ./.git -prune -o -exec touch -h -d '2001-02-03 04:05:06' {} +
	sync_json
	local s1
	s1=$(field snapshot)
	run --separate-stderr sc -v sync "$DEST"
	assert_success
	[[ $stderr == *"the same snapshot, $s1"* ]]
	[[ $stderr != *"run: git write-tree"* ]]
	[[ $stderr != *"run: git commit-tree"* ]]
	[[ $stderr != *"run: git update-ref"* ]]
	[[ $stderr == *"is up to date"* ]]
	[ "$(git for-each-ref --format='%(objectname)' refs/sidecar/synced/)" = "$s1" ]

	# HEAD moves, the tree stays: a new snapshot, on the new HEAD
	git commit -q --amend -m "the same tree, another commit"
	sync_json
	assert_field result synced
	local s2
	s2=$(field snapshot)
	[ "$s2" != "$s1" ]
	[ "$(git rev-parse "$s2^")" = "$(git rev-parse HEAD)" ]
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]

	# a rule outside the tree changes, no file does: a new snapshot, with the rule
	printf '*.never-there\n' >>.git/info/exclude
	sync_json
	local s3
	s3=$(field snapshot)
	[ "$s3" != "$s2" ]
	git cat-file commit "$s3" | grep -qx '\*\.never-there'
	[ "$(git -C "$REMOTE" rev-parse refs/sidecar/workspace/synced)" = "$s3" ]

	# a memo that lies about its tree is not believed
	local memo
	memo=$(ls "$XDG_RUNTIME_DIR"/sidecar/snap-*)
	[ "$(head -n1 "$memo")" = "$s3" ]
	sed -i '2s/^tree .*/tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904/' "$memo"
	run --separate-stderr sc -v sync "$DEST"
	assert_success
	[[ $stderr == *"run: git write-tree"* ]]
	[[ $stderr == *"is up to date"* ]]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "one edited file: one round trip, and unchanged files are not rewritten" {
	sync_json
	# an old mtime on the remote, so a rewrite would show
	touch -d '2001-02-03 04:05:06' "$REMOTE/README.md" "$REMOTE/src/lib/answer.c"
	local before_readme before_answer
	before_readme=$(stat -c '%i %Y %y' "$REMOTE/README.md")
	before_answer=$(stat -c '%i %Y %y' "$REMOTE/src/lib/answer.c")

	printf 'one more line\n' >>"notes with space.txt"
	sync_json
	assert_field result synced
	assert_field files_changed 1
	assert_field round_trips 1
	assert_field handshakes 0
	assert_field saved_ref null
	assert_same_tree "$LOCAL" "$REMOTE"
	[ "$(stat -c '%i %Y %y' "$REMOTE/README.md")" = "$before_readme" ]
	[ "$(stat -c '%i %Y %y' "$REMOTE/src/lib/answer.c")" = "$before_answer" ]
}

# --- every kind of change ------------------------------------------------------

@test "deletions, renames and mode changes reach the remote" {
	sync_json
	rm src/lib/answer.c
	mv "notes with space.txt" renamed.txt
	chmod +x README.md
	chmod -x build.sh
	sync_json
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
	[ ! -e "$REMOTE/src/lib/answer.c" ]
	[ ! -e "$REMOTE/notes with space.txt" ]
	[ -x "$REMOTE/README.md" ]
	[ "$(_xbit "$REMOTE/build.sh")" = 0 ]
}

@test "symlinks are added and retargeted, dangling ones too" {
	ln -s src/lib/answer.c link2
	ln -s src dirlink
	ln -s does/not/exist dangling
	sync_json
	assert_same_tree "$LOCAL" "$REMOTE"
	[ "$(readlink "$REMOTE/link2")" = src/lib/answer.c ]
	ln -sfn README.md link2
	ln -sfn ../elsewhere dangling
	sync_json
	assert_field files_changed 2
	assert_same_tree "$LOCAL" "$REMOTE"
	[ "$(readlink "$REMOTE/link2")" = README.md ]
	[ "$(readlink "$REMOTE/dangling")" = ../elsewhere ]
	# a file replaced by a symlink, and back
	rm README.md && ln -s build.sh README.md
	sync_json
	assert_same_tree "$LOCAL" "$REMOTE"
	[ -L "$REMOTE/README.md" ]
}

@test "a directory replaced by a file, and a file by a directory" {
	sync_json
	rm -r src/lib
	printf 'now a file\n' >src/lib
	rm README.md
	mkdir README.md
	printf 'inside\n' >README.md/inner.txt
	sync_json
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
	[ -f "$REMOTE/src/lib" ]
	[ -d "$REMOTE/README.md" ]
	# and back
	rm -r README.md src/lib
	git checkout -q -- .
	sync_json
	assert_same_tree "$LOCAL" "$REMOTE"
	[ -d "$REMOTE/src/lib" ]
}

@test "a binary file and a 50 MB file arrive byte for byte" {
	printf '\000\001\002\377\376binary\000data\r\n\000' >blob.bin
	dd if=/dev/urandom of=large.bin bs=1M count=50 status=none
	sync_json
	assert_field result synced
	[ "$(field bytes_sent)" -gt $((50 * 1024 * 1024)) ]
	cmp blob.bin "$REMOTE/blob.bin"
	cmp large.bin "$REMOTE/large.bin"
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "file names with spaces, quotes, a newline and non-ASCII" {
	mkdir -p 'dir with space'
	printf 'a\n' >'dir with space/it'\''s "quoted".txt'
	printf 'b\n' >$'new\nline.txt'
	printf 'c\n' >'ünïcødé ✓.txt'
	printf 'd\n' >'-leading-dash'
	printf 'e\n' >'$(touch PWNED) `x` ;&|.txt'
	printf 'f\n' >$'tab\there'
	sync_json
	assert_same_tree "$LOCAL" "$REMOTE"
	[ -f "$REMOTE/"$'new\nline.txt' ]
	[ -f "$REMOTE/ünïcødé ✓.txt" ]
	[ ! -e "$REMOTE/PWNED" ]
	[ ! -e "$REMOTE_HOME/PWNED" ]
	[ ! -e PWNED ]
	rm $'new\nline.txt'
	mv 'ünïcødé ✓.txt' 'ünïcødé ✗.txt'
	sync_json
	assert_same_tree "$LOCAL" "$REMOTE"
	[ ! -e "$REMOTE/"$'new\nline.txt' ]
}

@test "untracked files are synced; ignored files are never sent" {
	printf '*.log\nbuild/\n/secret.env\n' >.gitignore
	printf 'untracked\n' >untracked.txt
	mkdir -p newdir/deeper build
	printf 'deep\n' >newdir/deeper/file.txt
	printf 'log\n' >debug.log
	printf 'TOKEN=hunter2\n' >secret.env
	printf 'local object\n' >build/local.o
	sync_json
	assert_same_tree "$LOCAL" "$REMOTE"
	[ -f "$REMOTE/untracked.txt" ]
	[ -f "$REMOTE/newdir/deeper/file.txt" ]
	[ ! -e "$REMOTE/debug.log" ]
	[ ! -e "$REMOTE/secret.env" ]
	[ ! -e "$REMOTE/build" ]
	# ignored content is not even in the remote's object store
	run grep -r --binary-files=text -l hunter2 "$REMOTE"
	assert_failure
}

@test "a remote build output in an ignored directory survives syncs" {
	printf 'build/\n*.o\n' >.gitignore
	sync_json
	mkdir -p "$REMOTE/build"
	printf 'object code\n' >"$REMOTE/build/out.o"
	printf 'top-level object\n' >"$REMOTE/main.o"
	printf 'edit\n' >>README.md
	rm src/lib/answer.c
	sync_json
	assert_field result synced
	assert_field saved_ref null
	[ "$(cat "$REMOTE/build/out.o")" = 'object code' ]
	[ "$(cat "$REMOTE/main.o")" = 'top-level object' ]
	sync_json
	assert_field result up-to-date
	[ -f "$REMOTE/build/out.o" ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

# --- HEAD on the remote ---------------------------------------------------------

@test "the remote's HEAD is the local branch at the local commit, with the same status" {
	git checkout -q -b feature/x
	printf 'changed\n' >>README.md
	rm build.sh
	printf 'new\n' >new.txt
	sync_json
	[ "$(git -C "$REMOTE" symbolic-ref HEAD)" = refs/heads/feature/x ]
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
	[ "$(git -C "$REMOTE" status --porcelain)" = "$(git status --porcelain)" ]
	[ -n "$(git status --porcelain)" ]
	# switching branches locally switches the remote's HEAD
	git stash -q -u
	git checkout -q main
	sync_json
	[ "$(git -C "$REMOTE" symbolic-ref HEAD)" = refs/heads/main ]
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
	[ -z "$(git -C "$REMOTE" status --porcelain)" ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a detached local HEAD leaves the remote detached at the same commit" {
	printf 'second\n' >second.txt
	git add second.txt && git commit -q -m second
	git checkout -q --detach HEAD~1
	sync_json
	run git -C "$REMOTE" symbolic-ref -q HEAD
	assert_failure
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
	[ ! -e "$REMOTE/second.txt" ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

# unborn_check DIR: the remote copy of DIR, synced on an unborn branch.
unborn_check() {
	local dir=$1 remote=$REMOTE_HOME/${1##*/}
	assert_same_tree "$dir" "$remote"
	[ "$(git -C "$remote" symbolic-ref HEAD)" = refs/heads/main ]
	run git -C "$remote" rev-parse -q --verify HEAD
	assert_failure
}

@test "an unborn branch with nothing staged (no index file yet) syncs" {
	local fresh=$BATS_TEST_TMPDIR/fresh
	git init -q "$fresh"
	cd "$fresh"
	printf 'hello\n' >hello.txt
	mkdir sub && printf 'x\n' >sub/x
	ln -s hello.txt link
	[ ! -e .git/index ]
	sync_json
	assert_field result synced
	unborn_check "$fresh"
	[ ! -e .git/index ]
}

@test "an unborn branch with staged files syncs, and then its first commit" {
	local fresh=$BATS_TEST_TMPDIR/fresh
	git init -q "$fresh"
	cd "$fresh"
	printf 'hello\n' >hello.txt
	printf 'untracked\n' >untracked.txt
	git add hello.txt
	sync_json
	assert_field result synced
	unborn_check "$fresh"
	printf 'more\n' >>hello.txt
	sync_json
	assert_field result synced
	unborn_check "$fresh"
	git add -A && git commit -q -m first
	sync_json
	[ "$(git -C "$REMOTE_HOME/fresh" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
	[ "$(git -C "$REMOTE_HOME/fresh" symbolic-ref HEAD)" = refs/heads/main ]
	assert_same_tree "$fresh" "$REMOTE_HOME/fresh"
}

@test "unpushed local commits reach the remote" {
	sync_json
	printf 'one\n' >one.txt && git add one.txt && git commit -q -m one
	printf 'two\n' >two.txt && git add two.txt && git commit -q -m two
	[ "$(git rev-parse origin/main)" != "$(git rev-parse HEAD)" ]
	sync_json
	assert_field result synced
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
	[ "$(git -C "$REMOTE" log --format=%s -2 | tr '\n' ' ')" = 'two one ' ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

# --- remote edits -----------------------------------------------------------------

@test "edits made on the remote are saved to refs/sidecar/saved/ before the local file wins" {
	sync_json
	printf 'edited on the sidecar\n' >>"$REMOTE/README.md"
	printf 'created on the sidecar\n' >"$REMOTE/remote-only.txt"
	sync_json
	assert_field result synced
	local saved
	saved=$(field saved_ref)
	[[ $saved == refs/sidecar/saved/* ]]
	[[ $stderr == *"$saved"* ]]
	git -C "$REMOTE" show "$saved:README.md" | grep -q 'edited on the sidecar'
	[ "$(git -C "$REMOTE" show "$saved:remote-only.txt")" = 'created on the sidecar' ]
	assert_same_tree "$LOCAL" "$REMOTE"
	cmp README.md "$REMOTE/README.md"
	[ ! -e "$REMOTE/remote-only.txt" ]
	# nothing more to save the next time
	sync_json
	assert_field result up-to-date
	assert_field saved_ref null
}

@test "a commit made on the remote is saved too" {
	sync_json
	printf 'remote commit\n' >"$REMOTE/committed.txt"
	git -C "$REMOTE" add committed.txt
	git -C "$REMOTE" -c user.name=r -c user.email=r@r commit -q -m 'on the sidecar'
	sync_json
	local saved
	saved=$(field saved_ref)
	[[ $saved == refs/sidecar/saved/* ]]
	[ "$(git -C "$REMOTE" show "$saved:committed.txt")" = 'remote commit' ]
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

# --- the optimistic path and the base --------------------------------------------------

@test "a moved remote base: the optimistic apply falls back to probe and apply" {
	sync_json
	git -C "$REMOTE" update-ref refs/sidecar/workspace/synced "$(git -C "$REMOTE" rev-parse HEAD)"
	printf 'after the move\n' >>README.md
	sync_json
	assert_field result synced
	assert_field round_trips 3
	assert_field handshakes 0
	assert_same_tree "$LOCAL" "$REMOTE"
	[ "$(git -C "$REMOTE" rev-parse refs/sidecar/workspace/synced)" = "$(field snapshot)" ]
	# and the steady state is back
	printf 'again\n' >>README.md
	sync_json
	assert_field round_trips 1
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a sidecar made anew (its workspace gone) is synced as a fresh one: two round trips" {
	sync_json
	rm -rf "$REMOTE"
	printf 'after the sidecar was made again\n' >>README.md
	sync_json
	assert_field result synced
	# the session that expected the last snapshot found no workspace and
	# made none: no probe, the apply creates it and takes a first sync's pack
	assert_field round_trips 2
	assert_same_tree "$LOCAL" "$REMOTE"
	[ -f "$REMOTE/.git/sidecar/created" ]
	[ "$(git -C "$REMOTE" rev-parse --is-shallow-repository)" = true ]
	[ "$(git -C "$REMOTE" rev-parse refs/sidecar/workspace/synced)" = "$(field snapshot)" ]
	printf 'again\n' >>README.md
	sync_json
	assert_field round_trips 1
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a pre-cloned sidecar receives far fewer bytes than an empty one" {
	local i
	for i in 1 2 3; do
		dd if=/dev/urandom of="history$i.bin" bs=1M count=1 status=none
		git add "history$i.bin"
		git commit -q -m "history $i"
	done
	git push -q origin main
	printf 'local edit\n' >>README.md

	sync_json -w empty-dir
	assert_field result synced
	local full
	full=$(field bytes_sent)
	[ "$full" -gt $((3 * 1024 * 1024)) ]

	# an image that already holds a clone of origin
	git clone -q "$BATS_TEST_TMPDIR/origin.git" "$REMOTE"
	sync_json --adopt
	assert_field result synced
	local pre
	pre=$(field bytes_sent)
	echo "full $full, pre-cloned $pre" >&2
	[ "$pre" -lt $((full / 2)) ]
	[ "$pre" -lt 100000 ]
	assert_same_tree "$LOCAL" "$REMOTE"
	assert_same_tree "$LOCAL" "$REMOTE_HOME/empty-dir"
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
}

# --- the local repository is read-only ---------------------------------------------------

@test "the local repository is untouched: index, HEAD, branches, stash, working tree" {
	printf 'stashed\n' >>README.md
	git stash -q
	git branch other
	printf 'staged\n' >staged.txt
	git add staged.txt
	printf 'unstaged\n' >>build.sh
	printf 'untracked\n' >untracked.txt
	rm "notes with space.txt"
	git status --porcelain >/dev/null	# let git refresh its index first
	cp .git/index "$BATS_TEST_TMPDIR/index.before"
	local before
	before=$(local_state)

	sync_json
	cmp .git/index "$BATS_TEST_TMPDIR/index.before"
	[ "$(local_state)" = "$before" ]
	printf 'more\n' >>untracked.txt
	before=$(local_state)
	sync_json
	cmp .git/index "$BATS_TEST_TMPDIR/index.before"
	[ "$(local_state)" = "$before" ]
	# the only refs sidecar writes are its own
	run git for-each-ref --format='%(refname)' refs/sidecar/
	assert_output --regexp '^refs/sidecar/(synced|snapshot)/'
	assert_same_tree "$LOCAL" "$REMOTE"
}

# --- workdirs ---------------------------------------------------------------------------

@test "a workdir with spaces, quotes and \$(...) in its name is used exactly" {
	local wd='odd dir '\''single'\'' "double" $(touch PWNED) `touch PWNED2`;x'
	sync_json -w "$wd"
	assert_field workdir "$wd"
	assert_field remote_workdir "$REMOTE_HOME/$wd"
	assert_same_tree "$LOCAL" "$REMOTE_HOME/$wd"
	# the workspace, and sidecar's script under ~/.cache
	[ "$(find "$REMOTE_HOME" -mindepth 1 -maxdepth 1 ! -name .cache | wc -l)" -eq 1 ]
	[ ! -e PWNED ]
	[ ! -e PWNED2 ]
	[ ! -e "$REMOTE_HOME/PWNED" ]
	[ ! -e "$REMOTE_HOME/PWNED2" ]
	printf 'edit\n' >>README.md
	sync_json -w "$wd"
	assert_field round_trips 1
	assert_same_tree "$LOCAL" "$REMOTE_HOME/$wd"
}

@test "a workdir starting with '-' is a directory, not an option" {
	sync_json -w -dashed
	assert_same_tree "$LOCAL" "$REMOTE_HOME/-dashed"
	sync_json --workdir=--double
	assert_same_tree "$LOCAL" "$REMOTE_HOME/--double"
}

@test "an absolute workdir and a ~/ workdir" {
	local abs=$BATS_TEST_TMPDIR/elsewhere/ws
	sync_json -w "$abs"
	assert_field remote_workdir "$abs"
	assert_same_tree "$LOCAL" "$abs"
	# shellcheck disable=SC2088 # the sidecar expands it, not this shell
	sync_json -w '~/tilde'
	assert_same_tree "$LOCAL" "$REMOTE_HOME/tilde"
}

@test "outside a git repository: exit 1 with a clear message" {
	mkdir "$BATS_TEST_TMPDIR/plain"
	cd "$BATS_TEST_TMPDIR/plain"
	export GIT_CEILING_DIRECTORIES=$BATS_TEST_TMPDIR
	run --separate-stderr sc sync "$DEST"
	assert_failure 1
	[[ $stderr == *"not inside a git repository"* ]]
	[ ! -e "$REMOTE_HOME/plain" ]
}

@test "a remote workdir that is a non-empty directory outside git is left alone" {
	mkdir -p "$REMOTE"
	printf 'precious\n' >"$REMOTE/data.txt"
	local before
	before=$(remote_listing "$REMOTE")
	run --separate-stderr sc sync "$DEST"
	assert_failure 1
	[[ $stderr == *"not a git repository"* ]]
	[ "$(remote_listing "$REMOTE")" = "$before" ]
	[ "$(cat "$REMOTE/data.txt")" = precious ]
}

@test "a remote workdir that is a file is refused" {
	printf 'a file\n' >"$REMOTE"
	run --separate-stderr sc sync "$DEST"
	assert_failure 1
	[ "$(cat "$REMOTE")" = 'a file' ]
}

@test "an empty remote directory is adopted" {
	mkdir -p "$REMOTE"
	sync_json
	assert_same_tree "$LOCAL" "$REMOTE"
}

# _nogit_path: a directory holding a shell and nothing else, for a PATH
# without git on the sidecar.
_nogit_path() {
	local d=$BATS_TEST_TMPDIR/nogit-bin
	mkdir -p "$d"
	ln -sf /bin/sh "$d/sh"
	echo "$d"
}

# _remote_path PATH: sessions opened from now on get PATH on the sidecar.
_remote_path() {
	local keys=$BATS_TEST_TMPDIR/sshd/authorized_keys
	sed -i "s|^environment=\"HOME=[^\"]*\"|&,environment=\"PATH=$1\"|" "$keys"
	grep -q "PATH=$1" "$keys"
}

@test "a sidecar without git: exit 1, 'git is not installed'" {
	_remote_path "$(_nogit_path)"
	run --separate-stderr sc sync "$DEST"
	assert_failure 1
	[[ $stderr == *"git is not installed"* ]]
	[ ! -e "$REMOTE" ]
}

@test "git gone from a sidecar synced before: exit 1, 'git is not installed'" {
	sync_json
	sc disconnect "$DEST"
	_remote_path "$(_nogit_path)"
	printf 'edit\n' >>README.md
	run --separate-stderr sc sync "$DEST"
	assert_failure 1
	[[ $stderr == *"git is not installed"* ]]
}

@test "a remote parent that cannot be written: exit 1" {
	local wd
	if [ "$(id -u)" = 0 ]; then
		# root writes anywhere: make the parent a regular file instead
		printf 'not a directory\n' >"$REMOTE_HOME/parent"
	else
		mkdir -m 0555 "$REMOTE_HOME/parent"
	fi
	wd=$REMOTE_HOME/parent/ws
	run --separate-stderr sc sync "$DEST" -w "$wd"
	assert_failure 1
	[[ $stderr == *"cannot create"* ]]
	[ ! -e "$wd" ]
	if [ -f "$REMOTE_HOME/parent" ]; then
		[ "$(cat "$REMOTE_HOME/parent")" = 'not a directory' ]
	fi
}

# hold_lock PID: the sidecar's lock on $REMOTE, held by PID, as remote.sh
# takes it (.git/sidecar/lock, a file holding the holder's pid).
hold_lock() {
	echo "$1" >"$REMOTE/.git/sidecar/lock"
}

# _bundle_child PID: the `git pack-objects` that sidecar PID streams from
# (prints its pid; fails while there is none).
_bundle_child() {
	pgrep -P "$1" -f 'pack-objects'
}

# --- the lock -----------------------------------------------------------------------------

@test "a live sync holding the lock: --max-wait 1s gives up with 'another sync'" {
	sync_json
	# shellcheck disable=SC2217 # no fd of bats may stay open in it
	sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	local holder=$!
	track_pid "$holder"
	hold_lock "$holder"
	printf 'edit\n' >>README.md
	run --separate-stderr sc sync "$DEST" --max-wait 1s
	assert_failure 1
	[[ $stderr == *"another sync"* ]]
	[[ $stderr == *"$holder"* ]]
	# the lock is still the holder's
	[ "$(cat "$REMOTE/.git/sidecar/lock")" = "$holder" ]
	# and once it is gone the sync goes through
	kill "$holder"
	wait "$holder" 2>/dev/null || :
	sync_json
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
	[ ! -e "$REMOTE/.git/sidecar/lock" ]
}

@test "a stale lock (its holder is dead) is broken" {
	sync_json
	sh -c 'exit 0' </dev/null >/dev/null 2>&1 3>&- &
	local dead=$!
	wait "$dead" || :
	_gone "$dead"
	hold_lock "$dead"
	printf 'edit\n' >>README.md
	sync_json --max-wait 1s
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
	[ ! -e "$REMOTE/.git/sidecar/lock" ]
}

# --- dry run -------------------------------------------------------------------------------

@test "--dry-run changes nothing remotely and lists what would change" {
	sync_json
	printf 'edit\n' >>README.md
	printf 'new\n' >added.txt
	rm build.sh
	local before
	before=$(remote_listing "$REMOTE")
	run --separate-stderr sc sync -n "$DEST"
	assert_success
	[[ $output == *README.md* ]]
	[[ $output == *added.txt* ]]
	[[ $output == *build.sh* ]]
	[[ $output != *answer.c* ]]
	[ "$(remote_listing "$REMOTE")" = "$before" ]
	[ ! -e "$REMOTE/added.txt" ]
	# the real sync afterwards still does the work
	sync_json
	assert_field result synced
	assert_field files_changed 3
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "--dry-run before the first sync creates nothing" {
	run --separate-stderr sc sync --dry-run "$DEST"
	assert_success
	[ ! -e "$REMOTE" ]
	[ -z "$(ls -A "$REMOTE_HOME")" ]
}

@test "--dry-run --json prints one JSON object with result dry-run" {
	sync_json
	printf 'edit\n' >>README.md
	run --separate-stderr sc sync --dry-run --json "$DEST"
	assert_success
	json=$output
	jsonget <<<"$json"
	assert_field result dry-run
	assert_field files_changed 1
	[ "$(git -C "$REMOTE" rev-parse refs/sidecar/workspace/synced)" != "$(field snapshot)" ]
}

# --- interruptions --------------------------------------------------------------------------

@test "Ctrl-C during a large transfer: exit 130, local repository untouched, next sync repairs" {
	sync_json
	# enough to be caught mid-transfer: packing and sending take a second
	dd if=/dev/urandom of=huge.bin bs=1M count=30 status=none
	git status --porcelain >/dev/null
	cp .git/index "$BATS_TEST_TMPDIR/index.before"
	local before pid bundle rc=0
	before=$(local_state)

	env --default-signal=INT "$SIDECAR_BIN" sync "$DEST" \
		</dev/null >"$BATS_TEST_TMPDIR/int.out" 2>"$BATS_TEST_TMPDIR/int.err" 3>&- &
	pid=$!
	track_pid "$pid"
	# the transfer runs: the bundle streams and the sidecar holds its lock
	wait_until --timeout-ms 60000 _bundle_child "$pid"
	bundle=$(_bundle_child "$pid")
	wait_until --timeout-ms 60000 test -e "$REMOTE/.git/sidecar/lock"
	kill -INT "$pid"
	wait "$pid" || rc=$?
	cat "$BATS_TEST_TMPDIR/int.err" >&2
	[ "$rc" -eq 130 ]
	# no child left behind
	wait_until _gone "$bundle"
	cmp .git/index "$BATS_TEST_TMPDIR/index.before"
	[ "$(local_state)" = "$before" ]

	sync_json
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
	[ ! -e "$REMOTE/.git/sidecar/lock" ]
}

@test "two syncs at once are serialized: both succeed, the remote ends equal" {
	sync_json
	dd if=/dev/urandom of=big.bin bs=1M count=30 status=none
	local a b rc_a=0 rc_b=0
	"$SIDECAR_BIN" sync "$DEST" </dev/null >"$BATS_TEST_TMPDIR/a.out" 2>"$BATS_TEST_TMPDIR/a.err" 3>&- &
	a=$!
	"$SIDECAR_BIN" sync "$DEST" </dev/null >"$BATS_TEST_TMPDIR/b.out" 2>"$BATS_TEST_TMPDIR/b.err" 3>&- &
	b=$!
	track_pid "$a"
	track_pid "$b"
	wait "$a" || rc_a=$?
	wait "$b" || rc_b=$?
	cat "$BATS_TEST_TMPDIR/a.err" "$BATS_TEST_TMPDIR/b.err" >&2
	[ "$rc_a" -eq 0 ]
	[ "$rc_b" -eq 0 ]
	assert_same_tree "$LOCAL" "$REMOTE"
	[ ! -e "$REMOTE/.git/sidecar/lock" ]
	run git -C "$REMOTE" for-each-ref refs/sidecar/saved/
	assert_output ''
}

@test "the shared connection killed in the middle of a sync: it reconnects and syncs again" {
	sync_json
	run --separate-stderr sc status --json "$DEST"
	local master rc=0 pid
	master=$(jsonget pid <<<"$output")
	[ "$master" -gt 0 ]
	# enough to be caught mid-transfer: packing and sending take a second
	dd if=/dev/urandom of=huge.bin bs=1M count=30 status=none
	"$SIDECAR_BIN" sync --json "$DEST" \
		</dev/null >"$BATS_TEST_TMPDIR/k.out" 2>"$BATS_TEST_TMPDIR/k.err" 3>&- &
	pid=$!
	track_pid "$pid"
	wait_until --timeout-ms 60000 _bundle_child "$pid"
	wait_until --timeout-ms 60000 test -e "$REMOTE/.git/sidecar/lock"
	kill -KILL "$master"
	wait "$pid" || rc=$?
	cat "$BATS_TEST_TMPDIR/k.err" >&2
	[ "$rc" -eq 0 ]
	json=$(cat "$BATS_TEST_TMPDIR/k.out")
	assert_field result synced
	assert_field handshakes 1
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "the shared connection killed between syncs: the next sync reconnects" {
	sync_json
	run --separate-stderr sc status --json "$DEST"
	assert_success
	local pid
	pid=$(jsonget pid <<<"$output")
	[ "$pid" -gt 0 ]
	kill -KILL "$pid"
	wait_until _gone "$pid"
	printf 'edit\n' >>README.md
	sync_json
	assert_field result synced
	assert_field handshakes 1
	assert_same_tree "$LOCAL" "$REMOTE"
}

# --- submodules --------------------------------------------------------------------------------

@test "a submodule syncs to its path as a repository of its own; --no-submodules leaves its directory empty" {
	local sub=$BATS_TEST_TMPDIR/subrepo
	git init -q "$sub"
	printf 'inside\n' >"$sub/inside.txt"
	git -C "$sub" add -A && git -C "$sub" commit -q -m sub
	git -c protocol.file.allow=always submodule add -q "$sub" sub 2>/dev/null
	git commit -q -m 'add submodule'
	printf 'edit\n' >>README.md
	sync_json --no-submodules
	[[ $stderr != *submodule* ]]
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
	[ -f "$REMOTE/.gitmodules" ]
	[ -d "$REMOTE/sub" ] && [ -z "$(ls -A "$REMOTE/sub")" ]
	sync_json
	assert_field result up-to-date
	assert_same_tree "$LOCAL/sub" "$REMOTE/sub"
	[ "$(git -C "$REMOTE/sub" rev-parse HEAD)" = "$(git -C sub rev-parse HEAD)" ]
	[ "$(git -C "$REMOTE" status --porcelain)" = "$(git status --porcelain)" ]
}
