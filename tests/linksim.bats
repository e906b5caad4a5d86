#!/usr/bin/env bats
# linksim.bats: tests/helpers/linksim, the simulated link of make bench:
# it forwards every byte, holds each for the one-way delay, keeps to the
# rate cap, counts what it delivered in each direction, writes the counts
# on SIGUSR1 and at exit, and stops cleanly on SIGTERM. The far end is
# tests/helpers/netprobe's echo server; times come from netprobe's
# CLOCK_MONOTONIC readings, with wide bounds.

load test_helper

LINKSIM=$_SC_ROOT/tests/helpers/linksim
NETPROBE=$_SC_ROOT/tests/helpers/netprobe

setup() {
	common_setup
	[ -x "$LINKSIM" ] && [ -x "$NETPROBE" ] || {
		echo "missing linksim or netprobe: run 'make build-tests'" >&2
		return 1
	}
	"$NETPROBE" echo "$BATS_TEST_TMPDIR/echo.port" </dev/null >"$BATS_TEST_TMPDIR/echo.log" 2>&1 3>&- &
	track_pid $!
	wait_for_file "$BATS_TEST_TMPDIR/echo.port"
	ECHO_PORT=$(cat "$BATS_TEST_TMPDIR/echo.port")
}

teardown() {
	common_teardown
}

# link_start [LINKSIM OPTIONS]: a link to the echo server; sets LINK_PORT,
# LINK_PID and COUNTS (the counts file).
link_start() {
	COUNTS=$BATS_TEST_TMPDIR/counts
	"$LINKSIM" "$@" -t "$ECHO_PORT" -p "$BATS_TEST_TMPDIR/link.port" -c "$COUNTS" \
		</dev/null >"$BATS_TEST_TMPDIR/link.log" 2>&1 3>&- &
	LINK_PID=$!
	track_pid "$LINK_PID"
	wait_for_file "$BATS_TEST_TMPDIR/link.port"
	LINK_PORT=$(cat "$BATS_TEST_TMPDIR/link.port")
}

# count KEY: a value from the counts file
count() {
	awk -v k="$1" '$1 == k { print $2 }' "$COUNTS"
}

dumps_above() {
	[ -f "$COUNTS" ] && [ "$(count dumps)" -gt "$1" ]
}

# dump: asks for the counts and waits until they are written
dump() {
	local before=0
	[ -f "$COUNTS" ] && before=$(count dumps)
	kill -USR1 "$LINK_PID"
	wait_until dumps_above "$before"
}

@test "linksim: forwards every byte both ways and counts each direction exactly" {
	link_start
	run -0 "$NETPROBE" ping "$LINK_PORT" 10
	run -0 "$NETPROBE" bulk "$LINK_PORT" 3000000
	dump
	assert_equal "$(count up)" 3000010
	assert_equal "$(count down)" 3000010
	assert_equal "$(count connections)" 2
	assert_equal "$(count dumps)" 1
}

@test "linksim: counts on demand grow from one dump to the next" {
	link_start
	run -0 "$NETPROBE" ping "$LINK_PORT" 3
	dump
	assert_equal "$(count up)" 3
	run -0 "$NETPROBE" bulk "$LINK_PORT" 1000
	dump
	assert_equal "$(count up)" 1003
	assert_equal "$(count down)" 1003
	assert_equal "$(count connections)" 2
	assert_equal "$(count dumps)" 2
}

@test "linksim: a one-way delay of 50 ms makes every round trip at least 100 ms" {
	link_start -d 50
	run -0 "$NETPROBE" ping "$LINK_PORT" 5
	# the fastest of five: never below twice the delay, and not far above
	[ "$output" -ge 100000 ] || fail "round trip ${output} us, below 100 ms"
	[ "$output" -lt 1000000 ] || fail "round trip ${output} us, above 1 s"
}

@test "linksim: without a delay a round trip stays far below the delayed one" {
	link_start
	# the fastest of twenty, below the 100 ms a 50 ms link would take
	run -0 "$NETPROBE" ping "$LINK_PORT" 20
	[ "$output" -lt 80000 ] || fail "round trip ${output} us through an undelayed link"
}

@test "linksim: a 20 Mbit/s cap holds 2.5 MB each way to at least a second" {
	link_start -r 20
	run -0 "$NETPROBE" bulk "$LINK_PORT" 2500000
	# 2.5 MB at 20 Mbit/s is 1.0 s in each direction (both run at once)
	[ "$output" -ge 950000 ] || fail "2.5 MB echoed in ${output} us: faster than the cap"
	[ "$output" -lt 6000000 ] || fail "2.5 MB echoed in ${output} us: far slower than the cap"
	dump
	assert_equal "$(count up)" 2500000
	assert_equal "$(count down)" 2500000
}

@test "linksim: a small buffer still delivers everything, in order" {
	link_start -b 16384 -r 100
	run -0 "$NETPROBE" bulk "$LINK_PORT" 2000000
	dump
	assert_equal "$(count up)" 2000000
	assert_equal "$(count down)" 2000000
}

@test "linksim: SIGTERM writes the counts and exits 0, closing the port" {
	link_start
	run -0 "$NETPROBE" ping "$LINK_PORT" 4
	local rc=0
	kill -TERM "$LINK_PID"
	wait "$LINK_PID" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(count up)" 4
	assert_equal "$(count down)" 4
	assert_equal "$(count dumps)" 1
	run -1 "$NETPROBE" ping "$LINK_PORT" 1
}

@test "linksim: a bad or missing option is a usage error" {
	run -2 "$LINKSIM" -p "$BATS_TEST_TMPDIR/p"
	assert_output --partial "usage: linksim"
	run -2 "$LINKSIM" -d soon -t 1 -p "$BATS_TEST_TMPDIR/p"
	run -2 "$LINKSIM" -r -5 -t 1 -p "$BATS_TEST_TMPDIR/p"
	run -2 "$LINKSIM" -t 70000 -p "$BATS_TEST_TMPDIR/p"
	run -2 "$LINKSIM" -t 1
	[ ! -e "$BATS_TEST_TMPDIR/p" ]
}
