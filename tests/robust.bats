#!/usr/bin/env bats
# Hostile but ordinary states of the local repository and of the sidecar:
# odd names, ignore rules, clashing branches, a merge left half-done, locks
# left by a crash, a read-only workspace. Real sshd on 127.0.0.1; the
# sidecar's workspace is under REMOTE_HOME.

load test_helper
load sync_helper

setup() {
	sync_setup
}

teardown() {
	if [ -n "${IMMUTABLE:-}" ]; then
		chattr -i "$IMMUTABLE" 2>/dev/null || :
	fi
	if [ -n "${MOUNTED:-}" ]; then
		umount "$MOUNTED" 2>/dev/null || :
	fi
	common_teardown
}

# The names git quotes in its text output.
odd_names() {
	printf '%s\0' 'café.sec' $'tab\there.sec' $'new\nline.sec' 'quote"d.sec' 'back\slash.sec'
}

@test "ignored files with names git quotes are saved before a local path overwrites them" {
	printf '*.sec\n' >.gitignore
	git add .gitignore && git commit -qm "ignore *.sec"
	sync_json
	local f
	while IFS= read -r -d '' f; do
		printf 'remote %s' "$f" >"$REMOTE/$f"
	done < <(odd_names)
	# locally the names become ordinary files
	: >.gitignore
	while IFS= read -r -d '' f; do
		printf 'local %s' "$f" >"$f"
	done < <(odd_names)
	sync_json
	local saved
	saved=$(field saved_ref)
	[ "$saved" != null ]
	while IFS= read -r -d '' f; do
		[ "$(git -C "$REMOTE" cat-file blob "$saved:$f")" = "remote $f" ]
		[ "$(cat "$REMOTE/$f")" = "local $f" ]
	done < <(odd_names)
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a tracked symlink to a directory replaced by a real directory syncs, and nothing is saved" {
	mkdir target
	echo "in the target" >target/same.txt
	ln -s target linked
	git add target linked && git commit -qm "a symlink to a directory"
	sync_json
	rm linked
	mkdir linked
	echo "a real directory now" >linked/same.txt
	sync_json
	assert_field result synced
	[ "$(field saved_ref)" = null ]
	[ ! -L "$REMOTE/linked" ]
	[ "$(cat "$REMOTE/linked/same.txt")" = "a real directory now" ]
	[ "$(cat "$REMOTE/target/same.txt")" = "in the target" ]
	assert_same_tree "$LOCAL" "$REMOTE"
	sync_json
	assert_field result up-to-date
}

@test "an untracked file newly ignored leaves the snapshot; a tracked one that is ignored stays" {
	echo "tracked log" >kept.log
	git add kept.log && git commit -qm "a tracked log"
	echo "generated 1" >gen.log
	sync_json
	[ "$(cat "$REMOTE/gen.log")" = "generated 1" ]
	printf '*.log\n' >.gitignore
	echo "generated 2" >gen.log
	echo "tracked log, changed" >kept.log
	sync_json
	local snap
	snap=$(field snapshot)
	run -0 git ls-tree -r --name-only "$snap"
	[[ $output != *gen.log* ]]
	[[ $output == *kept.log* ]]
	[ "$(cat "$REMOTE/kept.log")" = "tracked log, changed" ]
	[ ! -e "$REMOTE/gen.log" ] || [ "$(cat "$REMOTE/gen.log")" = "generated 1" ]
	echo "generated 3" >gen.log
	sync_json
	assert_field result up-to-date
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "branch names that clash with earlier ones: the sidecar ends on the right branch, its commits saved" {
	git checkout -q -b feature/x
	sync_json
	[ "$(git -C "$REMOTE" symbolic-ref HEAD)" = refs/heads/feature/x ]
	# a commit made on the sidecar, on the branch that must go
	echo "made there" >"$REMOTE/there.txt"
	git -C "$REMOTE" add there.txt
	git -C "$REMOTE" -c user.name=r -c user.email=r@example.invalid commit -qm "on the sidecar"
	local lost
	lost=$(git -C "$REMOTE" rev-parse HEAD)
	git checkout -q main
	git branch -q -D feature/x
	git checkout -q -b feature
	echo "on feature" >>README.md
	sync_json
	[ "$(git -C "$REMOTE" symbolic-ref HEAD)" = refs/heads/feature ]
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
	run -1 git -C "$REMOTE" rev-parse -q --verify refs/heads/feature/x
	local saved found=
	for saved in $(git -C "$REMOTE" for-each-ref --format='%(refname)' refs/sidecar/saved/); do
		git -C "$REMOTE" merge-base --is-ancestor "$lost" "$saved" && found=1
	done
	[ -n "$found" ]
	assert_same_tree "$LOCAL" "$REMOTE"
	[ "$(git -C "$REMOTE" status --porcelain)" = "$(git status --porcelain)" ]
	# and back the other way: feature, then feature/y
	git checkout -q main
	git branch -q -D feature
	git checkout -q -b feature/y
	sync_json
	[ "$(git -C "$REMOTE" symbolic-ref HEAD)" = refs/heads/feature/y ]
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
	sync_json
	assert_field result up-to-date
}

@test "a sidecar left in a merge conflict: saved, cleared, then synced" {
	sync_json
	local r=(git -C "$REMOTE" -c user.name=r -c user.email=r@example.invalid)
	"${r[@]}" checkout -q -b other
	echo "theirs" >"$REMOTE/README.md"
	"${r[@]}" commit -qam "theirs"
	"${r[@]}" checkout -q main
	echo "ours" >"$REMOTE/README.md"
	"${r[@]}" commit -qam "ours"
	run "${r[@]}" merge other
	[ "$status" -ne 0 ]
	[ -n "$(git -C "$REMOTE" ls-files -u)" ]
	echo "local edit" >>build.sh
	sync_json
	assert_field result synced
	local saved
	saved=$(field saved_ref)
	[ "$saved" != null ]
	[[ $(git -C "$REMOTE" cat-file blob "$saved:README.md") == *"<<<<<<<"* ]]
	[ -z "$(git -C "$REMOTE" ls-files -u)" ]
	run -1 git -C "$REMOTE" rev-parse -q --verify MERGE_HEAD
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
	[ "$(git -C "$REMOTE" status --porcelain)" = "$(git status --porcelain)" ]
	assert_same_tree "$LOCAL" "$REMOTE"
	sync_json
	assert_field result up-to-date
}

@test "a private index lock a killed git left is recovered; git's own only when stale" {
	sync_json
	: >"$REMOTE/.git/sidecar/index.lock"
	echo "edit 1" >>README.md
	sync_json
	assert_field result synced
	[ ! -e "$REMOTE/.git/sidecar/index.lock" ]
	assert_same_tree "$LOCAL" "$REMOTE"
	# git's own lock, fresh: another git may be running there
	: >"$REMOTE/.git/index.lock"
	echo "edit 2" >>README.md
	run --separate-stderr sc sync "$DEST"
	assert_failure 1
	[[ $stderr == *"index.lock"* ]]
	[[ $stderr == *"another git command"* ]]
	[ -e "$REMOTE/.git/index.lock" ]
	[ "$(cat "$REMOTE/README.md")" != "$(cat README.md)" ]
	# the same lock, twenty minutes old: a crash left it
	touch -d '20 minutes ago' "$REMOTE/.git/index.lock"
	sync_json
	assert_field result synced
	[ ! -e "$REMOTE/.git/index.lock" ]
	assert_same_tree "$LOCAL" "$REMOTE"
	[ "$(git -C "$REMOTE" status --porcelain)" = "$(git status --porcelain)" ]
}

@test "an empty lock (a full disk cut it short) and a lock from an earlier boot are stale" {
	sync_json
	: >"$REMOTE/.git/sidecar/lock"
	echo "edit 1" >>README.md
	sync_json --max-wait 30s
	assert_field result synced
	[ ! -e "$REMOTE/.git/sidecar/lock" ]
	# a live pid, but recorded by another boot of the sidecar
	# shellcheck disable=SC2217 # no fd of bats may stay open in it
	sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	local holder=$!
	track_pid "$holder"
	printf '%s another-boot\n' "$holder" >"$REMOTE/.git/sidecar/lock"
	echo "edit 2" >>README.md
	sync_json --max-wait 30s
	assert_field result synced
	[ ! -e "$REMOTE/.git/sidecar/lock" ]
	assert_same_tree "$LOCAL" "$REMOTE"
	ls "$REMOTE/.git/sidecar/" >"$BATS_TEST_TMPDIR/left"
	run grep -c '^lock' "$BATS_TEST_TMPDIR/left"
	[ "$output" = 0 ]
}

@test "a read-only workspace is reported as such, at once, not as another sync" {
	sync_json
	IMMUTABLE=$REMOTE/.git/sidecar
	chattr +i "$IMMUTABLE" 2>/dev/null || skip "chattr +i is not available here"
	printf 'edit 2\n' >>README.md
	local t0=$SECONDS
	run --separate-stderr sc sync "$DEST" --max-wait 60s
	assert_failure 1
	[[ $stderr == *"cannot write the lock"* ]]
	[[ $stderr != *"another sync"* ]]
	[ $((SECONDS - t0)) -lt 50 ]
	chattr -i "$IMMUTABLE"
	IMMUTABLE=
	sync_json
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "patch mode, a tracked file that .gitignore matches: no drift, ignored build outputs survive" {
	printf '*.cfg\nbuild/\n' >.gitignore
	git add .gitignore && git commit -qm "ignore *.cfg and build/" && git push -q origin main
	echo "setting=1" >app.cfg
	git add -f app.cfg && git commit -qm "tracked despite *.cfg, not pushed"
	run_json psync sync --mode patch --json "$DEST"
	[ "$(cat "$REMOTE/app.cfg")" = "setting=1" ]
	mkdir -p "$REMOTE/build"
	echo obj >"$REMOTE/build/main.o"
	echo "setting=2" >app.cfg
	run_json psync sync --mode patch --json "$DEST"
	[[ $stderr != *drifted* ]]
	[ "$(cat "$REMOTE/app.cfg")" = "setting=2" ]
	[ "$(cat "$REMOTE/build/main.o")" = obj ]
	echo "more" >>README.md
	run_json psync sync --mode patch --json "$DEST"
	[[ $stderr != *drifted* ]]
	[ "$(cat "$REMOTE/build/main.o")" = obj ]
	[ "$(field saved_ref)" = null ]
	# the sidecar's index is at its base, which lacks app.cfg: compare files
	[ "$(cat "$REMOTE/README.md")" = "$(cat README.md)" ]
	[ "$(cat "$REMOTE/app.cfg")" = "setting=2" ]
}

# --- the versions of git ----------------------------------------------------------

# fake_git DIR VERSION: DIR/git is this machine's git, but says it is
# VERSION when asked; it notes the first word of every call in DIR/calls.
fake_git() {
	mkdir -p "$1"
	cat >"$1/git" <<-EOF
	#!/bin/sh
	printf '%s\\n' "\$1" >>"$1/calls"
	[ "\$1" != version ] || { echo "git version $2"; exit 0; }
	exec /usr/bin/git "\$@"
	EOF
	chmod 755 "$1/git"
}

# remote_path DIR: sessions on the sidecar find their programs in DIR first.
remote_path() {
	sed -i "s|^environment=\"HOME=|environment=\"PATH=$1:/usr/local/bin:/usr/bin:/bin\",&|" \
		"$BATS_TEST_TMPDIR/sshd/authorized_keys"
}

@test "a local git older than 2.20 is refused, naming the minimum, before anything reaches the sidecar" {
	fake_git "$BATS_TEST_TMPDIR/old" 2.19.6
	export SIDECAR_GIT=$BATS_TEST_TMPDIR/old/git
	run -1 --separate-stderr sc sync "$DEST"
	[[ $stderr == *"is version 2.19.6, too old: sidecar needs git 2.20 or later"* ]]
	[ ! -e "$REMOTE" ]
	[ "$(count_auth)" = 0 ]
	run -1 --separate-stderr sc sync --mode patch "$DEST"
	[[ $stderr == *"needs git 2.20 or later"* ]]
}

@test "git 2.20 is enough here, and it is asked its version once, not at every sync" {
	fake_git "$BATS_TEST_TMPDIR/new" 2.20.1
	export SIDECAR_GIT=$BATS_TEST_TMPDIR/new/git
	sync_json
	echo "a change" >>README.md
	sync_json
	assert_field result synced
	sync_json
	assert_field result up-to-date
	[ "$(grep -c '^version$' "$BATS_TEST_TMPDIR/new/calls")" = 1 ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a git older than 2.20 on the sidecar is refused, naming the minimum; 2.20 is enough" {
	fake_git "$BATS_TEST_TMPDIR/remote-bin" 2.17.1
	remote_path "$BATS_TEST_TMPDIR/remote-bin"
	run -1 --separate-stderr sc sync "$DEST"
	[[ $stderr == *"git 2.17.1 on the sidecar is too old: sidecar needs git 2.20 or later there"* ]]
	[ ! -e "$REMOTE" ]
	run -1 --separate-stderr sc sync --mode patch "$DEST"
	[[ $stderr == *"git 2.17.1 on the sidecar is too old"* ]]
	[ ! -e "$REMOTE" ]
	fake_git "$BATS_TEST_TMPDIR/remote-bin" 2.20.0
	sync_json
	assert_same_tree "$LOCAL" "$REMOTE"
}

# --- what failed there, in its own words ------------------------------------------

@test "a store the sidecar may not write is named as what it is, not as a full disk" {
	sync_json
	IMMUTABLE=$REMOTE/.git/objects/pack
	chattr +i "$IMMUTABLE" 2>/dev/null || skip "chattr +i is not available here"
	echo "a change" >>README.md
	run -1 --separate-stderr sc sync "$DEST"
	[[ $stderr == *"sidecar: git index-pack: "*"Operation not permitted"* ]]
	[[ $stderr == *"could not store the snapshot"* ]]
	[[ $stderr != *"disk"* ]]
	[ "$(cat "$REMOTE/README.md")" != "$(cat README.md)" ]
	chattr -i "$IMMUTABLE"
	IMMUTABLE=
	sync_json
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a busy file in the way on the sidecar is named in git's words, not as a full disk" {
	echo "tracked" >mounted.txt
	git add mounted.txt && git commit -qm "a file that will be busy"
	sync_json
	# something is mounted on it there: it cannot be replaced
	echo "mounted over it" >"$BATS_TEST_TMPDIR/over"
	mount --bind "$BATS_TEST_TMPDIR/over" "$REMOTE/mounted.txt" 2>/dev/null ||
		skip "cannot bind-mount here"
	MOUNTED=$REMOTE/mounted.txt
	echo "changed here" >mounted.txt
	run -1 --separate-stderr sc sync "$DEST"
	[[ $stderr == *"Device or resource busy"* ]]
	[[ $stderr == *"could not update the files"* ]]
	[[ $stderr != *"disk"* ]]
	umount "$MOUNTED"
	MOUNTED=
	sync_json
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a workdir longer than PATH_MAX is a usage error, before any connection" {
	local long
	long=$(head -c 122880 /dev/zero | tr '\0' w)
	run -2 --separate-stderr sc sync "$DEST" -w "$long"
	[[ $stderr == *"the workdir (-w) is 122880 bytes long: paths on the sidecar are shorter than 4096 bytes (PATH_MAX)"* ]]
	[[ $stderr != *"not executable"* ]]
	run -2 --separate-stderr sc exec "$DEST" -w "$long" -- true
	[[ $stderr == *"is 122880 bytes long"* ]]
	git config sidecar.workdir "$(head -c 5000 /dev/zero | tr '\0' w)"
	run -2 --separate-stderr sc sync "$DEST"
	[[ $stderr == *"the workdir (git config sidecar.workdir) is 5000 bytes long"* ]]
	[ "$(count_auth)" = 0 ]
	# shorter, but too long a name there: the sidecar says so
	git config sidecar.workdir "$(head -c 300 /dev/zero | tr '\0' w)"
	run -1 --separate-stderr sc sync "$DEST"
	[[ $stderr == *"cannot create "*"on the sidecar: File name too long"* ]]
}

@test "a command line too long for the kernel is named as such, not as an ssh that is not executable" {
	# valgrind dies in a child whose execve fails ("I can't recover")
	[ -z "${SIDECAR_VALGRIND:-}" ] || [ "$SIDECAR_VALGRIND" = 0 ] ||
		skip "valgrind cannot follow a child whose execve fails"
	sync_json
	# two arguments sidecar can take, one remote command line ssh cannot
	local half
	half=$(head -c 70000 /dev/zero | tr '\0' x)
	run -126 --separate-stderr sc exec "$DEST" -- echo "$half" "$half"
	[[ $stderr == *"cannot run '$SIDECAR_SSH': its command line is longer than the system allows (argument list too long)"* ]]
	[[ $stderr != *"not executable"* ]]
}
