/*
 * dbg_exec.c — running and stopping the program: the resume commands
 * (step into, over, out, continue) for a fiber, pause while it runs,
 * detach, and kill (docs/ARCHITECTURE.md, "Conversation rules" 3, 4 and 8).
 */
#include "dbg.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static const enum pt_msg_type resume_type[] = {
    [PT_DBG_STEP] = PT_REQ_STEP,
    [PT_DBG_SKIP] = PT_REQ_SKIP,
    [PT_DBG_UP] = PT_REQ_UP,
    [PT_DBG_CONTINUE] = PT_REQ_CONTINUE,
};

int pt_dbg_resume(struct pt_dbg *d, enum pt_dbg_resume how, uint64_t fiber)
{
    struct pt_inf *inf = d->inf;
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    struct pt_msg req, rep;
    pt_msg_init(&req, resume_type[how], 0);
    if (how != PT_DBG_CONTINUE) {
        if (!fiber)
            fiber = inf->sel_fiber;
        /* 0 on the wire is the stopped fiber, whose frames the tracer knows. */
        req.u.fiber.fiber = fiber == inf->stop_fiber ? 0 : fiber;
        /* skip and up count from the selected frame. */
        req.u.fiber.frame = fiber == inf->stop_fiber && fiber == inf->sel_fiber ? (uint32_t)inf->frame : 0;
    }
    if ((rc = pt_dbg_request(d, &req, &rep)))
        return rc;
    pt_msg_free(&rep);
    if (inf->state == PT_DBG_STOPPED) {
        inf->state = PT_DBG_RUNNING;
        if (d->ui && d->ui->running)
            d->ui->running(d->ui_ctx);
    }
    pt_dbg_select_waiting(d);
    return 0;
}

int pt_dbg_pause(struct pt_dbg *d)
{
    struct pt_inf *inf = d->inf;
    if (inf->state == PT_DBG_STOPPED)
        return pt_dbg_fail(d, -EALREADY, "the program is already stopped");
    if (inf->state == PT_DBG_DONE)
        return pt_dbg_fail(d, -ENOTCONN, "the program is gone");
    if (inf->pause_pending)
        return 0;
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_PAUSE, 0);
    int rc = pt_sess_send(&inf->sess, &req);
    if (rc) {
        d->err[0] = '\0';
        pt_dbg_connection_lost(d, rc);
        return rc;
    }
    inf->pause_pending = true;
    return 0;
}

/* Reaps our child (killed, or detached from); with report, says how it
 * ended through ui->ended (polytrace's exit code stays 0). */
static void wait_child(struct pt_dbg *d, bool report)
{
    struct pt_inf *inf = &d->one;
    pid_t pid = inf->child ? inf->pid : d->detached_child;
    if (!pid)
        return;
    int status;
    pid_t w;
    do
        w = waitpid(pid, &status, 0);
    while (w < 0 && errno == EINTR);
    if (w == pid && report && inf->child)
        pt_dbg_report_child(d, status);
    inf->child = false;
    d->detached_child = 0;
    d->exit_code = 0;
}

/* Detaches from one process; false when its connection was lost instead. */
static bool detach_one(struct pt_inf *inf)
{
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_DETACH, 0);
    bool ok = true;
    if (inf->sess.fd < 0)
        ok = false;
    else if (inf->state == PT_DBG_RUNNING)
        ok = pt_sess_send(&inf->sess, &req) == 0;  /* the reply arrives among
                                                      events; the close is what counts */
    else if (pt_sess_request(&inf->sess, &req, &rep, PT_SESS_REPLY_MS) == 0)
        pt_msg_free(&rep);
    else
        ok = false;
    pt_sess_close(&inf->sess);
    inf->state = PT_DBG_DONE;
    return ok;
}

int pt_dbg_detach(struct pt_dbg *d)
{
    struct pt_inf *sel = d->inf;
    d->err[0] = '\0';
    /* The selected process answers first: its failure is the command's. */
    if (sel->state == PT_DBG_RUNNING) {
        struct pt_msg req;
        pt_msg_init(&req, PT_REQ_DETACH, 0);
        if (pt_sess_send(&sel->sess, &req) != 0) {
            pt_dbg_connection_lost(d, 0);
            return -ECONNRESET;
        }
    } else {
        struct pt_msg req, rep;
        pt_msg_init(&req, PT_REQ_DETACH, 0);
        int rc = pt_dbg_request(d, &req, &rep);
        if (rc)
            return rc;
        pt_msg_free(&rep);
    }
    for (int i = 0; i < d->nprocs; i++)
        if (d->procs[i] != sel && d->procs[i]->state != PT_DBG_DONE)
            detach_one(d->procs[i]);
    pt_sess_close(&sel->sess);
    d->exit_code = 0;
    sel->state = PT_DBG_DONE;
    /* A program we launched is process 1, wherever the selection is. */
    if (sel != &d->one)
        d->one.state = PT_DBG_DONE;
    return 0;
}

void pt_dbg_wait_program(struct pt_dbg *d)
{
    if (!d->one.child && !d->detached_child)
        return;
    /* It keeps the terminal while it runs on. */
    if (d->ui && d->ui->terminal)
        d->ui->terminal(d->ui_ctx, true);
    wait_child(d, true);
    if (d->ui && d->ui->terminal)
        d->ui->terminal(d->ui_ctx, false);
}

static void kill_one(struct pt_inf *inf, bool remote)
{
    if (inf->sess.fd >= 0) {
        struct pt_msg req, rep;
        pt_msg_init(&req, PT_REQ_KILL, 0);
        if (inf->state == PT_DBG_STOPPED &&
            pt_sess_request(&inf->sess, &req, &rep, PT_SESS_REPLY_MS) == 0)
            pt_msg_free(&rep);
        else if (inf->state != PT_DBG_STOPPED)
            pt_sess_send(&inf->sess, &req);
        pt_sess_close(&inf->sess);
    }
    /* A running process may be deaf to the request (busy in C): ours to
     * kill as well, when it runs here. */
    if (!remote && inf->pid > 0 && inf->state != PT_DBG_DONE)
        kill(inf->pid, SIGKILL);
    inf->state = PT_DBG_DONE;
}

void pt_dbg_kill(struct pt_dbg *d)
{
    for (int i = 0; i < d->nprocs; i++)
        kill_one(d->procs[i], d->remote);
    if (d->one.child) {
        kill(d->one.pid, SIGKILL);
        wait_child(d, false);
    }
    d->exit_code = 0;
    d->inf->state = PT_DBG_DONE;
}
