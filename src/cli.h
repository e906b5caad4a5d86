/*
 * cli.h: the command line. One table of commands and their options serves
 * dispatch, parsing, --help, the man page's checks and the shell
 * completions.
 */
#ifndef SIDECAR_CLI_H
#define SIDECAR_CLI_H

#include "err.h"

#include "conn.h"
#include "strv.h"

enum opt_id {
	OPT_NONE,
	/* connection */
	OPT_IDENTITY, OPT_SSH_CONFIG, OPT_SSH_OPTION, OPT_MAX_WAIT,
	OPT_INITIAL_INTERVAL, OPT_MAX_INTERVAL, OPT_CONNECT_TIMEOUT, OPT_AUTH_WAIT, OPT_PERSIST,
	/* per command */
	OPT_WORKDIR, OPT_MODE, OPT_DEPTH, OPT_INCLUDE, OPT_EXCLUDE, OPT_DRY_RUN, OPT_JSON, OPT_ENV, OPT_ENV_FILE,
	OPT_ADOPT, OPT_NO_SUBMODULES, OPT_JOBS, OPT_DEST_FILE, OPT_CANCEL, OPT_DEBOUNCE, OPT_INTERVAL, OPT_NO_RESTART, OPT_SAVED, OPT_HELP
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

	const char *max_wait;	/* --max-wait, --auth-wait and --persist as given */
	const char *auth_wait;
	const char *persist;
	const char *workdir;
	const char *mode;
	const char *depth;	/* --depth as given */
	const char *jobs;	/* --jobs as given, or NULL */
	const char *dest_file;	/* --dest-file FILE, "-" for stdin */
	int dry_run;
	int adopt;
	int no_submodules;	/* --no-submodules */
	int cancel;		/* forward --cancel */
	long long debounce_ms;	/* watch --debounce, -1 when not given */
	long long interval_ms;	/* watch --interval, -1 when not given */
	int no_restart;		/* watch --no-restart */
	int saved;		/* pull --saved */
	int json;
	struct strv env;	/* -e K=V */
	struct strv include;	/* --include PATTERN */
	struct strv exclude;	/* --exclude PATTERN */
	const char *env_file;

	struct strv positional;	/* the arguments, e.g. DEST */
	char *last;		/* CMD_LAST_ARG: the last argument, out of positional */
	struct strv rest;	/* the command for the sidecar, after "--" */
	int dashdash;		/* "--" was given */
};

struct env;

/* What the first argument of a command is, for completion. */
enum operand { OPERAND_NONE, OPERAND_DEST, OPERAND_COMMAND, OPERAND_SHELL };

/* Flags of a command. */
enum {
	CMD_REPOSITORY = 1 << 0,	/* reads git config and finds the repository */
	CMD_CONNECTS = 1 << 1,		/* takes the connection options */
	CMD_REMOTE = 1 << 2,		/* the first "--" starts a command for the sidecar */
	CMD_HIDDEN = 1 << 3,		/* not in help or completion */
	CMD_RAW = 1 << 4,		/* every word is an argument, none an option */
	CMD_SSH_STATUS = 1 << 5,	/* exits as ssh does: the remote command's status,
					   255 when the connection failed */
	CMD_LAST_ARG = 1 << 6,		/* its last argument is its own (in args.last), not DEST */
};

/*
 * One command: everything dispatch, help, completion and the docs checks
 * know of it. Each cmd_*.c defines its entries; cli_commands lists them.
 */
struct cmd_entry {
	const char *name;
	const char *synopsis;	/* after "sidecar NAME " */
	const char *summary;
	const enum opt_id *options;	/* its own, OPT_NONE-terminated; the
					   connection options and --help follow */
	enum operand operand;
	unsigned flags;
	enum err (*run)(struct env *e);
	/* with CMD_REMOTE: 1 when a first argument is an operand, not DEST */
	int (*not_dest)(const char *word);
};

/* Every command, in the order help lists them; NULL-terminated. */
extern const struct cmd_entry *const cli_commands[];
extern const struct opt_def cli_options[];

const struct cmd_entry *cli_command(const char *name);
const struct opt_def *cli_option(enum opt_id id);
/* The i-th option of cmd (its own, the connection options, --help); NULL after the last. */
const struct opt_def *cli_cmd_option(const struct cmd_entry *cmd, size_t i);
/* The kind of argument "--name" or "-x" takes; ARG_NONE when unknown. */
enum opt_arg cli_option_takes(const char *word);

/*
 * Parses argv (without the program name) into a. Returns 0, or ERR_USAGE
 * after printing what is wrong and the closest valid word.
 */
enum err cli_parse(int argc, char **argv, struct args *a);
void cli_free(struct args *a);

/*
 * The longest workdir: a path on the sidecar is shorter than PATH_MAX (4096
 * bytes on Linux, the final NUL included), and the command lines that carry
 * it stay far below the kernel's limit on one argument.
 */
#define WORKDIR_MAX 4095

/*
 * A workdir that cannot be used (empty, or longer than WORKDIR_MAX; from
 * says where it came from): ERR_USAGE after saying why, else 0.
 */
int check_workdir(const char *wd, const char *from);

/* A --depth value: a whole number, 0 for all history. 0, or -1 when bad. */
int parse_depth(const char *s, int *depth);
/* A git-style boolean (true, yes, on, 1; false, no, off, 0; any case): 1, 0, or -1. */
int parse_bool(const char *s);

/*
 * A --jobs value, or NULL for the default (FANOUT_JOBS): a whole number
 * from 1 to FANOUT_JOBS_MAX. 0, or ERR_USAGE after saying why.
 */
#define FANOUT_JOBS 8
#define FANOUT_JOBS_MAX 256
int parse_jobs(const char *s, long *jobs);

/* Usage of the program, or of one command, on stdout. */
void cli_usage(const struct cmd_entry *cmd);

/* Prints the command's options, one per line ("--max-wait DURATION"). */
void cli_print_options(const struct cmd_entry *cmd, int with_values);

#endif
