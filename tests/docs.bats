#!/usr/bin/env bats
# The manual and the shell completions against the binary: the man page is
# clean and names every command, option and exit status; the scripts that
# 'sidecar completion' prints are the files in completions/; and bash, zsh
# and fish, each started for real, complete from the binary's own answers.

load test_helper

setup() {
	common_setup
	ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	MAN=$ROOT/man/sidecar.1
	# the completions call "sidecar" by name
	mkdir -p "$BATS_TEST_TMPDIR/path"
	ln -s "$SIDECAR_BIN" "$BATS_TEST_TMPDIR/path/sidecar"
	export PATH="$BATS_TEST_TMPDIR/path:$PATH"
	TMUX_SOCK=
	unset TMUX
}

teardown() {
	if [ -n "$TMUX_SOCK" ]; then
		tmux -S "$TMUX_SOCK" kill-server >/dev/null 2>&1 || true
	fi
	common_teardown
}

# --- helpers -----------------------------------------------------------------

# The man page as text, without the overstrike of bold and underline.
man_text() {
	mandoc -T ascii "$MAN" | sed 's/.\x08//g'
}

# The lines of one section of the rendered man page ($1: its heading).
man_section() {
	man_text | awk -v h="$1" '/^[A-Z]/ { on = ($0 == h); next } on'
}

# The visible commands, one per line.
commands() {
	sidecar __complete commands | cut -f1
}

# help_of CMD: the help of a command, or the program's for ''.
help_of() {
	if [ -n "$1" ]; then
		sidecar help "$1"
	else
		sidecar --help
	fi
}

# A ~/.ssh/config for the helper's host list (ssh itself reads the home of
# the passwd entry; 'sidecar __complete hosts' reads $HOME).
write_ssh_config() {
	mkdir -p "$HOME/.ssh"
	printf '%s\n' "$@" >"$HOME/.ssh/config"
}

# complete_bash WORD...: what bash completes for the last WORD (may be
# empty), the words split as readline splits them ("--mode=" is "--mode"
# "="). A fresh bash without rc files, so no bash-completion: the script
# sources on its own, and the function comes from 'complete -p sidecar'.
# Output: COMPREPLY, sorted, one per line.
complete_bash() {
	run bash --norc --noprofile -c '
		script=$1
		shift
		source "$script" || exit 1
		spec=$(complete -p sidecar) || exit 1
		fn=${spec#*-F }
		fn=${fn%% *}
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		"$fn" sidecar "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" || exit 1
		if [ ${#COMPREPLY[@]} -gt 0 ]; then
			printf "%s\n" "${COMPREPLY[@]}" | sort
		fi
	' bash "$ROOT/completions/sidecar.bash" "$@"
}

# complete_fish LINE: fish's candidates for LINE, "word<TAB>description".
complete_fish() {
	run fish --no-config -c 'source $argv[1]; and complete -C $argv[2]' \
		"$ROOT/completions/sidecar.fish" "$1"
}

# zsh_start: an interactive "zsh -f" with compinit and the completion
# script on fpath, in a private tmux server; returns once its prompt shows.
zsh_start() {
	local rc=$BATS_TEST_TMPDIR/zshrc pid
	TMUX_SOCK=$XDG_RUNTIME_DIR/tmux
	cat >"$rc" <<-EOF
	fpath=('$ROOT/completions' \$fpath)
	autoload -Uz compinit && compinit -u -D
	PS1='ready> '
	EOF
	TERM=xterm tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s t -x 150 -y 40 \
		"zsh -f -i" </dev/null >/dev/null 2>&1 3>&- || return 1
	pid=$(tmux -S "$TMUX_SOCK" display-message -p -t t '#{pid}') || return 1
	_sc_track "$pid"
	tmux -S "$TMUX_SOCK" send-keys -t t "source '$rc'" Enter
	expect_pane 'ready>'
}

# The screen of the zsh session, without trailing blanks.
pane() {
	tmux -S "$TMUX_SOCK" capture-pane -p -t t | sed 's/[[:space:]]*$//'
}

# pane_has_line REGEX: a line of the screen is exactly REGEX (extended).
pane_has_line() {
	pane | grep -Eqx -- "$1"
}

# zsh_tab TEXT: types TEXT and a Tab on a fresh line.
zsh_tab() {
	tmux -S "$TMUX_SOCK" send-keys -t t C-u "$1" Tab
}

# expect_pane REGEX: waits (bounded) for a screen line that is REGEX.
expect_pane() {
	if ! wait_until --timeout-ms 10000 pane_has_line "$1"; then
		echo "no screen line matches '$1'; the screen:" >&2
		pane >&2
		return 1
	fi
}

# --- the man page ------------------------------------------------------------

@test "man: mandoc -T lint -W warning prints nothing" {
	run mandoc -T lint -W warning "$MAN"
	assert_success
	assert_output ''
}

@test "man: every long option of every command's help is in the man page" {
	local text cmd opt missing=()
	text=$(man_text)
	for cmd in '' $(commands); do
		for opt in $(help_of "$cmd" | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
			grep -qF -- "$opt" <<<"$text" || missing+=("${cmd:-global} $opt")
		done
	done
	[ ${#missing[@]} -eq 0 ] || fail "not in man/sidecar.1: ${missing[*]}"
}

@test "man: every short option of every command's help is in the man page" {
	local text cmd opt missing=()
	text=$(man_text)
	for cmd in '' $(commands); do
		for opt in $(help_of "$cmd" | grep -oE -- '^  -[A-Za-z]\b' | tr -d ' ' | sort -u); do
			grep -qE -- "(^| )$opt(,| |$)" <<<"$text" || missing+=("${cmd:-global} $opt")
		done
	done
	[ ${#missing[@]} -eq 0 ] || fail "not in man/sidecar.1: ${missing[*]}"
}

@test "man: every command has a synopsis line and an entry under COMMANDS" {
	local synopsis entries cmd missing=()
	synopsis=$(man_section SYNOPSIS)
	entries=$(man_section COMMANDS)
	for cmd in $(commands); do
		grep -qE -- "^ +sidecar $cmd( |$)" <<<"$synopsis" || missing+=("synopsis:$cmd")
		grep -qE -- "^ {5}$cmd( |$)" <<<"$entries" || missing+=("COMMANDS:$cmd")
	done
	[ ${#missing[@]} -eq 0 ] || fail "missing from man/sidecar.1: ${missing[*]}"
	# and the usage line of --help is the first synopsis line
	grep -qF 'sidecar [-C dir] [-q | -v] command [options] [args]' <<<"$synopsis"
}

@test "man: every exit status of src/err.c is under EXIT STATUS" {
	local section codes code missing=()
	section=$(man_section 'EXIT STATUS')
	codes=$(sed -n -e 's/.*\[ERR_[A-Z_]*\] = \([0-9][0-9]*\).*/\1/p' \
		-e 's/^#define SSH_STATUS_FAILED \([0-9][0-9]*\)$/\1/p' "$ROOT/src/err.c" | sort -un)
	[[ $'\n'$codes$'\n' == *$'\n0\n'*$'\n255\n'* ]] || fail "cannot read src/err.c: $codes"
	for code in $codes; do
		if [ "$code" = 128 ]; then
			grep -qE '^ {5}128\+n ' <<<"$section" || missing+=(128+n)
		else
			grep -qE "^ {5}$code( |$)" <<<"$section" || missing+=("$code")
		fi
	done
	[ ${#missing[@]} -eq 0 ] || fail "not under EXIT STATUS: ${missing[*]}"
}

@test "man: environment, files, git config keys and refs are documented" {
	local text word
	text=$(man_text)
	for word in SIDECAR_DEST SIDECAR_SSH SIDECAR_GIT NO_COLOR XDG_RUNTIME_DIR TMPDIR \
		'$XDG_RUNTIME_DIR/sidecar/' '${TMPDIR:-/tmp}/sidecar-uid/' \
		sidecar.destination sidecar.workdir sidecar.mode sidecar.maxWait sidecar.persist \
		refs/sidecar/synced/key refs/sidecar/head \
		'refs/sidecar/saved/*' 'ssh(1)' 'ssh_config(5)' 'git(1)' 'rsync(1)'; do
		grep -qF -- "$word" <<<"$text" || fail "not in man/sidecar.1: $word"
	done
}

# --- sidecar completion --------------------------------------------------------

@test "completion: prints exactly the scripts in completions/" {
	sc completion bash >"$BATS_TEST_TMPDIR/bash"
	sc completion zsh >"$BATS_TEST_TMPDIR/zsh"
	sc completion fish >"$BATS_TEST_TMPDIR/fish"
	cmp "$BATS_TEST_TMPDIR/bash" "$ROOT/completions/sidecar.bash"
	cmp "$BATS_TEST_TMPDIR/zsh" "$ROOT/completions/_sidecar"
	cmp "$BATS_TEST_TMPDIR/fish" "$ROOT/completions/sidecar.fish"
}

@test "completion: an unknown or missing shell is a usage error" {
	run -2 --separate-stderr sc completion tcsh
	assert_output ''
	[[ $stderr == *'bash, zsh or fish'* ]]
	run -2 sc completion
}

@test "completion: each script is valid in its own shell" {
	run bash --norc --noprofile -n "$ROOT/completions/sidecar.bash"
	assert_success
	run zsh -f -n "$ROOT/completions/_sidecar"
	assert_success
	run fish --no-config -n "$ROOT/completions/sidecar.fish"
	assert_success
	run head -1 "$ROOT/completions/_sidecar"
	assert_output '#compdef sidecar git-sidecar'
}

# --- bash ------------------------------------------------------------------------

@test "bash: registered for sidecar and git-sidecar" {
	run bash --norc --noprofile -c 'source "$1" && complete -p sidecar git-sidecar' \
		bash "$ROOT/completions/sidecar.bash"
	assert_success
	assert_line --regexp '^complete -F [_a-z]+ sidecar$'
	assert_line --regexp '^complete -F [_a-z]+ git-sidecar$'
}

@test "bash: commands after 'sidecar '" {
	complete_bash sidecar ''
	assert_success
	assert_output "$(commands | sort)"
	assert_line sync
	refute_line __complete
}

@test "bash: 'sidecar sy' and 'sidecar help st'" {
	complete_bash sidecar sy
	assert_output sync
	complete_bash sidecar help st
	assert_output status
}

@test "bash: 'sidecar sync --m' gives --mode --max-wait --max-interval" {
	complete_bash sidecar sync --m
	assert_success
	assert_output "$(printf '%s\n' --max-interval --max-wait --mode)"
}

@test "bash: 'sidecar sync --mode ' gives snapshot and patch" {
	complete_bash sidecar sync --mode ''
	assert_output "$(printf '%s\n' patch snapshot)"
	# --mode=pa, which readline splits at the '='
	complete_bash sidecar sync --mode = pa
	assert_output patch
}

@test "bash: durations, and the global options before the command" {
	complete_bash sidecar wait --max-wait ''
	assert_line 90s
	assert_line 500ms
	complete_bash sidecar --v
	assert_output "$(printf '%s\n' --verbose --version)"
}

@test "bash: 'sidecar completion ' gives bash fish zsh" {
	complete_bash sidecar completion ''
	assert_output "$(printf '%s\n' bash fish zsh)"
}

@test "bash: hosts from ~/.ssh/config after 'sidecar sync ', no wildcards" {
	write_ssh_config 'Host devbox' '    HostName 10.0.0.7' 'Host *.internal ci-?' 'Host other-box'
	complete_bash sidecar sync ''
	assert_success
	assert_output "$(printf '%s\n' devbox other-box)"
	complete_bash sidecar exec dev
	assert_output devbox
	# a DEST is there already: nothing more to offer but options
	complete_bash sidecar sync devbox ''
	assert_output ''
}

@test "bash: the remembered destination is a candidate too" {
	write_ssh_config 'Host devbox'
	git init -q "$BATS_TEST_TMPDIR/repo"
	git -C "$BATS_TEST_TMPDIR/repo" config sidecar.destination ci@10.1.2.3
	cd "$BATS_TEST_TMPDIR/repo"
	complete_bash sidecar sync ''
	assert_output "$(printf '%s\n' ci@10.1.2.3 devbox)"
}

@test "bash: files for -i, -F and --env-file; nothing for -w" {
	mkdir "$BATS_TEST_TMPDIR/keys"
	touch "$BATS_TEST_TMPDIR/keys/id_one" "$BATS_TEST_TMPDIR/keys/id_two"
	complete_bash sidecar sync -i "$BATS_TEST_TMPDIR/keys/id_"
	assert_output "$(printf '%s\n' "$BATS_TEST_TMPDIR/keys/id_one" "$BATS_TEST_TMPDIR/keys/id_two")"
	complete_bash sidecar wait -F "$BATS_TEST_TMPDIR/keys/id_o"
	assert_output "$BATS_TEST_TMPDIR/keys/id_one"
	complete_bash sidecar exec --env-file "$BATS_TEST_TMPDIR/keys/id_t"
	assert_output "$BATS_TEST_TMPDIR/keys/id_two"
	complete_bash sidecar sync -w ''
	assert_output ''
}

@test "bash: with bash-completion, loaded on demand from its completions directory" {
	[ -f /usr/share/bash-completion/bash_completion ] || skip "bash-completion is not installed"
	mkdir -p "$BATS_TEST_TMPDIR/bc/completions"
	cp "$ROOT/completions/sidecar.bash" "$BATS_TEST_TMPDIR/bc/completions/sidecar"
	run env BASH_COMPLETION_USER_DIR="$BATS_TEST_TMPDIR/bc" bash --norc --noprofile -c '
		source /usr/share/bash-completion/bash_completion
		_completion_loader sidecar
		complete -p sidecar || exit 1
		COMP_WORDS=(sidecar sync --m) COMP_CWORD=2
		COMP_LINE="sidecar sync --m" COMP_POINT=16
		_sidecar sidecar --m sync
		printf "%s\n" "${COMPREPLY[@]}" | sort'
	assert_success
	assert_output "$(printf '%s\n' 'complete -F _sidecar sidecar' --max-interval --max-wait --mode)"
}

@test "bash: 'git sidecar sy' through git's own completion" {
	local git=/usr/share/bash-completion/completions/git
	[ -f /usr/share/bash-completion/bash_completion ] && [ -f "$git" ] ||
		skip "bash-completion or git's completion is not installed"
	run bash --norc --noprofile -c '
		source /usr/share/bash-completion/bash_completion
		source "$1"
		source "$2"
		COMP_WORDS=(git sidecar sy) COMP_CWORD=2
		COMP_LINE="git sidecar sy" COMP_POINT=14
		__git_wrap__git_main git sy sidecar
		printf "%s\n" "${COMPREPLY[@]}"' bash "$git" "$ROOT/completions/sidecar.bash"
	assert_success
	assert_output sync
}

# --- fish --------------------------------------------------------------------------

@test "fish: commands, with their summaries" {
	complete_fish 'sidecar '
	assert_success
	assert_line --regexp $'^sync\tmake '
	assert_line --regexp $'^completion\t'
	refute_line --partial __complete
	complete_fish 'sidecar help st'
	assert_output --regexp $'^status\t'
}

@test "fish: 'sidecar sync --mo' gives --mode" {
	complete_fish 'sidecar sync --mo'
	assert_success
	assert_line --regexp $'^--mode\t'
}

@test "fish: option values, shells and hosts" {
	complete_fish 'sidecar sync --mode '
	assert_output "$(printf '%s\n' patch snapshot)"
	complete_fish 'sidecar completion '
	assert_output "$(printf '%s\n' bash fish zsh)"
	write_ssh_config 'Host devbox' 'Host *'
	complete_fish 'sidecar ssh '
	assert_output devbox
}

# --- zsh ---------------------------------------------------------------------------

@test "zsh: 'sidecar sy<TAB>' completes to sync in a real zsh" {
	zsh_start
	zsh_tab 'sidecar sy'
	expect_pane 'ready> sidecar sync'
}

@test "zsh: option names and option values in a real zsh" {
	zsh_start
	zsh_tab 'sidecar sync --mo'
	expect_pane 'ready> sidecar sync --mode='
	tmux -S "$TMUX_SOCK" send-keys -t t p Tab
	expect_pane 'ready> sidecar sync --mode=patch'
	zsh_tab 'sidecar completion '
	expect_pane '(bash|zsh|fish)( +(bash|zsh|fish)){2}'
}

@test "zsh: a host from ~/.ssh/config in a real zsh" {
	write_ssh_config 'Host devbox' 'Host *.internal'
	zsh_start
	zsh_tab 'sidecar wait '
	expect_pane 'ready> sidecar wait devbox'
}

# --- the command table ------------------------------------------------------------

@test "completion: what each command's first argument is comes from its entry" {
	run -0 sidecar __complete operand sync
	assert_output dest
	run -0 sidecar __complete operand help
	assert_output command
	run -0 sidecar __complete operand completion
	assert_output shell
	run -0 sidecar __complete operand version
	assert_output ''
	run -2 sidecar __complete operand nosuch
	# every command that takes DEST gets the hosts, in bash and fish alike
	write_ssh_config 'Host devbox'
	local cmd
	for cmd in $(commands); do
		[ "$(sidecar __complete operand "$cmd")" = dest ] || continue
		complete_bash sidecar "$cmd" ''
		assert_output devbox
		complete_fish "sidecar $cmd "
		assert_output devbox
	done
}

@test "help: every command's usage line is its entry's synopsis, and dispatch knows each" {
	local cmd
	for cmd in $(commands); do
		run -0 sidecar help "$cmd"
		assert_line --index 0 --regexp "^usage: sidecar $cmd( |$)"
		# the same entry dispatches: --help of the command prints the same
		[ "$(sidecar "$cmd" --help)" = "$output" ]
	done
}
