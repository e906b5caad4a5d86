# remote.sh: what sidecar runs on the sidecar, as sh -c SCRIPT sidecar OP ARGS.
# POSIX sh and git only. Protocol: "key value" lines on stdout; messages for
# the user on stderr, each starting "sidecar: ". Never rm -rf a directory
# this script did not create (the marker .git/sidecar/created proves it).
set -u
umask 022
export GIT_AUTHOR_NAME=sidecar GIT_AUTHOR_EMAIL=sidecar@localhost
export GIT_COMMITTER_NAME=sidecar GIT_COMMITTER_EMAIL=sidecar@localhost
export LC_ALL=C GIT_TERMINAL_PROMPT=0
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
EMPTY_TREE=4b825dc642cb6eb9a060e54bf8d69288fbee4904

die() { printf 'sidecar: %s\n' "$*" >&2; exit 1; }
say() { printf '%s %s\n' "$1" "$2"; }

need_git() {
	command -v git >/dev/null 2>&1 ||
		die "git is not installed on the sidecar; install it there (e.g. apt-get install git)"
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

# Creates the workspace (and parents) when missing, or accepts an empty
# directory; the marker says sidecar made it.
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
	mkdir -p -- "$wd" 2>/dev/null || die "cannot create $wd on the sidecar (permission denied or read-only?)"
	git init -q -- "$wd" >/dev/null || die "git init failed in $wd"
	mkdir -p "$wd/.git/sidecar" && : > "$wd/.git/sidecar/created" ||
		die "cannot write in $wd/.git on the sidecar"
}

# Serializes syncs of one workspace; a lock whose holder is gone is broken.
lock() {
	l=.git/sidecar/lock
	tries=0
	mkdir -p .git/sidecar || die "cannot write in $wd/.git on the sidecar"
	while ! mkdir "$l" 2>/dev/null; do
		holder=$(cat "$l/pid" 2>/dev/null || :)
		if [ -n "$holder" ] && ! kill -0 "$holder" 2>/dev/null; then
			rm -f "$l/pid"
			rmdir "$l" 2>/dev/null
			continue
		fi
		if [ "$tries" -ge "$LOCK_WAIT" ]; then
			die "another sync of $wd is running (pid ${holder:-unknown} on the sidecar); try again when it ends"
		fi
		[ "$tries" -eq 0 ] && printf 'sidecar: waiting for another sync of %s (pid %s)\n' "$wd" "${holder:-unknown}" >&2
		tries=$((tries + 1))
		sleep 1
	done
	echo $$ > "$l/pid"
	trap 'rm -f "$wd/$l/pid"; rmdir "$wd/$l" 2>/dev/null' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

rev() { git rev-parse -q --verify "$1" 2>/dev/null; }

# The tree the workspace holds now, ignored files aside, through a private
# index whose stat data makes this cheap when little changed.
current_tree() {
	idx=.git/sidecar/index
	if [ ! -f "$idx" ] || [ -z "$(rev refs/sidecar/synced)" ]; then
		rm -f "$idx"
		if [ -n "$(rev HEAD)" ]; then
			GIT_INDEX_FILE=$idx git read-tree HEAD || die "cannot read HEAD in $wd"
		fi
	fi
	GIT_INDEX_FILE=$idx git add -A -- . 2>/dev/null ||
		GIT_INDEX_FILE=$idx git add -A -- . || die "cannot scan the workspace $wd"
	GIT_INDEX_FILE=$idx git write-tree || die "cannot record the workspace $wd"
}

# The tree the workspace should hold if nobody touched it since last time.
expected_tree() {
	s=$(rev refs/sidecar/synced)
	if [ -n "$s" ]; then
		git rev-parse "$s^{tree}"
	elif [ -n "$(rev HEAD)" ]; then
		git rev-parse "HEAD^{tree}"
	else
		echo "$EMPTY_TREE"
	fi
}

# Commits tree $1 (the workspace as found) to refs/sidecar/saved/<UTC time>.
save_edits() {
	parent=$(rev HEAD)
	c=$(git commit-tree "$1" ${parent:+-p "$parent"} -m "sidecar: edits found on the sidecar before a sync") ||
		die "cannot save the edits found in $wd; nothing was changed"
	ts=$(date -u +%Y%m%dT%H%M%SZ)
	ref=refs/sidecar/saved/$ts
	n=1
	while [ -n "$(rev "$ref")" ]; do
		n=$((n + 1))
		ref=refs/sidecar/saved/$ts-$n
	done
	git update-ref "$ref" "$c" || die "cannot save the edits found in $wd; nothing was changed"
	say saved "$ref"
}

# Saves what the workspace holds when it is not what sidecar left there:
# edits to files, or commits made on the sidecar.
save_if_modified() {
	now=$(current_tree)
	was=$(expected_tree)
	moved=0
	s=$(rev refs/sidecar/synced)
	h=$(rev HEAD)
	if [ -n "$s" ] && [ -n "$(rev refs/sidecar/head)" ] && [ "$h" != "$(rev refs/sidecar/head)" ]; then
		moved=1
	fi
	if [ "$now" != "$was" ] || [ "$moved" = 1 ]; then
		save_edits "$now"
	fi
}

# HEAD names the local branch at the local commit; the index matches HEAD
# but keeps the private index's stat data, so git status is cheap and right.
set_head() {
	branch=$1 commit=$2
	if [ "$branch" != - ]; then
		git symbolic-ref HEAD "refs/heads/$branch" || die "cannot set HEAD to $branch"
		if [ "$commit" != - ]; then
			git update-ref "refs/heads/$branch" "$commit" || die "cannot move $branch"
		else
			git update-ref -d "refs/heads/$branch" 2>/dev/null || :
		fi
	else
		git update-ref --no-deref HEAD "$commit" || die "cannot set HEAD"
	fi
	cp .git/sidecar/index .git/sidecar/index.head || die "cannot write in $wd/.git"
	if [ "$commit" != - ]; then
		GIT_INDEX_FILE=.git/sidecar/index.head git read-tree -m "$commit"
	else
		GIT_INDEX_FILE=.git/sidecar/index.head git read-tree --empty
	fi || die "cannot reset the index to HEAD"
	mv .git/sidecar/index.head .git/index || die "cannot write $wd/.git/index"
	if [ "$commit" != - ]; then
		git update-ref refs/sidecar/head "$commit"
	else
		git update-ref -d refs/sidecar/head 2>/dev/null || :
	fi
}

count_changes() {
	git diff-tree -r -z --name-only --no-renames "$1" "$2" | tr -cd '\000' | wc -c | tr -d ' '
}

op_probe() {
	resolve "$1"
	if ! command -v git >/dev/null 2>&1; then
		say git no
		return 0
	fi
	say git yes
	say workdir "$wd"
	if ! is_repo; then
		if [ -e "$wd" ] && { [ ! -d "$wd" ] || [ -n "$(ls -A "$wd" 2>/dev/null)" ]; }; then
			say exists other
		else
			say exists no
		fi
		return 0
	fi
	cd "$wd" || die "cannot enter $wd"
	say exists yes
	say synced "$(rev refs/sidecar/synced || echo -)"
	say head "$(rev HEAD || echo -)"
	say origin "$(rev refs/remotes/origin/HEAD || echo -)"
	[ "$2" != - ] && git cat-file -e "$2^{commit}" 2>/dev/null && say has_snapshot yes
	# a scan on a copy of the private index: the probe takes no lock
	if [ -f .git/sidecar/index ] && [ -n "$(rev refs/sidecar/synced)" ]; then
		cp .git/sidecar/index .git/sidecar/index.probe.$$ 2>/dev/null
		trap 'rm -f "$wd/.git/sidecar/index.probe.$$"' EXIT
		GIT_INDEX_FILE=.git/sidecar/index.probe.$$ git add -A -- . 2>/dev/null
		now=$(GIT_INDEX_FILE=.git/sidecar/index.probe.$$ git write-tree 2>/dev/null)
		if [ "$now" = "$(git rev-parse "$(rev refs/sidecar/synced)^{tree}")" ]; then
			say modified no
		else
			say modified yes
		fi
	fi
}

# apply WD EXPECT SNAPSHOT COMMIT BRANCH BUNDLE
op_apply() {
	resolve "$1"
	expect=$2 snap=$3 commit=$4 branch=$5 bundle=$6
	need_git
	create_workspace
	cd "$wd" || die "cannot enter $wd"
	say workdir "$wd"
	lock
	cur=$(rev refs/sidecar/synced || echo -)
	if [ "$expect" != "$cur" ]; then
		say base-moved "$cur"
		return 0
	fi
	if [ "$bundle" = 1 ]; then
		git bundle unbundle /dev/stdin >/dev/null ||
			die "could not store the snapshot in $wd (disk full?); the workspace is unchanged"
	fi
	git cat-file -e "$snap^{commit}" 2>/dev/null || die "snapshot $snap is missing on the sidecar"
	new=$(git rev-parse "$snap^{tree}")
	now=$(current_tree)
	was=$(expected_tree)
	h=$(rev HEAD || echo -)
	if [ "$cur" != - ] && [ "$h" != "$(rev refs/sidecar/head || echo -)" ]; then
		save_edits "$now"
	elif [ "$now" != "$was" ]; then
		save_edits "$now"
	fi
	if [ "$now" = "$new" ] && [ "$cur" = "$snap" ] && [ "$h" = "$commit" ] &&
	   { [ "$branch" = - ] || [ "$(git symbolic-ref -q HEAD)" = "refs/heads/$branch" ]; }; then
		say result up-to-date
		say changed 0
		return 0
	fi
	changed=$(count_changes "$now" "$new")
	GIT_INDEX_FILE=.git/sidecar/index git read-tree -m -u --exclude-per-directory=.gitignore "$now" "$new" ||
		die "could not update the files in $wd (disk full?); run sync again"
	set_head "$branch" "$commit"
	git update-ref refs/sidecar/synced "$snap" || die "cannot record the sync in $wd"
	say result synced
	say changed "$changed"
}

# patch-setup WD URL BRANCH: clone when absent; the base; remote edits?
op_patch_setup() {
	resolve "$1"
	url=$2 branch=$3
	need_git
	if ! is_repo; then
		if [ -e "$wd" ] && { [ ! -d "$wd" ] || [ -n "$(ls -A "$wd" 2>/dev/null)" ]; }; then
			die "$wd exists on the sidecar and is not a git repository; choose another workdir (-w) or remove it"
		fi
		mkdir -p -- "$(dirname -- "$wd")" 2>/dev/null ||
			die "cannot create the parent of $wd on the sidecar (permission denied or read-only?)"
		if ! err=$(git clone -q -- "$url" "$wd" 2>&1); then
			printf '%s\n' "$err" | sed 's/^/sidecar: git clone: /' >&2
			die "the sidecar cannot clone origin ($url); the default snapshot mode needs no access to origin: run 'sidecar sync' without --mode patch"
		fi
		mkdir -p "$wd/.git/sidecar" && : > "$wd/.git/sidecar/created"
		say cloned yes
		if [ "$branch" != - ] && [ -n "$(cd "$wd" && rev "refs/remotes/origin/$branch")" ]; then
			(cd "$wd" && git checkout -q "$branch" 2>/dev/null) || :
		fi
	fi
	cd "$wd" || die "cannot enter $wd"
	say workdir "$wd"
	base=$(rev refs/remotes/origin/HEAD || rev HEAD) || die "$wd on the sidecar has no commit to use as a base"
	say base "$base"
	if [ "$(current_tree)" != "$(expected_tree)" ]; then
		say modified yes
	else
		say modified no
	fi
}

# patch-apply WD BASE: save edits, reset to BASE, apply the patch on stdin.
op_patch_apply() {
	resolve "$1"
	base=$2
	need_git
	cd "$wd" 2>/dev/null || die "$wd is missing on the sidecar"
	lock
	save_if_modified
	git reset -q --hard "$base" || die "cannot reset $wd to $base"
	git clean -fdq || die "cannot clean $wd"
	if ! git apply --binary --whitespace=nowarn 2>.git/sidecar/apply.err; then
		sed 's/^/sidecar: git apply: /' .git/sidecar/apply.err >&2
		say result drift
		return 0
	fi
	rm -f .git/sidecar/index
	tree=$(current_tree)
	c=$(git commit-tree "$tree" -p "$base" -m "sidecar: synced state") || die "cannot record the sync"
	git update-ref refs/sidecar/synced "$c"
	git update-ref refs/sidecar/head "$base"
	say result synced
	say changed "$(count_changes "$base" "$tree")"
}

# remove WD: only a workspace sidecar created, never home or its ancestors.
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
	rm -rf -- "$real" || die "could not remove $real"
	say removed "$real"
}

# sh -c SCRIPT sidecar LOCK_WAIT OP ARGS...
LOCK_WAIT=${1:-30}
op=${2:-}
[ $# -gt 1 ] && shift 2
case $op in
probe) op_probe "$@" ;;
apply) op_apply "$@" ;;
patch-setup) op_patch_setup "$@" ;;
patch-apply) op_patch_apply "$@" ;;
remove) op_remove "$@" ;;
*) die "unknown operation '$op' (the sidecar speaks another version of the protocol)" ;;
esac
