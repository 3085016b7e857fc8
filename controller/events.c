/*
 * events.c — the REPL's side of the session's callbacks: how a stop, an op
 * trace, a notice, a stray error and the end of the session look on the
 * terminal, and handing the terminal to the program while the session
 * waits for it.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "format.h"
#include "sourcefile.h"
#include "strcopy.h"

/* "1: total = 45" for each display, after the stop (evaluated in the
 * frame the stop selected). */
void pt_ctl_show_displays(struct pt_ctl *ctl, size_t only)
{
    struct pt_dbg *d = &ctl->dbg;
    for (size_t i = 0; i < d->ndisplays && pt_dbg_stopped(d); i++) {
        const struct pt_dbg_display *x = &d->displays[i];
        struct pt_msg rep;
        if (only && x->id != only)
            continue;
        if (pt_dbg_eval(d, 0, -1, x->expr, &rep)) {
            fprintf(ctl->out, "%u: %s: error: %s\n", (unsigned)x->id, x->expr, pt_dbg_error(d));
            continue;
        }
        fprintf(ctl->out, "%u: %s = %.*s%s\n", (unsigned)x->id, x->expr, (int)rep.u.value.text_len,
                rep.u.value.text ? rep.u.value.text : "",
                rep.u.value.full_len > rep.u.value.text_len ? " ..." : "");
        pt_msg_free(&rep);
    }
}

static void on_stopped(void *ctx, const struct pt_proto_ev_stopped *st)
{
    struct pt_ctl *ctl = ctx;
    pt_str_copy(ctl->list_file, sizeof ctl->list_file, ctl->dbg.inf->frame_file);
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
    pt_ctl_show_displays(ctl, 0);
    fflush(ctl->out);
}

/* "[process 2] " before what one of several processes says, when it is
 * not the selected one. */
static void process_prefix(struct pt_ctl *ctl)
{
    const struct pt_inf *from = ctl->dbg.event_inf;
    if (from && from != ctl->dbg.inf && ctl->dbg.nprocs > 1)
        fprintf(ctl->out, "[process %d] ", from->num);
}

static void on_op(void *ctx, const struct pt_proto_ev_op *op)
{
    struct pt_ctl *ctl = ctx;
    process_prefix(ctl);
    pt_fmt_op(ctl->out, op);
    fflush(ctl->out);
}

static void on_output(void *ctx, const char *text, size_t len)
{
    struct pt_ctl *ctl = ctx;
    process_prefix(ctl);
    fwrite(text, 1, len, ctl->out);
    if (len && text[len - 1] != '\n')
        fputc('\n', ctl->out);
    fflush(ctl->out);
}

static void on_error(void *ctx, const char *msg)
{
    struct pt_ctl *ctl = ctx;
    const struct pt_inf *from = ctl->dbg.event_inf;
    if (from && from != ctl->dbg.inf && ctl->dbg.nprocs > 1)
        pt_ctl_error(ctl, "process %d: %s", from->num, msg);
    else
        pt_ctl_error(ctl, "%s", msg);
}

static void on_process(void *ctx, const struct pt_inf *inf, enum pt_dbg_proc_event ev,
                       const char *how)
{
    struct pt_ctl *ctl = ctx;
    switch (ev) {
    case PT_DBG_PROC_NEW:
        fprintf(ctl->out, "New process %d (pid %ld), forked by pid %ld.\n", inf->num,
                (long)inf->pid, (long)inf->parent);
        break;
    case PT_DBG_PROC_FORKED:
        fprintf(ctl->out, "Process %d forked %s (not followed: follow-fork is parent).\n",
                inf->num, how ? how : "a child");
        break;
    case PT_DBG_PROC_STOPPED:
        fprintf(ctl->out, "process %d (pid %ld) stopped at ", inf->num, (long)inf->pid);
        pt_ctl_where_stopped(ctl, inf);
        fprintf(ctl->out, "; 'process %d' to look at it\n", inf->num);
        break;
    case PT_DBG_PROC_SELECTED:
        fprintf(ctl->out, "[now in process %d (pid %ld)", inf->num, (long)inf->pid);
        if (how && inf->state == PT_DBG_STOPPED) {
            fputs(", stopped at ", ctl->out);
            pt_ctl_where_stopped(ctl, inf);
        }
        fputs("]\n", ctl->out);
        pt_str_copy(ctl->list_file, sizeof ctl->list_file, inf->frame_file);
        ctl->list_next = 0;
        break;
    case PT_DBG_PROC_ENDED:
        fprintf(ctl->out, "%s\n", how ? how : "");
        break;
    }
    fflush(ctl->out);
}

static void on_ended(void *ctx, const char *how, bool error)
{
    struct pt_ctl *ctl = ctx;
    fprintf(ctl->out, "%s%s\n", error ? "error: " : "", how);
    fflush(ctl->out);
}

static void on_terminal(void *ctx, bool to_program)
{
    struct pt_ctl *ctl = ctx;
    if (to_program)
        pt_term_give(&ctl->term, ctl->dbg.one.pid);
    else
        pt_term_take(&ctl->term);
}

static const struct pt_dbg_ui repl_ui = {
    .stopped = on_stopped,
    .op = on_op,
    .output = on_output,
    .error = on_error,
    .ended = on_ended,
    .terminal = on_terminal,
    .interrupted = pt_ctl_interrupted,
    .process = on_process,
};

void pt_ctl_init(struct pt_ctl *ctl, enum pt_dbg_mode mode)
{
    memset(ctl, 0, sizeof *ctl);
    pt_dbg_init(&ctl->dbg, mode, &repl_ui, ctl);
    /* The REPL shows several processes: forked children come along. */
    ctl->dbg.follow = PT_DBG_FOLLOW_ALL;
    ctl->out = stdout;
    pt_term_init(&ctl->term);
    pt_script_init(&ctl->script);
}
