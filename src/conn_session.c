/* conn_session.c: a session over the master, and what its end means. */
#include "conn_int.h"

#include <string.h>

#include "err.h"
#include "interrupt.h"
#include "msg.h"
#include "sig.h"

/*
 * A master that loses its connection tells its sessions, then exits: give
 * it this long to go before taking it as alive.
 */
#define MASTER_EXIT_GRACE_MS 500
#define MASTER_POLL_MS 20

/* How long the session that passes a signal on may take. */
#define INTERRUPT_TIMEOUT_MS 5000

int conn_interrupt(struct conn *c, long pid, int signo)
{
	struct strv argv = STRV_INIT;
	struct buf cmd = BUF_INIT;
	struct proc p;
	int status;

	interrupt_command(&cmd, signo, pid);
	conn_session_argv(c, &argv, -1, cmd.s);
	proc_init(&p, strv_argv(&argv));
	p.in = p.out = p.err = IO_NULL;
	p.keep_signals = 1;	/* it is the one that delivers the signal */
	p.timeout_ms = INTERRUPT_TIMEOUT_MS;
	status = proc_run(&p);
	strv_free(&argv);
	buf_free(&cmd);
	return status == 0 ? 0 : -1;
}

enum err conn_start(struct conn *c, struct proc *p)
{
	int rc;

	trace_argv(p->argv);
	c->sessions++;
	rc = proc_start(p);
	return rc ? conn_cannot_run(c, rc, p) : ERR_OK;
}

/* Whether the master still listens; unsure counts as yes. */
static int master_listens(const struct conn *c)
{
	return conn_socket_listens(c->ctl_path) != 0;
}

/* Whether the master is still there after a grace for it to exit. */
static int master_stays(const struct conn *c)
{
	long long end = now_ms() + MASTER_EXIT_GRACE_MS;

	while (master_listens(c)) {
		if (now_ms() >= end || sig_caught)
			return 1;
		sleep_until(now_ms() + MASTER_POLL_MS, &sig_caught, sig_wakefd());
	}
	return 0;
}

/*
 * A session's ssh exited 255. Over a live master it cannot have failed to
 * connect: only a control-phase line is ssh's, and anything else is the
 * remote command's own status and text. A line saying the connection was
 * lost under the session makes sure the master really stays.
 */
static int session_outcome(struct conn *c, int rc, const struct buf *err, struct verdict *v)
{
	int alive = master_listens(c);

	if (alive) {
		struct verdict lost = classify_phase(rc, err->s, err->len,
						     PHASE_SESSION | PHASE_CONTROL, 1);
		if (lost.cls == FAIL_TRANSIENT || lost.cls == FAIL_PERMANENT)
			alive = master_stays(c);
	}
	*v = classify_phase(rc, err->s, err->len, alive ? PHASE_CONTROL : PHASE_ALL, 1);
	if (v->cls == FAIL_REMOTE && alive) {
		*v = (struct verdict){ FAIL_NONE, "", 0, 0 };
	} else if (v->cls == FAIL_REMOTE) {
		/* through a master that died, ssh exits 255 and says nothing */
		v->cls = FAIL_TRANSIENT;
		v->reason = "shared connection lost";
		buf_reset(&c->last_error);
		buf_adds(&c->last_error, "the shared connection closed during the session");
	} else {
		conn_remember_error(c, v, err);
	}
	return rc;
}

int conn_finish(struct conn *c, struct proc *p, struct verdict *v)
{
	int rc = proc_finish(p);

	*v = (struct verdict){ FAIL_NONE, "", 0, 0 };
	if (p->timed_out) {
		v->cls = FAIL_TRANSIENT;
		v->reason = "no answer in time";
		buf_reset(&c->last_error);
		buf_adds(&c->last_error, "the session went silent");
		return SSH_FAILED;
	}
	if (rc == SSH_FAILED && p->err_buf)
		return session_outcome(c, rc, p->err_buf, v);
	return rc;
}

enum err conn_run(struct conn *c, struct proc *p, int *status, struct verdict *v)
{
	enum err e = conn_start(c, p);

	*v = (struct verdict){ FAIL_NONE, "", 0, 0 };
	*status = -1;
	if (e == ERR_OK)
		*status = conn_finish(c, p, v);
	return e;
}

enum err conn_report(struct conn *c, const struct verdict *v)
{
	error("connection to %s failed: %s (%s)", c->dest, v->reason,
	      buf_str(&c->last_error));
	return v->cls == FAIL_TRANSIENT ? ERR_UNREACHABLE : ERR_PERMANENT;
}
