# bash completion for sidecar
