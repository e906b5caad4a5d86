#!/usr/bin/env bash
# report.sh TSV: the readable report of a make bench run, from its TSV.
set -u
tsv=${1:?usage: report.sh TSV}
awk -F'\t' '
function human(b) {
	if (b !~ /^[0-9]+$/) return b
	if (b >= 1e6) return sprintf("%.2f MB", b / 1e6)
	if (b >= 1e4) return sprintf("%.1f KB", b / 1e3)
	return b " B"
}
function x(r) { return r == "-" ? "-" : r "x" }
BEGIN {
	name["fresh"] = "first, fresh"; name["precloned"] = "first, cloned"
	name["noop"] = "no-op"; name["one"] = "one file"; name["many"] = "200 files"
	tname["sidecar"] = "sidecar"; tname["rsync"] = "rsync"; tname["naive"] = "seed"
}
/^# / { k = substr($1, 3); meta[k] = $2; next }
$1 == "link" && $2 == "scenario" { next }
{
	if (!printed) {
		printf "sidecar bench, %s; %s; %s\n", meta["date"], meta["machine"], meta["versions"]
		printf "sidecar %s; repository: %s\n", meta["sidecar"], meta["repository"]
		printf "runs: %s, medians; rsync: -a --delete, .gitignore and info/exclude filters, its own shared connection;\n", meta["runs"]
		printf "seed: a new ssh connection per remote command, clone of origin on the sidecar (a local path there: not on the wire)\n"
		printf "bytes: counted on the wire by linksim, both directions, for every tool\n"
		printf "procs: programs executed (execve), locally / on the sidecar (sshd and its sessions), counted once in an untimed pass\n"
		printed = 1
	}
	if ($1 != cur) {
		cur = $1
		if ($1 == "direct") printf "\n== direct (linksim passing bytes on at once, no cap)\n"
		else printf "\n== through the link (%s)\n", meta["link"]
		printf "%-14s %-8s %4s %9s %11s %6s %8s %10s %9s %10s %11s\n", "scenario", "tool", "runs", "ms", "wire", "trips", "written", "procs l/r", "time/rsync", "bytes/rsync", "own count"
	}
	trips = $3 == "sidecar" ? $7 "/" $8 : ($3 == "naive" ? $8 " conn" : "1")
	if ($4 == 0) trips = "-"
	own = ($15 == "" || $15 == "-") ? "-" : human($15)
	printf "%-14s %-8s %4s %9s %11s %6s %8s %10s %9s %10s %11s\n", name[$2], tname[$3], $4, $5, human($6), trips, $9, $10 "/" $11, x($13), x($14), own
	if ($2 == "fresh") fresh[$1 "." $3] = $6
	if ($3 == "sidecar" && $12 != "-" && $12 > rss) rss = $12
}
END {
	a = meta["archive_gz_bytes"]
	printf "\ngit archive HEAD | gzip | wc -c: %s bytes (%s)\n", a, human(a)
	nt = split("sidecar rsync naive", tl, " ")
	split("direct link", ll, " ")
	for (i = 1; i <= 2; i++) {
		out = ""
		for (j = 1; j <= nt; j++) {
			k = ll[i] "." tl[j]
			if (a > 0 && (k in fresh) && fresh[k] ~ /^[0-9]+$/)
				out = out sprintf("  %s %.2fx", tname[tl[j]], fresh[k] / a)
		}
		if (out != "")
			printf "first sync to a fresh sidecar, wire bytes / archive (%s):%s   (target for sidecar: at most 1.3x)\n", ll[i], out
	}
	printf "peak RSS of sidecar itself over these syncs: %s KiB; streaming a big file: %s\n", rss ? rss : "-", meta["big_file"]
	if ("loop" in meta)
		printf "edit-test loop (one-file edit, then true there), medians: %s\n", meta["loop"]
	if ("watch" in meta)
		printf "sidecar watch, %s\n", meta["watch"]
	if ("fanout" in meta)
		printf "fan-out to 4 sidecars, %s\n", meta["fanout"]
	printf "trips: sidecar round_trips/handshakes (--json); seed: ssh connections, each a handshake\n"
	printf "own count: the bytes_sent sidecar reports (--json), beside the wire count of both directions\n"
}' "$tsv"
