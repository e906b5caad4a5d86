#!/usr/bin/env bash
# make bench: sidecar sync against rsync -a --delete (over the same shared
# connection) and the seed's algorithm (a new ssh connection per remote
# command: reset --hard, clean, apply), on the same generated repositories
# and the same loopback sshd. Reports; never fails on numbers.
#
# Environment: BENCH_RUNS (default 5), BENCH_SIZES (default "500 5000").
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/tests/loopback.sh"
loopback_need || exit 1
command -v rsync >/dev/null || { echo "bench: rsync is needed (apt-get install rsync)" >&2; exit 1; }

runs=${BENCH_RUNS:-5}
sizes=${BENCH_SIZES:-500 5000}
loopback_workspace sidecar-bench || exit 1
work=$LOOPBACK_WORK

loopback_start "$work/sshd" 0 || exit 1
for _ in $(seq 200); do
	"$LOOPBACK_SSH" -o BatchMode=yes sidecar-demo true 2>/dev/null && break
	sleep 0.05
done
ssh_cfg=$work/sshd/ssh_config
ctl=$work/run/bench-master
# the shared connection rsync uses, opened like sidecar opens its own
ssh -F "$ssh_cfg" -o ControlPath="$ctl" -o ControlPersist=600 -M -N -f sidecar-demo
remote=$LOOPBACK_HOME

sidecar() { SIDECAR_SSH=$LOOPBACK_SSH "$here/sidecar" "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# A repository of N files in directories of 50, with a few MB of history.
make_repo() {
	local dir=$1 n=$2 i
	mkdir -p "$dir" && git -C "$dir" init -q -b main
	git -C "$dir" config user.name bench && git -C "$dir" config user.email bench@localhost
	for ((i = 0; i < n; i++)); do
		local d=$dir/src/d$((i / 50))
		[ -d "$d" ] || mkdir -p "$d"
		printf 'file %d\n%0400d\n' "$i" "$i" >"$d/f$i.c"
	done
	printf 'build/\n*.o\n' >"$dir/.gitignore"
	git -C "$dir" add -A && git -C "$dir" commit -qm "generated"
	git clone -q --bare "$dir" "$dir.origin.git"
	git -C "$dir" remote add origin "$dir.origin.git"
	git -C "$dir" fetch -q origin && git -C "$dir" remote set-head origin main >/dev/null
}

# "inode mtime path" of every file outside .git: what a sync rewrote shows.
listing() { find "$1" -path "$1/.git" -prune -o -type f -printf '%i %T@ %p\n' 2>/dev/null | sort; }
written() { comm -13 "$1" "$2" | wc -l; }

edit_files() {	# edit_files REPO COUNT ROUND: appends to the first COUNT files
	local repo=$1 count=$2 round=$3 i
	for ((i = 0; i < count; i++)); do
		printf 'edit %d\n' "$round" >>"$repo/src/d$((i / 50))/f$i.c"
	done
}

# --- the three tools: each prints "ms round_trips bytes" for one sync ---
run_sidecar() {	# repo workdir
	local t0 out
	t0=$(now_ms)
	out=$(cd "$1" && sidecar -q sync --json -w "$2" sidecar-demo) || { echo "sidecar failed" >&2; return 1; }
	local ms=$(( $(now_ms) - t0 ))
	local rt bytes
	rt=$(printf '%s' "$out" | sed 's/.*"round_trips":\([0-9]*\).*/\1/')
	bytes=$(printf '%s' "$out" | sed 's/.*"bytes_sent":\([0-9]*\).*/\1/')
	echo "$ms $rt $bytes"
}

run_rsync() {	# repo workdir
	local t0 out ms bytes
	t0=$(now_ms)
	out=$(rsync -a --delete --stats --exclude=/.git --filter=':- .gitignore' \
		-e "ssh -F $ssh_cfg -o ControlPath=$ctl -o ControlMaster=no" \
		"$1/" "sidecar-demo:$remote/$2/" 2>&1) || { echo "rsync failed: $out" >&2; return 1; }
	ms=$(( $(now_ms) - t0 ))
	bytes=$(printf '%s\n' "$out" | sed -n 's/^Total bytes sent: \([0-9,]*\).*/\1/p' | tr -d ,)
	echo "$ms 1 ${bytes:-0}"
}

# The seed: every remote command is its own ssh connection (no master).
run_naive() {	# repo workdir
	local repo=$1 wd=$remote/$2 t0 ms base patch n=0
	local ssh1=(ssh -F "$ssh_cfg" -o ControlMaster=no -o ControlPath=none -o BatchMode=yes sidecar-demo)
	t0=$(now_ms)
	"${ssh1[@]}" true; n=$((n + 1))
	"${ssh1[@]}" "mkdir -p '$remote' && { [ -d '$wd/.git' ] || git clone -q '$repo.origin.git' '$wd'; }"; n=$((n + 1))
	base=$("${ssh1[@]}" "cd '$wd' && { git rev-parse -q --verify origin/HEAD || git rev-parse HEAD; }"); n=$((n + 1))
	local idx=$work/naive-index
	cp "$repo/.git/index" "$idx"
	patch=$work/naive.patch
	(cd "$repo" && GIT_INDEX_FILE=$idx git add -A && GIT_INDEX_FILE=$idx git diff --cached --binary "$base") >"$patch"
	"${ssh1[@]}" "cd '$wd' && git reset -q --hard '$base' && git clean -fdq"; n=$((n + 1))
	if [ -s "$patch" ]; then
		"${ssh1[@]}" "cd '$wd' && git apply --binary" <"$patch"; n=$((n + 1))
	fi
	ms=$(( $(now_ms) - t0 ))
	echo "$ms $n $(wc -c <"$patch")"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

# bench_one TOOL SIZE SCENARIO: prints "median_ms rt bytes written"
bench_one() {
	local tool=$1 n=$2 scen=$3 repo=$work/repo-$n wd times=() rt bytes wr r
	for ((r = 0; r < runs; r++)); do
		wd=bench-$tool-$n-$scen
		if [ "$scen" = first ]; then
			rm -rf "${remote:?}/$wd"
			[ "$tool" = sidecar ] && git -C "$repo" for-each-ref --format='%(refname)' refs/sidecar/ |
				xargs -r -n1 git -C "$repo" update-ref -d
		elif [ ! -d "$remote/$wd" ]; then
			"run_$tool" "$repo" "$wd" >/dev/null || return 1
		fi
		case $scen in
		one) edit_files "$repo" 1 "$r" ;;
		many) edit_files "$repo" 200 "$r" ;;
		esac
		listing "$remote/$wd" >"$work/before"
		read -r ms rt bytes < <("run_$tool" "$repo" "$wd") || return 1
		listing "$remote/$wd" >"$work/after"
		wr=$(written "$work/before" "$work/after")
		times+=("$ms")
	done
	echo "$(printf '%s\n' "${times[@]}" | median) $rt $bytes $wr"
}

printf 'sidecar bench: %s runs per cell, medians; loopback sshd, OpenSSH %s, git %s\n' \
	"$runs" "$(ssh -V 2>&1 | sed 's/OpenSSH_\([^,]*\).*/\1/')" "$(git --version | cut -d' ' -f3)"
for n in $sizes; do
	make_repo "$work/repo-$n" "$n"
	printf '\n%d files (%s of history)\n' "$n" "$(du -sh "$work/repo-$n/.git" | cut -f1)"
	printf '%-10s %-8s %9s %6s %11s %8s   %s\n' scenario tool ms trips bytes written "ratio (sidecar time / this)"
	for scen in first noop one many; do
		declare -A res=()
		for tool in sidecar rsync naive; do
			res[$tool]=$(bench_one "$tool" "$n" "$scen") || { echo "bench: $tool failed" >&2; exit 1; }
		done
		s_ms=${res[sidecar]%% *}
		for tool in sidecar rsync naive; do
			read -r ms rt bytes wr <<<"${res[$tool]}"
			ratio=$(awk -v a="$s_ms" -v b="$ms" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
			printf '%-10s %-8s %9s %6s %11s %8s   %s\n' "$scen" "$tool" "$ms" "$rt" "$bytes" "$wr" "$ratio"
		done
		unset res
	done
done

# Peak memory of sidecar itself while it streams a 200 MB file.
big=$work/repo-big
mkdir -p "$big" && git -C "$big" init -q -b main
git -C "$big" config user.name bench && git -C "$big" config user.email bench@localhost
echo small >"$big/README" && git -C "$big" add -A && git -C "$big" commit -qm init
head -c 200000000 /dev/urandom >"$big/blob.bin"
out=$(cd "$big" && sidecar -q sync --json -w big sidecar-demo)
rss=$(printf '%s' "$out" | sed 's/.*"peak_rss_kib":\([0-9]*\).*/\1/')
sent=$(printf '%s' "$out" | sed 's/.*"bytes_sent":\([0-9]*\).*/\1/')
printf '\npeak RSS of sidecar itself (getrusage) syncing a 200 MB file: %s KiB; %s bytes streamed\n' "$rss" "$sent"
