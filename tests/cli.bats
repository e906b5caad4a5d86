#!/usr/bin/env bats
# The command line as a user meets it: help, suggestions, version, and
# make install / make uninstall into a staging directory.

load test_helper

setup() {
	common_setup
	cd "$BATS_TEST_TMPDIR" || return 1
}

teardown() {
	common_teardown
}

@test "--help and help list every command; exit 0" {
	run -0 sc --help
	for cmd in sync wait exec ssh use current forget status disconnect completion help version; do
		grep -qE "^  $cmd +[a-z]" <<<"$output"
	done
	refute_output --partial __complete
	run -0 sc help
	assert_output --partial "usage: sidecar [-C DIR] [-q | -v] COMMAND"
}

@test "help COMMAND, COMMAND --help and COMMAND -h print the same usage" {
	local cmd
	for cmd in sync wait exec ssh use current forget status disconnect completion version; do
		run -0 sc help "$cmd"
		local want=$output
		assert_output --partial "usage: sidecar $cmd"
		run -0 sc "$cmd" --help
		[ "$output" = "$want" ]
		run -0 sc "$cmd" -h
		[ "$output" = "$want" ]
	done
}

@test "an unknown command suggests the closest one; exit 2" {
	run -2 --separate-stderr sc snyc
	[ -z "$output" ]
	[[ $stderr == *"unknown command 'snyc'; did you mean 'sync'?"* ]]
	run -2 --separate-stderr sc statsu
	[[ $stderr == *"did you mean 'status'?"* ]]
	run -2 --separate-stderr sc frobnicate
	[[ $stderr == *"unknown command 'frobnicate'"* ]]
	[[ $stderr != *"did you mean"* ]]
}

@test "an unknown option suggests the closest one of that command; exit 2" {
	run -2 --separate-stderr sc sync --dryrun
	[[ $stderr == *"unknown option '--dryrun'; did you mean '--dry-run'?"* ]]
	run -2 --separate-stderr sc exec --evn-file x -- true
	[[ $stderr == *"did you mean '--env-file'?"* ]]
	run -2 --separate-stderr sc wait -z
	[[ $stderr == *"unknown option '-z'"* ]]
	run -2 --separate-stderr sc help nosuch
	[[ $stderr == *"no such command 'nosuch'"* ]]
}

@test "bad values are usage errors: durations, modes, -e" {
	run -2 --separate-stderr sc sync --max-wait 2x x
	[[ $stderr == *"invalid duration '2x' for --max-wait"* ]]
	run -2 --separate-stderr sc sync --mode fast x
	[[ $stderr == *"invalid mode 'fast'"* ]]
	run -2 --separate-stderr sc exec -e 1X=3 x -- true
	[[ $stderr == *"invalid environment assignment '1X=3'"* ]]
	run -2 --separate-stderr sc sync --connect-timeout 0 x
	[[ $stderr == *"positive"* ]]
}

@test "version and --version" {
	run -0 sc version
	assert_output --regexp '^sidecar [0-9]+\.[0-9]+\.[0-9]+$'
	local v=$output
	run -0 sc --version
	[ "$output" = "$v" ]
}

@test "make install and make uninstall with PREFIX and DESTDIR; git sidecar works" {
	local stage=$BATS_TEST_TMPDIR/stage prefix=/opt/sc
	run -0 make -s -C "$_SC_ROOT" install DESTDIR="$stage" PREFIX="$prefix"
	[ -x "$stage$prefix/bin/sidecar" ]
	[ "$(readlink "$stage$prefix/bin/git-sidecar")" = sidecar ]
	cmp "$_SC_ROOT/man/sidecar.1" "$stage$prefix/share/man/man1/sidecar.1"
	cmp "$_SC_ROOT/completions/sidecar.bash" "$stage$prefix/share/bash-completion/completions/sidecar"
	[ "$(readlink "$stage$prefix/share/bash-completion/completions/git-sidecar")" = sidecar ]
	cmp "$_SC_ROOT/completions/_sidecar" "$stage$prefix/share/zsh/site-functions/_sidecar"
	cmp "$_SC_ROOT/completions/sidecar.fish" "$stage$prefix/share/fish/vendor_completions.d/sidecar.fish"
	# git finds git-sidecar on PATH: `git sidecar` is sidecar
	PATH=$stage$prefix/bin:$PATH run -0 git sidecar version
	assert_output --regexp '^sidecar '
	PATH=$stage$prefix/bin:$PATH run -0 git sidecar help sync
	assert_output --partial "usage: sidecar sync"
	run -0 make -s -C "$_SC_ROOT" uninstall DESTDIR="$stage" PREFIX="$prefix"
	run find "$stage" -type f -o -type l
	assert_output ""
}

@test "-C DIR runs as if started in DIR" {
	git init -q "$BATS_TEST_TMPDIR/elsewhere"
	run -0 sc -C "$BATS_TEST_TMPDIR/elsewhere" use devbox
	run -0 git -C "$BATS_TEST_TMPDIR/elsewhere" config sidecar.destination
	assert_output devbox
	run -1 --separate-stderr sc -C "$BATS_TEST_TMPDIR/nonexistent" current
	[[ $stderr == *"cannot change to"* ]]
}
