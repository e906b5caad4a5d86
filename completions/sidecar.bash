# bash completion for sidecar (and git-sidecar, and "git sidecar").
# Every candidate comes from the program itself through its hidden helper,
# 'sidecar __complete commands|options CMD|operand CMD|values OPTION|hosts',
# so this script never drifts from the binary. It needs no bash-completion.

# _sidecar_complete START: completes COMP_WORDS[COMP_CWORD] when the
# program's name is COMP_WORDS[START].
_sidecar_complete() {
	local start=$1 cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local prog=sidecar cmd='' nargs=0 i word kind opt
	local -a dir=() opts=() kinds=()

	[[ ${COMP_WORDS[start]} == */sidecar ]] && prog=${COMP_WORDS[start]}
	# bash splits "--mode=pa" into "--mode" "=" "pa"
	if [[ $cur == = ]]; then
		cur=''
	elif [[ $prev == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	# the command, and how many arguments it has before the cursor
	for ((i = start + 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		if [[ -z $cmd ]]; then
			case $word in
			-C) dir=(-C "${COMP_WORDS[i + 1]}"); ((i++)) ;;
			-C?*) dir=("$word") ;;
			-*) ;;
			*)
				cmd=$word
				while IFS=$'\t' read -r opt kind _; do
					opts+=("$opt") kinds+=("$kind")
				done < <(command "$prog" __complete options "$cmd" 2>/dev/null)
				;;
			esac
		elif [[ $word == -- ]]; then
			# a command for the sidecar: its files are ours too
			compopt -o default 2>/dev/null
			COMPREPLY=()
			return 0
		elif [[ $word == -* ]]; then
			kind=$(_sidecar_kind "$word")
			[[ -n $kind && $word != *=* && ${COMP_WORDS[i + 1]} != = ]] && ((i++))
		elif [[ $word != = && ${COMP_WORDS[i - 1]} != = ]]; then
			((nargs++))
		fi
	done

	if [[ -z $cmd ]]; then
		if [[ $prev == -C ]]; then
			compopt -o filenames 2>/dev/null
			_sidecar_reply -d
		elif [[ $cur == -* ]]; then
			_sidecar_reply -W '-C -q -v -h --quiet --verbose --help --version'
		else
			_sidecar_reply -W "$(command "$prog" __complete commands 2>/dev/null | cut -f1)"
		fi
		return 0
	fi

	# the value of an option
	if [[ $prev == -* ]]; then
		case $(_sidecar_kind "$prev") in
		file)
			compopt -o filenames 2>/dev/null
			_sidecar_reply -f
			return 0
			;;
		duration | mode)
			_sidecar_reply -W "$(command "$prog" __complete values "$prev" 2>/dev/null)"
			return 0
			;;
		path | word) COMPREPLY=(); return 0 ;;
		esac
	fi

	if [[ $cur == -* ]]; then
		_sidecar_reply -W "${opts[*]}"
	elif ((nargs == 0)); then
		case $(command "$prog" __complete operand "$cmd" 2>/dev/null) in
		command)
			_sidecar_reply -W "$(command "$prog" __complete commands 2>/dev/null | cut -f1)" ;;
		shell)
			_sidecar_reply -W "$(command "$prog" __complete values completion 2>/dev/null)" ;;
		dest)
			_sidecar_reply -W "$(command "$prog" "${dir[@]}" __complete hosts 2>/dev/null)" ;;
		esac
	fi
	return 0
}

# _sidecar_reply COMPGEN-ARGS...: COMPREPLY, one candidate per line, for
# the caller's $cur.
_sidecar_reply() {
	mapfile -t COMPREPLY < <(compgen "$@" -- "$cur")
}

# _sidecar_kind OPTION: what the option's value is (empty for none), from
# the opts and kinds of the caller.
_sidecar_kind() {
	local j
	for j in "${!opts[@]}"; do
		[[ ${opts[j]} == "${1%%=*}" ]] && { printf '%s\n' "${kinds[j]}"; return; }
	done
}

_sidecar() {
	_sidecar_complete 0
}

# git's own completion calls _git_sidecar for "git sidecar ...".
_git_sidecar() {
	local i
	for ((i = 1; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} == sidecar ]] && break
	done
	_sidecar_complete "$i"
}

complete -F _sidecar sidecar git-sidecar
