#!/usr/bin/env bash
# make demo: a real sync to a throwaway sidecar on loopback that boots late.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/tests/loopback.sh"
loopback_need || exit 1

loopback_workspace sidecar-demo || exit 1
demo=$LOOPBACK_WORK

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
sidecar() { SIDECAR_SSH=$LOOPBACK_SSH "$here/sidecar" "$@"; }

step "a small repository with a commit, an edit and an untracked file"
repo=$demo/project
mkdir -p "$repo/src" && cd "$repo" || exit 1
git init -q -b main .
git config user.name demo && git config user.email demo@localhost
printf 'all:\n\t@echo built\n' >Makefile
printf 'int main(void) { return 0; }\n' >src/main.c
printf 'build/\n' >.gitignore
git add -A && git commit -qm "first commit"
printf '/* edited, not committed */\n' >>src/main.c
printf 'notes\n' >NOTES.txt
git status --short

step "a sidecar on 127.0.0.1 that accepts SSH only after 3 seconds (booting)"
loopback_start "$demo/sidecar" 3 || exit 1
echo "sshd will listen on 127.0.0.1:$LOOPBACK_PORT"

step "sidecar sync sidecar-demo   (waits for the boot, then syncs)"
sidecar sync --initial-interval 500ms sidecar-demo || exit 1

step "on the sidecar: git status and the files"
sidecar exec sidecar-demo -- git status --short
sidecar exec sidecar-demo -- sh -c 'pwd; ls -A'

step "an edit, then a second sync: one round trip, one file written"
printf 'more\n' >>NOTES.txt
sidecar sync --json sidecar-demo

step "a build output on the sidecar survives, and a no-op sync"
sidecar exec sidecar-demo -- sh -c 'mkdir -p build && echo obj >build/main.o'
sidecar sync sidecar-demo
sidecar exec sidecar-demo -- ls build

step "done; stopping the sidecar"
