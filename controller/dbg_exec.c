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
    struct pt_inf *inf = d->inf;
    if (!inf->child)
        return;
    int status;
    pid_t w;
    do
        w = waitpid(inf->pid, &status, 0);
    while (w < 0 && errno == EINTR);
    inf->child = false;
    if (w == inf->pid && report)
        pt_dbg_report_child(d, status);
    d->exit_code = 0;
}

int pt_dbg_detach(struct pt_dbg *d)
{
    struct pt_inf *inf = d->inf;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_DETACH, 0);
    d->err[0] = '\0';
    if (inf->state == PT_DBG_RUNNING) {
        /* The reply arrives among events; the close is what counts. */
        if (pt_sess_send(&inf->sess, &req) != 0) {
            pt_dbg_connection_lost(d, 0);
            return -ECONNRESET;
        }
    } else {
        int rc = pt_dbg_request(d, &req, &rep);
        if (rc)
            return rc;
        pt_msg_free(&rep);
    }
    pt_sess_close(&inf->sess);
    d->exit_code = 0;
    inf->state = PT_DBG_DONE;
    return 0;
}

void pt_dbg_wait_program(struct pt_dbg *d)
{
    if (!d->inf->child)
        return;
    /* It keeps the terminal while it runs on. */
    if (d->ui && d->ui->terminal)
        d->ui->terminal(d->ui_ctx, true);
    wait_child(d, true);
    if (d->ui && d->ui->terminal)
        d->ui->terminal(d->ui_ctx, false);
}

void pt_dbg_kill(struct pt_dbg *d)
{
    struct pt_inf *inf = d->inf;
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
    if (inf->child) {
        kill(inf->pid, SIGKILL);
        wait_child(d, false);
    }
    d->exit_code = 0;
    inf->state = PT_DBG_DONE;
}
