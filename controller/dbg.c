/*
 * dbg.c — the session core: a request with its reply (interruptible, and
 * ending the session when the connection is gone), the tracer's events
 * turned into session state and told to the front end, and how a session
 * ends (docs/ARCHITECTURE.md, "Conversation rules" 3, 4 and 6).
 */
#include "dbg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "strcopy.h"

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void pt_dbg_init(struct pt_dbg *d, enum pt_dbg_mode mode, const struct pt_dbg_ui *ui, void *ctx)
{
    memset(d, 0, sizeof *d);
    d->inf = &d->one;
    d->inf->mode = mode;
    d->inf->state = PT_DBG_RUNNING;  /* until the tracer says it stopped */
    d->inf->sess.fd = -1;
    d->ui = ui;
    d->ui_ctx = ctx;
    d->intr_fd = -1;
    d->print_limit = PT_DBG_PRINT_LIMIT;
}

int pt_dbg_fail(struct pt_dbg *d, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    return rc;
}

const char *pt_dbg_error(const struct pt_dbg *d)
{
    return d->err;
}

int pt_dbg_open(struct pt_dbg *d, int fd, bool attached)
{
    struct pt_inf *inf = d->inf;
    if (pt_sess_open(&inf->sess, fd)) {
        inf->sess.fd = -1;
        close(fd);
        return pt_dbg_fail(d, -ENOMEM, "out of memory");
    }
    inf->sess.observe = d->observe;
    int rc = pt_sess_handshake(&inf->sess, attached, d->err, sizeof d->err);
    if (rc)
        pt_sess_close(&inf->sess);
    return rc;
}

void pt_dbg_close(struct pt_dbg *d)
{
    pt_sess_close(&d->inf->sess);
}

int pt_dbg_need_stopped(struct pt_dbg *d)
{
    if (d->inf->state == PT_DBG_STOPPED)
        return 0;
    if (d->inf->state == PT_DBG_DONE)
        return pt_dbg_fail(d, -ENOTCONN, "the program is gone");
    return pt_dbg_fail(d, -EBUSY, "the program is running (use 'pause' or Ctrl-C first)");
}

int pt_dbg_request(struct pt_dbg *d, struct pt_msg *req, struct pt_msg *reply)
{
    struct pt_sess *s = &d->inf->sess;
    memset(reply, 0, sizeof *reply);
    d->err[0] = '\0';
    if (s->fd < 0)
        return pt_dbg_fail(d, -ENOTCONN, "not connected to the program");
    int rc = pt_sess_send(s, req);
    if (rc) {
        pt_dbg_connection_lost(d, rc == -EPIPE ? 0 : rc);
        return rc;
    }
    /* Wait; the front end may give up on a slow answer (a long `print`). */
    long deadline = now_ms() + PT_SESS_REPLY_MS;
    for (;;) {
        long left = deadline - now_ms();
        rc = left > 0 ? pt_sess_wait_reply(s, req->id, reply, (int)left, d->intr_fd) : -ETIMEDOUT;
        if (rc != -EINTR)
            break;
        if (!d->ui || !d->ui->interrupted || d->ui->interrupted(d->ui_ctx))
            return pt_dbg_fail(d, -EINTR, "interrupted; the program may still be working on it");
    }
    if (rc == -ETIMEDOUT)
        return pt_dbg_fail(d, rc, "the program did not answer within %d s", PT_SESS_REPLY_MS / 1000);
    if (rc == PT_PROTO_E_BADMSG)
        return pt_dbg_fail(d, rc, "the program's reply could not be read (%s)", pt_proto_strerror(rc));
    if (rc < 0) {
        pt_dbg_connection_lost(d, rc == -ECONNRESET ? 0 : rc);
        return rc;
    }
    if (pt_sess_reply_error(reply, d->err, sizeof d->err)) {
        pt_msg_free(reply);
        return -EPROTO;
    }
    return 0;
}

static void on_stopped(struct pt_dbg *d, const struct pt_proto_ev_stopped *st)
{
    struct pt_inf *inf = d->inf;
    inf->state = PT_DBG_STOPPED;
    inf->pause_pending = false;
    inf->stop_fiber = st->fiber;
    inf->sel_fiber = st->fiber;
    inf->frame = inf->stop_frame = st->frame;
    pt_str_copy(inf->frame_file, sizeof inf->frame_file, st->file ? st->file : "");
    inf->frame_line = st->line;
    pt_str_copy(inf->stop_exception, sizeof inf->stop_exception, st->exception ? st->exception : "");
    if (d->ui && d->ui->stopped)
        d->ui->stopped(d->ui_ctx, st);
}

void pt_dbg_handle_event(struct pt_dbg *d, struct pt_msg *m)
{
    struct pt_inf *inf = d->inf;
    const struct pt_dbg_ui *ui = d->ui;
    char buf[256];
    switch (m->type) {
    case PT_EV_STOPPED:
        on_stopped(d, &m->u.stopped);
        break;
    case PT_EV_RUNNING:
        if (inf->state == PT_DBG_STOPPED) {
            inf->state = PT_DBG_RUNNING;
            if (ui && ui->running)
                ui->running(d->ui_ctx);
        }
        break;
    case PT_EV_OP:
        if (ui && ui->op)
            ui->op(d->ui_ctx, &m->u.op);
        break;
    case PT_EV_OUTPUT:
        if (ui && ui->output && m->u.output.text)
            ui->output(d->ui_ctx, m->u.output.text, m->u.output.text_len);
        break;
    case PT_EV_FIBER:
        if (ui && ui->fiber)
            ui->fiber(d->ui_ctx, &m->u.fiber_event);
        break;
    case PT_EV_EXITED:
        inf->exited_seen = true;
        inf->exited_status = m->u.exited.status;
        inf->exited_signal = m->u.exited.signal;
        break;
    case PT_REP_ERROR:
        if (pt_sess_reply_error(m, buf, sizeof buf) && ui && ui->error)
            ui->error(d->ui_ctx, buf);
        break;
    default:
        break;  /* a late OK to PAUSE, or something we do not show */
    }
}

void pt_dbg_drain(struct pt_dbg *d)
{
    struct pt_inf *inf = d->inf;
    while (inf->state != PT_DBG_DONE && inf->sess.fd >= 0) {
        struct pt_msg m;
        int rc = pt_sess_next(&inf->sess, &m, 0);
        if (rc == -ETIMEDOUT || rc == -EAGAIN)
            return;
        if (rc <= 0) {
            pt_dbg_connection_lost(d, rc);
            return;
        }
        pt_dbg_handle_event(d, &m);
        pt_msg_free(&m);
    }
}

int pt_dbg_wait_stop(struct pt_dbg *d, int timeout_ms)
{
    struct pt_inf *inf = d->inf;
    long deadline = now_ms() + timeout_ms;
    while (inf->state == PT_DBG_RUNNING) {
        long left = deadline - now_ms();
        if (left <= 0)
            return pt_dbg_fail(d, -ETIMEDOUT, "the program did not stop within %d s", timeout_ms / 1000);
        struct pt_msg m;
        int rc = pt_sess_next(&inf->sess, &m, (int)left);
        if (rc == -ETIMEDOUT)
            continue;
        if (rc != 1)
            return pt_dbg_fail(d, rc ? rc : -ECONNRESET, "%s",
                               rc ? pt_proto_strerror(rc) : "connection closed");
        pt_dbg_handle_event(d, &m);
        pt_msg_free(&m);
    }
    return inf->state == PT_DBG_STOPPED ? 0 : pt_dbg_fail(d, -ECONNRESET, "the session ended");
}

static void end(struct pt_dbg *d, const char *how, bool error)
{
    d->inf->state = PT_DBG_DONE;
    if (d->ui && d->ui->ended)
        d->ui->ended(d->ui_ctx, how, error);
}

static void terminal(struct pt_dbg *d, bool to_program)
{
    if (d->ui && d->ui->terminal)
        d->ui->terminal(d->ui_ctx, to_program);
}

void pt_dbg_report_child(struct pt_dbg *d, int status)
{
    char buf[128];
    pt_fmt_wait_status(status, buf, sizeof buf);
    d->exit_code = pt_fmt_exit_code(status);
    d->inf->child = false;
    end(d, buf, false);
}

void pt_dbg_child_exited(struct pt_dbg *d, int status)
{
    struct pt_inf *inf = d->inf;
    inf->child = false;
    /* Let the last events (output notices, EXITED) be handled first. */
    while (inf->sess.fd >= 0 && inf->state != PT_DBG_DONE) {
        struct pt_msg m;
        if (pt_sess_next(&inf->sess, &m, 0) != 1)
            break;
        pt_dbg_handle_event(d, &m);
        pt_msg_free(&m);
    }
    pt_sess_close(&inf->sess);
    if (inf->state == PT_DBG_DONE)
        return;
    terminal(d, false);
    pt_dbg_report_child(d, status);
}

void pt_dbg_connection_lost(struct pt_dbg *d, int err)
{
    struct pt_inf *inf = d->inf;
    pt_sess_close(&inf->sess);
    if (inf->state == PT_DBG_DONE)
        return;
    if (inf->child) {
        /* Our child: its exit status is the authority. The program may still
         * be finishing (at_exit handlers); it owns the terminal meanwhile. */
        int status;
        pid_t w;
        if (d->ui && d->ui->wait_program) {
            w = d->ui->wait_program(d->ui_ctx, inf->pid, &status) == 0 ? inf->pid : -1;
        } else {
            terminal(d, true);
            do
                w = waitpid(inf->pid, &status, 0);
            while (w < 0 && errno == EINTR);
            terminal(d, false);
        }
        if (w == inf->pid) {
            pt_dbg_report_child(d, status);
            return;
        }
        inf->child = false;
    }
    char buf[PT_DBG_ERR_MAX];
    if (inf->exited_seen) {
        pt_fmt_exit(inf->exited_status, inf->exited_signal, buf, sizeof buf);
        d->exit_code = inf->exited_signal ? 128 + inf->exited_signal : inf->exited_status;
        end(d, buf, false);
    } else {
        snprintf(buf, sizeof buf, "lost the connection to the program%s%s",
                 err ? ": " : "", err ? pt_proto_strerror(err) : "");
        d->exit_code = 1;
        end(d, buf, true);
    }
}

void pt_dbg_hangup(struct pt_dbg *d, int exit_code)
{
    pt_sess_close(&d->inf->sess);
    d->exit_code = exit_code;
    d->inf->state = PT_DBG_DONE;
}
