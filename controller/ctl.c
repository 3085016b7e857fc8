/*
 * ctl.c — what every part of the REPL front end uses: the one-line error
 * the user sees (also for the session's failures), a source window for a
 * location, and Ctrl-C while a reply is awaited (the session asks; other
 * signals read meanwhile are kept for the loop).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "format.h"
#include "signals.h"
#include "sourcefile.h"

void pt_ctl_error(struct pt_ctl *ctl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", ctl->out);
    if (ctl->running_line && ctl->running_line->lineno)
        fprintf(ctl->out, "%s:%d: ", ctl->running_line->origin, ctl->running_line->lineno);
    ctl->cmd_failed = true;
    vfprintf(ctl->out, fmt, ap);
    fputc('\n', ctl->out);
    va_end(ap);
    fflush(ctl->out);
}

void pt_ctl_report(struct pt_ctl *ctl)
{
    const char *why = pt_dbg_error(&ctl->dbg);
    if (why[0])
        pt_ctl_error(ctl, "%s", why);
}

void pt_ctl_where_stopped(struct pt_ctl *ctl, const struct pt_inf *inf)
{
    fprintf(ctl->out, "%s:%d", pt_fmt_path(inf->frame_file, NULL), inf->frame_line);
    if (inf->stop_method[0])
        fprintf(ctl->out, " in %s", inf->stop_method);
    if (inf->stop_reason[0])
        fprintf(ctl->out, " (%s)", inf->stop_reason);
}

void pt_ctl_show_source(struct pt_ctl *ctl, const char *file, int line, int first, int last)
{
    struct pt_src_lines src;
    int rc = pt_dbg_source(&ctl->dbg, file, first, last, &src);
    if (rc == 0) {
        pt_fmt_listing(ctl->out, src.lines, src.n, src.first, line);
        pt_src_free(&src);
    } else if (rc == -ERANGE) {
        fprintf(ctl->out, "%s has no line %d\n", pt_fmt_path(file, NULL), first);
    } else {
        fprintf(ctl->out, "(source of %s not available: %s)\n", pt_fmt_path(file, NULL),
                strerror(-rc));
    }
}

/* Signals other than SIGINT that arrived while a reply was awaited. */
static int held[16];
static size_t nheld;

bool pt_ctl_interrupted(void *ctx)
{
    (void)ctx;
    bool interrupted = false;
    int sig;
    while ((sig = pt_sig_next()) != 0) {
        if (sig == SIGINT)
            interrupted = true;
        else if (nheld < sizeof held / sizeof held[0])
            held[nheld++] = sig;
    }
    return interrupted;
}

void pt_ctl_requeue_signals(void)
{
    for (size_t i = 0; i < nheld; i++)
        pt_sig_requeue(held[i]);
    nheld = 0;
}
