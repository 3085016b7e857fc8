/*
 * handlers.c — the REPL commands: each hands its parsed arguments to the
 * session (dbg.h, where what a command means is decided) and prints the
 * outcome through format.c. Errors are one line; the session survives bad
 * input.
 */
#include "handlers.h"
#include "strcopy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"
#include "fiberview.h"
#include "format.h"
#include "statfmt.h"
#include "help.h"
#include "sourcefile.h"

/* Reports a failed session call; always 0 (a handler's result). */
static int failed(struct pt_ctl *ctl)
{
    pt_ctl_report(ctl);
    return 0;
}

static bool need_stopped(struct pt_ctl *ctl)
{
    if (pt_dbg_need_stopped(&ctl->dbg) == 0)
        return true;
    pt_ctl_report(ctl);
    return false;
}

/* A fiber argument (id or tag); 0 when none was given. */
static int fiber_arg(struct pt_ctl *ctl, const char *ref, uint64_t *id)
{
    *id = 0;
    if (!ref[0])
        return 0;
    return pt_dbg_resolve_fiber(&ctl->dbg, ref, id);
}

static int resume(struct pt_ctl *ctl, enum pt_dbg_resume how)
{
    if (pt_dbg_resume(&ctl->dbg, how, 0))
        return failed(ctl);
    return 0;
}

int pt_hdl_step(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    return resume(ctl, PT_DBG_STEP);
}

int pt_hdl_skip(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    return resume(ctl, PT_DBG_SKIP);
}

int pt_hdl_up(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    return resume(ctl, PT_DBG_UP);
}

int pt_hdl_continue(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    return resume(ctl, PT_DBG_CONTINUE);
}

/*
 * switch F|EXPR: an id; a tag; else (or when no fiber has that tag) a Ruby
 * expression that gives a fiber.
 */
int pt_hdl_switch(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (!need_stopped(ctl))
        return 0;
    uint64_t id = 0;
    struct pt_msg rep;
    int rc = a->fiber[0] ? pt_dbg_resolve_fiber(&ctl->dbg, a->fiber, &id) : -ENOENT;
    if (rc && rc != -ENOENT)
        return failed(ctl);
    if (rc == 0 && pt_dbg_switch(&ctl->dbg, id, &rep))
        return failed(ctl);
    if (rc && pt_dbg_switch_expr(&ctl->dbg, a->text, &rep)) {
        /* A word that is no tag, nor a local holding a fiber: say both. */
        if (a->fiber[0] && pt_dbg_error(&ctl->dbg)[0] && !pt_dbg_done(&ctl->dbg))
            pt_ctl_error(ctl, "no fiber tagged '%s', and as Ruby: %s", a->fiber, pt_dbg_error(&ctl->dbg));
        else
            failed(ctl);
        return 0;
    }
    const struct pt_inf *inf = ctl->dbg.inf;
    pt_str_copy(ctl->list_file, sizeof ctl->list_file, inf->frame_file);
    ctl->list_next = 0;
    fputs("Selected ", ctl->out);
    pt_fmt_fiber_line(ctl->out, &rep.u.fiber_info.fiber);
    fprintf(ctl->out, "step, skip and up now follow fiber %" PRIu64 "\n", inf->sel_fiber);
    pt_msg_free(&rep);
    return 0;
}

/* How many rows a listing shows before it summarises: a screenful on a
 * terminal (its rows, else $LINES), PT_FMT_FIBERS_SHOWN elsewhere. */
static size_t screen_rows(struct pt_ctl *ctl)
{
    struct winsize ws;
    int fd = fileno(ctl->out);
    long rows = 0;
    if (fd < 0 || !isatty(fd))
        return PT_FMT_FIBERS_SHOWN;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
        rows = ws.ws_row;
    else if (getenv("LINES"))
        rows = strtol(getenv("LINES"), NULL, 10);
    if (rows <= 0)
        rows = 24;
    /* the count, the threads, the column heads, the summary, the prompt */
    return rows > 16 ? (size_t)rows - 6 : 10;
}

int pt_hdl_fibers(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    struct pt_msg rep;
    bool filtered = a->text[0] || a->group;
    if (pt_dbg_fibers(&ctl->dbg, a->stats && !filtered ? PT_FMT_FIBERS_SHOWN : PT_DBG_FIBERS_FETCH, &rep))
        return failed(ctl);
    const struct pt_proto_rep_fibers *r = &rep.u.fibers;
    size_t *idx = NULL, n = 0;
    char err[256], title[PT_CMD_TEXT_MAX + 128], num[32], num2[32];
    if (pt_fv_filter(r->fibers, r->nfibers, a->text, &idx, &n, err, sizeof err)) {
        pt_ctl_error(ctl, "fibers: %s", err[0] ? err : "out of memory");
        pt_msg_free(&rep);
        return 0;
    }
    /* The chosen fibers, in the reply's order (threads, then the tree). */
    struct pt_proto_fiber *chosen = malloc((n ? n : 1) * sizeof *chosen);
    for (size_t i = 0; chosen && i < n; i++)
        chosen[i] = r->fibers[idx[i]];
    uint64_t total = a->text[0] ? n : r->total;
    if (a->text[0])
        snprintf(title, sizeof title, "%s of %s fibers match '%s'", pt_fmt_count(n, num, sizeof num),
                 pt_fmt_count(r->total, num2, sizeof num2), a->text);
    else
        snprintf(title, sizeof title, "%s fibers", pt_fmt_count(total, num, sizeof num));
    if (!chosen) {
        pt_ctl_error(ctl, "fibers: out of memory");
    } else if (a->group) {
        struct pt_fv_group_row *rows = NULL;
        size_t nrows = 0;
        size_t *all = malloc((n ? n : 1) * sizeof *all);
        for (size_t i = 0; all && i < n; i++)
            all[i] = i;
        if (!all || pt_fv_group(chosen, all, n, (enum pt_fv_group)a->group, &rows, &nrows)) {
            pt_ctl_error(ctl, "fibers: out of memory");
        } else {
            char gtitle[sizeof title + 64];
            snprintf(gtitle, sizeof gtitle, "%s in %s group%s by %s%s", title,
                     pt_fmt_count(nrows, num2, sizeof num2), nrows == 1 ? "" : "s",
                     pt_fv_group_name((enum pt_fv_group)a->group),
                     r->total > r->nfibers ? " (of those fetched)" : "");
            pt_fmt_fiber_groups(ctl->out, chosen, rows, nrows, gtitle,
                                a->group == PT_FV_GROUP_STATE ? "STATE"
                                : a->group == PT_FV_GROUP_TAG ? "TAG" : "LOCATION",
                                a->all ? (size_t)-1 : screen_rows(ctl));
        }
        free(all);
        free(rows);
    } else if (a->stats) {
        pt_sfmt_fibers(ctl->out, chosen, n, total);
    } else {
        struct pt_fmt_fibers_opts o = {
            .threads = r->threads, .nthreads = r->nthreads,
            .selected = ctl->dbg.inf->sel_fiber,
            .shown = a->all ? (size_t)-1 : screen_rows(ctl),
            .title = a->text[0] ? title : NULL,
        };
        pt_fmt_fibers_ex(ctl->out, chosen, n, total, &o);
    }
    free(chosen);
    free(idx);
    pt_msg_free(&rep);
    return 0;
}

int pt_hdl_runqueue(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (!need_stopped(ctl))
        return 0;
    uint64_t fiber;
    struct pt_msg rep;
    if (fiber_arg(ctl, a->fiber, &fiber) || pt_dbg_runqueue(&ctl->dbg, fiber, &rep))
        return failed(ctl);
    uint64_t thread = rep.u.fibers.nfibers ? rep.u.fibers.fibers[0].thread : 0;
    if (!thread) {
        /* An empty queue: name the thread of the fiber asked about. */
        struct pt_msg info;
        if (pt_dbg_fibers(&ctl->dbg, PT_DBG_FIBERS_FETCH, &info) == 0) {
            uint64_t want = fiber ? fiber : ctl->dbg.inf->sel_fiber;
            for (size_t i = 0; i < info.u.fibers.nfibers; i++)
                if (info.u.fibers.fibers[i].id == want)
                    thread = info.u.fibers.fibers[i].thread;
            pt_msg_free(&info);
        }
    }
    pt_fmt_runqueue(ctl->out, rep.u.fibers.fibers, rep.u.fibers.nfibers, thread);
    pt_msg_free(&rep);
    return 0;
}

int pt_hdl_processes(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    const struct pt_dbg *d = &ctl->dbg;
    fputs("  Num  PID      State    Where\n", ctl->out);
    for (int i = 0; i < d->nprocs; i++) {
        const struct pt_inf *inf = d->procs[i];
        const char *state = inf->state == PT_DBG_STOPPED ? "stopped"
                          : inf->state == PT_DBG_RUNNING ? "running" : "gone";
        fprintf(ctl->out, "%c %-4d %-8ld %-8s ", inf == d->inf ? '*' : ' ', inf->num,
                (long)inf->pid, state);
        if (inf->state == PT_DBG_STOPPED)
            pt_ctl_where_stopped(ctl, inf);
        else if (inf->parent)
            fprintf(ctl->out, "(forked by pid %ld)", (long)inf->parent);
        fputc('\n', ctl->out);
    }
    return 0;
}

int pt_hdl_process(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    struct pt_dbg *d = &ctl->dbg;
    if (a->has_number && pt_dbg_select(d, (int)a->number))
        return failed(ctl);
    const struct pt_inf *inf = d->inf;
    fprintf(ctl->out, "%s process %d (pid %ld), ", a->has_number ? "Selected" : "In",
            inf->num, (long)inf->pid);
    if (inf->state != PT_DBG_STOPPED) {
        fputs("running\n", ctl->out);
        return 0;
    }
    fputs("stopped at ", ctl->out);
    pt_ctl_where_stopped(ctl, inf);
    fputc('\n', ctl->out);
    if (a->has_number) {
        pt_str_copy(ctl->list_file, sizeof ctl->list_file, inf->frame_file);
        ctl->list_next = 0;
        if (inf->frame_file[0] && inf->frame_line > 0) {
            int first, last;
            pt_src_window(inf->frame_line, 2, 2, &first, &last);
            pt_ctl_show_source(ctl, inf->frame_file, inf->frame_line, first, last);
        }
    }
    return 0;
}

int pt_hdl_backtrace(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (!need_stopped(ctl))
        return 0;
    const struct pt_inf *inf = ctl->dbg.inf;
    uint64_t fiber;
    struct pt_msg rep;
    if (fiber_arg(ctl, a->fiber, &fiber))
        return failed(ctl);
    if (!fiber)
        fiber = inf->sel_fiber;
    if (pt_dbg_frames(&ctl->dbg, fiber, &rep))
        return failed(ctl);
    pt_fmt_frames(ctl->out, rep.u.frames.frames, rep.u.frames.nframes,
                  fiber == inf->sel_fiber ? inf->frame : -1, a->all);
    pt_msg_free(&rep);
    return 0;
}

/* Selects frame n of the selected fiber (or, with dir, the next frame out
 * or in that is not hidden) and shows it. */
static int select_frame(struct pt_ctl *ctl, long n, int dir)
{
    if (!need_stopped(ctl))
        return 0;
    struct pt_msg rep;
    if (dir ? pt_dbg_move_frame(&ctl->dbg, dir, &rep) : pt_dbg_select_frame(&ctl->dbg, n, &rep))
        return failed(ctl);
    n = ctl->dbg.inf->frame;
    const struct pt_proto_frame *f = &rep.u.frames.frames[n];
    pt_str_copy(ctl->list_file, sizeof ctl->list_file, ctl->dbg.inf->frame_file);
    pt_fmt_frames(ctl->out, f, 1, n, true);
    if (f->file && *f->file && f->line > 0) {
        int first, last;
        pt_src_window(f->line, 2, 2, &first, &last);
        pt_ctl_show_source(ctl, f->file, f->line, first, last);
    }
    ctl->list_next = 0;  /* the next `list` centres on the frame's line */
    pt_msg_free(&rep);
    return 0;
}

int pt_hdl_frame(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    return select_frame(ctl, a->number, 0);
}

int pt_hdl_upframe(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    return select_frame(ctl, 0, 1);
}

int pt_hdl_downframe(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    return select_frame(ctl, 0, -1);
}

int pt_hdl_list(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (!need_stopped(ctl))
        return 0;
    const struct pt_inf *inf = ctl->dbg.inf;
    if (!ctl->list_file[0]) {
        pt_ctl_error(ctl, "no source file for the selected frame");
        return 0;
    }
    int first, last;
    if (a->has_number) {
        pt_src_window((int)a->number, 5, 5, &first, &last);
    } else if (ctl->list_next > 0) {
        first = ctl->list_next;
        last = first + 9;
    } else {
        pt_src_window(inf->frame_line, 5, 5, &first, &last);
    }
    int mark = strcmp(ctl->list_file, inf->frame_file) == 0 ? inf->frame_line : 0;
    pt_ctl_show_source(ctl, ctl->list_file, mark, first, last);
    ctl->list_next = last + 1;
    return 0;
}

int pt_hdl_print(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    struct pt_msg rep;
    if (pt_dbg_eval(&ctl->dbg, 0, -1, a->text, &rep))
        return failed(ctl);
    if (rep.u.value.text) {
        fwrite(rep.u.value.text, 1, rep.u.value.text_len, ctl->out);
        fputc('\n', ctl->out);
    }
    if (rep.u.value.full_len > rep.u.value.text_len)
        fprintf(ctl->out, "... (%zu of %llu bytes shown; 'set print limit 0' prints it whole)\n",
                rep.u.value.text_len, (unsigned long long)rep.u.value.full_len);
    pt_msg_free(&rep);
    return 0;
}

int pt_hdl_watch(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    struct pt_msg rep;
    if (a->text[0] ? pt_dbg_watch(&ctl->dbg, a->text, &rep) : pt_dbg_watches(&ctl->dbg, &rep))
        return failed(ctl);
    const struct pt_proto_rep_watches *w = &rep.u.watches;
    if (!a->text[0] && !w->nwatches)
        fputs("No watches.\n", ctl->out);
    for (size_t i = 0; i < w->nwatches; i++) {
        if (a->text[0])
            fprintf(ctl->out, "Watch %u: %s = %s\n", (unsigned)w->watches[i].id, w->watches[i].expr,
                    w->watches[i].value ? w->watches[i].value : "?");
        else
            fprintf(ctl->out, "#%u  %s = %s (changed %llu time%s)\n", (unsigned)w->watches[i].id,
                    w->watches[i].expr, w->watches[i].value ? w->watches[i].value : "?",
                    (unsigned long long)w->watches[i].hits, w->watches[i].hits == 1 ? "" : "s");
    }
    pt_msg_free(&rep);
    return 0;
}

int pt_hdl_unwatch(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (pt_dbg_unwatch(&ctl->dbg, (uint32_t)a->number))
        return failed(ctl);
    fprintf(ctl->out, "Deleted watch %ld\n", a->number);
    return 0;
}

int pt_hdl_display(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    uint32_t id = 0;
    if (!a->text[0]) {
        if (!ctl->dbg.ndisplays)
            fputs("No displays.\n", ctl->out);
        else if (!pt_dbg_stopped(&ctl->dbg))
            for (size_t i = 0; i < ctl->dbg.ndisplays; i++)
                fprintf(ctl->out, "%u: %s\n", (unsigned)ctl->dbg.displays[i].id, ctl->dbg.displays[i].expr);
        else
            pt_ctl_show_displays(ctl, 0);
        return 0;
    }
    if (pt_dbg_display_add(&ctl->dbg, a->text, &id))
        return failed(ctl);
    if (pt_dbg_stopped(&ctl->dbg))
        pt_ctl_show_displays(ctl, id);
    else
        fprintf(ctl->out, "%u: %s (shown at every stop)\n", (unsigned)id, a->text);
    return 0;
}

int pt_hdl_undisplay(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (pt_dbg_display_del(&ctl->dbg, (uint32_t)a->number))
        return failed(ctl);
    fprintf(ctl->out, "Deleted display %ld\n", a->number);
    return 0;
}

int pt_hdl_break(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    struct pt_dbg_bp_spec spec = {
        .file = a->file, .line = a->line, .method = a->method, .cond = a->text, .fiber = a->fiber,
    };
    struct pt_msg rep;
    if (pt_dbg_break(&ctl->dbg, &spec, &rep))
        return failed(ctl);
    fprintf(ctl->out, "Breakpoint %u at ", (unsigned)rep.u.bp.bp.id);
    pt_fmt_bp_where(ctl->out, &rep.u.bp.bp);
    fputc('\n', ctl->out);
    pt_msg_free(&rep);
    return 0;
}

int pt_hdl_delete(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (pt_dbg_delete(&ctl->dbg, (uint32_t)a->number))
        return failed(ctl);
    fprintf(ctl->out, "Deleted breakpoint %ld\n", a->number);
    return 0;
}

int pt_hdl_breakpoints(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    struct pt_msg rep;
    if (pt_dbg_breakpoints(&ctl->dbg, &rep))
        return failed(ctl);
    if (!rep.u.bps.nbps)
        fputs("No breakpoints.\n", ctl->out);
    for (size_t i = 0; i < rep.u.bps.nbps; i++)
        pt_fmt_breakpoint(ctl->out, &rep.u.bps.bps[i]);
    pt_msg_free(&rep);
    return 0;
}

int pt_hdl_trace(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (!need_stopped(ctl))
        return 0;
    uint64_t fiber;
    if (fiber_arg(ctl, a->fiber, &fiber) ||
        pt_dbg_trace_ops(&ctl->dbg, a->mode == PT_MODE_ON, fiber))
        return failed(ctl);
    if (a->mode != PT_MODE_ON)
        fputs("Op tracing off.\n", ctl->out);
    else if (fiber)
        fprintf(ctl->out, "Tracing I/O ops of fiber %" PRIu64 ".\n", fiber);
    else
        fputs("Tracing I/O ops of all fibers.\n", ctl->out);
    return 0;
}

static const char *mode_word(enum pt_cmd_mode m)
{
    return m == PT_MODE_ON ? "on" : m == PT_MODE_OFF ? "off" : "step";
}

int pt_hdl_set(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    /* The one setting the controller keeps: no program needed. */
    if (strcmp(a->text, "print limit") == 0) {
        ctl->dbg.print_limit = (uint32_t)a->number;
        if (a->number)
            fprintf(ctl->out, "print limit is now %ld bytes\n", a->number);
        else
            fprintf(ctl->out, "print limit is now none: values print whole\n");
        return 0;
    }
    if (strcmp(a->text, "follow-fork") == 0) {
        enum pt_dbg_follow f = strcmp(a->value, "parent") == 0 ? PT_DBG_FOLLOW_PARENT
                             : strcmp(a->value, "child") == 0 ? PT_DBG_FOLLOW_CHILD
                             : PT_DBG_FOLLOW_ALL;
        if (pt_dbg_set_follow(&ctl->dbg, f))
            return failed(ctl);
        fprintf(ctl->out, "follow-fork is now %s\n", pt_dbg_follow_name(f));
        return 0;
    }
    if (pt_dbg_set(&ctl->dbg, a->text, mode_word(a->mode)))
        return failed(ctl);
    fprintf(ctl->out, "%s is now %s\n", a->text, mode_word(a->mode));
    return 0;
}

/* "50 ms", "1.5 ms", "2 s". */
static void fmt_us(long us, char *buf, size_t len)
{
    if (us >= 1000000 && us % 1000000 == 0)
        snprintf(buf, len, "%ld s", us / 1000000);
    else if (us % 1000 == 0)
        snprintf(buf, len, "%ld ms", us / 1000);
    else
        snprintf(buf, len, "%.3g ms", (double)us / 1000.0);
}

/* hog [DURATION | report DURATION | off] */
int pt_hdl_hog(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    const struct pt_inf *inf = ctl->dbg.inf;
    enum pt_dbg_hog how = a->mode == PT_MODE_OFF ? PT_DBG_HOG_OFF
                        : a->mode == PT_MODE_REPORT ? PT_DBG_HOG_REPORT : PT_DBG_HOG_STOP;
    char limit[32];

    if (a->mode != PT_MODE_NONE && pt_dbg_hog(&ctl->dbg, how, a->number))
        return failed(ctl);
    fmt_us(inf->hog_us, limit, sizeof limit);
    if (inf->hog == PT_DBG_HOG_OFF)
        fputs("Hog detection is off.\n", ctl->out);
    else if (inf->hog == PT_DBG_HOG_STOP)
        fprintf(ctl->out, "A fiber that runs %s without yielding stops the program.\n", limit);
    else
        fprintf(ctl->out, "A fiber that runs %s without yielding is reported when it yields.\n", limit);
    return 0;
}

static void catch_list(struct pt_ctl *ctl)
{
    const struct pt_inf *inf = ctl->dbg.inf;
    if (inf->ncatches == 0) {
        fprintf(ctl->out, "No exceptions are caught.\n");
        return;
    }
    fprintf(ctl->out, "Catching:");
    for (int i = 0; i < inf->ncatches; i++)
        fprintf(ctl->out, " %s", inf->catches[i]);
    fprintf(ctl->out, "\n");
}

/* catch [CLASS | off [CLASS]] */
int pt_hdl_catch(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    bool on = a->mode != PT_MODE_OFF;
    const char *name = a->text[0] == ':' && a->text[1] == ':' ? a->text + 2 : a->text;

    if (on && !a->text[0]) {
        catch_list(ctl);
        return 0;
    }
    if (pt_dbg_catch(&ctl->dbg, a->text, on))
        return failed(ctl);
    if (!on && !a->text[0])
        fprintf(ctl->out, "No exceptions are caught.\n");
    else if (!on)
        fprintf(ctl->out, "%s is no longer caught.\n", name);
    else
        fprintf(ctl->out, "Catching %s.\n", name);
    return 0;
}

int pt_hdl_pause(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    if (pt_dbg_pause(&ctl->dbg))
        return failed(ctl);
    return 0;
}

int pt_hdl_detach(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    if (pt_dbg_detach(&ctl->dbg))
        return failed(ctl);
    fprintf(ctl->out, "Detached from process %ld.\n", (long)ctl->dbg.inf->pid);
    fflush(ctl->out);
    /* A program we started keeps the terminal; we report how it ends. */
    pt_dbg_wait_program(&ctl->dbg);
    return 0;
}

int pt_hdl_quit(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (ctl->dbg.inf->mode == PT_DBG_ATTACHED)
        return pt_hdl_detach(ctl, a);
    pt_dbg_kill(&ctl->dbg);
    return 0;
}

int pt_hdl_kill(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    pt_dbg_kill(&ctl->dbg);
    fprintf(ctl->out, "Killed process %ld.\n", (long)ctl->dbg.inf->pid);
    fflush(ctl->out);
    return 0;
}

/* source FILE: its commands run next, before anything queued after this. */
int pt_hdl_source(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    int bad_line = 0;
    int rc = pt_script_load(&ctl->script, a->text, ctl->running_line, &bad_line);
    if (rc == -ELOOP)
        pt_ctl_error(ctl, "source: %s: files source each other more than %d deep",
                     a->text, PT_SCRIPT_DEPTH_MAX);
    else if (rc == -E2BIG)
        pt_ctl_error(ctl, "source: %s:%d: line too long (at most %d bytes)", a->text, bad_line,
                     PT_SCRIPT_LINE_MAX);
    else if (rc < 0)
        pt_ctl_error(ctl, "source: cannot read %s: %s", a->text, strerror(-rc));
    return 0;
}

int pt_hdl_help(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (!a->text[0]) {
        pt_help_commands(ctl->out);
        return 0;
    }
    const struct pt_cmd *c = pt_cmd_lookup(a->text);
    if (!c) {
        pt_ctl_error(ctl, "help: no command '%s' (try 'help')", a->text);
        return 0;
    }
    pt_help_command(ctl->out, c);
    return 0;
}

void pt_ctl_run_line(struct pt_ctl *ctl, const char *line)
{
    struct pt_cmd_call call;
    char err[PT_CMD_TEXT_MAX + 64];
    int rc = pt_cmd_parse_line(line, &call, err, sizeof err);
    if (rc == -ENOENT) {
        /* An empty line repeats the last step command. */
        if (!ctl->last_step || !pt_dbg_stopped(&ctl->dbg))
            return;
        memset(&call, 0, sizeof call);
        call.cmd = ctl->last_step;
    } else if (rc) {
        pt_ctl_error(ctl, "%s", err);
        return;
    }
    if (pt_dbg_state(&ctl->dbg) == PT_DBG_RUNNING && !call.cmd->while_running) {
        pt_ctl_error(ctl, "the program is running; only pause, detach, quit, kill and help work now");
        return;
    }
    if (call.cmd->repeatable)
        ctl->last_step = call.cmd;
    call.cmd->run(ctl, &call.args);
    fflush(ctl->out);
}

bool pt_ctl_run_scripted(struct pt_ctl *ctl)
{
    struct pt_script_line l;
    if (!pt_script_next(&ctl->script, &l))
        return false;
    if (l.lineno)
        fprintf(ctl->out, "(polytrace:%s:%d) %s\n", l.origin, l.lineno, l.text);
    else
        fprintf(ctl->out, "(polytrace:-ex) %s\n", l.text);
    ctl->running_line = &l;
    ctl->cmd_failed = false;
    pt_ctl_run_line(ctl, l.text);
    ctl->running_line = NULL;
    if (ctl->cmd_failed && l.lineno) {
        size_t n = pt_script_abandon(&ctl->script, &l);
        if (n)
            fprintf(ctl->out, "Stopped reading %s at line %d: %zu command%s skipped.\n", l.origin,
                    l.lineno, n, n == 1 ? "" : "s");
    }
    ctl->cmd_failed = false;
    pt_script_line_free(&l);
    fflush(ctl->out);
    return true;
}
