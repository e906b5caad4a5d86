#!/usr/bin/env bash
# table.sh TSV [README]: the README's benchmark table, from a make bench TSV.
# With README, replaces what is between its "<!-- bench -->" and
# "<!-- /bench -->" lines; without, prints the table. The figures in the
# README come from here, never by hand.
set -u
tsv=${1:?usage: table.sh TSV [README]}
readme=${2:-}
table() {
	awk -F'\t' '
function human(b) {
	if (b !~ /^[0-9]+$/) return b
	if (b >= 1e6) return sprintf("%.1f MB", b / 1e6)
	if (b >= 1e3) return sprintf("%.0f KB", b / 1e3)
	return b " B"
}
function cell(r, vs) {
	if (!(r in ms) || ms[r] == "-") return "failed"
	return ms[r] " ms, " human(wire[r]) (vs ? ", " ratio[r] "x" : "")
}
BEGIN {
	name["fresh"] = "first sync, fresh sidecar"; name["precloned"] = "first sync, pre-cloned sidecar"
	name["noop"] = "no-op"; name["one"] = "one file edited"; name["many"] = "200 files edited"
	nsc = split("fresh precloned noop one many", sc, " ")
}
/^# / { meta[substr($1, 3)] = $2; next }
$1 == "link" && $2 == "scenario" { next }
{ k = $1 "." $2 "." $3; ms[k] = $5; wire[k] = $6; ratio[k] = $13; links[$1] = 1 }
END {
	printf "Repository: %s; `git archive HEAD | gzip`: %s. Medians of %s runs; bytes counted on the wire, both directions.\n\n", meta["repository"], human(meta["archive_gz_bytes"]), meta["runs"]
	split("direct link", order, " ")
	for (i = 1; i <= 2; i++) {
		l = order[i]
		if (!(l in links)) continue
		title = l == "direct" ? "loopback" : "through a " meta["link"] " link"
		printf "| %s | sidecar sync (x rsync time) | rsync -a --delete, shared connection | seed: connection per command |\n|---|---|---|---|\n", title
		for (j = 1; j <= nsc; j++) {
			s = sc[j]
			printf "| %s | %s | %s | %s |\n", name[s], cell(l "." s ".sidecar", 1), cell(l "." s ".rsync", 0), cell(l "." s ".naive", 1)
		}
		printf "\n"
	}
	if ("loop" in meta)
		printf "Edit-test loop on loopback (a one-file edit, then `true` on the sidecar), medians: %s.\n\n", meta["loop"]
	if ("watch" in meta)
		printf "`sidecar watch` on loopback, from a one-file edit to the file on the sidecar: %s.\n", meta["watch"]
	if ("fanout" in meta)
		printf "\n`sidecar sync` to four loopback sidecars at once (on the same 2 cores as the sidecars themselves), medians: %s.\n", meta["fanout"]
}' "$tsv"
}
if [ -z "$readme" ]; then
	table
	exit
fi
grep -q '^<!-- bench -->$' "$readme" && grep -q '^<!-- /bench -->$' "$readme" ||
	{ echo "table.sh: $readme has no <!-- bench --> ... <!-- /bench --> block" >&2; exit 1; }
table >"$readme.table" || exit 1
awk -v t="$readme.table" '
/^<!-- bench -->$/ { print; while ((getline l < t) > 0) print l; skip = 1; next }
/^<!-- \/bench -->$/ { skip = 0 }
!skip' "$readme" >"$readme.new" && mv "$readme.new" "$readme"
rm -f "$readme.table"
