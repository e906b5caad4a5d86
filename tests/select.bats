#!/usr/bin/env bats
# select.bats: choosing what the snapshot holds beyond git's own rules:
# --include sends ignored files (a .env), --exclude leaves untracked ones
# out (a large data directory), both gitignore-style and applied by git,
# against a real sshd on 127.0.0.1.

load test_helper
load sync_helper

setup() {
	sync_setup
	printf '.env\nsecrets/\n*.log\n' >.gitignore
	git add .gitignore
	git commit -qm 'ignore rules'
	printf 'TOKEN=local\n' >.env
	mkdir -p secrets data/raw
	printf 'key\n' >secrets/api.key
	printf 'noise\n' >build.log
	printf '%s\n' 1 2 3 >data/raw/big.csv
}

teardown() {
	common_teardown
}

# local_state: what sidecar must never change in the local repository.
local_state() {
	git status --porcelain=v1 -z --ignored | od -c
	cat .gitignore .git/info/exclude 2>/dev/null
	git for-each-ref --format='%(refname) %(objectname)' | grep -v '^refs/sidecar/'
	find . -path ./.git -prune -o -printf '%p %y %s %T@\n' | LC_ALL=C sort
}

@test "--include: ignored files matching the patterns arrive, byte for byte; the local rules stay as they are" {
	local before
	before=$(local_state)
	sync_json --include .env --include secrets/
	cmp .env "$REMOTE/.env"
	cmp secrets/api.key "$REMOTE/secrets/api.key"
	# what no pattern names stays here, as without --include
	[ ! -e "$REMOTE/build.log" ]
	# the snapshot holds them, and no other ignored file
	[ "$(git -C "$REMOTE" ls-tree -r --name-only "$(field snapshot)" -- .env secrets build.log)" = \
		"$(printf '%s\n' .env secrets/api.key)" ]
	[ "$(local_state)" = "$before" ]
	# the same selection again: nothing to do
	sync_json --include .env --include secrets/
	assert_field result up-to-date
	# a change to an included file is a change
	printf 'TOKEN=rotated\n' >.env
	sync_json --include .env --include secrets/
	assert_field result synced
	assert_field files_changed 1
	cmp .env "$REMOTE/.env"
}

@test "--include: an edit made on the sidecar to an included file is saved before it is replaced" {
	sync_json --include .env
	printf 'TOKEN=edited-there\n' >"$REMOTE/.env"
	printf 'TOKEN=rotated\n' >.env
	sync_json --include .env
	cmp .env "$REMOTE/.env"
	local ref
	ref=$(field saved_ref)
	[ "$ref" != null ]
	[ "$(git -C "$REMOTE" show "$ref:.env")" = "TOKEN=edited-there" ]
}

@test "sidecar.include from git config, every value; --include on the command line replaces them" {
	git config --add sidecar.include .env
	git config --add sidecar.include '*.log'
	sync_json
	cmp .env "$REMOTE/.env"
	cmp build.log "$REMOTE/build.log"
	[ ! -e "$REMOTE/secrets" ]
	sync_json --include secrets/
	cmp secrets/api.key "$REMOTE/secrets/api.key"
	# an included file the selection no longer names leaves, as any file
	# the tree no longer has
	[ ! -e "$REMOTE/.env" ]
	[ ! -e "$REMOTE/build.log" ]
}

@test "--exclude: untracked files matching it stay here, and the sidecar ignores them too" {
	local before
	before=$(local_state)
	sync_json --exclude data/
	[ ! -e "$REMOTE/data" ]
	cmp README.md "$REMOTE/README.md"
	[ "$(local_state)" = "$before" ]
	# files the sidecar makes there are ignored there: never saved, never removed
	mkdir -p "$REMOTE/data"
	printf 'made there\n' >"$REMOTE/data/out.csv"
	[ -z "$(git -C "$REMOTE" status --porcelain)" ]
	printf 'more\n' >>README.md
	sync_json --exclude data/
	assert_field result synced
	assert_field saved_ref null
	[ "$(cat "$REMOTE/data/out.csv")" = "made there" ]
	cmp README.md "$REMOTE/README.md"
	# unchanged: nothing to do
	sync_json --exclude data/
	assert_field result up-to-date
}

@test "sidecar.exclude from git config leaves the files out" {
	git config sidecar.exclude '*.csv'
	sync_json
	[ -d "$REMOTE/data/raw" ] || [ ! -e "$REMOTE/data" ]
	[ ! -e "$REMOTE/data/raw/big.csv" ]
	git config --unset sidecar.exclude
	sync_json
	cmp data/raw/big.csv "$REMOTE/data/raw/big.csv"
}

@test "--exclude of a tracked file is a usage error (exit 2) that changes nothing on the sidecar" {
	sync_json
	local before
	before=$(find "$REMOTE" -path "$REMOTE/.git" -prune -o -printf '%p %s %T@\n' | LC_ALL=C sort)
	printf 'more\n' >>README.md
	run --separate-stderr sc sync --exclude '*.md' "$DEST"
	[ "$status" -eq 2 ]
	[[ $stderr == *"--exclude matches 1 tracked file, such as 'README.md': only untracked files can be left out"* ]]
	[ "$(find "$REMOTE" -path "$REMOTE/.git" -prune -o -printf '%p %s %T@\n' | LC_ALL=C sort)" = "$before" ]
	run --separate-stderr sc sync --exclude src/ "$DEST"
	[ "$status" -eq 2 ]
	[[ $stderr == *"--exclude matches 1 tracked file, such as 'src/lib/answer.c'"* ]]
}

@test "an empty, comment or multi-line pattern is a usage error (exit 2)" {
	local p
	for p in '' '#x' $'a\nb'; do
		run --separate-stderr sc sync --include "$p" "$DEST"
		[ "$status" -eq 2 ]
		[[ $stderr == *"invalid pattern"*"--include"* ]]
		run --separate-stderr sc sync --exclude "$p" "$DEST"
		[ "$status" -eq 2 ]
		[[ $stderr == *"invalid pattern"*"--exclude"* ]]
	done
	[ ! -e "$REMOTE" ]
}

@test "run --include: CMD sees the included file" {
	run -0 --separate-stderr sc run --include .env "$DEST" -- cat .env
	[ "$output" = "TOKEN=local" ]
}

@test "--mode patch: --include and --exclude choose the same files" {
	sync_json --mode patch --include .env --exclude data/
	cmp .env "$REMOTE/.env"
	[ ! -e "$REMOTE/data" ]
	[ ! -e "$REMOTE/secrets" ]
	cmp README.md "$REMOTE/README.md"
}
