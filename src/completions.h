/* completions.h: the completion scripts of completions/, built in. */
#ifndef SIDECAR_COMPLETIONS_H
#define SIDECAR_COMPLETIONS_H

/* The script for "bash", "zsh" or "fish"; NULL for anything else. */
const char *completion_script(const char *shell);

#endif
