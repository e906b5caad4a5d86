#!/usr/bin/env bats
# watch.bats: `sidecar watch`, a sync on every change of the working tree
# and a command after each, against a real sshd on 127.0.0.1.

load test_helper
load sync_helper

setup() {
	sync_setup
}

teardown() {
	common_teardown
}

# syncs: how many syncs the watch in the background said it made (one
# that found nothing to do included).
syncs() {
	grep -c '^sidecar: synced \|^sidecar: .* is up to date$' "$BATS_TEST_TMPDIR/err" || true
}

# syncs_are N: the watch said exactly N syncs (to poll for).
syncs_are() {
	[ "$(syncs)" -eq "$1" ]
}

# put FILE TEXT: FILE holds TEXT and a newline, at once (renamed into
# place: a look in the middle of a write would see it empty, and sync it
# twice).
put() {
	printf '%s\n' "$2" >"$BATS_TEST_TMPDIR/put" && mv "$BATS_TEST_TMPDIR/put" "$1"
}

# remote_is FILE TEXT: the sidecar's FILE holds exactly TEXT and a newline.
remote_is() {
	[ "$(cat "$REMOTE/$1" 2>/dev/null)" = "$2" ]
}

# looks: how many times a watch started with -v looked at the working tree.
looks() {
	grep -c '^sidecar: looking at the working tree against what was last synced to ' \
		"$BATS_TEST_TMPDIR/err" || true
}

# looked_since N: it looked more than N times.
looked_since() {
	[ "$(looks)" -gt "$1" ]
}

# idle: the watch in the background runs nothing.
idle() {
	[ -z "$(pgrep -P "$SC_PID")" ]
}

# heads_agree: the sidecar's HEAD is the local HEAD.
heads_agree() {
	[ "$(git -C "$REMOTE" rev-parse HEAD)" = "$(git -C "$LOCAL" rev-parse HEAD)" ]
}

# watch_up ARG...: `sidecar watch DEST ARG...` in the background, once it
# made its first sync and watches.
watch_up() {
	sc_background watch "$DEST" "$@"
	wait_until --timeout-ms 30000 grep -q '^sidecar: watching ' "$BATS_TEST_TMPDIR/err" ||
		fail "no watch: $(cat "$BATS_TEST_TMPDIR/err")"
	assert_same_tree "$LOCAL" "$REMOTE"
}

# watch_stop: Ctrl-C ends it with 130 and no process of it left.
watch_stop() {
	local rc=0 kids
	kids=$(pgrep -P "$SC_PID" || true)
	kill -INT "$SC_PID"
	wait "$SC_PID" || rc=$?
	[ "$rc" -eq 130 ] || fail "exit status $rc, not 130: $(cat "$BATS_TEST_TMPDIR/err")"
	for k in $kids; do
		_sc_alive "$k" && fail "process $k of the watch survived"
	done
	return 0
}

@test "watch: an edit is synced, one line says so, Ctrl-C ends it with 130" {
	watch_up
	printf 'edited once\n' >README.md
	wait_until --timeout-ms 20000 remote_is README.md 'edited once'
	wait_until --timeout-ms 20000 syncs_are 2
	grep -q "^sidecar: synced $DEST:proj: 1 file changed, .* sent, 1 round trip, [0-9.]*m\?s$" \
		"$BATS_TEST_TMPDIR/err" || fail "$(cat "$BATS_TEST_TMPDIR/err")"
	watch_stop
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "watch: a change made while the first sync runs is synced after it" {
	sync_json
	# shellcheck disable=SC2217 # no fd of bats may stay open in it
	sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	local holder=$!
	track_pid "$holder"
	echo "$holder" >"$REMOTE/.git/sidecar/lock"
	printf 'before\n' >README.md
	sc_background watch "$DEST"
	# the first sync has its snapshot and waits for the sidecar's lock
	wait_until --timeout-ms 30000 grep -q 'waiting for another sync' "$BATS_TEST_TMPDIR/err" ||
		fail "$(cat "$BATS_TEST_TMPDIR/err")"
	printf 'during\n' >README.md
	kill "$holder"
	wait_until --timeout-ms 30000 remote_is README.md during ||
		fail "the edit made during the first sync never came: $(cat "$BATS_TEST_TMPDIR/err")"
	watch_stop
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "watch: ten saves in a burst make one sync" {
	watch_up --debounce 300ms
	for i in 1 2 3 4 5 6 7 8 9 10; do
		printf 'save %s\n' "$i" >README.md
	done
	wait_until --timeout-ms 20000 remote_is README.md 'save 10'
	# a later edit is the next sync: the burst was one
	printf 'after\n' >notes.txt
	wait_until --timeout-ms 20000 remote_is notes.txt after
	wait_until --timeout-ms 20000 syncs_are 3
	watch_stop
	[ "$(syncs)" -eq 3 ] || fail "$(cat "$BATS_TEST_TMPDIR/err")"
}

@test "watch: a new directory's files are watched, and deletions are synced" {
	watch_up
	mkdir -p new/deep
	printf 'one\n' >new/deep/a.txt
	wait_until --timeout-ms 20000 remote_is new/deep/a.txt one
	# written into the new directory only: its own watch must say so
	printf 'two\n' >new/deep/b.txt
	wait_until --timeout-ms 20000 remote_is new/deep/b.txt two
	rm "notes with space.txt"
	wait_until --timeout-ms 20000 test ! -e "$REMOTE/notes with space.txt"
	watch_stop
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "watch: a change to an ignored file makes no sync" {
	printf '*.log\nbuild/\n' >.gitignore
	mkdir build
	git add .gitignore && git commit -qm ignore
	sc_background -v watch "$DEST"
	wait_until --timeout-ms 30000 grep -q '^sidecar: watching ' "$BATS_TEST_TMPDIR/err"
	local looks
	looks=$(looks)
	printf 'noise\n' >run.log
	printf 'noise\n' >build/out.o
	mkdir build/sub
	printf 'noise\n' >build/sub/more.o
	# it looked, and is idle again: no sync came of it
	wait_until --timeout-ms 20000 looked_since "$looks"
	wait_until --timeout-ms 20000 idle
	[ "$(syncs)" -eq 1 ] || fail "$(cat "$BATS_TEST_TMPDIR/err")"
	printf 'real\n' >README.md
	wait_until --timeout-ms 20000 remote_is README.md real
	wait_until --timeout-ms 20000 syncs_are 2
	watch_stop
	[ "$(syncs)" -eq 2 ] || fail "$(cat "$BATS_TEST_TMPDIR/err")"
	[ ! -e "$REMOTE/run.log" ]
	[ ! -e "$REMOTE/build" ]
}

@test "watch: an edit's sync is its look; an ignored file's session ends unused; git's index alone is looked at here" {
	printf '*.log\n' >.gitignore
	git add .gitignore && git commit -qm ignore
	remote_env "SIDECAR_TEST_CMDLEN=$BATS_TEST_TMPDIR/sessions"
	# the default quiet time: the events of one write are one news
	sc_background -v watch "$DEST"
	wait_until --timeout-ms 30000 grep -q '^sidecar: watching ' "$BATS_TEST_TMPDIR/err"
	local s0 looks
	s0=$(wc -l <"$BATS_TEST_TMPDIR/sessions")
	# an edit: one session, which looked and synced
	looks=$(looks)
	printf 'edited\n' >README.md
	wait_until --timeout-ms 20000 syncs_are 2
	[ "$(wc -l <"$BATS_TEST_TMPDIR/sessions")" -eq $((s0 + 1)) ]
	[ "$(looks)" -eq $((looks + 1)) ] || fail "$(cat "$BATS_TEST_TMPDIR/err")"
	# an ignored file: one session, ended before anything changed there
	printf 'noise\n' >run.log
	wait_until --timeout-ms 20000 looked_since $((looks + 1))
	wait_until --timeout-ms 20000 idle
	[ "$(wc -l <"$BATS_TEST_TMPDIR/sessions")" -eq $((s0 + 2)) ]
	[ "$(syncs)" -eq 2 ] || fail "$(cat "$BATS_TEST_TMPDIR/err")"
	[ ! -e "$REMOTE/.git/sidecar/lock" ]
	[ ! -e "$REMOTE/run.log" ]
	[ "$(git -C "$REMOTE" for-each-ref refs/sidecar/saved)" = "" ]
	# git's index rewritten, the tree as it was: a look here, no session
	looks=$(looks)
	cp .git/index "$BATS_TEST_TMPDIR/index" && mv "$BATS_TEST_TMPDIR/index" .git/index
	wait_until --timeout-ms 20000 looked_since "$looks"
	wait_until --timeout-ms 20000 idle
	[ "$(wc -l <"$BATS_TEST_TMPDIR/sessions")" -eq $((s0 + 2)) ] || fail "$(cat "$BATS_TEST_TMPDIR/err")"
	watch_stop
	[ "$(syncs)" -eq 2 ] || fail "$(cat "$BATS_TEST_TMPDIR/err")"
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "watch: a local commit is synced: the sidecar's HEAD follows" {
	watch_up
	printf 'committed\n' >README.md
	wait_until --timeout-ms 20000 remote_is README.md committed
	git commit -qam 'a commit'
	wait_until --timeout-ms 20000 heads_agree
	git checkout -q -b topic
	git commit -q --allow-empty -m 'on topic'
	wait_until --timeout-ms 20000 heads_agree
	watch_stop
}

@test "watch: the sidecar's sshd restarted mid-watch is waited for, and the next change syncs" {
	watch_up
	sshd_stop
	printf 'while down\n' >README.md
	wait_until --timeout-ms 30000 grep -q 'dropped\|waiting for\|cannot\|failed' "$BATS_TEST_TMPDIR/err"
	_sc_sshd_launch ''
	wait_until --timeout-ms 60000 remote_is README.md 'while down'
	printf 'back up\n' >README.md
	wait_until --timeout-ms 30000 remote_is README.md 'back up'
	watch_stop
	assert_same_tree "$LOCAL" "$REMOTE"
}

@test "watch -- CMD: runs after each sync; a change interrupts the running one" {
	watch_up -- sh -c 'cat README.md >>"$1"; exec sleep 3179' sh "$BATS_TEST_TMPDIR/ran"
	wait_until --timeout-ms 20000 remote_running 'sleep 3179'
	[ "$(cat "$BATS_TEST_TMPDIR/ran")" = "$(cat README.md)" ]
	printf 'second\n' >README.md
	wait_until --timeout-ms 20000 grep -q '^second$' "$BATS_TEST_TMPDIR/ran"
	wait_until --timeout-ms 20000 remote_running 'sleep 3179'
	[ "$(remote_pids 'sleep 3179' | wc -l)" -eq 1 ] || fail "more than one command runs"
	grep -q '^sidecar: a change arrived: the command was interrupted$' "$BATS_TEST_TMPDIR/err"
	kill -INT "$SC_PID"
	local rc=0
	wait "$SC_PID" || rc=$?
	[ "$rc" -eq 130 ]
	wait_until --timeout-ms 5000 remote_gone 'sleep 3179'
}

@test "watch --no-restart -- CMD: a change lets the running command finish, then syncs" {
	local go=$BATS_TEST_TMPDIR/go
	watch_up --no-restart -- sh -c 'until [ -e "$1" ]; do sleep 0.02; done; rm "$1"; cat README.md >>"$2"' \
		sh "$go" "$BATS_TEST_TMPDIR/ran"
	wait_until --timeout-ms 20000 test -n "$(pgrep -f 'until \[ -e')"
	printf 'second\n' >README.md
	# the command still runs, and the workspace waits for it
	wait_until --timeout-ms 5000 test -n "$(pgrep -f 'until \[ -e')"
	[ "$(cat "$REMOTE/README.md")" != second ]
	touch "$go"
	wait_until --timeout-ms 20000 remote_is README.md second
	touch "$go"
	wait_until --timeout-ms 20000 grep -q '^second$' "$BATS_TEST_TMPDIR/ran"
	[ "$(head -1 "$BATS_TEST_TMPDIR/ran")" = '# demo' ]
	! grep -q 'interrupted' "$BATS_TEST_TMPDIR/err"
	watch_stop
}

@test "watch: memory stays flat over many syncs" {
	watch_up
	local i rss5=0 rss
	for i in $(seq 1 30); do
		printf 'edit %s\n' "$i" >README.md
		wait_until --timeout-ms 20000 remote_is README.md "edit $i"
		[ "$i" -ne 5 ] || rss5=$(awk '/^VmRSS/ { print $2 }' "/proc/$SC_PID/status")
	done
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$SC_PID/status")
	watch_stop
	[ "$rss5" -gt 0 ]
	[ "$rss" -le $((rss5 + 64)) ] || fail "RSS grew from $rss5 KiB to $rss KiB over 25 syncs"
}

@test "watch: a bad --debounce or --interval is exit 2; a first sync that fails is its status" {
	run -2 --separate-stderr sc watch --debounce soon "$DEST"
	[[ $stderr == *"invalid duration 'soon' for --debounce"* ]]
	run -2 --separate-stderr sc watch --interval 0 "$DEST"
	[[ $stderr == *"invalid duration '0' for --interval"* ]]
	run -4 --separate-stderr sc watch --max-wait 0 -o Port=1 "$DEST"
	[ ! -e "$REMOTE" ]
	run -2 --separate-stderr sc watch "$DEST" --
	[[ $stderr == *"watch needs a command after '--'"* ]]
}

@test "watch without inotify (the portable build): it looks every --interval; edits sync, ignored files do not" {
	printf '*.log\n' >>.git/info/exclude
	SIDECAR_BIN=$_SC_ROOT/tests/helpers/sidecar-poll
	[ -x "$SIDECAR_BIN" ] || fail "missing $SIDECAR_BIN: run 'make build-tests'"
	sc_background watch "$DEST" -v --interval 100ms
	wait_until --timeout-ms 30000 grep -q "^sidecar: looking at $LOCAL for changes every 100ms" \
		"$BATS_TEST_TMPDIR/err" || fail "no watch: $(tail -n 5 "$BATS_TEST_TMPDIR/err")"
	assert_same_tree "$LOCAL" "$REMOTE"
	# it looks on its own, with nothing changed, and syncs nothing
	local n
	n=$(looks)
	wait_until --timeout-ms 10000 looked_since "$((n + 2))"
	[ "$(syncs)" -eq 1 ]
	put README.md polled
	wait_until --timeout-ms 20000 remote_is README.md 'polled'
	wait_until --timeout-ms 20000 syncs_are 2
	mkdir -p newdir
	put newdir/file.txt deep
	wait_until --timeout-ms 20000 remote_is newdir/file.txt 'deep'
	wait_until --timeout-ms 20000 syncs_are 3
	# an ignored file: looked at, never synced
	printf 'noise\n' >run.log
	n=$(looks)
	wait_until --timeout-ms 10000 looked_since "$((n + 3))"
	[ "$(syncs)" -eq 3 ]
	[ ! -e "$REMOTE/run.log" ]
	grep -q 'inotify' "$BATS_TEST_TMPDIR/err" && fail "the portable build spoke of inotify"
	watch_stop
}
