/* conn_ssh.c: the ssh command lines, ssh -G, the control path. */
#include "conn_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "msg.h"
#include "rundir.h"
#include "sig.h"

#define ALIVE_INTERVAL 5	/* ServerAliveInterval, seconds */
#define ALIVE_COUNT 3		/* ServerAliveCountMax */
#define MASTER_NAME_EXTRA 17	/* ssh binds "<path>.XXXXXXXXXXXXXXXX" first */
#define SOCKET_NAME_LEN 16	/* hex digits of %C kept in the socket's name */

void conn_opts_defaults(struct conn_opts *o)
{
	memset(o, 0, sizeof *o);
	o->ssh = "ssh";
	o->max_wait_ms = 90000;
	o->initial_ms = 2000;
	o->max_interval_ms = 15000;
	o->connect_timeout_ms = 10000;
	o->persist_ms = 600000;
}

/*
 * Options every ssh call gets: the user's first, so that theirs win, except
 * a LogLevel quieter than INFO, which would hide what classification reads,
 * and RemoteCommand, which no call of ours can use.
 */
void conn_common_args(const struct conn *c, struct strv *a, int with_ctl)
{
	const struct conn_opts *o = c->o;
	long long secs = (o->connect_timeout_ms + 999) / 1000;

	strv_push(a, o->ssh);
	if (c->force_info)
		strv_push(a, "-oLogLevel=INFO");
	strv_push(a, "-oRemoteCommand=none");
	if (o->config) {
		strv_push(a, "-F");
		strv_push(a, o->config);
	}
	if (o->identity) {
		strv_push(a, "-i");
		strv_push(a, o->identity);
	}
	for (const char *const *opt = o->options; opt && *opt; opt++) {
		strv_push(a, "-o");
		strv_push(a, *opt);
	}
	strv_push(a, "-o");
	strv_push(a, "BatchMode=yes");
	strv_pushf(a, "-oConnectTimeout=%lld", secs < 1 ? 1 : secs);
	strv_pushf(a, "-oServerAliveInterval=%d", ALIVE_INTERVAL);
	strv_pushf(a, "-oServerAliveCountMax=%d", ALIVE_COUNT);
	if (c->accept_new)
		strv_push(a, "-oStrictHostKeyChecking=accept-new");
	if (with_ctl)
		strv_pushf(a, "-oControlPath=%s", c->ctl_path);
}

void conn_session_argv(const struct conn *c, struct strv *a, int tty, const char *command)
{
	conn_common_args(c, a, 1);
	strv_push(a, "-oControlMaster=no");
	if (tty > 0) {
		strv_push(a, "-t");
	} else {
		strv_push(a, "-oRequestTTY=no");
		strv_push(a, "-T");
	}
	strv_push(a, "--");
	strv_push(a, c->dest);
	strv_push(a, command);
}

enum err conn_check_dest(const char *dest)
{
	if (!dest || !*dest) {
		error("no destination: name one, set SIDECAR_DEST, or run 'sidecar use DEST'");
		return ERR_USAGE;
	}
	if (dest[0] == '-') {
		error("strange destination '%s' blocked: it would be read as an option", dest);
		return ERR_USAGE;
	}
	for (const char *p = dest; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			error("strange destination blocked: it contains control characters");
			return ERR_USAGE;
		}
	}
	return ERR_OK;
}

enum err conn_cannot_run(const struct conn *c, int status, const struct proc *p)
{
	return err_cannot_run(c->o->ssh, status, p ? p->exec_errno : 0,
			      "install OpenSSH's client or set SIDECAR_SSH");
}

int conn_run_ssh(const struct strv *a, struct buf *out, struct buf *err, int err_fd,
		 long long bound_ms, struct proc *p)
{
	proc_init(p, (const char *const *)a->v);
	p->in = IO_NULL;
	p->out = out ? IO_PIPE : IO_NULL;
	p->out_buf = out;
	if (err) {
		p->err = IO_PIPE;
		p->err_buf = err;
	} else {
		p->err = IO_FD;
		p->err_fd = err_fd;
	}
	p->own_group = 1;
	p->timeout_ms = bound_ms;
	trace_argv(p->argv);
	return proc_run(p);
}

/* FNV-1a, 64 bits: a fingerprint, not a secret. */
static void fnv(unsigned long long *h, const char *s)
{
	for (; s && *s; s++) {
		*h ^= (unsigned char)*s;
		*h *= 0x100000001b3ULL;
	}
	*h ^= 0xff;	/* ends the field, so "a","b" differs from "ab" */
	*h *= 0x100000001b3ULL;
}

/* The options a master is started with, as far as sidecar passes them. */
static void options_id(struct conn *c)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	fnv(&h, c->o->config ? "F" : "");
	fnv(&h, c->o->config);
	fnv(&h, c->o->identity ? "i" : "");
	fnv(&h, c->o->identity);
	for (const char *const *opt = c->o->options; opt && *opt; opt++)
		fnv(&h, *opt);
	snprintf(c->opts_id, sizeof c->opts_id, "%016llx", h);
}

/* Whether ssh's LogLevel would drop the error lines classification reads. */
static int too_quiet(const char *level)
{
	return level && (strcasecmp(level, "QUIET") == 0 || strcasecmp(level, "SILENT") == 0 ||
			 strcasecmp(level, "FATAL") == 0 ||
			 strcasecmp(level, "ERROR") == 0);
}

/*
 * The socket is named by %C, ssh's hash of the destination, cut to 16 hex
 * digits so that a long TMPDIR (macOS: 49 bytes) still leaves room in
 * sun_path. A ControlPath the user set stays as ssh expanded it.
 */
static void shorten_ctl_path(struct conn *c)
{
	size_t dl = strlen(c->ctl_dir), n = strlen(c->ctl_path);

	if (n != dl + 1 + 40 || strncmp(c->ctl_path, c->ctl_dir, dl) != 0 ||
	    c->ctl_path[dl] != '/')
		return;
	for (size_t i = dl + 1; i < n; i++)
		if (!strchr("0123456789abcdef", c->ctl_path[i]))
			return;
	c->ctl_path[dl + 1 + SOCKET_NAME_LEN] = '\0';
}

/*
 * What ssh -G answered is kept beside the control sockets while the master
 * it names is up, so that a command over a live master starts no ssh -G:
 * keyed by the ssh program, dest and our -F, -i and -o, valid while the
 * ssh configuration files are unchanged (size, time, inode) and something
 * listens on the control path.
 */
static void config_stamp(const struct conn *c, struct buf *b)
{
	const char *home = getenv("HOME");
	struct buf user = BUF_INIT;
	const char *files[4];
	size_t n = 0;

	buf_addf(&user, "%s/.ssh/config", home ? home : "");
	files[n++] = user.s;
	files[n++] = "/etc/ssh/ssh_config";
	if (c->o->config)
		files[n++] = c->o->config;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(files[i], &st) == 0)
			buf_addf(b, "%lld.%ld:%lld:%llu ", (long long)st.st_mtim.tv_sec,
				 (long)st.st_mtim.tv_nsec, (long long)st.st_size,
				 (unsigned long long)st.st_ino);
		else
			buf_adds(b, "- ");
	}
	buf_addc(b, '\n');
	buf_free(&user);
}

static void cache_path(const struct conn *c, struct buf *b)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	fnv(&h, c->o->ssh);
	fnv(&h, c->dest);
	fnv(&h, c->opts_id);
	buf_addf(b, "%s/G-%016llx", c->ctl_dir, h);
}

/* The three values ssh -G gives (text holds its lines); 0, or -1 without a control path. */
static int take_config(struct conn *c, const char *text)
{
	char *policy = line_value(text, "stricthostkeychecking");
	char *level = line_value(text, "loglevel");

	free(c->ctl_path);
	c->ctl_path = line_value(text, "controlpath");
	c->accept_new = policy && strcmp(policy, "ask") == 0;
	c->force_info = too_quiet(level);
	free(policy);
	free(level);
	if (!c->ctl_path)
		return -1;
	shorten_ctl_path(c);
	return 0;
}

/* 1 when the kept answer is still good and was taken. */
static int cached_config(struct conn *c)
{
	struct buf path = BUF_INIT, stamp = BUF_INIT, text = BUF_INIT;
	int ok = 0, fd;

	cache_path(c, &path);
	config_stamp(c, &stamp);
	if ((fd = open(path.s, O_RDONLY | O_CLOEXEC)) >= 0) {
		conn_slurp_fd(fd, &text);
		close(fd);
		ok = text.len > stamp.len && memcmp(text.s, stamp.s, stamp.len) == 0 &&
		     take_config(c, text.s + stamp.len) == 0 &&
		     conn_socket_listens(c->ctl_path) == 1;
	}
	if (ok)
		trace("ssh -G for %s: as kept in %s", c->dest, path.s);
	buf_free(&path);
	buf_free(&stamp);
	buf_free(&text);
	return ok;
}

static void keep_config(const struct conn *c, const char *out)
{
	static const char *const keys[] = { "controlpath", "stricthostkeychecking", "loglevel" };
	struct buf path = BUF_INIT, text = BUF_INIT;

	cache_path(c, &path);
	config_stamp(c, &text);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char *v = line_value(out, keys[i]);
		if (v)
			buf_addf(&text, "%s %s\n", keys[i], v);
		free(v);
	}
	conn_replace_file(path.s, text.s, text.len);
	buf_free(&path);
	buf_free(&text);
}

static enum err read_config(struct conn *c)
{
	struct strv a = STRV_INIT;
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct proc p;
	enum err rc = ERR_OK;
	int st;

	if (cached_config(c))
		return ERR_OK;
	conn_common_args(c, &a, 0);
	strv_pushf(&a, "-oControlPath=%s/%%C", c->ctl_dir);
	strv_push(&a, "-G");
	strv_push(&a, "--");
	strv_push(&a, c->dest);
	st = conn_run_ssh(&a, &out, &err, -1, CHECK_TIMEOUT_MS, &p);
	if (p.exec_errno || st < 0) {
		rc = conn_cannot_run(c, st, &p);
	} else if (sig_caught) {
		rc = ERR_SIGNAL;
	} else if (st != 0) {
		struct verdict v = classify(st, err.s, err.len, 0);
		buf_chomp(&err);
		error("bad ssh configuration for %s: %.*s", c->dest,
		      (int)v.line_len, buf_str(&err) + v.line_off);
		rc = ERR_PERMANENT;
	} else if (take_config(c, buf_str(&out)) < 0) {
		rc = error("ssh -G printed no control path for %s", c->dest);
	} else {
		keep_config(c, out.s);
	}
	strv_free(&a);
	buf_free(&out);
	buf_free(&err);
	return rc;
}

enum err conn_init(struct conn *c, const struct conn_opts *o, const char *dest)
{
	struct sockaddr_un sun;
	int rc;

	memset(c, 0, sizeof *c);
	c->o = o;
	c->dest = dest;
	c->rng = (unsigned long long)now_ms() ^ ((unsigned long long)getpid() << 32);
	backoff_init(&c->bo, o->initial_ms, o->max_interval_ms, o->max_wait_ms);
	options_id(c);
	if ((rc = conn_check_dest(dest)))
		return rc;
	if (!(c->ctl_dir = o->ctl_dir ? xstrdup(o->ctl_dir) : rundir()))
		return ERR_FAIL;
	if ((rc = read_config(c)))
		return rc;
	if (strlen(c->ctl_path) + MASTER_NAME_EXTRA >= sizeof sun.sun_path) {
		error("control path %s is too long for a unix socket; "
		      "set XDG_RUNTIME_DIR or TMPDIR to a shorter directory", c->ctl_path);
		return ERR_PERMANENT;
	}
	return 0;
}

void conn_free(struct conn *c)
{
	free(c->ctl_dir);
	free(c->ctl_path);
	buf_free(&c->last_error);
	c->ctl_dir = c->ctl_path = NULL;
}
