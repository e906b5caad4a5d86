/* cli.c: parsing and usage, both driven by the option table and the commands' entries. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "duration.h"
#include "err.h"
#include "msg.h"

const struct opt_def cli_options[] = {
	{ OPT_IDENTITY, 'i', "identity-file", ARG_FILE, "FILE", "identity (private key) file, passed to ssh" },
	{ OPT_SSH_CONFIG, 'F', "ssh-config", ARG_FILE, "FILE", "ssh configuration file, passed to ssh" },
	{ OPT_SSH_OPTION, 'o', "ssh-option", ARG_WORD, "OPT", "ssh option, passed as -o OPT (repeatable)" },
	{ OPT_MAX_WAIT, 0, "max-wait", ARG_DURATION, "DUR", "retry budget for transient failures; 0 = one attempt (90s)" },
	{ OPT_INITIAL_INTERVAL, 0, "initial-interval", ARG_DURATION, "DUR", "first backoff interval (2s)" },
	{ OPT_MAX_INTERVAL, 0, "max-interval", ARG_DURATION, "DUR", "cap on the backoff interval (15s)" },
	{ OPT_CONNECT_TIMEOUT, 0, "connect-timeout", ARG_DURATION, "DUR", "bound on each connection attempt (10s)" },
	{ OPT_AUTH_WAIT, 0, "auth-wait", ARG_DURATION, "DUR", "how long a refused key counts as not there yet, from the first attempt (0)" },
	{ OPT_PERSIST, 0, "persist", ARG_DURATION, "DUR", "how long the shared connection outlives the command; 0 closes it (10m)" },
	{ OPT_WORKDIR, 'w', "workdir", ARG_PATH, "PATH", "remote workspace; relative to the remote home (repository name)" },
	{ OPT_MODE, 0, "mode", ARG_MODE, "MODE", "snapshot (default) or patch" },
	{ OPT_DEPTH, 0, "depth", ARG_WORD, "N", "commits of history a fresh sidecar gets; 0 = all (1)" },
	{ OPT_INCLUDE, 0, "include", ARG_WORD, "PATTERN", "send the ignored files matching PATTERN, gitignore-style (repeatable)" },
	{ OPT_EXCLUDE, 0, "exclude", ARG_WORD, "PATTERN", "leave out the untracked files matching PATTERN, gitignore-style (repeatable)" },
	{ OPT_DRY_RUN, 'n', "dry-run", ARG_NONE, NULL, "say what would change; change nothing" },
	{ OPT_JSON, 0, "json", ARG_NONE, NULL, "print one JSON object on stdout" },
	{ OPT_JOBS, 0, "jobs", ARG_WORD, "N", "destinations synced at once, when several are named (8)" },
	{ OPT_DEST_FILE, 0, "dest-file", ARG_FILE, "FILE", "destinations, one a line; - for stdin" },
	{ OPT_CANCEL, 0, "cancel", ARG_NONE, NULL, "remove the forward instead" },
	{ OPT_NO_SUBMODULES, 0, "no-submodules", ARG_NONE, NULL, "sync the superproject's files only, not its submodules" },
	{ OPT_ADOPT, 0, "adopt", ARG_NONE, NULL, "take over a repository sidecar did not create, or another one's workspace" },
	{ OPT_ENV, 'e', "env", ARG_WORD, "K=V", "set an environment variable for the command (repeatable)" },
	{ OPT_ENV_FILE, 0, "env-file", ARG_FILE, "FILE", "read K=V lines from FILE" },
	{ OPT_DEBOUNCE, 0, "debounce", ARG_DURATION, "DUR", "quiet time after a change before syncing (200ms)" },
	{ OPT_INTERVAL, 0, "interval", ARG_DURATION, "DUR", "how often to look for changes where the kernel cannot say (1s)" },
	{ OPT_NO_RESTART, 0, "no-restart", ARG_NONE, NULL, "let a running CMD finish instead of interrupting it on a change" },
	{ OPT_SAVED, 0, "saved", ARG_NONE, NULL, "apply edits a sync saved on the sidecar (the newest, or REF)" },
	{ OPT_HELP, 'h', "help", ARG_NONE, NULL, "show this help" },
	{ OPT_NONE, 0, NULL, ARG_NONE, NULL, NULL },
};

const struct cmd_entry *const cli_commands[] = {
	&cmd_sync_entry, &cmd_run_entry, &cmd_watch_entry, &cmd_wait_entry, &cmd_exec_entry, &cmd_ssh_entry,
	&cmd_pull_entry, &cmd_saved_entry,
	&cmd_use_entry, &cmd_current_entry, &cmd_forget_entry, &cmd_status_entry,
	&cmd_disconnect_entry, &cmd_forward_entry, &cmd_completion_entry, &cmd_help_entry,
	&cmd_version_entry, &cmd_complete_entry, NULL,
};

const struct cmd_entry *cli_command(const char *name)
{
	for (const struct cmd_entry *const *c = cli_commands; *c; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

const struct opt_def *cli_cmd_option(const struct cmd_entry *cmd, size_t i)
{
	size_t own = 0, conn = (cmd->flags & CMD_CONNECTS) ? OPT_PERSIST - OPT_IDENTITY + 1 : 0;

	while (cmd->options[own])
		own++;
	if (i < own)
		return cli_option(cmd->options[i]);
	if (i < own + conn)
		return cli_option((enum opt_id)(OPT_IDENTITY + (i - own)));
	return i == own + conn ? cli_option(OPT_HELP) : NULL;
}

const struct opt_def *cli_option(enum opt_id id)
{
	for (const struct opt_def *o = cli_options; o->long_name; o++)
		if (o->id == id)
			return o;
	return NULL;
}

enum opt_arg cli_option_takes(const char *word)
{
	for (const struct opt_def *o = cli_options; o->long_name; o++) {
		if (word[0] == '-' && word[1] == '-' && strcmp(word + 2, o->long_name) == 0)
			return o->arg;
		if (word[0] == '-' && word[1] && !word[2] && word[1] == o->short_name)
			return o->arg;
	}
	return ARG_NONE;
}

int check_workdir(const char *wd, const char *from)
{
	size_t n = strlen(wd);

	if (!n) {
		error("empty workdir");
		return ERR_USAGE;
	}
	if (n > WORKDIR_MAX) {
		error("the workdir (%s) is %zu bytes long: paths on the sidecar are shorter than %d "
		      "bytes (PATH_MAX); choose a shorter one", from, n, WORKDIR_MAX + 1);
		return ERR_USAGE;
	}
	return 0;
}

int parse_depth(const char *s, int *depth)
{
	long n = 0;
	if (!s || !*s || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s))
		return -1;
	n = strtol(s, NULL, 10);
	if (depth)
		*depth = (int)n;
	return 0;
}

int parse_bool(const char *s)
{
	static const char *const yes[] = { "true", "yes", "on", "1" }, *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; s && i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

int parse_jobs(const char *s, long *jobs)
{
	*jobs = FANOUT_JOBS;
	if (!s)
		return 0;
	if (!*s || strlen(s) > 3 || strspn(s, "0123456789") != strlen(s) ||
	    (*jobs = strtol(s, NULL, 10)) < 1 || *jobs > FANOUT_JOBS_MAX) {
		error("invalid value '%s' for --jobs: use a whole number from 1 to %d", s,
		      FANOUT_JOBS_MAX);
		return ERR_USAGE;
	}
	return 0;
}

/* Edit distance, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];
	if (lb >= sizeof row / sizeof row[0])
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

static const char *closest_command(const char *word)
{
	const char *best = NULL;
	size_t bestd = 3;
	for (const struct cmd_entry *const *p = cli_commands; *p; p++) {
		const struct cmd_entry *c = *p;
		size_t d = (c->flags & CMD_HIDDEN) ? (size_t)-1 : distance(word, c->name);
		if (d < bestd || (strncmp(word, c->name, strlen(word)) == 0 && *word && !best)) {
			bestd = d;
			best = c->name;
		}
	}
	return best;
}

static const char *closest_option(const struct cmd_entry *cmd, const char *word,
				  char *out, size_t size)
{
	const struct opt_def *o;
	const char *best = NULL;
	size_t bestd = 4;
	for (size_t i = 0; (o = cli_cmd_option(cmd, i)); i++) {
		size_t d = distance(word, o->long_name);
		if (d < bestd) {
			bestd = d;
			best = o->long_name;
		}
	}
	if (!best)
		return NULL;
	snprintf(out, size, "--%s", best);
	return out;
}

/* Prints fmt with word, the closest valid word if any, and where help is. */
static enum err usage_error(const char *cmd, const char *fmt, const char *word, const char *hint)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, fmt, word);
	if (hint)
		buf_addf(&b, "; did you mean '%s'?", hint);
	error("%s", b.s);
	error("run 'sidecar %s%s--help' for usage", cmd ? cmd : "", cmd ? " " : "");
	buf_free(&b);
	return ERR_USAGE;
}

static enum err duration_arg(const struct opt_def *o, const char *val, long long *ms, int positive)
{
	if (parse_duration(val, ms) < 0 || (positive && *ms == 0)) {
		error("invalid duration '%s' for --%s: use a %snumber with ms, s, m or h, "
		      "like 500ms, 2s, 90 or 1m30s", val, o->long_name, positive ? "positive " : "");
		return ERR_USAGE;
	}
	return 0;
}

static int valid_env(const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return 0;
	for (const char *p = kv; p < eq; p++) {
		int ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_' ||
			 (p > kv && *p >= '0' && *p <= '9');
		if (!ok)
			return 0;
	}
	return 1;
}

/* A gitignore-style pattern: one line, not blank, not a comment. */
static enum err check_pattern(const struct opt_def *o, const char *val)
{
	if (!*val || *val == '#' || strchr(val, '\n')) {
		error("invalid pattern '%s' for --%s: give one gitignore-style pattern, "
		      "not empty, not a comment, on one line", val, o->long_name);
		return ERR_USAGE;
	}
	return 0;
}

static enum err apply_option(struct args *a, const struct opt_def *o, const char *val)
{
	int rc = 0;

	a->set |= 1u << o->id;
	switch (o->id) {
	case OPT_IDENTITY: a->conn.identity = val; break;
	case OPT_SSH_CONFIG: a->conn.config = val; break;
	case OPT_SSH_OPTION:
		if (!*val || val[0] == '-') {
			error("invalid ssh option '%s': give it as Key=Value", val);
			return ERR_USAGE;
		}
		strv_push(&a->ssh_options, val);
		a->conn.options = strv_argv(&a->ssh_options);
		break;
	case OPT_MAX_WAIT:
		rc = duration_arg(o, val, &a->conn.max_wait_ms, 0);
		a->max_wait = val;
		break;
	case OPT_INITIAL_INTERVAL: rc = duration_arg(o, val, &a->conn.initial_ms, 1); break;
	case OPT_MAX_INTERVAL: rc = duration_arg(o, val, &a->conn.max_interval_ms, 1); break;
	case OPT_CONNECT_TIMEOUT: rc = duration_arg(o, val, &a->conn.connect_timeout_ms, 1); break;
	case OPT_AUTH_WAIT:
		rc = duration_arg(o, val, &a->conn.auth_wait_ms, 0);
		a->auth_wait = val;
		break;
	case OPT_PERSIST:
		rc = duration_arg(o, val, &a->conn.persist_ms, 0);
		a->persist = val;
		break;
	case OPT_WORKDIR:
		if ((rc = check_workdir(val, "-w")))
			return rc;
		a->workdir = val;
		break;
	case OPT_MODE:
		if (strcmp(val, "snapshot") && strcmp(val, "patch")) {
			error("invalid mode '%s': use snapshot or patch", val);
			return ERR_USAGE;
		}
		a->mode = val;
		break;
	case OPT_DEPTH:
		if (parse_depth(val, NULL) < 0) {
			error("invalid depth '%s' for --depth: use a whole number, 0 for all history", val);
			return ERR_USAGE;
		}
		a->depth = val;
		break;
	case OPT_INCLUDE:
	case OPT_EXCLUDE:
		if ((rc = check_pattern(o, val)))
			return rc;
		strv_push(o->id == OPT_INCLUDE ? &a->include : &a->exclude, val);
		break;
	case OPT_DRY_RUN: a->dry_run = 1; break;
	case OPT_ADOPT: a->adopt = 1; break;
	case OPT_NO_SUBMODULES: a->no_submodules = 1; break;
	case OPT_JOBS:
		if ((rc = parse_jobs(val, &(long){ 0 })))
			return rc;
		a->jobs = val;
		break;
	case OPT_DEST_FILE: a->dest_file = val; break;
	case OPT_JSON: a->json = 1; break;
	case OPT_CANCEL: a->cancel = 1; break;
	case OPT_SAVED: a->saved = 1; break;
	case OPT_ENV:
		if (!valid_env(val)) {
			error("invalid environment assignment '%s': use NAME=VALUE", val);
			return ERR_USAGE;
		}
		strv_push(&a->env, val);
		break;
	case OPT_ENV_FILE: a->env_file = val; break;
	case OPT_DEBOUNCE: rc = duration_arg(o, val, &a->debounce_ms, 0); break;
	case OPT_INTERVAL: rc = duration_arg(o, val, &a->interval_ms, 1); break;
	case OPT_NO_RESTART: a->no_restart = 1; break;
	case OPT_HELP: a->help = 1; break;
	case OPT_NONE: break;
	}
	return rc;
}

static const struct opt_def *find_long(const struct cmd_entry *cmd, const char *name, size_t n)
{
	const struct opt_def *o;
	for (size_t i = 0; (o = cli_cmd_option(cmd, i)); i++) {
		if (strlen(o->long_name) == n && strncmp(o->long_name, name, n) == 0)
			return o;
	}
	return NULL;
}

static const struct opt_def *find_short(const struct cmd_entry *cmd, char c)
{
	const struct opt_def *o;
	for (size_t i = 0; (o = cli_cmd_option(cmd, i)); i++) {
		if (o->short_name == c)
			return o;
	}
	return NULL;
}

/* -q and -v are global but may stand anywhere before "--". */
static int verbosity_flag(struct args *a, const char *arg)
{
	if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0)
		a->verbosity = -1;
	else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0)
		a->verbosity = 1;
	else
		return 0;
	return 1;
}

/*
 * "--" ends the options of every command; what follows is the command for
 * the sidecar where the command takes one (exec, ssh), else arguments.
 */
static int parse_command_args(const struct cmd_entry *cmd, int argc, char **argv, struct args *a)
{
	for (int i = 0; i < argc; i++) {
		char *arg = argv[i];
		int rc;

		if (strcmp(arg, "--") == 0) {
			a->dashdash = 1;
			for (i++; i < argc; i++)
				strv_push((cmd->flags & CMD_REMOTE) ? &a->rest : &a->positional, argv[i]);
			break;
		}
		if (verbosity_flag(a, arg))
			continue;
		if (arg[0] == '-' && arg[1] == '-') {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t n = eq ? (size_t)(eq - name) : strlen(name);
			const struct opt_def *o = find_long(cmd, name, n);
			if (!o) {
				char *word = xstrdup(name), hint[64];
				word[n] = '\0';
				rc = usage_error(cmd->name, "unknown option '--%s'", word,
						 closest_option(cmd, word, hint, sizeof hint));
				free(word);
				return rc;
			}
			const char *val = NULL;
			if (o->arg != ARG_NONE) {
				if (eq)
					val = eq + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else
					return usage_error(cmd->name, "option '--%s' needs a value", o->long_name, NULL);
			} else if (eq) {
				return usage_error(cmd->name, "option '--%s' takes no value", o->long_name, NULL);
			}
			if ((rc = apply_option(a, o, val)))
				return rc;
			continue;
		}
		if (arg[0] == '-' && arg[1]) {
			for (char *p = arg + 1; *p; p++) {
				char one[3] = { '-', *p, 0 };
				const struct opt_def *o = find_short(cmd, *p);
				if (verbosity_flag(a, one))
					continue;
				if (!o)
					return usage_error(cmd->name, "unknown option '%s'", one, NULL);
				const char *val = NULL;
				if (o->arg != ARG_NONE) {
					if (p[1])
						val = p + 1;
					else if (i + 1 < argc)
						val = argv[++i];
					else
						return usage_error(cmd->name, "option '%s' needs a value", one, NULL);
				}
				if ((rc = apply_option(a, o, val)))
					return rc;
				if (val)
					break;
			}
			continue;
		}
		strv_push(&a->positional, arg);
	}
	return 0;
}

enum err cli_parse(int argc, char **argv, struct args *a)
{
	enum err rc;
	int i = 0;

	memset(a, 0, sizeof *a);
	conn_opts_defaults(&a->conn);
	a->debounce_ms = a->interval_ms = -1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *arg = argv[i];
		if (verbosity_flag(a, arg))
			continue;
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			a->help = 1;
		} else if (strcmp(arg, "--version") == 0) {
			a->command = "version";
		} else if (strcmp(arg, "-C") == 0) {
			if (i + 1 >= argc)
				return usage_error(NULL, "option '%s' needs a directory", "-C", NULL);
			a->chdir = argv[++i];
		} else if (strncmp(arg, "-C", 2) == 0) {
			a->chdir = arg + 2;
		} else {
			return usage_error(NULL, "unknown option '%s' before the command", arg, NULL);
		}
	}
	if (i < argc && !a->command) {
		const struct cmd_entry *cmd = cli_command(argv[i]);
		if (!cmd)
			return usage_error(NULL, "unknown command '%s'", argv[i],
					   closest_command(argv[i]));
		a->command = cmd->name;
		i++;
		if (cmd->flags & CMD_RAW) {
			for (; i < argc; i++)
				strv_push(&a->positional, argv[i]);
			return 0;
		}
		if ((rc = parse_command_args(cmd, argc - i, argv + i, a)))
			return rc;
		if ((cmd->flags & CMD_LAST_ARG) && a->positional.n) {
			a->last = a->positional.v[--a->positional.n];
			a->positional.v[a->positional.n] = NULL;
		}
		if (cmd->not_dest && a->positional.n && cmd->not_dest(a->positional.v[0])) {
			/* no DEST: every argument is an operand, ahead of those after "--" */
			struct strv all = STRV_INIT;
			strv_pushv(&all, strv_argv(&a->positional));
			strv_pushv(&all, strv_argv(&a->rest));
			strv_free(&a->positional);
			strv_free(&a->rest);
			a->rest = all;
		}
		return 0;
	}
	if (!a->command && !a->help)
		return usage_error(NULL, "no command given%s", "", NULL);
	return 0;
}

void cli_free(struct args *a)
{
	strv_free(&a->ssh_options);
	strv_free(&a->env);
	strv_free(&a->include);
	strv_free(&a->exclude);
	strv_free(&a->positional);
	strv_free(&a->rest);
	free(a->last);
}

static void print_option(const struct opt_def *o)
{
	char left[64];
	if (o->short_name)
		snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->long_name,
			 o->metavar ? " " : "", o->metavar ? o->metavar : "");
	else
		snprintf(left, sizeof left, "    --%s%s%s", o->long_name,
			 o->metavar ? " " : "", o->metavar ? o->metavar : "");
	printf("  %-30s %s\n", left, o->help);
}

void cli_usage(const struct cmd_entry *cmd)
{
	if (!cmd) {
		printf("usage: sidecar [-C DIR] [-q | -v] COMMAND [OPTIONS] [ARGS]\n\n"
		       "Keep a remote machine's checkout equal to the local git working tree,\n"
		       "over the system ssh and git.\n\nCommands:\n");
		for (const struct cmd_entry *const *c = cli_commands; *c; c++)
			if (!((*c)->flags & CMD_HIDDEN))
				printf("  %-12s %s\n", (*c)->name, (*c)->summary);
		printf("\nGlobal options:\n"
		       "  -C DIR                         run as if started in DIR\n"
		       "  -q, --quiet                    errors only\n"
		       "  -v, --verbose                  every ssh and git command, every retry\n"
		       "  -h, --help                     show help\n"
		       "      --version                  print the version\n\n"
		       "Run 'sidecar help COMMAND' for a command's options; 'man sidecar' for more.\n");
		return;
	}
	printf("usage: sidecar %s%s%s\n\n%c%s.\n\nOptions:\n", cmd->name,
	       *cmd->synopsis ? " " : "", cmd->synopsis,
	       cmd->summary[0] - 'a' + 'A', cmd->summary + 1);
	for (const enum opt_id *p = cmd->options; *p; p++)
		print_option(cli_option(*p));
	print_option(cli_option(OPT_HELP));
	if (cmd->flags & CMD_CONNECTS) {
		printf("\nConnection options:\n");
		for (enum opt_id id = OPT_IDENTITY; id <= OPT_PERSIST; id++)
			print_option(cli_option(id));
	}
}

void cli_print_options(const struct cmd_entry *cmd, int with_values)
{
	const struct opt_def *o;
	for (size_t i = 0; (o = cli_cmd_option(cmd, i)); i++) {
		static const char *const kinds[] = { "", "file", "duration", "word", "mode", "path" };
		if (with_values)
			printf("--%s\t%s\t%s\n", o->long_name, kinds[o->arg], o->help);
		else
			printf("--%s\n", o->long_name);
		if (o->short_name) {
			if (with_values)
				printf("-%c\t%s\t%s\n", o->short_name, kinds[o->arg], o->help);
			else
				printf("-%c\n", o->short_name);
		}
	}
}
