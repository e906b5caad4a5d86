/*
 * cli.h: the command line. One table of commands and their options serves
 * parsing, --help, the man page's checks and the shell completions.
 */
#ifndef SIDECAR_CLI_H
#define SIDECAR_CLI_H

#include "conn.h"
#include "strv.h"

enum opt_id {
	OPT_NONE,
	/* connection */
	OPT_IDENTITY, OPT_SSH_CONFIG, OPT_SSH_OPTION, OPT_MAX_WAIT,
	OPT_INITIAL_INTERVAL, OPT_MAX_INTERVAL, OPT_CONNECT_TIMEOUT, OPT_PERSIST,
	/* per command */
	OPT_WORKDIR, OPT_MODE, OPT_DRY_RUN, OPT_JSON, OPT_ENV, OPT_ENV_FILE,
	OPT_ADOPT, OPT_HELP
};

/* What an option's argument is, for help text and completion. */
enum opt_arg { ARG_NONE, ARG_FILE, ARG_DURATION, ARG_WORD, ARG_MODE, ARG_PATH };

struct opt_def {
	enum opt_id id;
	char short_name;	/* 0 when none */
	const char *long_name;
	enum opt_arg arg;
	const char *metavar;
	const char *help;
};

/* Everything the command line can say; filled by cli_parse. */
struct args {
	const char *command;	/* "sync", ... */
	const char *chdir;	/* -C */
	int verbosity;		/* -1, 0, 1 */
	int help;

	struct conn_opts conn;
	struct strv ssh_options;
	unsigned set;		/* bit (1 << opt_id) for each option given */

	const char *workdir;
	const char *mode;
	int dry_run;
	int adopt;
	int json;
	struct strv env;	/* -e K=V */
	const char *env_file;

	struct strv positional;	/* before "--", e.g. DEST */
	struct strv rest;	/* after "--" */
	int dashdash;		/* "--" was given */
};

struct cmd_def;

/* Commands, in the order help lists them. */
struct cmd_info {
	const char *name;
	const char *synopsis;	/* after "sidecar NAME " */
	const char *summary;
	const enum opt_id *opts;	/* 0-terminated */
	int connects;		/* takes the connection options */
	int hidden;
};

extern const struct cmd_info cli_commands[];
extern const struct opt_def cli_options[];

const struct cmd_info *cli_command(const char *name);
const struct opt_def *cli_option(enum opt_id id);
/* The kind of argument "--name" or "-x" takes; ARG_NONE when unknown. */
enum opt_arg cli_option_takes(const char *word);

/*
 * Parses argv (without the program name) into a. Returns 0, or SC_USAGE
 * after printing what is wrong and the closest valid word.
 */
int cli_parse(int argc, char **argv, struct args *a);
void cli_free(struct args *a);

/* Usage of the program, or of one command, on stdout. */
void cli_usage(const struct cmd_info *cmd);

/* Prints the command's options, one per line ("--max-wait DURATION"). */
void cli_print_options(const struct cmd_info *cmd, int with_values);

#endif
