#!/usr/bin/env bats
# pull.bats: files and saved edits from the sidecar back into the local
# working tree (pull PATH..., pull --saved, saved), through git on both
# sides, against a real sshd on 127.0.0.1: the bytes and modes that
# arrive, what is saved before anything local is replaced, what is
# refused, and the local repository left as it was but for its files.

load test_helper
load sync_helper

setup() {
	sync_setup
	printf 'build/\n*.o\n' >.gitignore
	git add .gitignore
	git commit -qm 'ignore build outputs'
	sync_json
}

teardown() {
	common_teardown
}

# repo_state: what pull must never change here, the files aside.
repo_state() {
	git rev-parse HEAD
	git symbolic-ref HEAD
	git ls-files -s
	git for-each-ref --format='%(refname) %(objectname)' | grep -v '^refs/sidecar/'
	git stash list
}

# remote_edits: edits made on the sidecar since the sync, then a local
# change and a sync that saves them before it overwrites them.
remote_edits() {
	printf 'edited there\n' >>"$REMOTE/README.md"
	printf 'made there\n' >"$REMOTE/there.txt"
	rm "$REMOTE/notes with space.txt"
	chmod 755 "$REMOTE/src/lib/answer.c"
	printf 'changed here\n' >>build.sh
	sync_json
	saved=$(field saved_ref)
	[ "${saved#refs/sidecar/saved/}" != "$saved" ]
}

@test "saved: none on a fresh workspace; a workspace that is not there is an error" {
	run --separate-stderr sc saved "$DEST"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ "$stderr" = "sidecar: no edits were saved in proj on $DEST" ]
	run --separate-stderr sc saved --json "$DEST"
	[ "$status" -eq 0 ]
	[ "$output" = "[]" ]
	run --separate-stderr sc saved "$DEST" -w elsewhere
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"there is no workspace $REMOTE_HOME/elsewhere on the sidecar"* ]]
}

@test "saved lists what a sync saved, with its time and paths; --json exactly" {
	remote_edits
	[[ "$stderr" == *"take them here with 'sidecar pull --saved ${saved#refs/sidecar/saved/}'"* ]]
	run --separate-stderr sc saved "$DEST"
	[ "$status" -eq 0 ]
	local stamp=${saved#refs/sidecar/saved/}
	local when="${stamp:0:4}-${stamp:4:2}-${stamp:6:2} ${stamp:9:2}:${stamp:11:2}:${stamp:13:2} UTC"
	[ "$output" = "$(printf '%s  %s  edits, 4 paths\n\tM\tREADME.md\n\tD\tnotes with space.txt\n\tM\tsrc/lib/answer.c\n\tA\tthere.txt' "$saved" "$when")" ]
	run --separate-stderr sc saved --json "$DEST"
	[ "$status" -eq 0 ]
	local commit
	commit=$(git -C "$REMOTE" rev-parse "$saved")
	[ "$output" = "[{\"ref\":\"$saved\",\"commit\":\"$commit\",\"time\":\"${stamp:0:4}-${stamp:4:2}-${stamp:6:2}T${stamp:9:2}:${stamp:11:2}:${stamp:13:2}Z\",\"kind\":\"edits\",\"paths\":[{\"status\":\"M\",\"path\":\"README.md\"},{\"status\":\"D\",\"path\":\"notes with space.txt\"},{\"status\":\"M\",\"path\":\"src/lib/answer.c\"},{\"status\":\"A\",\"path\":\"there.txt\"}]}]" ]
}

@test "pull --saved applies the saved edits as uncommitted changes; the index, HEAD and branches stay" {
	remote_edits
	local before expect
	before=$(repo_state)
	expect=$BATS_TEST_TMPDIR/expect
	git -C "$REMOTE" worktree add -q --detach "$expect" "$saved" 2>/dev/null ||
		{ mkdir "$expect" && git -C "$REMOTE" archive "$saved" | tar -x -C "$expect"; }
	run --separate-stderr sc pull --saved "$DEST"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'M\tREADME.md\nD\tnotes with space.txt\nM\tsrc/lib/answer.c\nA\tthere.txt')" ]
	[ "$stderr" = "sidecar: applied $saved from $DEST: 4 files changed" ]
	cmp README.md "$expect/README.md"
	cmp there.txt "$expect/there.txt"
	[ ! -e "notes with space.txt" ]
	[ -x src/lib/answer.c ]
	# the local change made since stays, and nothing was staged or committed
	[ "$(tail -n 1 build.sh)" = "changed here" ]
	[ "$(repo_state)" = "$before" ]
	[ "$(git status --porcelain | LC_ALL=C sort)" = "$(printf '%s\n' ' D "notes with space.txt"' ' M README.md' ' M build.sh' ' M src/lib/answer.c' '?? there.txt')" ]
	# applied twice: nothing left to write
	run --separate-stderr sc pull --saved "$DEST"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "pull --saved refuses a file that changed here too, lists it, and changes nothing" {
	remote_edits
	printf 'changed here since\n' >>README.md
	local before files
	before=$(repo_state)
	files=$(cat README.md build.sh; ls)
	run --separate-stderr sc pull --saved "$DEST"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$(printf 'sidecar: the edits saved in %s change files that changed here too since that sync; nothing was changed:\n  README.md' "$saved")" ]
	[ "$output" = "" ]
	[ "$(cat README.md build.sh; ls)" = "$files" ]
	[ ! -e there.txt ]
	[ "$(repo_state)" = "$before" ]
	# a dry run names it too, and says what would change
	run --separate-stderr sc pull --saved -n "$DEST"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"  README.md"* ]]
}

@test "pull --saved REF takes that one; -n changes nothing; an unknown REF is an error" {
	remote_edits
	local first=$saved
	printf 'second edit there\n' >"$REMOTE/second.txt"
	printf 'and here\n' >>build.sh
	sync_json
	local second
	second=$(field saved_ref)
	[ "$second" != "$first" ]
	# the newest by default; an older one by name
	run --separate-stderr sc pull --saved -n "$DEST"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'A\tsecond.txt')" ]
	[ "$stderr" = "sidecar: 1 file would change (dry run)" ]
	[ ! -e second.txt ]
	run --separate-stderr sc pull --saved "$DEST" "${first#refs/sidecar/saved/}"
	[ "$status" -eq 0 ]
	[ -f there.txt ]
	[ ! -e second.txt ]
	# the remembered destination, and a ref by its full name
	sc use "$DEST" >/dev/null 2>&1
	run --separate-stderr sc pull --saved "$second"
	[ "$status" -eq 0 ]
	[ -f second.txt ]
	run --separate-stderr sc pull --saved "$DEST" 20200101T000000Z
	[ "$status" -eq 1 ]
	[ "$stderr" = "sidecar: no saved ref 20200101T000000Z in $REMOTE on the sidecar; 'sidecar saved' lists them" ]
}

@test "pull PATH: an ignored build output made there arrives with its bytes and modes" {
	mkdir -p "$REMOTE/build/bin"
	printf 'bin\0ary\377\n' >"$REMOTE/build/app"
	chmod 755 "$REMOTE/build/app"
	printf 'report\n' >"$REMOTE/build/bin/report.txt"
	ln -s app "$REMOTE/build/current"
	local before
	before=$(repo_state)
	run --separate-stderr sc pull "$DEST" build
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'A\tbuild/app\nA\tbuild/bin/report.txt\nA\tbuild/current')" ]
	[ "$stderr" = "sidecar: pulled from $DEST:proj: 3 files changed" ]
	cmp build/app "$REMOTE/build/app"
	[ -x build/app ]
	cmp build/bin/report.txt "$REMOTE/build/bin/report.txt"
	[ "$(readlink build/current)" = app ]
	# still ignored here; nothing staged; nothing saved, as nothing was here
	[ "$(git status --porcelain)" = "" ]
	[ "$(repo_state)" = "$before" ]
	[ -z "$(git for-each-ref refs/sidecar/pulled/)" ]
}

@test "pull PATH saves a local file that differs from what was synced before replacing it" {
	mkdir -p build "$REMOTE/build"
	printf 'local output\n' >build/out.txt
	printf 'remote output\n' >"$REMOTE/build/out.txt"
	printf 'edited here\n' >>README.md
	printf 'edited there\n' >>"$REMOTE/README.md"
	run --separate-stderr sc pull "$DEST" build README.md
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'M\tREADME.md\nA\tbuild/out.txt')" ]
	local ref
	ref=$(git for-each-ref --format='%(refname)' refs/sidecar/pulled/)
	[ -n "$ref" ]
	[[ "$stderr" == *"the local files pull replaced were saved to $ref"* ]]
	cmp build/out.txt "$REMOTE/build/out.txt"
	cmp README.md "$REMOTE/README.md"
	# what was here is in the saved commit, ignored file included
	[ "$(git show "$ref:build/out.txt")" = "local output" ]
	[ "$(git show "$ref:README.md" | tail -n 1)" = "edited here" ]
	[ "$(git rev-parse "$ref^")" = "$(git rev-parse HEAD)" ]
}

@test "pull PATH: a file deleted there goes here; a file only here stays; from a subdirectory" {
	mkdir -p "$REMOTE/src/lib/gen"
	printf 'generated\n' >"$REMOTE/src/lib/gen.o"
	rm "$REMOTE/src/lib/answer.c"
	printf 'only here\n' >src/lib/local.o
	cd src
	run --separate-stderr sc pull "$DEST" lib
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'D\tsrc/lib/answer.c\nA\tsrc/lib/gen.o')" ]
	cd ..
	[ ! -e src/lib/answer.c ]
	cmp src/lib/gen.o "$REMOTE/src/lib/gen.o"
	[ "$(cat src/lib/local.o)" = "only here" ]
	# the deletion is a change to the working tree, not to the index
	[ "$(git status --porcelain)" = " D src/lib/answer.c" ]
}

@test "pull refuses paths outside the working tree, and one missing there, before changing anything" {
	local before
	before=$(repo_state)
	for bad in ../elsewhere src/../../x .git/config /etc/passwd; do
		run --separate-stderr sc pull "$DEST" -- "$bad"
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"'$bad' is outside the working tree (or in .git)"* ]]
	done
	run --separate-stderr sc pull "$DEST" nowhere.txt
	[ "$status" -eq 1 ]
	[ "$stderr" = "sidecar: nowhere.txt is not in the workspace $REMOTE on the sidecar" ]
	run --separate-stderr sc pull "$DEST"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"pull needs a PATH, or --saved"* ]]
	[ "$(repo_state)" = "$before" ]
	[ -z "$(git for-each-ref refs/sidecar/pulled/)" ]
}

@test "pull: a first word that is a path is not a DEST; --saved takes one ref" {
	sc use "$DEST" >/dev/null 2>&1
	mkdir -p "$REMOTE/build"
	printf 'x\n' >"$REMOTE/build/x"
	run --separate-stderr sc pull build/x
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'A\tbuild/x')" ]
	run --separate-stderr sc pull --saved "$DEST" a b
	[ "$status" -eq 2 ]
	[ "$stderr" = "sidecar: pull --saved takes one saved ref, not 2" ]
}

@test "pull: odd names and bytes arrive as they are, whatever .gitattributes says" {
	printf '*.txt text eol=crlf\n*.bin filter=nosuch\n' >.gitattributes
	git add .gitattributes
	git commit -qm attributes
	sync_json
	mkdir -p "$REMOTE/build"
	local odd=$'build/new\nline' tab=$'build/tab\there' dash=build/-rf uni=$'build/caf\xc3\xa9.txt'
	printf 'lf only\n' >"$REMOTE/$odd"
	printf 'x\n' >"$REMOTE/$tab"
	printf 'not an option\n' >"$REMOTE/$dash"
	printf 'mixed\r\nendings\n' >"$REMOTE/$uni"
	printf 'raw\0bytes' >"$REMOTE/build/data.bin"
	run --separate-stderr sc pull "$DEST" build
	[ "$status" -eq 0 ]
	local f
	for f in "$odd" "$tab" "$dash" "$uni" build/data.bin; do
		cmp "$f" "$REMOTE/$f"
	done
	# a name git quotes is printed as git prints it
	[[ "$output" == *'A	"build/new\nline"'* ]]
}

@test "pull saves local files a file or directory from the sidecar displaces, both ways" {
	# a directory here, a file there
	mkdir -p build/x "$REMOTE/build"
	printf 'local, ignored\n' >build/x/deep.txt
	printf 'a file there\n' >"$REMOTE/build/x"
	run --separate-stderr sc pull "$DEST" build
	[ "$status" -eq 0 ]
	local ref
	ref=$(git for-each-ref --format='%(refname)' refs/sidecar/pulled/)
	[ -n "$ref" ]
	[ "$(git show "$ref:build/x/deep.txt")" = "local, ignored" ]
	[ "$(cat build/x)" = "a file there" ]
	# a file here, a directory there: saved, and refused by --saved
	rm "$REMOTE/build/x"
	mkdir -p "$REMOTE/build/x"
	printf 'now a directory\n' >"$REMOTE/build/x/inner"
	run --separate-stderr sc pull "$DEST" build
	[ "$status" -eq 0 ]
	[ "$(git for-each-ref refs/sidecar/pulled/ | wc -l)" -eq 2 ]
	[ "$(cat build/x/inner)" = "now a directory" ]
}

@test "pull --saved refuses when a local untracked file is in the way of a saved directory" {
	printf 'x\n' >"$REMOTE/newdir"
	rm "$REMOTE/newdir"
	mkdir "$REMOTE/newdir"
	printf 'made there\n' >"$REMOTE/newdir/file"
	printf 'changed here\n' >>build.sh
	sync_json
	saved=$(field saved_ref)
	printf 'mine\n' >newdir
	run --separate-stderr sc pull --saved "$DEST"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"  newdir"* ]]
	[ "$(cat newdir)" = mine ]
}

@test "pull and saved refuse the workspace of another local repository" {
	local other=$BATS_TEST_TMPDIR/other
	make_repo "$other" "$BATS_TEST_TMPDIR/other-origin.git"
	cd "$other"
	run --separate-stderr sc saved "$DEST" -w proj
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"is the workspace of another local repository"* ]]
	run --separate-stderr sc pull "$DEST" -w proj README.md
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"is the workspace of another local repository"* ]]
	[ -z "$(git for-each-ref refs/sidecar/pulled/)" ]
}
