/*
 * events.c — what the controller does with messages the tracer sends on
 * its own (docs/ARCHITECTURE.md, "Conversation rules" 4 and 6): a stop
 * (print where, with a few lines of source), the program running again, op
 * traces, notices, the program's exit; and how the session ends when the
 * connection or the program goes away.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "ctl.h"
#include "strcopy.h"
#include "format.h"
#include "signals.h"
#include "sourcefile.h"

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void pt_ctl_error(struct pt_ctl *ctl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", ctl->out);
    vfprintf(ctl->out, fmt, ap);
    fputc('\n', ctl->out);
    va_end(ap);
    fflush(ctl->out);
}

void pt_ctl_show_source(struct pt_ctl *ctl, const char *file, int line, int first, int last)
{
    struct pt_src_lines src;
    int rc = pt_src_read(file, ctl->pid, first, last, &src);
    if (rc == 0) {
        pt_fmt_listing(ctl->out, src.lines, src.n, src.first, line);
        pt_src_free(&src);
        return;
    }
    if (rc == -ERANGE) {
        fprintf(ctl->out, "%s has no line %d\n", pt_fmt_path(file, NULL), first);
        return;
    }
    /* Not readable here: ask the tracer, which has the program's view. */
    if (ctl->state != PT_CTL_STOPPED || ctl->sess.fd < 0) {
        fprintf(ctl->out, "(source of %s not available: %s)\n", pt_fmt_path(file, NULL), strerror(-rc));
        return;
    }
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_SOURCE, 0);
    req.u.source.file = (char *)file;
    req.u.source.first = first;
    req.u.source.last = last;
    int r = pt_sess_request(&ctl->sess, &req, &rep, PT_SESS_REPLY_MS);
    req.u.source.file = NULL;
    if (r == 0 && rep.type == PT_REP_LINES && rep.u.lines.nlines)
        pt_fmt_listing(ctl->out, rep.u.lines.lines, rep.u.lines.nlines, rep.u.lines.first, line);
    else
        fprintf(ctl->out, "(source of %s not available: %s)\n", pt_fmt_path(file, NULL), strerror(-rc));
    pt_msg_free(&rep);
}

static void on_stopped(struct pt_ctl *ctl, const struct pt_proto_ev_stopped *st)
{
    ctl->state = PT_CTL_STOPPED;
    ctl->pause_pending = false;
    ctl->stop_fiber = st->fiber;
    ctl->sel_fiber = st->fiber;
    ctl->frame = 0;
    pt_str_copy(ctl->frame_file, sizeof ctl->frame_file, st->file ? st->file : "");
    ctl->frame_line = st->line;
    pt_str_copy(ctl->list_file, sizeof ctl->list_file, ctl->frame_file);
    ctl->list_next = 0;
    pt_fmt_stop(ctl->out, st);
    if (st->file && *st->file && st->line > 0) {
        int first, last;
        pt_src_window(st->line, 2, 2, &first, &last);
        pt_ctl_show_source(ctl, st->file, st->line, first, last);
    }
    fflush(ctl->out);
}

void pt_ctl_handle_event(struct pt_ctl *ctl, struct pt_msg *m)
{
    char buf[256];
    switch (m->type) {
    case PT_EV_STOPPED:
        on_stopped(ctl, &m->u.stopped);
        break;
    case PT_EV_RUNNING:
        if (ctl->state == PT_CTL_STOPPED)
            ctl->state = PT_CTL_RUNNING;
        break;
    case PT_EV_OP:
        pt_fmt_op(ctl->out, &m->u.op);
        break;
    case PT_EV_OUTPUT:
        if (m->u.output.text) {
            fwrite(m->u.output.text, 1, m->u.output.text_len, ctl->out);
            if (m->u.output.text_len && m->u.output.text[m->u.output.text_len - 1] != '\n')
                fputc('\n', ctl->out);
        }
        break;
    case PT_EV_FIBER:
        break;  /* the tree is fetched on demand; nothing to show */
    case PT_EV_EXITED:
        ctl->exited_seen = true;
        ctl->exited_status = m->u.exited.status;
        ctl->exited_signal = m->u.exited.signal;
        break;
    case PT_REP_ERROR:
        if (pt_sess_reply_error(m, buf, sizeof buf))
            pt_ctl_error(ctl, "%s", buf);
        break;
    default:
        break;  /* a late OK to PAUSE, or something we do not show */
    }
    fflush(ctl->out);
}

void pt_ctl_child_exited(struct pt_ctl *ctl, int status)
{
    char buf[128];
    pt_fmt_wait_status(status, buf, sizeof buf);
    fprintf(ctl->out, "%s\n", buf);
    fflush(ctl->out);
    ctl->exit_code = pt_fmt_exit_code(status);
    ctl->state = PT_CTL_DONE;
    ctl->child = false;
}

void pt_ctl_connection_lost(struct pt_ctl *ctl, int err)
{
    pt_sess_close(&ctl->sess);
    if (ctl->state == PT_CTL_DONE)
        return;
    if (ctl->child) {
        /* Our child: its exit status is the authority. The program may still
         * be finishing (at_exit handlers); it owns the terminal meanwhile. */
        pt_term_give(&ctl->term, ctl->pid);
        int status;
        pid_t w;
        do
            w = waitpid(ctl->pid, &status, 0);
        while (w < 0 && errno == EINTR);
        pt_term_take(&ctl->term);
        if (w == ctl->pid) {
            pt_ctl_child_exited(ctl, status);
            return;
        }
    }
    if (ctl->exited_seen) {
        char buf[128];
        pt_fmt_exit(ctl->exited_status, ctl->exited_signal, buf, sizeof buf);
        fprintf(ctl->out, "%s\n", buf);
        ctl->exit_code = ctl->exited_signal ? 128 + ctl->exited_signal : ctl->exited_status;
    } else {
        fprintf(ctl->out, "error: lost the connection to the program%s%s\n",
                err ? ": " : "", err ? pt_proto_strerror(err) : "");
        ctl->exit_code = 1;
    }
    fflush(ctl->out);
    ctl->state = PT_CTL_DONE;
}

int pt_ctl_request(struct pt_ctl *ctl, struct pt_msg *req, struct pt_msg *reply)
{
    memset(reply, 0, sizeof *reply);
    if (ctl->sess.fd < 0) {
        pt_ctl_error(ctl, "not connected to the program");
        return -ENOTCONN;
    }
    int rc = pt_sess_send(&ctl->sess, req);
    if (rc) {
        pt_ctl_connection_lost(ctl, rc == -EPIPE ? 0 : rc);
        return rc;
    }
    /* Wait, but let Ctrl-C give up on a slow answer (a long `print`); other
     * signals that arrive meanwhile are handled afterwards by the loop. */
    long deadline = now_ms() + PT_SESS_REPLY_MS;
    int held[16];
    size_t nheld = 0;
    bool interrupted = false;
    for (;;) {
        long left = deadline - now_ms();
        rc = left > 0 ? pt_sess_wait_reply(&ctl->sess, req->id, reply, (int)left, pt_sig_fd())
                      : -ETIMEDOUT;
        if (rc != -EINTR)
            break;
        int sig;
        while ((sig = pt_sig_next()) != 0) {
            if (sig == SIGINT)
                interrupted = true;
            else if (nheld < sizeof held / sizeof held[0])
                held[nheld++] = sig;
        }
        if (interrupted)
            break;
    }
    for (size_t i = 0; i < nheld; i++)
        pt_sig_requeue(held[i]);
    if (interrupted) {
        pt_ctl_error(ctl, "interrupted; the program may still be working on it");
        return -EINTR;
    }
    if (rc == -ETIMEDOUT) {
        pt_ctl_error(ctl, "the program did not answer within %d s", PT_SESS_REPLY_MS / 1000);
        return rc;
    }
    if (rc == PT_PROTO_E_BADMSG) {
        pt_ctl_error(ctl, "the program's reply could not be read (%s)", pt_proto_strerror(rc));
        return rc;
    }
    if (rc < 0) {
        pt_ctl_connection_lost(ctl, rc == -ECONNRESET ? 0 : rc);
        return rc;
    }
    char buf[1024];
    if (pt_sess_reply_error(reply, buf, sizeof buf)) {
        pt_ctl_error(ctl, "%s", buf);
        pt_msg_free(reply);
        return -EPROTO;
    }
    return 0;
}
