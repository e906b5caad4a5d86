#!/usr/bin/env bash
# make bench: in one run, on the same generated repository and the same
# loopback sshd, `sidecar sync` against `rsync -a --delete` (tree only,
# .gitignore filter, over the same kind of shared connection) and the
# seed's algorithm (a new ssh connection per remote command), for a first
# sync to a fresh sidecar, a first sync to a pre-cloned one, a no-op, one
# file edited and 200 files edited; each both directly and through a
# simulated link (tests/helpers/linksim: 25 ms one way, 50 Mbit/s).
#
# Every ssh connection of every tool goes through a linksim, so the bytes
# are counted on the wire for all alike; "direct" is a linksim that passes
# bytes on at once, unlimited. Processes are counted in a separate, untimed
# pass: strace -f on the local command, and strace attached, for that pass
# only, to the sshd tree (the listener, each connection, every session) on
# the sidecar. The timed runs meet an sshd nothing traces: a traced one
# makes each process a sidecar starts there slower, and sidecar starts
# more of them than rsync.
#
# Prints a table, writes a TSV copy (path printed last; tests/bench/table.sh
# makes the README's table from it). Fails only when a tool fails, never on
# a number.
#
# Environment: BENCH_RUNS (5), BENCH_FIRST_RUNS (3), BENCH_SEED_RUNS (3: at
# most this many runs of the seed per scenario), BENCH_LINKS ("direct
# link"), BENCH_DELAY_MS (25), BENCH_RATE_MBIT (50), BENCH_BIG_MB (100, 0 to
# skip), BENCH_TSV (build/bench.tsv); tests/bench/genrepo.sh's BENCH_FILES,
# BENCH_COMMITS, BENCH_SEED.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/tests/loopback.sh"
loopback_need || exit 1
for tool in rsync strace; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is needed (apt-get install $tool)" >&2; exit 1; }
done
for bin in sidecar tests/helpers/linksim tests/helpers/genrepo; do
	[ -x "$here/$bin" ] || { echo "bench: $bin is not built (make bench builds it)" >&2; exit 1; }
done

runs=${BENCH_RUNS:-5}
first_runs=${BENCH_FIRST_RUNS:-3}
seed_runs=${BENCH_SEED_RUNS:-3}
links=${BENCH_LINKS:-direct link}
delay_ms=${BENCH_DELAY_MS:-25}
rate_mbit=${BENCH_RATE_MBIT:-50}
big_mb=${BENCH_BIG_MB:-100}
tsv=${BENCH_TSV:-$here/build/bench.tsv}
tools="sidecar rsync naive"
scenarios="fresh precloned noop one many"
failed=0

origin_cache=$("$here/tests/bench/genrepo.sh") || exit 1
loopback_workspace sidecar-bench || exit 1
work=$LOOPBACK_WORK
loopback_start "$work/sshd" 0 || exit 1
cfg=$LOOPBACK_SSH_CONFIG
remote=$LOOPBACK_HOME
for _ in $(seq 400); do
	ssh -F "$cfg" -o BatchMode=yes sidecar-demo true 2>/dev/null && break
	sleep 0.025
done

# --- the links: one linksim per link, every connection through it -----------
declare -A lpid lcounts lhost
bench_cleanup() {
	local l
	for l in "${!lpid[@]}"; do
		kill "${lpid[$l]}" 2>/dev/null && wait "${lpid[$l]}" 2>/dev/null
	done
	for l in "${!lhost[@]}"; do
		ssh -F "$cfg" -o ControlPath="$work/run/rsync-$l" -O exit "${lhost[$l]}" >/dev/null 2>&1
	done
	loopback_stop
	rm -rf "$work"
}
trap bench_cleanup EXIT

start_linksim() {	# start_linksim NAME LINKSIM_ARGS...: its port in $work/NAME.port
	local name=$1 i
	shift
	"$here/tests/helpers/linksim" "$@" -t "$LOOPBACK_PORT" -p "$work/$name.port" \
		-c "$work/$name.counts" </dev/null >/dev/null 2>"$work/$name.err" &
	lpid[$name]=$!
	for i in $(seq 400); do
		[ -s "$work/$name.port" ] && break
		sleep 0.01
	done
	[ -s "$work/$name.port" ] || { echo "bench: linksim did not start" >&2; cat "$work/$name.err" >&2; exit 1; }
}
start_link() {	# start_link NAME LINKSIM_ARGS...
	start_linksim "$@"
	lhost[$1]=sidecar-$1
	loopback_alias "sidecar-$1" "$(cat "$work/$1.port")"
}

# wire_bytes LINK: the bytes linksim delivered so far, both directions
wire_bytes() {
	local l=$1 f=$work/$1.counts before=0 i d
	[ -f "$f" ] && before=$(awk '$1 == "dumps" { print $2 }' "$f")
	kill -USR1 "${lpid[$l]}"
	for i in $(seq 1000); do
		d=0
		[ -f "$f" ] && d=$(awk '$1 == "dumps" { print $2 }' "$f")
		[ "${d:-0}" -gt "$before" ] && break
		sleep 0.002
	done
	awk '$1 == "up" { u = $2 } $1 == "down" { d = $2 } END { print u + d }' "$f"
}

now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

# --- the repository -----------------------------------------------------------
git clone -q --bare "$origin_cache" "$work/origin.git"
repo=$work/repo
git clone -q "$work/origin.git" "$repo"
git -C "$repo" config user.name bench && git -C "$repo" config user.email bench@localhost
# an unpushed commit, uncommitted edits, an untracked file
mapfile -d '' textfiles < <(git -C "$repo" ls-files -z -- '*.c' '*.h')
nt=${#textfiles[@]}
for ((i = 0; i < 20; i++)); do printf '/* local commit %d */\n' "$i" >>"$repo/${textfiles[i * 37 % nt]}"; done
git -C "$repo" commit -qam "local work, not pushed"
for ((i = 1; i <= 3; i++)); do printf '/* uncommitted */\n' >>"$repo/${textfiles[i * 101 % nt]}"; done
printf 'untracked notes\n' >"$repo/NOTES.txt"
# ignored files that must stay local: build outputs, an info/exclude rule
mkdir -p "$repo/build" "$repo/docs/_build"
for ((i = 0; i < 20; i++)); do head -c 50000 /dev/urandom >"$repo/build/obj$i.o"; done
printf 'log\n' >"$repo/run.log" && printf 'doc\n' >"$repo/docs/_build/index.html"
printf '*.local\n' >>"$repo/.git/info/exclude" && printf 'secret\n' >"$repo/settings.local"
one_file=${textfiles[500 % nt]}
many_files=()
for ((i = 0; i < 200 && i < nt; i++)); do many_files+=("${textfiles[(i * 7 + 3) % nt]}"); done
nfiles=$(git -C "$repo" ls-files | wc -l)
pack_kib=$(git -C "$work/origin.git" count-objects -v | awk '$1 == "size-pack:" { print $2 }')
ncommits=$(git -C "$repo" rev-list --count HEAD)
archive=$(git -C "$repo" archive HEAD | gzip | wc -c)
tree_bytes=$(git -C "$repo" ls-tree -r -l HEAD | awk '{ s += $4 } END { print s }')
adopt=()
"$here/sidecar" help sync 2>/dev/null | grep -q -- '--adopt' && adopt=(--adopt)

# --- one sync by each tool: sets t1 (the time it ended), rt, hs, rss, sent;
# returns non-zero on failure
sc() { "$here/sidecar" -q "$@"; }
run_sidecar() {	# LINK WORKDIR [extra sync options]
	local host=${lhost[$1]} wd=$2 out
	shift 2
	out=$(cd "$repo" && sc sync -F "$cfg" --json -w "$wd" "$@" "$host") || return 1
	t1=${EPOCHREALTIME/./}	# the clock stops before the summary is read
	rt=$(printf '%s' "$out" | sed -n 's/.*"round_trips":\([0-9]*\).*/\1/p')
	hs=$(printf '%s' "$out" | sed -n 's/.*"handshakes":\([0-9]*\).*/\1/p')
	rss=$(printf '%s' "$out" | sed -n 's/.*"peak_rss_kib":\([0-9]*\).*/\1/p')
	sent=$(printf '%s' "$out" | sed -n 's/.*"bytes_sent":\([0-9]*\).*/\1/p')
}
rsync_cmd() {	# LINK WORKDIR: the rsync command line
	printf '%s\0' rsync -a --delete --exclude=/.git --filter=':- .gitignore' \
		--exclude-from="$repo/.git/info/exclude" \
		-e "ssh -F $cfg -o ControlPath=$work/run/rsync-$1 -o ControlMaster=no" \
		"$repo/" "${lhost[$1]}:$remote/$2/"
}
run_rsync() {
	local cmd
	mapfile -d '' cmd < <(rsync_cmd "$1" "$2")
	"${cmd[@]}" >/dev/null || return 1
	t1=${EPOCHREALTIME/./}
	rt=1 hs=0 rss= sent=
}
run_naive() {
	local out
	out=$("$here/tests/bench/naive.sh" "$cfg" "${lhost[$1]}" "$repo" "$work/origin.git" "$remote/$2") || return 1
	t1=${EPOCHREALTIME/./}
	rt=${out%% *} hs=$rt rss= sent=
}
tool_argv() {	# TOOL LINK WORKDIR: the command one sync runs, for strace
	case $1 in
	sidecar) printf '%s\0' "$here/sidecar" -q sync -F "$cfg" --json -w "$3" ;;
	rsync) rsync_cmd "$2" "$3" ;;
	naive) printf '%s\0' "$here/tests/bench/naive.sh" "$cfg" "${lhost[$2]}" "$repo" "$work/origin.git" "$remote/$3" ;;
	esac
}

# "inode mtime path" of every file outside .git: what a sync rewrote shows
listing() { find "$1" -path "$1/.git" -prune -o -type f -printf '%i %T@ %p\n' 2>/dev/null | sort; }

# prepare SCENARIO TOOL LINK WORKDIR: the sidecar's state before a first sync
prepare() {
	local scen=$1 tool=$2 wd=$remote/$4
	case $scen in
	fresh | precloned)
		rm -rf "${wd:?}"
		[ "$scen" = precloned ] && git clone -q "$work/origin.git" "$wd"
		if [ "$tool" = sidecar ]; then
			git -C "$repo" for-each-ref --format='%(refname)' refs/sidecar/ |
				xargs -r -n1 git -C "$repo" update-ref -d
		fi
		;;
	esac
	return 0
}
extra_opts() { [ "$1" = precloned ] && [ "$2" = sidecar ] && [ ${#adopt[@]} -gt 0 ] && printf "%s\n" "${adopt[@]}"; return 0; }

# measure SCENARIO TOOL LINK WORKDIR: one timed sync; appends a sample line
# "ms bytes rt hs written rss sent" to $work/samples/LINK.SCENARIO.TOOL
# (rss and sent: sidecar's own peak_rss_kib and bytes_sent, else "-")
measure() {
	local scen=$1 tool=$2 link=$3 wd=$4 b0 b1 t0 t1 wr opts
	mapfile -t opts < <(extra_opts "$scen" "$tool")
	listing "$remote/$wd" >"$work/before"
	b0=$(wire_bytes "$link")
	t0=${EPOCHREALTIME/./}
	# run_TOOL sets t1 as the tool ends, before it reads what the tool said
	if ! "run_$tool" "$link" "$wd" "${opts[@]}"; then
		echo "bench: $tool failed: $scen over $link" >&2
		failed=1
		return 1
	fi
	b1=$(wire_bytes "$link")
	listing "$remote/$wd" >"$work/after"
	wr=$(comm -13 "$work/before" "$work/after" | wc -l)
	echo "$(( (t1 - t0) / 1000 )) $((b1 - b0)) $rt $hs $wr ${rss:--} ${sent:--}" >>"$work/samples/$link.$scen.$tool"
}

edit() {	# edit SCENARIO ROUND
	local f
	case $1 in
	one) printf '/* edit %s */\n' "$2" >>"$repo/$one_file" ;;
	many) for f in "${many_files[@]}"; do printf '/* edit %s */\n' "$2" >>"$repo/$f"; done ;;
	esac
}

# --- process counts: strace on the local command, and on the sshd tree -------
execs() {	# FILE: successful execve calls in an strace -f log
	[ -f "$1" ] || { echo 0; return; }
	grep -cE 'execve(\(| resumed>).* = 0$' "$1"
}
sshd_tree() {	# the sidecar's sshd and every process under it
	ps -e -o pid=,ppid= | awk -v root="$LOOPBACK_PID" '
		{ parent[$1] = $2 }
		END {
			for (p in parent) {
				q = p
				while (q in parent && q != root && q > 1)
					q = parent[q]
				if (q == root)
					print p
			}
		}'
}
# trace_sshd FILE: strace attached to the sshd tree, its pid in rpid, once
# every process of it is traced (strace -p follows what they start)
trace_sshd() {
	local pids=() p i all
	mapfile -t pids < <(sshd_tree)
	strace -f -qq -e trace=execve -e signal=none -o "$1" "${pids[@]/#/-p}" 2>/dev/null &
	rpid=$!
	for ((i = 0; i < 2000; i++)); do
		all=1
		for p in "${pids[@]}"; do
			[ -e "/proc/$p" ] || continue
			grep -q '^TracerPid:[[:space:]]*0$' "/proc/$p/status" 2>/dev/null && { all=0; break; }
		done
		[ "$all" = 1 ] && return 0
		sleep 0.005
	done
	echo "bench: strace did not attach to the sshd" >&2
	return 1
}
untrace_sshd() { kill -INT "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; }
# count_procs SCENARIO TOOL LINK WORKDIR: prints "local remote": programs
# run by one sync, locally (strace -f on the command) and on the sidecar
# (strace attached to the sshd tree while it runs)
count_procs() {
	local scen=$1 tool=$2 link=$3 wd=$4 argv opts lp i rpid
	mapfile -d '' argv < <(tool_argv "$tool" "$link" "$wd")
	mapfile -t opts < <(extra_opts "$scen" "$tool")
	[ "$tool" = sidecar ] && argv+=("${opts[@]}" "${lhost[$link]}")
	rm -f "$work/ltrace" "$work/rtrace" "$work/rdone"
	trace_sshd "$work/rtrace" || { untrace_sshd; echo "- -"; return; }
	# the wrapper tells when the command is done: a master it started
	# stays, and strace -f would wait for it (-I1: SIGINT stops strace)
	strace -I1 -f --seccomp-bpf -qq -e trace=execve -e signal=none -o "$work/ltrace" \
		sh -c 'cd "$1" || exit 1; shift; "$@" >/dev/null; echo $? >"$0"' \
		"$work/rdone" "$repo" "${argv[@]}" 2>/dev/null &
	lp=$!
	for i in $(seq 60000); do
		[ -s "$work/rdone" ] && break
		sleep 0.01
	done
	kill -INT "$lp" 2>/dev/null
	wait "$lp" 2>/dev/null
	untrace_sshd
	if [ "$(cat "$work/rdone" 2>/dev/null)" != 0 ]; then
		echo "bench: $tool failed under strace: $scen" >&2
		echo "- -"
		return
	fi
	# the local count leaves out strace's own sh wrapper
	echo "$(( $(execs "$work/ltrace") - 1 )) $(execs "$work/rtrace")"
}

# --- the runs --------------------------------------------------------------
mkdir -p "$work/samples"
declare -A procs
bench_link() {
	local link=$1 n scen tool r wd
	# the shared connections, opened before the clock starts, like a
	# sidecar that is already up
	sc wait -F "$cfg" "${lhost[$link]}" >/dev/null || { failed=1; return 1; }
	ssh -F "$cfg" -o ControlPath="$work/run/rsync-$link" -o ControlPersist=900 -M -N -f "${lhost[$link]}" ||
		{ failed=1; return 1; }
	for scen in $scenarios; do
		n=$runs
		case $scen in fresh | precloned) n=$first_runs ;; esac
		printf '  %-10s' "$scen" >&2
		# no catch-up sync: the scenario before left every tool synced
		for ((r = 0; r < n; r++)); do
			edit "$scen" "$link.$r"
			for tool in $tools; do
				# the seed is slow and not what is measured: fewer runs
				[ "$tool" = naive ] && [ "$r" -ge "$seed_runs" ] && continue
				wd=bench-$tool
				prepare "$scen" "$tool" "$link" "$wd"
				measure "$scen" "$tool" "$link" "$wd"
			done
			printf '.' >&2
		done
		if [ "$link" = direct ]; then
			# processes do not depend on the link: counted once, untimed
			for tool in $tools; do
				edit "$scen" "count"
				prepare "$scen" "$tool" "$link" "bench-$tool"
				procs[$scen.$tool]=$(count_procs "$scen" "$tool" "$link" "bench-$tool")
				[ "${procs[$scen.$tool]}" != "- -" ] || failed=1
			done
		fi
	done
	printf '\n' >&2
}

for link in $links; do
	case $link in
	direct) start_link direct ;;
	link) start_link link -d "$delay_ms" -r "$rate_mbit" ;;
	*) echo "bench: unknown link '$link' (direct, link)" >&2; exit 2 ;;
	esac
done
printf 'running (%s runs, first syncs %s, the seed at most %s):\n' "$runs" "$first_runs" "$seed_runs" >&2
for link in $links; do
	printf ' %s\n' "$link" >&2
	bench_link "$link"
done

# --- the edit-test loop: a one-file edit, then 'true' on the sidecar -----------
# sidecar run, against sidecar sync alone (the target: run is no slower
# than it plus 5 ms), against sync then exec, against rsync then ssh over
# rsync's master; each after the same edit, on the first link.
loop_link=${links%% *}
loop_one() {	# TOOL ROUND: one edit and one loop step; prints its ms
	local host=${lhost[$loop_link]} t0 t1 cmd
	edit one "loop.$2"
	t0=$(now_us)
	case $1 in
	run) (cd "$repo" && sc run -F "$cfg" -w bench-sidecar "$host" -- true) ;;
	sync) (cd "$repo" && sc sync -F "$cfg" -w bench-sidecar "$host") ;;
	sync+exec) (cd "$repo" && sc sync -F "$cfg" -w bench-sidecar "$host" &&
		sc exec -F "$cfg" -w bench-sidecar "$host" -- true) ;;
	rsync+ssh) mapfile -d '' cmd < <(rsync_cmd "$loop_link" bench-rsync)
		"${cmd[@]}" >/dev/null && ssh -F "$cfg" -o ControlPath="$work/run/rsync-$loop_link" \
			-o ControlMaster=no "$host" true ;;
	esac || { echo "bench: the loop step of $1 failed" >&2; failed=1; }
	t1=$(now_us)
	echo $(((t1 - t0) / 1000))
}
# (three times the runs: run and sync alone differ by a few ms, and their
# difference is taken round by round, each pair under the same load)
printf ' loop (%s)  ' "$loop_link" >&2
for ((r = 0; r < 3 * runs; r++)); do
	for tool in run sync sync+exec rsync+ssh; do
		loop_one "$tool" "$r" >>"$work/samples/loop.$tool"
	done
	printf '.' >&2
done
printf '\n' >&2

# --- watch: from a one-file edit to the file on the sidecar ---------------------
# sidecar watch runs on the first link; each edit adds a line to one file and
# the time is taken until the sidecar's copy has it (polled every 2 ms),
# then the watch's own line for that sync is awaited before the next edit.
# With the default quiet time (200ms) and with --debounce 0.
# The poll starts no process (a sleep or a $(...) each 2 ms would take a
# core from the sync it waits for): the file is read by the shell, and the
# naps are read -t on a pipe nothing writes to.
exec {nap_fd}<> <(:)
nap() { read -r -t "$1" -u "$nap_fd" _ || :; }
watch_one() {	# DEBOUNCE LOG ROUND: one edit; prints its ms
	local mark="/* watched $1 $3 */" t0 t1 i c synced=$(($3 + 2))
	printf '%s\n' "$mark" >>"$repo/$one_file"
	t0=${EPOCHREALTIME/./}
	for ((i = 0; i < 5000; i++)); do
		# read-tree replaces the file: for a moment there is none
		c=
		{ IFS= read -r -d '' c <"$remote/bench-sidecar/$one_file"; } 2>/dev/null
		[[ $c == *"$mark"* ]] && break
		nap 0.002
	done
	t1=${EPOCHREALTIME/./}
	for ((i = 0; i < 5000; i++)); do
		[ "$(grep -c '^sidecar: synced\|up to date' "$2")" -ge "$synced" ] && break
		nap 0.002
	done
	[ "$i" -lt 5000 ] || { echo "bench: watch did not sync an edit" >&2; failed=1; }
	echo $(((t1 - t0) / 1000))
}
watch_runs=$((runs < 20 ? 20 : runs))
for debounce in 200ms 0; do
	log=$work/watch.$debounce.log
	printf ' watch --debounce %s (%s)  ' "$debounce" "$loop_link" >&2
	(cd "$repo" && exec "$here/sidecar" watch -F "$cfg" -w bench-sidecar --debounce "$debounce" \
		"${lhost[$loop_link]}") 2>"$log" &
	watch_pid=$!
	for ((i = 0; i < 5000; i++)); do
		grep -q '^sidecar: watching' "$log" && break
		sleep 0.002
	done
	for ((r = 0; r < watch_runs; r++)); do
		watch_one "$debounce" "$log" "$r" >>"$work/samples/watch.$debounce"
		printf '.' >&2
	done
	kill -INT "$watch_pid" && wait "$watch_pid"
	printf '\n' >&2
done

# --- fan-out: one sync to four sidecars at once -------------------------------
# Four sidecars on the one loopback sshd, each a port of its own (a
# linksim that passes bytes on at once, so each has its own shared
# connection) and a key of its own whose sessions have their own home
# (loopback_other). After a one-file edit, sync to the first alone, then to
# all four; and a first sync of the whole tree to one fresh sidecar, then
# to four. Local processes of each, counted by strace: the local snapshot
# is made once.
fan_hosts=(fan1 fan2 fan3 fan4)
for h in "${fan_hosts[@]}"; do
	start_linksim "$h"
	loopback_other "$h" "$(cat "$work/$h.port")"
done
fan_one() {	# N: sync the last edit to the first N sidecars; prints its ms
	local t0 t1
	t0=$(now_us)
	(cd "$repo" && sc sync -F "$cfg" -w bench-fan "${fan_hosts[@]:0:$1}") ||
		{ echo "bench: fan-out to $1 failed" >&2; failed=1; }
	t1=$(now_us)
	echo $(((t1 - t0) / 1000))
}
fan_fresh() {	# N: the same after removing the first N workspaces
	local h
	for h in "${fan_hosts[@]:0:$1}"; do
		rm -rf "$LOOPBACK_DIR/home-$h/bench-fan"
	done
	fan_one "$1"
}
printf ' fan-out (direct)  ' >&2
fan_one 4 >/dev/null
for ((r = 0; r < runs; r++)); do
	for n in 1 4; do
		edit one "fan.$n.$r"
		fan_one "$n" >>"$work/samples/fan.one.$n"
	done
	printf '.' >&2
done
for ((r = 0; r < first_runs; r++)); do
	for n in 1 4; do
		fan_fresh "$n" >>"$work/samples/fan.fresh.$n"
	done
	printf '.' >&2
done
for n in 1 4; do
	edit one "fan.procs.$n"
	(cd "$repo" && strace -f -qq -e trace=execve -e signal=none -o "$work/fan.$n.strace" \
		"$here/sidecar" -q sync -F "$cfg" -w bench-fan "${fan_hosts[@]:0:$n}") ||
		{ echo "bench: fan-out to $n failed under strace" >&2; failed=1; }
	execs "$work/fan.$n.strace" >"$work/samples/fan.procs.$n"
	grep -c 'execve("[^"]*/git",' "$work/fan.$n.strace" >"$work/samples/fan.git.$n"
done
printf '\n' >&2

# --- peak memory of sidecar itself while it streams a big file --------------
big_rss=- big_sent=-
if [ "$big_mb" -gt 0 ]; then
	big=$work/repo-big
	mkdir -p "$big" && git -C "$big" init -q -b main
	git -C "$big" config user.name bench && git -C "$big" config user.email bench@localhost
	echo small >"$big/README" && git -C "$big" add -A && git -C "$big" commit -qm init
	head -c "$((big_mb * 1000000))" /dev/urandom >"$big/blob.bin"
	link=${links%% *}
	b0=$(wire_bytes "$link")
	if out=$(cd "$big" && sc sync -F "$cfg" --json -w big "${lhost[$link]}"); then
		big_rss=$(printf '%s' "$out" | sed -n 's/.*"peak_rss_kib":\([0-9]*\).*/\1/p')
		big_sent=$(( $(wire_bytes "$link") - b0 ))
	else
		echo "bench: sidecar failed to sync a ${big_mb} MB file" >&2
		failed=1
	fi
fi

# --- the report ----------------------------------------------------------------
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
col() { awk -v c="$1" '{ print $c }' "$2" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'; }
human() { awk -v b="$1" 'BEGIN { if (b !~ /^[0-9]+$/) print b; else if (b >= 1e6) printf "%.2f MB", b / 1e6; else if (b >= 1e4) printf "%.1f KB", b / 1e3; else printf "%d B", b }'; }

mkdir -p "$(dirname "$tsv")"
{
	printf '# date\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '# machine\t%s cores, %s\n' "$(nproc)" "$(uname -sr)"
	printf '# versions\tOpenSSH %s, git %s, rsync %s\n' "$(ssh -V 2>&1 | sed 's/OpenSSH_\([^,]*\).*/\1/')" \
		"$(git --version | cut -d' ' -f3)" "$(rsync --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')"
	printf '# sidecar\t%s\n' "$(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)"
	printf '# repository\t%s files, %s commits, %s KiB pack, %s bytes tree\n' "$nfiles" "$ncommits" "$pack_kib" "$tree_bytes"
	printf '# archive_gz_bytes\t%s\n' "$archive"
	printf '# link\t%s ms one way, %s Mbit/s each way\n' "$delay_ms" "$rate_mbit"
	printf '# runs\t%s (first syncs %s, the seed at most %s)\n' "$runs" "$first_runs" "$seed_runs"
	printf '# big_file\t%s MB, peak_rss_kib %s, wire_bytes %s\n' "$big_mb" "$big_rss" "$big_sent"
	l_run=$(median <"$work/samples/loop.run") l_sync=$(median <"$work/samples/loop.sync")
	l_se=$(median <"$work/samples/loop.sync+exec") l_rs=$(median <"$work/samples/loop.rsync+ssh")
	l_diff=$(paste -d' ' "$work/samples/loop.run" "$work/samples/loop.sync" | awk '{ print $1 - $2 }' | median)
	printf '# loop\trun %s ms, sync alone %s ms (run - that, round by round: %+d ms), sync+exec %s ms (run/that %s), rsync+ssh %s ms (run/that %s)\n' \
		"$l_run" "$l_sync" "$l_diff" "$l_se" "$(ratio "$l_run" "$l_se")" \
		"$l_rs" "$(ratio "$l_run" "$l_rs")"
	printf '# watch\tedit to sidecar, median of %s: %s ms (--debounce 200ms), %s ms (--debounce 0)\n' \
		"$watch_runs" "$(median <"$work/samples/watch.200ms")" "$(median <"$work/samples/watch.0")"
	f1=$(median <"$work/samples/fan.one.1") f4=$(median <"$work/samples/fan.one.4")
	g1=$(median <"$work/samples/fan.fresh.1") g4=$(median <"$work/samples/fan.fresh.4")
	printf '# fanout\tone-file edit: 1 sidecar %s ms, 4 at once %s ms (%sx); first sync: 1 %s ms, 4 %s ms (%sx); local processes: 1 %s (%s git), 4 %s (%s git)\n' \
		"$f1" "$f4" "$(ratio "$f4" "$f1")" "$g1" "$g4" "$(ratio "$g4" "$g1")" \
		"$(cat "$work/samples/fan.procs.1")" "$(cat "$work/samples/fan.git.1")" \
		"$(cat "$work/samples/fan.procs.4")" "$(cat "$work/samples/fan.git.4")"
	printf 'link\tscenario\ttool\truns\tms\twire_bytes\tround_trips\thandshakes\twritten\tlocal_procs\tremote_procs\tpeak_rss_kib\ttime_vs_rsync\tbytes_vs_rsync\tbytes_sent_reported\n'
	for link in $links; do
		for scen in $scenarios; do
			rs=$work/samples/$link.$scen.rsync
			r_ms=$( [ -f "$rs" ] && col 1 "$rs" || echo -)
			r_b=$( [ -f "$rs" ] && col 2 "$rs" || echo -)
			for tool in $tools; do
				f=$work/samples/$link.$scen.$tool
				if [ ! -s "$f" ]; then
					printf '%s\t%s\t%s\t0\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\n' "$link" "$scen" "$tool"
					continue
				fi
				ms=$(col 1 "$f") b=$(col 2 "$f")
				p=${procs[$scen.$tool]:-- -}
				[ "$link" = direct ] || p="- -"
				rssmax=$(awk '$6 != "-" { if ($6 > m) m = $6 } END { print m ? m : "-" }' "$f")
				sentm=$(awk '$7 != "-" { print $7 }' "$f" | median)
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$link" "$scen" "$tool" \
					"$(wc -l <"$f")" "$ms" "$b" "$(col 3 "$f")" "$(col 4 "$f")" "$(col 5 "$f")" \
					"${p% *}" "${p#* }" "$rssmax" "$(ratio "$ms" "$r_ms")" "$(ratio "$b" "$r_b")" "$sentm"
			done
		done
	done
} >"$tsv"

"$here/tests/bench/report.sh" "$tsv"
echo
echo "TSV: $tsv   (README table: tests/bench/table.sh $tsv)"
[ "$failed" -eq 0 ] || { echo "bench: a tool failed (above)" >&2; exit 1; }
