# remote.sh: what sidecar runs on the sidecar. POSIX sh and git only.
# Never rm -rf a directory this script did not create (the marker
# .git/sidecar/created proves it).
#
# --- protocol, version 1 (the client's side is src/protocol.[ch]) ---------
#
# Installed once as ${XDG_CACHE_HOME:-$HOME/.cache}/sidecar/remote-CRC-SIZE.sh
# (cksum of this file) and started by a short bootstrap (src/protocol.c) as
#     sh remote-CRC-SIZE.sh LOCK_WAIT OP ARG...
# LOCK_WAIT: seconds to wait for another sync's lock. Operations:
#     probe WD SNAPSHOT OWNER ADOPT EDITS
#                                    what the workspace holds; changes nothing;
#                                    EDITS 1: list the edits found there
#     apply WD EXPECT OWNER ROOTS ADOPT RULES [SCRIPT WORD...]
#                                    stdin: the header line "SNAPSHOT TREE
#                                    COMMIT PACK BRANCH NSHALLOW", NSHALLOW
#                                    lines of commits to record as shallow
#                                    (those it has), then, when PACK is 1, a
#                                    pack (git pack-objects --thin); the
#                                    rules come in SNAPSHOT's message. With
#                                    SCRIPT, once applied (the reply ended):
#                                    exec sh -c SCRIPT sidecar WORD... in its
#                                    place, with the rest of stdin (sidecar
#                                    run: one session)
#     patch-setup WD URL BRANCH DRY OWNER ROOTS ADOPT
#                                    clone when absent; the base
#     patch-apply WD BASE NONEMPTY OWNER ADOPT RULES
#                                    stdin: a line NRULES, NRULES lines of
#                                    rules, then a binary diff when
#                                    NONEMPTY is 1
#     remove WD                      only a workspace sidecar created; the
#                                    edits saved there are kept for the
#                                    next patch-setup
#     saved WD OWNER SEND REF HAVES  SEND 0: every ref edits were saved to
#                                    (entry, entry-path); SEND 1: REF alone
#                                    ("-": the newest of edits), and after
#                                    the reply a pack of it and its base
#     collect WD OWNER HAVES PATH... the workspace's files at PATHs, ignored
#                                    ones too, as a commit on what sidecar
#                                    left there (entry), and after the reply
#                                    a pack of it
# HAVES: the commits the other side has, space separated ("-": none); the
# pack after a reply (git pack-objects --thin) leaves out what they hold.
# OWNER is the local work tree, the identity of the local repository a
# workspace belongs to (.git/sidecar/owner); ROOTS its root commits, space
# separated ("-": unknown, or none on an unborn branch), recorded beside
# it; ADOPT 1 takes over a repository sidecar did not create or that
# another local repository owns. RULES names the local repository's
# ignore rules outside its tree (info/exclude, core.excludesFile): a hash
# of them, "-" when there are none; when they are not the ones in force
# there, the sync brings them, and the sidecar ignores what they ignore.
# "-" stands for an absent argument. The reply goes to the session's stdout
# and nothing else does (the script's own stdout is its stderr): a line
# "SIDECAR-REPLY 1", then "KEY VALUE" lines, then "end". A value escapes a
# backslash as \\ and a newline as \n. Keys (once each unless "list"):
#     git no                   the sidecar has no git (probe)
#     workdir PATH             the workspace, absolute
#     exists no|yes|other      other: there, and not a repository (probe;
#                              apply's base-moved: no workspace at all)
#     synced OID               refs/sidecar/workspace/synced (probe,
#                              apply's base-moved)
#     head OID                 HEAD (probe)
#     origin OID               refs/remotes/origin/HEAD (probe)
#     has_snapshot yes         SNAPSHOT is there already (probe)
#     modified yes|no          the workspace differs from the last sync
#     base-moved yes           EXPECT is not the synced ref; nothing changed
#     saved REF                list: where edits found there were saved
#     result synced|up-to-date|drift
#     changed N                how many paths changed
#     cloned yes               patch-setup cloned origin
#     base OID                 the patch base (patch-setup)
#     at_base yes              the workspace is exactly the base (patch-setup)
#     removed PATH             remove removed it
#     refused usage            the workspace was refused: the command line
#                              must change (-w, --adopt); nothing changed
#     staged REV               list: a saved commit's part holding the
#                              index (staged changes) found there
#     edit LINE                list (probe with EDITS 1): a raw diff-tree
#                              line from what sidecar left to the workspace
#     waiting N                list: still waiting for the lock (a keepalive)
#     entry REF COMMIT BASE KIND
#                              list: a saved ref ("-" for collect's
#                              commit), its commit, the tree its changes
#                              are from, KIND edits|branch|collected
#     entry-path REF ST PATH   list: a path an entry changes (diff-tree
#                              --name-status, the path quoted as git does)
#     pack yes                 a pack follows the end line
#     missing-script yes       (the bootstrap) no script installed: send it
#     installed yes|no         sent on stdin: whether it could be installed
# Messages for the user go to stderr, each starting "sidecar: "; an
# operation that fails exits non-zero after saying why.
# --------------------------------------------------------------------------
# zsh reads sh only when it knows it should: split words, as sh does
# (and zsh's echo prints nothing for "-": printf says "-" here)
[ -z "${ZSH_VERSION:-}" ] || emulate sh
set -u
# what a command run after an apply gets back: the session's own settings
if [ $# -gt 8 ]; then
	run_lc=${LC_ALL-} run_lc_set=${LC_ALL+1} run_umask=$(umask) run_pwd=$PWD
fi
umask 022
export GIT_AUTHOR_NAME=sidecar GIT_AUTHOR_EMAIL=sidecar@localhost
export GIT_COMMITTER_NAME=sidecar GIT_COMMITTER_EMAIL=sidecar@localhost
export LC_ALL=C GIT_TERMINAL_PROMPT=0
# git's heap kept for reuse from one object to the next, as sidecar's own
# git calls keep it (git.c says why), unless the session set it (and not
# empty, as git.c takes it)
heap_pad=
if [ -z "${MALLOC_TOP_PAD_:-}" ]; then
	heap_pad=1
	MALLOC_TOP_PAD_=4194304
	export MALLOC_TOP_PAD_
fi
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
EMPTY_TREE=4b825dc642cb6eb9a060e54bf8d69288fbee4904
EDITS_SUBJECT='sidecar: edits found on the sidecar before a sync'
BASE_MARK='sidecar-base:'

die() { printf 'sidecar: %s\n' "$*" >&2; exit 1; }

NL='
'

# say KEY VALUE: one reply line, the value escaped (see the protocol above).
say() {
	v=$2 e=
	case $v in
	*\\* | *"$NL"*)
		while [ -n "$v" ]; do
			c=${v%"${v#?}"}
			v=${v#?}
			case $c in
			\\) e="$e\\\\" ;;
			"$NL") e="$e\\n" ;;
			*) e=$e$c ;;
			esac
		done ;;
	*) e=$v ;;
	esac
	printf '%s %s\n' "$1" "$e" >&3
}

need_git() {
	command -v git >/dev/null 2>&1 ||
		die "git is not installed on the sidecar; install it there (e.g. apt-get install git)"
	[ -z "$installing" ] || check_git_version
}

# The oldest git this script runs with (src/git.h says it too). Checked
# when the script is installed or sent whole, and by the probe: not on the
# steady path, where git runs as it did when it was checked.
GIT_MIN=2.20
check_git_version() {
	v=$(git version 2>/dev/null) || return 0
	v=${v#git version }
	major=${v%%.*} minor=${v#*.}
	minor=${minor%%.*}
	case $major.$minor in
	*[!0-9.]* | .* | *.) return 0 ;;	# not a version it can read: git's calls will say
	esac
	if [ "$major" -lt "${GIT_MIN%.*}" ] ||
	   { [ "$major" -eq "${GIT_MIN%.*}" ] && [ "$minor" -lt "${GIT_MIN#*.}" ]; }; then
		die "git $v on the sidecar is too old: sidecar needs git $GIT_MIN or later there; install a newer git on the sidecar"
	fi
}

# wd: the workspace as an absolute path; relative paths are from $HOME.
resolve() {
	case $1 in
	/*) wd=$1 ;;
	"~") wd=$HOME ;;
	"~/"*) wd=$HOME/${1#"~/"} ;;
	*) wd=${HOME%/}/$1 ;;
	esac
}

is_repo() { [ -d "$wd/.git" ]; }
# Whether something not a repository is at $wd: a file, or a directory
# with anything in it (an empty one becomes the workspace).
in_the_way() { [ -e "$wd" ] && { [ ! -d "$wd" ] || [ -n "$(ls -A "$wd" 2>/dev/null)" ]; }; }

# refuse WHY: a workspace the command line must change; exit 2 on the
# client (the reply says so), and nothing was changed.
refuse() {
	say refused usage
	die "$*"
}

# Refuses a workspace that is the home directory or one of its ancestors,
# whether it exists or not: the part of the path that exists is taken
# physically (cd; pwd -P), what follows it logically.
guard_home() {
	# cd -P in this shell (the physical path in PWD), not $(cd; pwd -P):
	# no process
	here=${PWD:-/} home=$HOME
	! cd -P "$HOME" 2>/dev/null || home=$PWD
	p=$wd rest=
	while [ ! -d "$p" ]; do
		case $p in
		?*/*) rest=${p##*/}${rest:+/$rest} p=${p%/*} ;;
		/*) rest=${p#/}${rest:+/$rest} p=/ ;;
		*) break ;;
		esac
	done
	real=$p
	! cd -P "$p" 2>/dev/null || real=$PWD
	cd "$here" 2>/dev/null || cd / || exit 1
	set -f
	oldifs=$IFS IFS=/
	for c in $rest; do
		case $c in
		"" | .) ;;
		..) real=${real%/*}; [ -n "$real" ] || real=/ ;;
		*) real=${real%/}/$c ;;
		esac
	done
	IFS=$oldifs
	set +f
	if [ "$real" = "$home" ]; then
		refuse "refusing $wd as the workspace: it is the home directory on the sidecar; a sync makes the workspace equal to the local tree, so give it a directory of its own (e.g. -w NAME, relative to the home directory)"
	fi
	case $home/ in
	"${real%/}"/*)
		refuse "refusing $wd as the workspace: it holds the home directory on the sidecar; a sync makes the workspace equal to the local tree, so give it a directory of its own (e.g. -w NAME, relative to the home directory)" ;;
	esac
}

# Reads .git/sidecar/owner: its root commits on the first line, the local
# work tree after it. Sets owner_roots and owner_path; fails when absent.
read_owner() {
	owner_roots='' owner_path=''
	[ -f "$wd/.git/sidecar/owner" ] || return 1
	{
		IFS= read -r owner_roots
		while IFS= read -r ol; do owner_path=$owner_path$ol$NL; done
	} < "$wd/.git/sidecar/owner"
	owner_path=${owner_path%"$NL"}
}

# check_owner OWNER ADOPT: refuses a repository sidecar did not create (no
# .git/sidecar of its own) or that another local repository's syncs made,
# unless ADOPT is 1. One made by an earlier version, which recorded no
# owner, is taken. Reads nothing but that file: no process.
check_owner() {
	is_repo || return 0
	[ "${2:-0}" = 1 ] && return 0
	if read_owner; then
		[ "$owner_path" = "$1" ] && return 0
		refuse "$wd on the sidecar is the workspace of another local repository ($owner_path), not of this one ($1); sync this one to a workspace of its own with -w NAME, or take that one over with --adopt (its files would be replaced by this tree, its edits saved first)"
	fi
	[ -d "$wd/.git/sidecar" ] && return 0
	at=$(cd "$wd" && git symbolic-ref -q --short HEAD 2>/dev/null || echo "a detached HEAD")
	refuse "$wd on the sidecar is a git repository that sidecar did not create; a sync would make its files equal to the local working tree, move its HEAD ($at) and branch to the local commit and write refs under refs/sidecar/ (saving its uncommitted edits and unsynced commits under refs/sidecar/saved/ first); to let it, sync with --adopt, or choose another workdir (-w)"
}

# record_owner OWNER ROOTS: notes which local repository the workspace
# belongs to, when that changed (ROOTS "-" keeps the roots known).
record_owner() {
	read_owner || { owner_path=''; owner_roots=-; }
	r=$2
	[ "$r" != - ] || r=${owner_roots:--}
	[ -f .git/sidecar/owner ] && [ "$owner_path" = "$1" ] && [ "$owner_roots" = "$r" ] && return 0
	[ -d .git/sidecar ] || mkdir -p .git/sidecar || die "cannot write in $wd/.git on the sidecar"
	printf '%s\n%s\n' "$r" "$1" > .git/sidecar/owner ||
		die "cannot write in $wd/.git on the sidecar"
}

# Enters the workspace; git works on it alone, never on a repository
# around it (a half-made .git would otherwise send git looking upward).
enter() {
	cd "$wd" || die "cannot enter $wd"
	export GIT_DIR="$wd/.git" GIT_WORK_TREE="$wd"
}

# Creates the workspace (and parents) when missing, or accepts an empty
# directory; the marker says sidecar made it, and fresh that this run did.
fresh=
create_workspace() {
	if [ -d "$wd/.git" ]; then
		return 0
	fi
	if [ -e "$wd" ] && [ ! -d "$wd" ]; then
		die "$wd exists on the sidecar and is not a directory; choose another workdir (-w)"
	fi
	if [ -d "$wd" ] && [ -n "$(ls -A "$wd" 2>/dev/null)" ]; then
		die "$wd exists on the sidecar and is not a git repository; choose another workdir (-w) or remove it"
	fi
	made=
	fresh=1	# an empty work tree: nothing there is in a sync's way
	if [ ! -d "$wd" ]; then
		err=$(mkdir -p -- "$wd" 2>&1) || die "cannot create $wd on the sidecar: ${err##*: }"
		made=1
	fi
	git init -q -- "$wd" >/dev/null || die "git init failed in $wd"
	mkdir -p "$wd/.git/sidecar" || die "cannot write in $wd/.git on the sidecar"
	# only a directory made here may one day be removed by sidecar
	if [ -n "$made" ]; then
		: > "$wd/.git/sidecar/created" || die "cannot write in $wd/.git on the sidecar"
	fi
}

# The identity of this boot of the sidecar: a lock from another boot is
# stale whatever its pid. Linux says it in a file (no process is started);
# elsewhere the time of the last boot, as who(1) prints it.
boot_id() {
	boot=
	if [ -r /proc/sys/kernel/random/boot_id ]; then
		read -r boot < /proc/sys/kernel/random/boot_id
	else
		boot=$(who -b 2>/dev/null) || boot=
	fi
	[ -n "$boot" ] || boot=-
}

# Serializes syncs of one workspace: the lock file is written whole under
# a temporary name and then linked to its name, which fails when a lock is
# there, so a lock always names its holder: "PID BOOT". A lock whose holder
# is gone, or that another boot of the sidecar left, is broken; so is an
# empty one (an older sidecar's, cut short by a full disk). Once the lock
# is held, the index lock of sidecar's private index can only be a dead
# sync's, and is removed; so is git's own .git/index.lock when it is older
# than ten minutes (git holds it for a moment; a crash leaves it).
lock() {
	l=.git/sidecar/lock
	lt=$l.$$
	tries=0
	[ -d .git/sidecar ] || mkdir -p .git/sidecar 2>/dev/null ||
		die "cannot create $wd/.git/sidecar on the sidecar (read-only file system or permission denied?)"
	boot_id
	if ! printf '%s %s\n' $$ "$boot" > "$lt" 2>/dev/null; then
		rm -f "$lt" 2>/dev/null
		die "cannot write the lock $wd/$l on the sidecar: the file system is read-only, full, or not writable by $(id -un 2>/dev/null || echo this user)"
	fi
	trap 'rm -f "$wd/$lt"' EXIT
	while ! ln "$lt" "$l" 2>/dev/null; do
		if [ ! -e "$l" ] && [ ! -L "$l" ]; then
			rm -f "$lt"
			die "cannot create the lock $wd/$l on the sidecar (does its file system support hard links?)"
		fi
		if [ ! -r "$l" ]; then
			rm -f "$lt"
			die "cannot read the lock $wd/$l on the sidecar (permission denied); remove it if no sync is running"
		fi
		holder= hboot=
		read -r holder hboot < "$l" || :
		if [ -z "$holder" ] || { [ -n "$hboot" ] && [ "$hboot" != "$boot" ]; } ||
		   ! kill -0 "$holder" 2>/dev/null; then
			# its holder died, perhaps in the middle of a transfer, or
			# the sidecar rebooted since; one breaker at a time, and only
			# the lock that was seen dead
			if mkdir "$l.break" 2>/dev/null; then
				again= aboot=
				[ -f "$l" ] && { read -r again aboot < "$l" || :; }
				[ "$again $aboot" = "$holder $hboot" ] &&
					rm -f "$l" "$l.$holder" .git/objects/pack/tmp_pack_* .git/objects/pack/tmp_idx_*
				rmdir "$l.break"
			fi
			continue
		fi
		if [ "$tries" -ge "$LOCK_WAIT" ]; then
			rm -f "$lt"
			die "another sync of $wd is running (pid $holder on the sidecar); try again when it ends"
		fi
		[ "$tries" -eq 0 ] && printf 'sidecar: waiting for another sync of %s (pid %s)\n' "$wd" "$holder" >&2
		say waiting "$tries"	# keeps the session from looking silent
		tries=$((tries + 1))
		sleep 1
	done
	trap 'on_exit' EXIT
	trap '' PIPE	# a vanished client: writes fail, the EXIT trap still runs
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if [ -e .git/sidecar/index.lock ]; then
		rm -f .git/sidecar/index.lock
	fi
	if [ -e .git/index.lock ]; then
		[ -n "$(find .git/index.lock -mmin +10 2>/dev/null)" ] ||
			die "git's index lock $wd/.git/index.lock on the sidecar is recent: another git command may be running there; nothing was changed. If none is, remove it and sync again"
		printf 'sidecar: removing a stale .git/index.lock in %s (older than ten minutes)\n' "$wd" >&2
		rm -f .git/index.lock
	fi
}

# Releases the lock; a transfer cut short leaves no temporary pack behind
# (index-pack does not remove its own when it dies).
unbundling=0
jobs_running=
on_exit() {
	# what runs beside the script ends with it, before the lock is let go
	if [ -n "$jobs_running" ]; then
		# shellcheck disable=SC2086 # pids, one a word
		kill $jobs_running 2>/dev/null
		wait
	fi
	if [ "$unbundling" = 1 ]; then
		rm -f "$wd"/.git/objects/pack/tmp_pack_* "$wd"/.git/objects/pack/tmp_idx_*
	fi
	holder=
	[ -f "$wd/$l" ] && read -r holder _ < "$wd/$l"
	# collect's index goes with the lock files, in the same rm
	if [ "$holder" = $$ ]; then
		rm -f "$wd/$l" "$wd/$lt" ${pull_idx:+"$wd/$pull_idx"}
	else
		rm -f "$wd/$lt" ${pull_idx:+"$wd/$pull_idx"}
	fi
}

rev() { git rev-parse -q --verify "$1" 2>/dev/null; }

# sidecar's own git calls that hash or write the files go through RAW, a
# common directory (GIT_COMMON_DIR) whose info/attributes turns every
# conversion off (line endings, filters, ident, encodings) and outranks
# any .gitattributes: the files are the local side's bytes. Its config
# includes the repository's and repeats its format (which git reads
# without includes), its info/exclude is the repository's; HEAD and the
# index are per work tree and stay the repository's, and no ref is ever
# written through it. The user's own git there sees the repository as it
# is, so its git status agrees with the local one.
RAW=.git/sidecar/raw
RAW_ATTRIBUTES='* -text -filter -ident -working-tree-encoding'
raw_dir() {
	[ -f "$RAW/info/attributes" ] && return 0
	[ ! -e "$RAW" ] || rm -rf "$RAW"
	# its config written by the shell: a git config call a key costs
	fmt=$(git config --local --get-regexp '^(core\.repositoryformatversion|extensions\.)') || fmt=
	mkdir -p "$RAW/info" "$RAW/refs" &&
	{
		printf '%s\n' "$fmt" | while read -r k v; do
			[ -z "$k" ] || printf '[%s]\n\t%s = %s\n' "${k%%.*}" "${k#*.}" "$v"
		done
		printf '[include]\n\tpath = ../../config\n'
	} > "$RAW/config" &&
	ln -s ../../../info/exclude "$RAW/info/exclude" &&
	printf '%s\n' "$RAW_ATTRIBUTES" > "$RAW/info/attributes.new" &&
	mv -f "$RAW/info/attributes.new" "$RAW/info/attributes" ||
		die "cannot write in $wd/.git on the sidecar"
}

# rawgit INDEX ARG...: git with the index INDEX, through RAW when it is
# there (a probe of a workspace an earlier version made goes without).
rawgit() {
	ri=$1
	shift
	if [ -f "$RAW/info/attributes" ]; then
		GIT_INDEX_FILE=$ri GIT_COMMON_DIR=$wd/$RAW GIT_OBJECT_DIRECTORY=$wd/.git/objects git "$@"
	else
		GIT_INDEX_FILE=$ri git "$@"
	fi
}

# The ignore rules of the local repository that are not in its tree
# (info/exclude, core.excludesFile) hold on the sidecar too: the rules a
# sync brings, and the id the client gave them, are kept in
# .git/sidecar/exclude (the id on its first line), and written at the top
# of .git/info/exclude between two marks, so that sidecar's scans, its
# git clean and the user's own git there ignore what the local side
# ignores. Lines of the sidecar's own in that file stay, after the marks.
RULES_BEGIN="# sidecar: from here to '# sidecar: end', the local repository's ignore rules outside its tree (info/exclude, core.excludesFile); each sync rewrites them, lines of the sidecar's own go after the end"
RULES_END='# sidecar: end'

# rules_had: the id of the rules in force there ("-": none).
rules_had() {
	had=-
	[ -f .git/sidecar/exclude ] && { read -r had < .git/sidecar/exclude || had=-; }
	[ -n "$had" ] || had=-
}

# install_rules FILE...: the rules in the files are the block of
# .git/info/exclude (none: no block).
install_rules() {
	f=.git/info/exclude
	[ -d .git/info ] || mkdir -p .git/info || die "cannot write in $wd/.git on the sidecar"
	{
		if [ -n "$(cat -- "$@")" ]; then
			printf '%s\n' "$RULES_BEGIN"
			cat -- "$@"
			printf '%s\n' "$RULES_END"
		fi
		[ ! -f "$f" ] || sed "/^# sidecar: from here to '# sidecar: end'/,/^# sidecar: end\$/d" "$f"
	} > "$f.sidecar" && mv -f "$f.sidecar" "$f" ||
		die "cannot write $wd/$f on the sidecar"
}

# rules_for_scan NEW: while the rules change, the scan ignores what the
# rules before or after the change ignore (the new ones after the old,
# so that theirs is the last word): a file a sync stops ignoring is kept
# by that sync; the next one takes it for an edit there (saved first).
rules_for_scan() {
	sed 1d .git/sidecar/exclude > .git/sidecar/exclude.old 2>/dev/null || : > .git/sidecar/exclude.old
	install_rules .git/sidecar/exclude.old "$1"
}

# commit_rules ID NEW: the new rules are the ones in force.
commit_rules() {
	install_rules "$2"
	if [ "$1" = - ]; then
		rm -f .git/sidecar/exclude
	else
		{ printf '%s\n' "$1"; cat -- "$2"; } > .git/sidecar/exclude.tmp &&
			mv -f .git/sidecar/exclude.tmp .git/sidecar/exclude ||
			die "cannot write in $wd/.git on the sidecar"
	fi
}

# rules_of SNAPSHOT: the rules its message carries, after the line the
# client writes before them (src/snapshot.h).
rules_of() {
	git cat-file commit "$1" | sed '1,/^$/d' |
		sed '1,/^sidecar: the ignore rules of the local repository outside its tree/d'
}

# sidecar's own refs there. They live apart from the local side's
# refs/sidecar/synced/<key>, which a copied .git brings along (rsync -a ./):
# refs/sidecar/synced as a ref and as a directory cannot both exist.
SYNCED=refs/sidecar/workspace/synced SHEAD=refs/sidecar/workspace/head

# synced, shead, h, htree, was and head_ref: the synced ref, the head ref,
# HEAD ("-" for each one missing), HEAD's tree (the empty tree), the tree
# sidecar left ($synced's, else HEAD's) and the branch HEAD names ("-"
# when detached). One git call, whatever exists: cat-file says "missing"
# where rev-parse would fail. The branch is read from .git/HEAD by the
# shell (git's own call only under reftable, whose HEAD file names no
# branch). An earlier version's refs/sidecar/synced and refs/sidecar/head
# are taken when the new ones are missing (legacy=1), and replaced at the
# next record.
read_refs() {
	legacy=
	head_ref=-
	hf=
	[ -f .git/HEAD ] && { read -r hf < .git/HEAD || :; }
	case $hf in
	"ref: refs/heads/.invalid") head_ref=$(git symbolic-ref -q HEAD) || head_ref=- ;;
	"ref: "*) head_ref=${hf#ref: } ;;
	esac
	# here-documents, not printf | git: git is the one process
	got=$(git cat-file --batch-check='%(objectname)' 2>/dev/null <<EOF
$SYNCED
$SHEAD
HEAD
$SYNCED^{tree}
HEAD^{tree}
refs/sidecar/synced
refs/sidecar/head
refs/sidecar/synced^{tree}
EOF
) || die "cannot read the refs of $wd"
	{
		read -r synced && read -r shead && read -r h && read -r was && read -r htree &&
			read -r osynced && read -r oshead && read -r owas
	} <<EOF || die "cannot read the refs of $wd"
$got
EOF
	for v in synced shead h was htree osynced oshead owas; do
		eval "case \$$v in *' '*) $v=- ;; esac"
	done
	if [ "$synced" = - ] && [ "$osynced" != - ]; then
		legacy=1 synced=$osynced shead=$oshead was=$owas
	fi
	[ "$htree" != - ] || htree=$EMPTY_TREE
	[ "$synced" != - ] || was=$htree
}

# The ref updates that retire an earlier version's refs (see read_refs).
retire_legacy() {
	[ -n "$legacy" ] || return 0
	echo "delete refs/sidecar/synced"
	[ -z "$(rev refs/sidecar/head)" ] || echo "delete refs/sidecar/head"
}

# Sets itree: the tree of the index when it holds staged changes (a sync
# leaves it at HEAD), else "-". One git call when it holds none; with a
# pid, that call was started already (index_differs &) and is waited for.
read_index() {
	itree=-
	if [ -n "${1:-}" ]; then
		wait "$1" && return 0
	else
		index_differs && return 0
	fi
	itree=$(git write-tree 2>/dev/null) || itree=-
}
index_differs() { git diff-index --cached --quiet "$htree" -- 2>/dev/null; }

# scan_add IDX: git add -A of the workspace into the index IDX, less the
# git repositories inside it that git would add as gitlinks of their own
# (one cloned there, or the workspace of a submodule removed since): like
# ignored files, they are neither saved nor removed. A submodule the index
# has already is not one of them. Its stderr is git's, but for that warning;
# it waits in IDX.err, left for the next scan to overwrite (no process more
# when git said nothing).
scan_add() {
	se=$1.err
	rawgit "$1" add -A -- . 2>"$se"
	st=$?
	[ -s "$se" ] || return $st
	sed -n 's/^warning: adding embedded git repository: //p' "$se" |
	while IFS= read -r p; do
		GIT_INDEX_FILE=$1 git update-index --force-remove -- "$p" || exit 1
	done || st=1
	grep -v '^warning: adding embedded git repository: \|^hint: ' "$se" >&2
	: > "$se"
	return $st
}

# The tree the workspace holds now, ignored files aside, through a private
# index whose stat data makes this cheap when little changed. Needs synced.
current_tree() {
	idx=.git/sidecar/index
	[ -d .git/sidecar ] || mkdir .git/sidecar || die "cannot write in $wd/.git on the sidecar"
	if [ ! -f "$idx" ] || [ "$synced" = - ]; then
		head_index seed
	fi
	if ! scan_add "$idx" 2>/dev/null ||
	   ! GIT_INDEX_FILE=$idx git write-tree 2>/dev/null; then
		# an object it names was pruned: build it again from HEAD
		head_index
		scan_add "$idx" || die "cannot scan the workspace $wd"
		GIT_INDEX_FILE=$idx git write-tree || die "cannot record the workspace $wd"
	fi
}

# head_index [seed]: the private index anew, at HEAD (empty on an unborn
# branch); with "seed", from the workspace's own index when it may be.
head_index() {
	rm -f "$idx"
	[ -n "$(rev HEAD)" ] || return 0
	[ -n "${1:-}" ] && seed_index && return 0
	GIT_INDEX_FILE=$idx git read-tree HEAD || die "cannot read HEAD in $wd"
}

# The workspace's own index lends its stat data (read-tree -m keeps it
# where the blob is HEAD's), so that git add reads only the files changed
# since git last looked there, not every file (a clone of the bench's
# repository: 130 to 75 ms). Not when git would take an entry on trust
# (ls-files -v: a lower-case tag, assumed unchanged; S, skip-worktree),
# nor from a split index, whose shared part git would write beside the
# workspace's own. Fails, leaving no index, when it cannot.
seed_index() {
	set -- .git/sharedindex.*
	[ -f .git/index ] && [ ! -e "$1" ] && tags=$(git ls-files -v 2>/dev/null) || return 1
	case $NL$tags in *"$NL"[a-z]" "* | *"$NL"S" "*) return 1 ;; esac
	cp .git/index "$idx" 2>/dev/null && GIT_INDEX_FILE=$idx git read-tree -m HEAD 2>/dev/null &&
		return 0
	rm -f "$idx"
	return 1
}

# Commits tree $1 (the workspace as found) to refs/sidecar/saved/<UTC time>;
# with a tree $2, the index found there is its last parent, as git stash
# keeps it (a commit of that tree on HEAD). Its message names the tree
# sidecar had left there ($was), what the edits were made to (pull --saved),
# and the snapshot that holds it is its last parent, so that it stays.
save_edits() {
	parent=$(rev HEAD) i=
	if [ -n "${2:-}" ]; then
		i=$(git commit-tree "$2" ${parent:+-p "$parent"} -m "sidecar: the index (staged changes) found on the sidecar before a sync") ||
			die "cannot save the edits found in $wd; nothing was changed"
	fi
	# the snapshot sidecar left, last: the base stays reachable
	last=
	[ "$synced" = - ] || [ "$synced" = "$parent" ] || last=$synced
	c=$(git commit-tree "$1" ${parent:+-p "$parent"} ${i:+-p "$i"} ${last:+-p "$last"} \
		-m "$EDITS_SUBJECT" -m "$BASE_MARK $was") ||
		die "cannot save the edits found in $wd; nothing was changed"
	save_ref "$c" "" "cannot save the edits found in $wd; nothing was changed"
	if [ -n "$i" ] && [ -n "$parent" ]; then
		say staged "$ref^2"
	elif [ -n "$i" ]; then
		say staged "$ref^1"
	fi
}

# save_ref COMMIT SUFFIX WHY: keeps COMMIT as refs/sidecar/saved/<UTC
# time>SUFFIX, a free name ("-2", "-3"... added when taken), in ref, and
# says so in the reply; dies with WHY when it cannot.
save_ref() {
	sr=refs/sidecar/saved/$(date -u +%Y%m%dT%H%M%SZ)$2
	ref=$sr sk=1
	while [ -n "$(rev "$ref")" ]; do
		sk=$((sk + 1))
		ref=$sr-$sk
	done
	git update-ref "$ref" "$1" || die "$3"
	say saved "$ref"
}

# Whether commit $1 would be lost when its branch moves to $2 ("-": none).
would_lose() {
	[ "$1" != - ] && [ "$1" != "$shead" ] && [ "$1" != "$2" ] &&
		{ [ "$2" = - ] || ! git merge-base --is-ancestor "$1" "$2" 2>/dev/null; }
}

# Saves the workspace (tree $1) when it is not what sidecar left there:
# edited files, or commits made on the sidecar that the move of HEAD to
# commit $2 would leave behind (those are the saved commit's parents).
# Staged changes that are neither in HEAD nor in the files are saved too
# (the index's tree as a parent). Needs read_refs and read_index.
save_if_modified() {
	staged=
	[ "$itree" = - ] || [ "$itree" = "$1" ] || staged=$itree
	if [ "$1" != "$was" ] || [ -n "$staged" ] || would_lose "$h" "$2"; then
		save_edits "$1" ${staged:+"$staged"}
	fi
}

# HEAD names the local branch at the local commit, with the index at HEAD
# (read-tree -m keeps the stat data of entries that did not change), and
# the synced refs move, all in one ref transaction.
set_head() {
	branch=$1 commit=$2 snap=$3
	if [ "$branch" != - ]; then
		# (a workspace this sync created has no branch to clash)
		[ "$head_ref" = "refs/heads/$branch" ] || [ -n "$fresh" ] ||
			clear_clashes "$branch" "$commit"
		if [ "$commit" != - ]; then
			moves="update refs/heads/$branch $commit"
		else
			moves="delete refs/heads/$branch"
		fi
	else
		moves="update HEAD $commit"
	fi
	if [ "$commit" != - ]; then
		sh_head="update $SHEAD $commit"
	else
		sh_head="delete $SHEAD"
	fi
	# a here-document: no process more than git (retire_legacy's is rare)
	retired=
	[ -z "$legacy" ] || retired=$NL$(retire_legacy)
	git update-ref --no-deref --stdin 2>.git/sidecar/ref.err <<EOF || record_failed
$moves
$sh_head
update $SYNCED $snap$retired
EOF
	# HEAD moves to the branch once the branch is there: never left unborn
	if [ "$branch" != - ] && [ "$head_ref" != "refs/heads/$branch" ]; then
		git symbolic-ref HEAD "refs/heads/$branch" || die "cannot set HEAD to $branch"
	fi
	# a merge, cherry-pick or revert left half-done there was saved: it ends
	if [ -n "$in_merge" ]; then
		rm -f .git/MERGE_HEAD .git/MERGE_MSG .git/MERGE_MODE .git/AUTO_MERGE \
			.git/CHERRY_PICK_HEAD .git/REVERT_HEAD
	fi
	# the index is already at HEAD when HEAD stayed and nobody touched it
	if [ "$h" = "$commit" ] && [ "$now" = "$was" ] && [ "$itree" = - ] && [ -f .git/index ] &&
	   [ -z "$in_merge" ]; then
		return 0
	fi
	# --reset: unmerged entries a conflict left go too (they were saved)
	if [ "$commit" != - ]; then
		git read-tree --reset -i "$commit"
	else
		git read-tree --empty
	fi || die "cannot reset the index to HEAD"
}

# Branch $1 cannot be made while a branch named as one of its directories
# (feature for feature/x) or one inside it (feature/x for feature) is
# there: such branches go, each saved first unless commit $2 (or what
# sidecar left) holds it. Branch names are git's refnames: no spaces.
clear_clashes() {
	gone=
	for r in $(git for-each-ref --format='%(refname)=%(objectname)' refs/heads/); do
		n=${r%%=*} o=${r#*=}
		[ "$n" != "refs/heads/$1" ] || continue
		case refs/heads/$1/ in "$n"/*) ;; *)
			case $n in "refs/heads/$1/"*) ;; *) continue ;; esac ;;
		esac
		# the branch checked out was saved already when it must be
		if [ "$n" != "$head_ref" ] && would_lose "$o" "$2"; then
			save_ref "$o" -branch "cannot save branch ${n#refs/heads/} before removing it"
		fi
		gone="$gone${NL}delete $n $o"
	done
	[ -z "$gone" ] && return 0
	printf '%s\n' "${gone#"$NL"}" | git update-ref --no-deref --stdin ||
		die "cannot remove the branches whose names clash with $1"
}

# The ref transaction of a sync failed: git's words, and what to do.
record_failed() {
	sed 's/^/sidecar: git update-ref: /' .git/sidecar/ref.err >&2
	die "cannot record the sync in $wd: a ref there is in the way of sidecar's own (see 'git for-each-ref refs/sidecar refs/heads' there; delete the one git names with 'git update-ref -d REF'), or .git cannot be written; then run sync again"
}

# A path the sync adds may stand on the sidecar as an ignored file or
# directory (or under an ignored file or symlink), which read-tree would
# overwrite: such paths are added to the scan and saved first, and then
# replaced like tracked files. Paths stay NUL-separated data: the added
# ones come from diff-tree -z, xargs -0 hands them to a loop as arguments
# (never read, never split), and what stands in their way goes to
# update-index -z. Sets now.
KEEP_IGNORED='
for p; do
	q= r=$p f=
	# the first of its directories that is not one on disk: a file or a
	# symlink (a tracked one only refreshes: read-tree replaces it)
	while :; do
		case $r in */*) ;; *) break ;; esac
		q=$q${r%%/*} r=${r#*/}
		if [ -L "$q" ] || { [ -e "$q" ] && [ ! -d "$q" ]; }; then
			f=$q
			break
		fi
		q=$q/
	done
	if [ -n "$f" ]; then
		printf "%s\\0" "$f"
	elif [ -L "$p" ] || [ -f "$p" ]; then
		printf "%s\\0" "$p"
	elif [ -d "$p" ]; then
		# an ignored directory where a file goes: the files in it
		GIT_LITERAL_PATHSPECS=1 git ls-files -z -o -- "$p" || exit 255
	fi
done'
KEEP=.git/sidecar/keep
# changes TREE1 TREE2: sets n, how many paths differ, and writes the ones
# TREE2 adds, NUL-separated, to $KEEP.added, from one diff-tree. Its lines
# quote an odd name; when an added one is quoted, a second diff-tree (-z)
# lists the added paths as they are. In a workspace this sync created,
# nothing is in the way (keep_ignored): it only counts.
changes() {
	if [ -n "$fresh" ]; then
		count_changes "$1" "$2"
		return
	fi
	st=$(git diff-tree -r --no-renames --name-status "$1" "$2") || return 1
	count_lines "$st"
	quoted=
	set -f
	ifs=$IFS IFS=$NL
	# shellcheck disable=SC2086 # split on newlines only, no globbing
	for c in $st; do
		case $c in
		A"	"\"*) quoted=1 ;;
		A"	"*) printf '%s\0' "${c#A	}" ;;
		esac
	done > "$KEEP.added"
	IFS=$ifs
	set +f
	[ -z "$quoted" ] && return 0
	git diff-tree -z -r --no-renames --name-only --diff-filter=A "$1" "$2" > "$KEEP.added"
}
keep_ignored() {
	k=$KEEP
	[ -z "$fresh" ] && [ -s "$k.added" ] || return 0
	GIT_INDEX_FILE=.git/sidecar/index xargs -0 sh -c "$KEEP_IGNORED" sidecar < "$k.added" > "$k" ||
		die "cannot look for ignored files in the way of the sync in $wd"
	[ -s "$k" ] || return 0
	rawgit .git/sidecar/index update-index -z --add --remove --stdin < "$k" ||
		die "cannot save the ignored files the sync would overwrite in $wd; nothing was changed"
	kept=$(GIT_INDEX_FILE=.git/sidecar/index git write-tree) || die "cannot record the workspace $wd"
	if [ "$kept" != "$now" ]; then
		now=$kept
		save_edits "$now"
	fi
}

# Stores the pack on stdin through index-pack, which reads stdin itself (no
# device file such as /dev/stdin is needed) and whose own words say why it
# failed.
receive_pack() {
	# its words are kept in memory: on a full disk no file can hold them
	if ! err=$(git index-pack --stdin --fix-thin 2>&1 >/dev/null); then
		printf '%s\n' "$err" | sed 's/^/sidecar: git index-pack: /' >&2
		case $err in
		*"No space left"*)
			die "the sidecar's disk is full: could not store the snapshot in $wd; the workspace is unchanged" ;;
		esac
		die "could not store the snapshot in $wd (it did not arrive whole, or git could not write it); the workspace is unchanged"
	fi
}

# Adds the commits among $@ that are here to .git/shallow (the history
# below them was not sent), as git clone --depth does.
record_shallow() {
	[ $# -gt 0 ] || return 0
	got=$(printf '%s\n' "$@" | git cat-file --batch-check='%(objecttype) %(objectname)') ||
		die "cannot record the shallow history of $wd"
	add=
	for w in $got; do
		case $w in commit) keep=1 ;; *) [ "${keep:-}" = 1 ] && add="$add $w"; keep= ;; esac
	done
	[ -n "$add" ] || return 0
	{
		[ -f .git/shallow ] && while IFS= read -r c; do printf '%s\n' "$c"; done < .git/shallow
		printf '%s\n' $add
	} | sort -u > .git/shallow.sidecar && mv -f .git/shallow.sidecar .git/shallow ||
		die "cannot record the shallow history of $wd"
}

# Sets n: how many paths differ between trees $1 and $2 (git quotes odd
# names, so one path is one line; counted by the shell, not wc).
count_changes() {
	paths=$(git diff-tree -r --name-only --no-renames "$1" "$2") || return 1
	count_lines "$paths"
}
count_lines() {
	set -f
	ifs=$IFS IFS=$NL
	# shellcheck disable=SC2086 # split on newlines only, no globbing
	set -- $1
	IFS=$ifs
	set +f
	n=$#
}

op_probe() {
	resolve "$1"
	guard_home
	if ! command -v git >/dev/null 2>&1; then
		say git no
		return 0
	fi
	check_git_version
	say workdir "$wd"
	if ! is_repo; then
		if in_the_way; then
			say exists other
		else
			say exists no
		fi
		return 0
	fi
	check_owner "$3" "${4:-0}"
	enter
	say exists yes
	read_refs
	[ "$synced" = - ] || say synced "$synced"
	[ "$h" = - ] || say head "$h"
	o=$(rev refs/remotes/origin/HEAD) && say origin "$o"
	[ "$2" != - ] && git cat-file -e "$2^{commit}" 2>/dev/null && say has_snapshot yes
	# a scan on a copy of the private index: the probe takes no lock
	if [ -f .git/sidecar/index ] && [ "$synced" != - ]; then
		cp .git/sidecar/index .git/sidecar/index.probe.$$ 2>/dev/null
		trap 'rm -f "$wd/.git/sidecar/index.probe.$$" "$wd/.git/sidecar/index.probe.$$.err"' EXIT
		scan_add .git/sidecar/index.probe.$$ 2>/dev/null
		now=$(GIT_INDEX_FILE=.git/sidecar/index.probe.$$ git write-tree 2>/dev/null)
		if [ "$now" = "$was" ] && { git diff-index --cached --quiet "$htree" -- ||
		   git diff-index --cached --quiet "$now" --; } 2>/dev/null; then
			say modified no
		else
			say modified yes
			# what a sync would take back, for a dry run to count
			[ "${5:-0}" = 1 ] && [ -n "$now" ] &&
				git -c core.quotepath=on diff-tree -r --no-renames "$was" "$now" |
				while IFS= read -r e; do say edit "$e"; done
		fi
	fi
}

# apply WD EXPECT OWNER ROOTS ADOPT RULES, then on stdin the header and
# the pack (see the protocol). The lock, the base check and the scan of
# the workspace come first, while the other side is still building the
# snapshot.
op_apply() {
	resolve "$1"
	expect=$2 owner=${3:-} roots=${4:--} rid=${6:--}
	guard_home
	need_git
	check_owner "$owner" "${5:-0}"
	# a sync that expects a snapshot and finds no workspace (the sidecar
	# was made anew): nothing there to lock or compare, and nothing made,
	# so that the apply that follows, with no base, finds it fresh
	if [ "$expect" != - ] && ! is_repo && ! in_the_way; then
		say workdir "$wd"
		say exists no
		say base-moved yes
		return 0
	fi
	create_workspace
	enter
	say workdir "$wd"
	lock
	read_refs
	if [ "$expect" != "$synced" ]; then
		say base-moved yes
		[ "$synced" = - ] || say synced "$synced"
		return 0
	fi
	record_owner "$owner" "$roots"
	raw_dir
	rules_had
	# the workspace is scanned and the index looked at while the snapshot
	# is made and arrives (jobs have /dev/null for stdin); when the rules
	# outside the tree change, the scan waits for the snapshot, which
	# brings the new ones
	# (a workspace this sync created has an empty work tree and index:
	# nothing to scan or read)
	# (posh 0.14 garbles the word of a later wait, depending on the
	# lengths of the paths involved: it scans after the pack arrives)
	scan= staged=
	if [ -z "$fresh" ] && [ -z "${POSH_VERSION:-}" ]; then
		if [ "$rid" = "$had" ]; then
			(trap - EXIT; current_tree) > .git/sidecar/now & scan=$!
		fi
		(trap - EXIT; index_differs) & staged=$!
	fi
	jobs_running="$scan $staged"
	read -r snap new commit pack branch nshallow ||
		die "the sync was cut short before the snapshot arrived; nothing changed"
	cuts=
	while [ "${nshallow:-0}" -gt 0 ]; do
		read -r c || die "the sync was cut short before the snapshot arrived; nothing changed"
		cuts="$cuts $c"
		nshallow=$((nshallow - 1))
	done
	if [ "$pack" = 1 ]; then
		unbundling=1
		receive_pack
		unbundling=0
	fi
	if [ -n "$fresh" ]; then
		now=$EMPTY_TREE itree=-
	else
		if [ -n "$scan" ]; then
			wait "$scan" || exit 1	# it said why
			read -r now < .git/sidecar/now || die "cannot record the workspace $wd"
		elif [ "$rid" = "$had" ]; then
			now=$(current_tree) || exit 1
		fi
		read_index "$staged"
	fi
	jobs_running=
	# shellcheck disable=SC2086 # object names, one a word
	record_shallow $cuts
	if [ "$rid" != "$had" ]; then
		rules_of "$snap" > .git/sidecar/exclude.new ||
			die "snapshot $snap is missing on the sidecar"
		if [ -z "$fresh" ]; then
			rules_for_scan .git/sidecar/exclude.new
			now=$(current_tree) || exit 1
		fi
	fi
	# a merge (or cherry-pick, revert) stopped on a conflict is an edit
	in_merge=
	if [ -f .git/MERGE_HEAD ] || [ -f .git/CHERRY_PICK_HEAD ] || [ -f .git/REVERT_HEAD ]; then
		in_merge=1
	fi
	save_if_modified "$now" "$commit"
	if [ "$branch" != - ] && [ "$head_ref" != "refs/heads/$branch" ]; then
		# another branch of the same name, not checked out, moves too
		old=$(rev "refs/heads/$branch" || printf '%s\n' -)
		if would_lose "$old" "$commit"; then
			save_ref "$old" "-$branch" "cannot save branch $branch before moving it"
		fi
	fi
	want_head=-
	[ "$branch" != - ] && want_head=refs/heads/$branch
	if [ "$now" = "$new" ] && [ "$synced" = "$snap" ] && [ "$h" = "$commit" ] &&
	   [ "$head_ref" = "$want_head" ] && [ "$itree" = - ] && [ -z "$legacy" ] &&
	   [ -z "$in_merge" ]; then
		[ "$rid" = "$had" ] || commit_rules "$rid" .git/sidecar/exclude.new
		say result up-to-date
		say changed 0
		applied=1
		return 0
	fi
	changes "$now" "$new" || die "snapshot $snap is missing on the sidecar"
	changed=$n
	keep_ignored
	update_files "$now" "$new"
	set_head "$branch" "$commit" "$snap"
	[ "$rid" = "$had" ] || commit_rules "$rid" .git/sidecar/exclude.new
	say result synced
	say changed "$changed"
	applied=1
	gc_now_and_then
}

# update_files TREE1 TREE2: the files go from TREE1 (what the scan found,
# in the private index) to TREE2. Many are written by a git worker per
# core (git 2.32 on; an older one ignores the setting), from 500: the
# bench's tree on 2 cores, 1,000 new files 100 to 75 ms, 2,245 127 to 98;
# 200 changed files gain nothing. An entry an earlier sync wrote in the
# same clock tick as its file stays "racily clean" (git add -A leaves it
# so), and read-tree can take it for changed though its bytes are the
# index's ("not uptodate"; git 2.39, a .gitattributes with eol=crlf; git
# update-index --refresh finds it unchanged): the scan has just found every
# file as the index holds it, so the stat data is taken anew, and
# read-tree tries once more. Its words the first time are kept in a file
# (no process more when it succeeds), and said when it failed otherwise.
update_files() {
	ut=.git/sidecar/read-tree.err
	checkout_tree "$1" "$2" 2>"$ut" && return 0
	if grep -q ' not uptodate' "$ut"; then
		rawgit .git/sidecar/index update-index -q --refresh >/dev/null 2>&1
		checkout_tree "$1" "$2" && return 0
	else
		cat "$ut" >&2
	fi
	die "could not update the files in $wd (git said why above); run sync again"
}
checkout_tree() {
	rawgit .git/sidecar/index -c checkout.workers=0 -c checkout.thresholdForParallelism=500 \
		read-tree -m -u "$1" "$2"
}

# Each sync brings a small pack; git folds them now and then, as fetch
# would, by gc --auto's own measures (more than 50 packs, or about 6,700
# loose objects, judged by objects/17 as git does), looked at by the shell
# so that no process starts when there is nothing to do.
gc_now_and_then() {
	set -- .git/objects/pack/*.pack
	packs=$#
	set -- .git/objects/17/*
	[ -e "$1" ] || set --
	[ "$packs" -gt 50 ] || [ $# -gt 27 ] || return 0
	(git gc --auto --quiet </dev/null >/dev/null 2>&1 &)
}

# Brings back the edits a removal kept beside the workspace (see
# op_remove), in the workspace just cloned (the current directory).
restore_saved() {
	r=$(pwd -P) || return 1
	keep=${r%/*}/.${r##*/}.sidecar-saved.git
	[ -f "$keep/sidecar-created" ] || return 0
	git fetch -q "$keep" '+refs/sidecar/saved/*:refs/sidecar/saved/*' ||
		die "cannot bring back the edits saved in $keep; they are still there"
	rm -rf -- "$keep"
}

# patch-setup WD URL BRANCH DRY OWNER ROOTS ADOPT: clone when absent (not
# when DRY is 1); the base; remote edits?
op_patch_setup() {
	resolve "$1"
	url=$2 branch=$3 dry=${4:-0} owner=${5:-} roots=${6:--}
	guard_home
	need_git
	check_owner "$owner" "${7:-0}"
	if ! is_repo && [ "$dry" = 1 ]; then
		say exists no
		return 0
	fi
	if ! is_repo; then
		if in_the_way; then
			die "$wd exists on the sidecar and is not a git repository; choose another workdir (-w) or remove it"
		fi
		err=$(mkdir -p -- "$(dirname -- "$wd")" 2>&1) ||
			die "cannot create the parent of $wd on the sidecar: ${err##*: }"
		made=
		[ -d "$wd" ] || made=1
		# no checkout: it writes the files as bytes below
		if ! err=$(git clone -q --no-checkout -- "$url" "$wd" 2>&1); then
			printf '%s\n' "$err" | sed 's/^/sidecar: git clone: /' >&2
			die "the sidecar cannot clone origin ($url); the default snapshot mode needs no access to origin: run 'sidecar sync' without --mode patch"
		fi
		mkdir -p "$wd/.git/sidecar"
		[ -n "$made" ] && : > "$wd/.git/sidecar/created"
		say cloned yes
		(cd "$wd" && restore_saved) || exit 1
		[ "$roots" != - ] ||
			roots=$(cd "$wd" && git rev-list --max-parents=0 HEAD 2>/dev/null | tr '\n' ' ')
		(cd "$wd" && record_owner "$owner" "${roots% }") || exit 1
	fi
	enter
	if [ "${made+cloned}" = cloned ]; then
		# the local branch when origin has it, else the default one
		if [ "$branch" != - ] && [ -n "$(rev "refs/remotes/origin/$branch")" ]; then
			git show-ref -q --verify "refs/heads/$branch" ||
				git branch -q --track "$branch" "origin/$branch" 2>/dev/null
			git symbolic-ref HEAD "refs/heads/$branch" || die "cannot check out $branch in $wd"
		fi
		raw_dir
		rawgit .git/index read-tree --reset -u HEAD || die "cannot check out the files in $wd"
	fi
	say workdir "$wd"
	base=$(rev refs/remotes/origin/HEAD || rev HEAD) || die "$wd on the sidecar has no commit to use as a base"
	say base "$base"
	read_refs
	now=$(current_tree) || exit 1
	if [ "$now" != "$was" ]; then
		say modified yes
	else
		say modified no
	fi
	# the workspace is exactly the base: an empty patch has nothing to do
	if [ "$now" = "$(git rev-parse "$base^{tree}")" ] && [ "$h" = "$base" ]; then
		say at_base yes
	fi
}

# hard COMMIT: what git reset --hard COMMIT does, the files written as
# bytes (through RAW; the ref moves outside it).
hard() {
	rawgit .git/index read-tree --reset -u "$1" && git update-ref HEAD "$1" &&
		rm -f .git/MERGE_HEAD .git/MERGE_MSG .git/MERGE_MODE .git/AUTO_MERGE \
			.git/CHERRY_PICK_HEAD .git/REVERT_HEAD .git/SQUASH_MSG ||
		die "cannot reset $wd to $1"
}

# patch-apply WD BASE NONEMPTY OWNER ADOPT RULES: save edits, reset to
# BASE, apply the patch on stdin (there is none when NONEMPTY is 0),
# after the rules outside the tree.
op_patch_apply() {
	resolve "$1"
	base=$2 nonempty=${3:-1} rid=${6:--}
	guard_home
	need_git
	[ -d "$wd/.git" ] || die "$wd is missing on the sidecar"
	check_owner "${4:-}" "${5:-0}"
	enter
	lock
	record_owner "${4:-}" -
	raw_dir
	read -r nrules || die "the sync was cut short before the patch arrived; nothing changed"
	: > .git/sidecar/exclude.new || die "cannot write in $wd/.git on the sidecar"
	while [ "${nrules:-0}" -gt 0 ]; do
		IFS= read -r r || die "the sync was cut short before the patch arrived; nothing changed"
		printf '%s\n' "$r" >> .git/sidecar/exclude.new
		nrules=$((nrules - 1))
	done
	rules_had
	[ "$rid" = "$had" ] || rules_for_scan .git/sidecar/exclude.new
	read_refs
	now=$(current_tree) || exit 1
	read_index
	save_if_modified "$now" "$base"
	# what the last patch made is tracked at the synced commit, files
	# .gitignore matches too: going back there first, the reset to the
	# base removes them; the clean runs under the synced state's ignore rules
	if [ "$synced" != - ]; then
		hard "$synced"
		git clean -fdq || die "cannot clean $wd"
		hard "$base"
	else
		hard "$base"
		git clean -fdq || die "cannot clean $wd"
	fi
	# the patch goes to the private index too (a copy of the index at the
	# base), so the synced tree holds every file it made, ignored or not
	cp .git/index .git/sidecar/index || die "cannot write in $wd/.git on the sidecar"
	if [ "$nonempty" = 1 ] && ! rawgit .git/sidecar/index \
			apply --index --binary --whitespace=nowarn 2>.git/sidecar/apply.err; then
		sed 's/^/sidecar: git apply: /' .git/sidecar/apply.err >&2
		rm -f .git/sidecar/index
		say result drift
		return 0
	fi
	tree=$(GIT_INDEX_FILE=.git/sidecar/index git write-tree) || die "cannot record the workspace $wd"
	# the index stays at the base. The files the patch wrote lose their
	# stat data there, then git (with the sidecar's conversions) looks at
	# them again: one that is the base's as git sees it (line endings, say)
	# is unchanged to git status, which would take its new size for a change
	git diff-tree -z -r --no-renames --name-only "$base" "$tree" > .git/sidecar/patched ||
		die "cannot update the index of $wd"
	if [ -s .git/sidecar/patched ]; then
		GIT_LITERAL_PATHSPECS=1 xargs -0 git ls-files -s -z -- < .git/sidecar/patched |
			git update-index -z --index-info || die "cannot update the index of $wd"
		git update-index -q --refresh >/dev/null 2>&1 || :
	fi
	c=$(git commit-tree "$tree" -p "$base" -m "sidecar: synced state") || die "cannot record the sync"
	{
		printf 'update %s %s\nupdate %s %s\n' "$SYNCED" "$c" "$SHEAD" "$base"
		retire_legacy
	} | git update-ref --stdin 2>.git/sidecar/ref.err || record_failed
	[ "$rid" = "$had" ] || commit_rules "$rid" .git/sidecar/exclude.new
	say result synced
	count_changes "$base" "$tree" || die "cannot compare $base with the patched tree in $wd"
	say changed "$n"
}

# remove WD: only a workspace sidecar created, never home or its
# ancestors. The edits saved there are kept beside it, in a repository of
# their own (.NAME.sidecar-saved.git), until patch-setup clones it again.
op_remove() {
	resolve "$1"
	[ -d "$wd" ] || return 0
	real=$(cd "$wd" 2>/dev/null && pwd -P) || die "cannot enter $wd"
	home=$(cd "$HOME" 2>/dev/null && pwd -P) || home=$HOME
	case $real in
	/ | . | .. | "$home") die "refusing to remove $real" ;;
	esac
	case $home/ in
	"$real"/*) die "refusing to remove $real: it holds the home directory" ;;
	esac
	[ -f "$real/.git/sidecar/created" ] ||
		die "refusing to remove $real: sidecar did not create it; remove it yourself if you mean to"
	# the workspaces of its submodules, with edits saved in them, go only by hand
	nested=$(find "$real" -path "$real/.git" -prune -o -path '*/.git/sidecar/created' -print 2>/dev/null | sed -n 1p)
	[ -z "$nested" ] ||
		die "refusing to remove $real: it holds the workspace of a submodule (${nested%/.git/sidecar/created}), with its saved edits; sync it in snapshot mode, or remove it yourself"
	if [ -n "$(git -C "$real" for-each-ref --count=1 refs/sidecar/saved/ 2>/dev/null)" ]; then
		keep=${real%/*}/.${real##*/}.sidecar-saved.git
		{ [ -f "$keep/sidecar-created" ] ||
			{ git init -q --bare -- "$keep" >/dev/null && : > "$keep/sidecar-created"; }; } &&
		git --git-dir="$keep" fetch -q "$real/.git" '+refs/sidecar/saved/*:refs/sidecar/saved/*' ||
			die "cannot keep the edits saved in $real; it was not removed"
	fi
	rm -rf -- "$real" || die "could not remove $real"
	say removed "$real"
}

# --- what comes back: saved edits, files ----------------------------------

# The objects of the revisions on stdin ("^OID" for those HAVES names that
# are here) as a pack on the reply channel, after the reply: for a side
# that has HAVES (space separated, "-": none), thin.
send_pack() {
	for o in $2; do
		[ "$o" != - ] && git cat-file -e "$o^{commit}" 2>/dev/null && printf '^%s\n' "$o"
	done > .git/sidecar/have.$$
	for o in $1; do
		[ "$o" = "$EMPTY_TREE" ] || printf '%s\n' "$o"
	done | cat - .git/sidecar/have.$$ |
		git pack-objects --revs --stdout --thin --delta-base-offset -q >&3
	st=$?
	rm -f .git/sidecar/have.$$
	[ $st = 0 ] || die "git pack-objects failed in $wd"
}

# Each saved ref (refs/sidecar/saved/*, oldest first) as "REF COMMIT BASE
# KIND": BASE the tree the edits were made to (their message says; else the
# first parent's, "-" for none), KIND edits or branch (a commit a moved
# branch would have lost). Only the subject of a commit is read as a line:
# a branch's commits are the user's, their messages anything.
saved_refs() {
	git for-each-ref --format='%(refname) %(objectname) %(contents:subject)' refs/sidecar/saved/ |
	while read -r ref c subject; do
		b=- k=branch
		if [ "$subject" = "$EDITS_SUBJECT" ]; then
			k=edits
			b=$(git cat-file commit "$c" | sed -n "s/^$BASE_MARK //p" | sed -n 1p)
			[ -n "$b" ] || b=-
		fi
		printf '%s %s %s %s\n' "$ref" "$c" "$b" "$k"
	done
}

# say_entry REF COMMIT BASE KIND: the entry, its base, and the paths it changes.
say_entry() {
	b=$3
	[ "$b" != - ] || b=$(rev "$2^1^{tree}") || b=$EMPTY_TREE
	say entry "$1 $2 $b $4"
	git -c core.quotepath=on diff-tree -r --no-renames --name-status "$b" "$2" > .git/sidecar/paths.$$ ||
		die "cannot read what $1 changes in $wd"
	while IFS= read -r e; do say entry-path "$1 $e"; done < .git/sidecar/paths.$$
	rm -f .git/sidecar/paths.$$
}

op_saved() {
	resolve "$1"
	send=$3 want=$4 haves=$5
	guard_home
	need_git
	is_repo || die "there is no workspace $wd on the sidecar: nothing was saved there"
	check_owner "$2" 0
	enter
	saved_refs > .git/sidecar/saved.$$ || die "cannot read the saved refs in $wd"
	pick=
	while read -r r c b k; do
		if [ "$send" = 0 ]; then
			say_entry "$r" "$c" "$b" "$k"
		elif [ "$r" = "$want" ] || [ "$r" = "refs/sidecar/saved/$want" ] ||
		     { [ "$want" = - ] && [ "$k" = edits ]; }; then
			pick="$r $c $b $k"
		fi
	done < .git/sidecar/saved.$$
	rm -f .git/sidecar/saved.$$
	[ "$send" = 0 ] && return 0
	if [ -z "$pick" ]; then
		[ "$want" = - ] && die "no edits were saved in $wd on the sidecar"
		die "no saved ref $want in $wd on the sidecar; 'sidecar saved' lists them"
	fi
	# shellcheck disable=SC2086 # four words
	set -- $pick
	say_entry "$@"
	say pack yes
	after=send_pack revs="$2 $b"
}

# collect WD HAVES PATH...: the workspace's files at PATHs, ignored ones
# too, as a commit on what sidecar left there, for pull to take back.
op_collect() {
	resolve "$1"
	owner=$2 haves=$3
	shift 3
	guard_home
	need_git
	is_repo || die "there is no workspace $wd on the sidecar; sync first"
	check_owner "$owner" 0
	enter
	# no sync moves the files while they are taken
	lock
	read_refs
	raw_dir
	idx=.git/sidecar/index.pull.$$ pull_idx=.git/sidecar/index.pull.$$
	export GIT_LITERAL_PATHSPECS=1
	base=$synced
	[ "$base" != - ] || base=$h
	if [ "$base" != - ]; then
		GIT_INDEX_FILE=$idx git read-tree "$base" || die "cannot read $base in $wd"
	fi
	for p in "$@"; do
		if [ ! -e "$p" ] && [ ! -L "$p" ] &&
		   [ -z "$(GIT_INDEX_FILE=$idx git ls-files -- "$p" 2>/dev/null)" ]; then
			die "$p is not in the workspace $wd on the sidecar"
		fi
	done
	rawgit "$idx" add -f -A -- "$@" ||
		die "cannot collect the files to pull in $wd"
	t=$(GIT_INDEX_FILE=$idx git write-tree) || die "cannot collect the files to pull in $wd"
	parent=
	[ "$base" = - ] || parent=$base
	c=$(git commit-tree "$t" ${parent:+-p "$parent"} -m "sidecar: files taken from the sidecar") ||
		die "cannot collect the files to pull in $wd"
	rm -f "$idx"
	say entry "- $c $was collected"
	say pack yes
	after=send_pack revs=$c
}

# run_command SCRIPT WORD...: what sidecar run asked for, in place of this
# script (exec: its process leads the session's group, as exec's does), with
# the rest of the session's stdin, its stdout and stderr, and the settings
# the session began with. The lock goes first. SCRIPT is what exec gives
# sh -c (cd, exports, exec "$@"); this shell runs it on WORD... itself,
# one sh less.
run_command() {
	on_exit
	trap - EXIT
	unset GIT_DIR GIT_WORK_TREE GIT_TERMINAL_PROMPT GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
		GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
	[ -z "$heap_pad" ] || unset MALLOC_TOP_PAD_
	if [ -n "$run_lc_set" ]; then
		LC_ALL=$run_lc
	else
		unset LC_ALL
	fi
	umask "$run_umask"
	cd "$run_pwd" || die "cannot go back to $run_pwd"
	s=$1
	shift
	exec 1>&3 3>&-
	set +u
	eval "$s"
}

# sh SCRIPT LOCK_WAIT OP ARGS...: the reply channel is fd 3; the script's
# own output, and anything git or a hook prints, goes to stderr.
exec 3>&1 1>&2
printf '\nSIDECAR-REPLY 1\n' >&3
[ -z "${SIDECAR_INSTALLED:-}" ] || say installed "$SIDECAR_INSTALLED"
installing=${SIDECAR_INSTALLED:+1}
unset SIDECAR_INSTALLED
LOCK_WAIT=${1:-30}
op=${2:-}
after= revs= haves= applied= pull_idx=
[ $# -gt 1 ] && shift 2
case $op in
probe) op_probe "$@" ;;
apply) op_apply "$@" ;;
patch-setup) op_patch_setup "$@" ;;
patch-apply) op_patch_apply "$@" ;;
remove) op_remove "$@" ;;
saved) op_saved "$@" ;;
collect) op_collect "$@" ;;
*) die "unknown operation '$op' (the sidecar speaks another version of the protocol)" ;;
esac || exit
printf 'end\n' >&3
if [ -n "$applied" ] && [ $# -gt 6 ]; then
	shift 6
	run_command "$@"
fi
[ -z "$after" ] || "$after" "$revs" "$haves"
