#!/usr/bin/env bats
# config.bats: use, current, forget; how sync finds DEST, the workdir and
# the mode (argument, $SIDECAR_DEST, git config); bad settings.

load test_helper

setup() {
	common_setup
	LOCAL=$BATS_TEST_TMPDIR/proj
	make_repo "$LOCAL"
	cd "$LOCAL" || return 1
}

teardown() {
	common_teardown
}

# decoys: sshd, plus two Host aliases that lead to a closed port on
# 127.0.0.1, so a destination picked from the wrong place fails fast (and
# never leaves this machine).
decoys() {
	sshd_start
	local port
	port=$(free_port)
	cat >>"$SSH_CONFIG" <<-EOF
	Host decoy-env decoy-cfg decoy-global
		HostName 127.0.0.1
		Port $port
	EOF
}

# sync_dest ARG...: a sync that must succeed; prints the JSON "dest".
sync_dest() {
	run --separate-stderr sc sync --json --max-wait 0 "$@"
	if [ "$status" -ne 0 ]; then
		echo "sync exited $status: $stderr" >&2
		return 1
	fi
	jsonget dest <<<"$output"
}

# --- use, current, forget ---------------------------------------------------

@test "use DEST writes sidecar.destination to the repository's git config" {
	run --separate-stderr sc use devbox
	assert_success
	[ "$(git config --local sidecar.destination)" = devbox ]
	run git config --local sidecar.workdir
	assert_failure
	# nothing global
	run git config --global sidecar.destination
	assert_failure
}

@test "use -w PATH DEST writes the workdir too; use without -w drops it" {
	run --separate-stderr sc use -w 'work/my proj' user@devbox
	assert_success
	[ "$(git config --local sidecar.destination)" = user@devbox ]
	[ "$(git config --local sidecar.workdir)" = 'work/my proj' ]
	run --separate-stderr sc use other
	assert_success
	[ "$(git config --local sidecar.destination)" = other ]
	run git config --local sidecar.workdir
	assert_failure
}

@test "options may follow DEST: use DEST -w PATH" {
	run --separate-stderr sc use ssh://me@devbox:2222 -w /srv/ws
	assert_success
	[ "$(git config sidecar.destination)" = ssh://me@devbox:2222 ]
	[ "$(git config sidecar.workdir)" = /srv/ws ]
}

@test "current prints the destination and the workdir" {
	sc use -w ws devbox
	run --separate-stderr sc current
	assert_success
	[[ $output == *devbox* ]]
	[[ $output == *ws* ]]
	[ "$(printf '%s' "$output" | wc -l)" -eq 0 ]
	run --separate-stderr sc current --json
	assert_success
	assert_output '{"destination":"devbox","workdir":"ws"}'
}

@test "current without a remembered workdir shows the repository's name" {
	sc use devbox
	run --separate-stderr sc current --json
	assert_success
	[ "$(jsonget destination <<<"$output")" = devbox ]
	[ "$(jsonget workdir <<<"$output")" = proj ]
}

@test "current --json escapes what it prints" {
	sc use -w 'a "quoted" \ path' 'host"x'
	run --separate-stderr sc current --json
	assert_success
	[ "$(jsonget destination <<<"$output")" = 'host"x' ]
	[ "$(jsonget workdir <<<"$output")" = 'a "quoted" \ path' ]
}

@test "current --json is valid JSON for bytes that are not UTF-8: each becomes U+FFFD" {
	# a lone continuation byte, an overlong form, a surrogate, a cut-short
	# sequence; valid UTF-8 (é) stays as it is
	sc use -w $'ws-\x80-\xc0\xaf-\xed\xa0\x80-caf\xc3\xa9-\xe2\x82' devbox
	run --separate-stderr sc current --json
	assert_success
	jsonget <<<"$output"
	local r=$'\xef\xbf\xbd'
	[ "$(jsonget workdir <<<"$output")" = "ws-$r-$r$r-$r$r$r-caf"$'\xc3\xa9'"-$r$r" ]
	[[ $output == *'ws-\ufffd-'* ]]
}

@test "forget removes both; current then exits 1" {
	sc use -w ws devbox
	run --separate-stderr sc forget
	assert_success
	run git config --local --get-regexp '^sidecar\.'
	assert_failure
	run --separate-stderr sc current
	assert_failure 1
	[[ $stderr == *"sidecar use"* ]]
	run --separate-stderr sc current --json
	assert_failure 1
	# forgetting twice is fine
	run --separate-stderr sc forget
	assert_success
}

@test "current with nothing remembered: exit 1" {
	run --separate-stderr sc current
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == sidecar:* ]]
}

@test "use, current and forget outside a repository: exit 1" {
	mkdir "$BATS_TEST_TMPDIR/plain"
	cd "$BATS_TEST_TMPDIR/plain"
	export GIT_CEILING_DIRECTORIES=$BATS_TEST_TMPDIR
	run --separate-stderr sc use devbox
	assert_failure 1
	[[ $stderr == *"not inside a git repository"* ]]
	run --separate-stderr sc forget
	assert_failure 1
	run --separate-stderr sc current
	assert_failure 1
	# and nothing was written to the global config
	run git config --global --get-regexp '^sidecar\.'
	assert_failure
}

@test "-C DIR: use and current act on that repository" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr sc -C "$LOCAL" use devbox
	assert_success
	[ "$(git -C "$LOCAL" config sidecar.destination)" = devbox ]
	run --separate-stderr sc -C "$LOCAL" current --json
	assert_success
	[ "$(jsonget destination <<<"$output")" = devbox ]
}

@test "use refuses a destination that looks like an option, and wants exactly one" {
	run --separate-stderr sc use -- -oProxyCommand=x
	assert_failure 2
	run git config sidecar.destination
	assert_failure
	run --separate-stderr sc use
	assert_failure 2
	run --separate-stderr sc use a b
	assert_failure 2
}

@test "a global sidecar.destination is used; the repository's own wins over it" {
	git config --global sidecar.destination devbox-global
	run --separate-stderr sc current --json
	assert_success
	[ "$(jsonget destination <<<"$output")" = devbox-global ]
	sc use devbox-local
	run --separate-stderr sc current --json
	[ "$(jsonget destination <<<"$output")" = devbox-local ]
}

# --- how sync resolves DEST ----------------------------------------------------

@test "sync uses the remembered destination and workdir" {
	sshd_start
	sc use -w remembered "$DEST"
	run --separate-stderr sc sync --json
	assert_success
	[ "$(jsonget dest <<<"$output")" = "$DEST" ]
	[ "$(jsonget workdir <<<"$output")" = remembered ]
	[ -f "$REMOTE_HOME/remembered/README.md" ]
	# -w wins over the remembered workdir
	run --separate-stderr sc sync --json -w given
	assert_success
	[ "$(jsonget workdir <<<"$output")" = given ]
	[ -f "$REMOTE_HOME/given/README.md" ]
}

@test "SIDECAR_DEST overrides git config" {
	decoys
	sc use decoy-cfg
	export SIDECAR_DEST=$DEST
	[ "$(sync_dest)" = "$DEST" ]
	[ -f "$REMOTE_HOME/proj/README.md" ]
	run --separate-stderr sc status --json
	assert_success
	[ "$(jsonget dest <<<"$output")" = "$DEST" ]
}

@test "a DEST argument overrides SIDECAR_DEST and git config" {
	decoys
	sc use decoy-cfg
	export SIDECAR_DEST=decoy-env
	[ "$(sync_dest "$DEST")" = "$DEST" ]
	[ -f "$REMOTE_HOME/proj/README.md" ]
	# and the argument may come after the options or before them
	printf 'edit\n' >>README.md
	[ "$(sync_dest -w proj "$DEST")" = "$DEST" ]
	[ "$(sync_dest "$DEST" -w proj)" = "$DEST" ]
	cmp README.md "$REMOTE_HOME/proj/README.md"
}

@test "an empty SIDECAR_DEST falls back to git config" {
	decoys
	sc use "$DEST"
	export SIDECAR_DEST=
	[ "$(sync_dest)" = "$DEST" ]
}

@test "the decoys really fail (so the tests above prove something)" {
	decoys
	run --separate-stderr sc sync --max-wait 0 decoy-cfg
	assert_failure 4
}

@test "sync with no destination anywhere: exit 2, 'no destination'" {
	run --separate-stderr sc sync
	assert_failure 2
	[[ $stderr == *"no destination"* ]]
	run --separate-stderr sc sync --json
	assert_failure 2
	[ -z "$output" ]
}

@test "ssh with two destinations: exit 2 (sync, run and exec take several: fanout.bats)" {
	run --separate-stderr sc ssh devbox other -- true
	assert_failure 2
	[[ $stderr == *other* ]]
}

# --- mode and other settings --------------------------------------------------------

@test "git config sidecar.mode=patch makes sync use patch mode; --mode wins" {
	sshd_start
	git config sidecar.mode patch
	printf 'edit\n' >>README.md
	run --separate-stderr sc sync --json "$DEST"
	assert_success
	[ "$(jsonget mode <<<"$output")" = patch ]
	[ "$(git -C "$REMOTE_HOME/proj" remote get-url origin)" = "$BATS_TEST_TMPDIR/origin.git" ]
	run --separate-stderr sc sync --json --mode snapshot "$DEST" -w snap
	assert_success
	[ "$(jsonget mode <<<"$output")" = snapshot ]
	cmp README.md "$REMOTE_HOME/snap/README.md"
}

@test "an invalid sidecar.mode is a usage error" {
	git config sidecar.mode rsync
	run --separate-stderr sc sync devbox
	assert_failure 2
	[[ $stderr == *sidecar.mode* ]]
	run --separate-stderr sc sync --mode fast devbox
	assert_failure 2
}

@test "an invalid sidecar.maxWait is a usage error" {
	git config sidecar.maxWait soon
	run --separate-stderr sc sync devbox
	assert_failure 2
	[[ $stderr == *sidecar.maxWait* ]]
	[[ $stderr == *soon* ]]
	git config sidecar.maxWait 1m30x
	run --separate-stderr sc sync devbox
	assert_failure 2
}

@test "an invalid sidecar.persist is a usage error" {
	git config sidecar.persist -5s
	run --separate-stderr sc sync devbox
	assert_failure 2
	[[ $stderr == *sidecar.persist* ]]
}

@test "sidecar.maxWait from git config bounds the retries" {
	decoys
	git config sidecar.maxWait 0
	run --separate-stderr sc sync --initial-interval 10ms decoy-cfg
	assert_failure 4
	[[ $stderr == *"1 attempt"* ]]
}

@test "sidecar.authWait from git config waits for a refused key; --auth-wait 0 wins over it" {
	sshd_start
	rm "$BATS_TEST_TMPDIR/sshd/authorized_keys"
	git config sidecar.authWait 2s
	run --separate-stderr sc wait --initial-interval 20ms --max-interval 50ms "$DEST"
	assert_failure 3
	[[ $stderr == *"waiting for $DEST to accept the key (authentication failed); retrying for up to 2s"* ]]
	[[ $stderr == *" of --auth-wait"* ]]
	run --separate-stderr sc wait --auth-wait 0 "$DEST"
	assert_failure 3
	[[ $stderr != *"waiting for"* ]]
	[[ $stderr != *"--auth-wait"* ]]
}

# --- '--' ends the options of every command ------------------------------------

@test "sync -- DEST: '--' ends the options; DEST comes after it" {
	sshd_start
	run --separate-stderr sc sync --json -- "$DEST"
	assert_success
	[ "$(jsonget dest <<<"$output")" = "$DEST" ]
	[ -f "$REMOTE_HOME/proj/README.md" ]
	run --separate-stderr sc wait --max-wait 0 -- "$DEST"
	assert_success
	run --separate-stderr sc status --json -- "$DEST"
	assert_success
	[ "$(jsonget dest <<<"$output")" = "$DEST" ]
	run --separate-stderr sc use -- "$DEST"
	assert_success
	[ "$(git config sidecar.destination)" = "$DEST" ]
}

@test "a DEST after '--' that starts with '-' is refused as a destination: exit 2" {
	sshd_start
	local cmd
	for cmd in sync wait status disconnect; do
		run --separate-stderr sc "$cmd" -- -oProxyCommand=touch\ "$BATS_TEST_TMPDIR/pwned"
		assert_failure 2
		[[ $stderr == *"strange destination '-oProxyCommand="* ]]
		[[ $stderr != *"unknown option"* ]]
	done
	run --separate-stderr sc use -- -v
	assert_failure 2
	[[ $stderr == *"strange destination '-v'"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/pwned" ]
	[ "$(count_auth)" -eq 0 ]
}

# --- a bad setting stops only the commands that use it --------------------------

@test "a broken sidecar.maxWait, sidecar.authWait or sidecar.persist leaves use, current, forget, help and status working" {
	local key
	for key in sidecar.maxWait sidecar.authWait sidecar.persist; do
		git config "$key" soon
		run --separate-stderr sc use -w ws devbox
		assert_success
		run --separate-stderr sc current --json
		assert_success
		[ "$(jsonget destination <<<"$output")" = devbox ]
		run --separate-stderr sc status --json
		assert_success
		[ "$(jsonget dest <<<"$output")" = devbox ]
		run --separate-stderr sc forget
		assert_success
		run -0 sc help sync
		# and the commands that wait or keep the connection say which value is bad
		for cmd in sync wait; do
			run --separate-stderr sc "$cmd" devbox
			assert_failure 2
			[[ $stderr == *"invalid duration 'soon' in git config $key"* ]]
		done
		run --separate-stderr sc exec -w ws devbox -- true
		assert_failure 2
		[[ $stderr == *"$key"* ]]
		git config --unset "$key"
	done
}

@test "--max-wait wins over a broken sidecar.maxWait" {
	decoys
	git config sidecar.maxWait soon
	run --separate-stderr sc wait --max-wait 0 decoy-cfg
	assert_failure 4
	[[ $stderr == *"1 attempt"* ]]
}

@test "sync and exec with fish as the sidecar account's login shell" {
	[ -x /usr/bin/fish ] || skip "fish is not installed"
	sshd_start
	local key
	key=$(cut -d' ' -f1,2 "$BATS_TEST_TMPDIR/sshd/client_ed25519.pub")
	printf 'environment="HOME=%s",environment="SHELL=/usr/bin/fish" %s\n' "$REMOTE_HOME" "$key" \
		>"$BATS_TEST_TMPDIR/sshd/authorized_keys"
	printf 'a \\ backslash\n' >'back\slash.txt'
	run --separate-stderr sc sync --json "$DEST"
	assert_success
	[ "$(jsonget result <<<"$output")" = synced ]
	cmp 'back\slash.txt' "$REMOTE_HOME/proj/back\\slash.txt"
	run -0 --separate-stderr sc exec "$DEST" -- sh -c 'printf "%s" "$SHELL"; cat "back\slash.txt"'
	[ "$output" = "/usr/bin/fish"'a \ backslash' ]
}
