#!/usr/bin/env bats
# Nothing is lost on the sidecar: commits made there, ignored files that a
# sync would overwrite, and everyday commit-then-sync cycles. Real sshd on
# 127.0.0.1; the sidecar's workspace is under REMOTE_HOME.

load test_helper
load sync_helper

setup() {
	sync_setup
}

teardown() {
	common_teardown
}

# saved_ref: the ref the last sync saved edits to, in saved; fails when
# it saved none.
saved_ref() {
	saved=$(field saved_ref)
	[ "$saved" != null ]
}

# last_line REV:PATH: the last line of that file in the sidecar's repository.
last_line() {
	git -C "$REMOTE" show "$1" | tail -n 1
}


@test "commit, sync, commit again: the sidecar's index follows HEAD every time" {
	sync_json
	for n in 1 2 3; do
		echo "change $n" >>README.md
		git commit -qam "change $n"
		echo "wip $n" >>build.sh
		sync_json
		assert_field result synced
		[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git rev-parse HEAD)" ]
		[ "$(git -C "$REMOTE" status --porcelain)" = "$(git status --porcelain)" ]
		assert_same_tree "$LOCAL" "$REMOTE"
	done
}

@test "a commit made on a pre-cloned sidecar before its first sync is saved" {
	git clone -q "$BATS_TEST_TMPDIR/origin.git" "$REMOTE"
	git -C "$REMOTE" config user.name remote
	git -C "$REMOTE" config user.email remote@example.invalid
	echo "only on the sidecar" >"$REMOTE/remote-only.txt"
	git -C "$REMOTE" add remote-only.txt
	git -C "$REMOTE" commit -qm "unpushed, made on the sidecar"
	local lost
	lost=$(git -C "$REMOTE" rev-parse HEAD)
	sync_json --adopt
	local saved
	saved_ref
	git -C "$REMOTE" merge-base --is-ancestor "$lost" "$saved"
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "a pre-cloned sidecar's edits are saved where its own index takes files on trust" {
	git clone -q "$ORIGIN" "$REMOTE"
	# its index lends sidecar's scan its stat data, but not these marks
	git -C "$REMOTE" update-index --assume-unchanged README.md
	git -C "$REMOTE" update-index --skip-worktree build.sh
	echo "edited on the sidecar" >>"$REMOTE/README.md"
	echo "echo edited on the sidecar" >>"$REMOTE/build.sh"
	echo "/* edited on the sidecar */" >>"$REMOTE/src/lib/answer.c"
	echo "edited locally" >>README.md
	sync_json --adopt
	local saved
	saved_ref
	[ "$(last_line "$saved:README.md")" = "edited on the sidecar" ]
	[ "$(last_line "$saved:build.sh")" = "echo edited on the sidecar" ]
	[ "$(last_line "$saved:src/lib/answer.c")" = "/* edited on the sidecar */" ]
	assert_same_tree "$LOCAL" "$REMOTE"
	[ "$(tail -n 1 "$REMOTE/README.md")" = "edited locally" ]
}

@test "a file staged on a pre-cloned sidecar that its own rules ignore stays there" {
	git clone -q "$ORIGIN" "$REMOTE"
	echo '*.log' >>"$REMOTE/.git/info/exclude"
	echo "staged, ignored" >"$REMOTE/debug.log"
	git -C "$REMOTE" add -f debug.log
	echo "/* edited on the sidecar */" >>"$REMOTE/src/lib/answer.c"
	echo "edited locally" >>README.md
	sync_json --adopt
	local saved
	saved_ref
	[ "$(last_line "$saved:src/lib/answer.c")" = "/* edited on the sidecar */" ]
	# the index there, as it was, is the saved commit's second parent
	[ "$(git -C "$REMOTE" show "$saved^2:debug.log")" = "staged, ignored" ]
	run git -C "$REMOTE" cat-file -e "$saved:debug.log"
	[ "$status" -ne 0 ]
	[ "$(cat "$REMOTE/debug.log")" = "staged, ignored" ]
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "an ignored file on the sidecar where the local tree now has a file is saved first" {
	printf 'config.local\nout/\n' >.gitignore
	git add .gitignore && git commit -qm "ignore local config and out/"
	sync_json
	echo "the sidecar's secret" >"$REMOTE/config.local"
	mkdir -p "$REMOTE/out"
	echo "object code" >"$REMOTE/out/bin.o"
	# locally both names become ordinary files
	: >.gitignore
	echo "local config" >config.local
	echo "a file named out" >out
	sync_json
	local saved
	saved_ref
	[ "$(git -C "$REMOTE" show "$saved:config.local")" = "the sidecar's secret" ]
	[ "$(git -C "$REMOTE" show "$saved:out/bin.o")" = "object code" ]
	assert_same_tree "$LOCAL" "$REMOTE"
	[ "$(cat "$REMOTE/config.local")" = "local config" ]
}

@test "an ignored build output that no local path claims is left alone" {
	printf 'build/\n' >.gitignore
	git add .gitignore && git commit -qm "ignore build/"
	sync_json
	mkdir -p "$REMOTE/build"
	echo obj >"$REMOTE/build/main.o"
	mkdir -p src/new && echo "new file" >src/new/file.c
	sync_json
	[ "$(field saved_ref)" = null ]
	[ "$(cat "$REMOTE/build/main.o")" = obj ]
}

@test "a file force-added past .gitignore syncs, before and after sidecar's index cache exists" {
	sync_json
	printf '*.cfg\n' >.gitignore
	echo "setting=1" >app.cfg
	git add .gitignore && git add -f app.cfg && git commit -qm "tracked despite *.cfg"
	sync_json
	[ "$(cat "$REMOTE/app.cfg")" = "setting=1" ]
	echo "setting=2" >app.cfg
	sync_json
	[ "$(cat "$REMOTE/app.cfg")" = "setting=2" ]
	[ "$(git -C "$REMOTE" status --porcelain)" = "$(git status --porcelain)" ]
}

@test "objects pruned from under sidecar's index cache: the next sync still works" {
	echo "untracked notes" >notes.txt
	touch -d '2020-01-01' notes.txt
	sync_json
	# the blob of notes.txt belongs to no commit of the user's: prune it
	git for-each-ref --format='%(refname)' refs/sidecar/ | xargs -r -n1 git update-ref -d
	git reflog expire --expire=now --all
	git gc -q --prune=now
	run -1 git cat-file -e "$(git hash-object notes.txt)"
	echo "more" >>README.md
	sync_json
	assert_field result synced
	assert_same_tree "$LOCAL" "$REMOTE"
}
