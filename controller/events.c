/*
 * events.c — what the controller does with messages the tracer sends on
 * its own (docs/ARCHITECTURE.md, "Conversation rules" 4 and 6): a stop
 * (print where, with a few lines of source), the program running again, op
 * traces, notices, the program's exit; and how the session ends when the
 * connection or the program goes away.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "ctl.h"
#include "strcopy.h"
#include "format.h"
#include "sourcefile.h"

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
    /* A pause usually follows a ^C echoed on the program's last line. */
    if (st->reason && strcmp(st->reason, "pause") == 0)
        fputc('\n', ctl->out);
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
