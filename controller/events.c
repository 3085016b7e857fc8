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

static void on_op(void *ctx, const struct pt_proto_ev_op *op)
{
    struct pt_ctl *ctl = ctx;
    pt_fmt_op(ctl->out, op);
    fflush(ctl->out);
}

static void on_output(void *ctx, const char *text, size_t len)
{
    struct pt_ctl *ctl = ctx;
    fwrite(text, 1, len, ctl->out);
    if (len && text[len - 1] != '\n')
        fputc('\n', ctl->out);
    fflush(ctl->out);
}

static void on_error(void *ctx, const char *msg)
{
    pt_ctl_error(ctx, "%s", msg);
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
        pt_term_give(&ctl->term, ctl->dbg.inf->pid);
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
};

void pt_ctl_init(struct pt_ctl *ctl, enum pt_dbg_mode mode)
{
    memset(ctl, 0, sizeof *ctl);
    pt_dbg_init(&ctl->dbg, mode, &repl_ui, ctl);
    ctl->out = stdout;
    pt_term_init(&ctl->term);
    pt_script_init(&ctl->script);
}
