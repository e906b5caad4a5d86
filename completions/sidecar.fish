# fish completion for sidecar
