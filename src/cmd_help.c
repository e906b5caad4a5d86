/* cmd_help.c: help, version, completion scripts and their candidates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "completions.h"
#include "err.h"
#include "msg.h"

static enum err cmd_help(struct env *e)
{
	struct args *a = e->a;
	const struct cmd_entry *cmd = NULL;

	if (a->positional.n) {
		cmd = cli_command(a->positional.v[0]);
		if (!cmd || (cmd->flags & CMD_HIDDEN)) {
			error("no such command '%s'; run 'sidecar help' for the list",
			      a->positional.v[0]);
			return ERR_USAGE;
		}
	}
	cli_usage(cmd);
	return 0;
}

static enum err cmd_version(struct env *e)
{
	(void)e;
	printf("sidecar %s\n", SIDECAR_VERSION);
	return 0;
}

static enum err cmd_completion(struct env *e)
{
	struct args *a = e->a;
	const char *shell = a->positional.n == 1 ? a->positional.v[0] : "";
	const char *script = completion_script(shell);

	if (!script) {
		error("completion needs one shell: bash, zsh or fish");
		return ERR_USAGE;
	}
	fputs(script, stdout);
	return 0;
}

/* Host aliases without wildcards from an ssh config file. */
static void print_hosts(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "host", 4) != 0 || (p[4] != ' ' && p[4] != '\t' && p[4] != '='))
			continue;
		for (char *w = strtok(p + 5, " \t=\r\n"); w; w = strtok(NULL, " \t\r\n"))
			if (!strpbrk(w, "*?!"))
				printf("%s\n", w);
	}
	fclose(f);
}

/*
 * The hidden helper the completion scripts call, so that they never drift
 * from the binary: commands | options CMD | operand CMD | values OPTION |
 * hosts. "operand CMD" says what the command's first argument is: dest,
 * command or shell (nothing when it takes none).
 */
static enum err cmd_complete(struct env *e)
{
	struct args *a = e->a;
	const char *what = a->positional.n ? a->positional.v[0] : "";

	if (strcmp(what, "commands") == 0) {
		for (const struct cmd_entry *const *c = cli_commands; *c; c++)
			if (!((*c)->flags & CMD_HIDDEN))
				printf("%s\t%s\n", (*c)->name, (*c)->summary);
	} else if (strcmp(what, "options") == 0 && a->positional.n == 2) {
		const struct cmd_entry *c = cli_command(a->positional.v[1]);
		if (!c)
			return ERR_USAGE;
		cli_print_options(c, 1);
	} else if (strcmp(what, "operand") == 0 && a->positional.n == 2) {
		static const char *const kinds[] = { "", "dest", "command", "shell" };
		const struct cmd_entry *c = cli_command(a->positional.v[1]);
		if (!c)
			return ERR_USAGE;
		if (c->operand != OPERAND_NONE)
			printf("%s\n", kinds[c->operand]);
	} else if (strcmp(what, "values") == 0 && a->positional.n == 2) {
		const char *opt = a->positional.v[1];
		if (strcmp(opt, "--mode") == 0)
			printf("snapshot\npatch\n");
		else if (strcmp(opt, "completion") == 0)
			printf("bash\nzsh\nfish\n");
		else if (cli_option_takes(opt) == ARG_DURATION)
			printf("500ms\n2s\n10s\n30s\n90s\n5m\n0\n");
	} else if (strcmp(what, "hosts") == 0) {
		const char *home = getenv("HOME");
		if (e->set->remembered)
			printf("%s\n", e->set->remembered);
		if (home) {
			struct buf path = BUF_INIT;
			buf_addf(&path, "%s/.ssh/config", home);
			print_hosts(path.s);
			buf_free(&path);
		}
	} else {
		return ERR_USAGE;
	}
	return 0;
}

const struct cmd_entry cmd_completion_entry = {
	.name = "completion",
	.synopsis = "bash|zsh|fish",
	.summary = "print a shell completion script",
	.options = (const enum opt_id[]){ OPT_NONE },
	.operand = OPERAND_SHELL,
	.run = cmd_completion,
};

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.synopsis = "[COMMAND]",
	.summary = "show help for sidecar or a command",
	.options = (const enum opt_id[]){ OPT_NONE },
	.operand = OPERAND_COMMAND,
	.run = cmd_help,
};

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.synopsis = "",
	.summary = "print the version",
	.options = (const enum opt_id[]){ OPT_NONE },
	.run = cmd_version,
};

const struct cmd_entry cmd_complete_entry = {
	.name = "__complete",
	.synopsis = "WHAT [ARGS]",
	.summary = "candidates for shell completion",
	.options = (const enum opt_id[]){ OPT_NONE },
	.flags = CMD_REPOSITORY | CMD_HIDDEN | CMD_RAW,
	.run = cmd_complete,
};
