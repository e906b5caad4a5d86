# fish completion for sidecar (and git-sidecar). Every candidate comes from
# the program itself through its hidden helper, 'sidecar __complete
# commands|options CMD|operand CMD|values OPTION|hosts', so this script
# never drifts from the binary.

# Prints the words before the cursor from the command on ("sync --mode");
# fails while there is no command yet.
function __sidecar_args
    set -l words (commandline -opc)
    set -e words[1]
    while set -q words[1]
        switch $words[1]
            case -C
                set -e words[1]
            case '-*'
            case '*'
                printf '%s\n' $words
                return 0
        end
        set -e words[1]
    end
    return 1
end

# __sidecar_kind CMD OPTION: what the option's value is (empty for none).
function __sidecar_kind
    for line in (command sidecar __complete options $argv[1] 2>/dev/null)
        set -l f (string split \t -- $line)
        if test "$f[1]" = (string split -m1 = -- $argv[2])[1]
            echo $f[2]
            return
        end
    end
end

# Whether the word under the cursor is a local file: the value of a file
# option, or a word of the command for the sidecar (its files are ours too).
function __sidecar_wants_files
    set -l args (__sidecar_args); or return 1
    contains -- -- $args[2..-1]; and return 0
    string match -q -- '-*' $args[-1]; or return 1
    set -l kind (__sidecar_kind $args[1] $args[-1])
    test "$kind" = file
end

# Candidates after the command: option values, options, then DEST, a
# command name or a shell.
function __sidecar_candidates
    set -l args (__sidecar_args); or return
    set -l cmd $args[1]
    set -l token (commandline -ct)
    contains -- -- $args[2..-1]; and return
    if string match -q -- '--*=*' $token
        set -l opt (string split -m1 = -- $token)[1]
        for v in (command sidecar __complete values $opt 2>/dev/null)
            echo $opt=$v
        end
        return
    end
    if test (count $args) -gt 1; and string match -q -- '-*' $args[-1]
        set -l kind (__sidecar_kind $cmd $args[-1])
        switch "$kind"
            case duration mode
                command sidecar __complete values $args[-1] 2>/dev/null
                return
            case file path word
                return
        end
    end
    if string match -q -- '-*' $token
        command sidecar __complete options $cmd 2>/dev/null | string replace -r '\t[^\t]*\t' \t
        return
    end
    # the arguments so far, without options and their values
    set -l n 0
    set -l skip 0
    for w in $args[2..-1]
        if test $skip = 1
            set skip 0
        else if string match -q -- '-*' $w
            set -l kind (__sidecar_kind $cmd $w)
            string match -q -- '*=*' $w; or test -z "$kind"; or set skip 1
        else
            set n (math $n + 1)
        end
    end
    test $n = 0; or return
    switch (command sidecar __complete operand $cmd 2>/dev/null)
        case command
            command sidecar __complete commands 2>/dev/null
        case shell
            command sidecar __complete values completion 2>/dev/null
        case dest
            command sidecar __complete hosts 2>/dev/null
    end
end

complete -c sidecar -f
complete -c sidecar -n 'not __sidecar_args >/dev/null' -s C -x -a '(__fish_complete_directories)' -d 'run as if started in DIR'
complete -c sidecar -n 'not __sidecar_args >/dev/null' -s q -l quiet -d 'errors only'
complete -c sidecar -n 'not __sidecar_args >/dev/null' -s v -l verbose -d 'every ssh and git command, every retry'
complete -c sidecar -n 'not __sidecar_args >/dev/null' -s h -l help -d 'show help'
complete -c sidecar -n 'not __sidecar_args >/dev/null' -l version -d 'print the version'
complete -c sidecar -n 'not __sidecar_args >/dev/null' -a '(command sidecar __complete commands 2>/dev/null)'
complete -c sidecar -n '__sidecar_args >/dev/null' -a '(__sidecar_candidates)'
complete -c sidecar -n __sidecar_wants_files -F
complete -c git-sidecar -w sidecar
