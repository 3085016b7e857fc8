/*
 * handlers.c — the REPL commands' actions. Each turns parsed arguments into
 * a request (protocol/pt_proto.h), waits for the reply and prints it through
 * format.c; resume commands move the session to "running". Errors are one
 * line; the session survives bad input.
 */
#include "handlers.h"
#include "strcopy.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "format.h"
#include "help.h"
#include "sourcefile.h"

/* How many fibers `fibers` fetches to build the tree and summary. */
#define FIBERS_FETCH 20000u

static bool need_stopped(struct pt_ctl *ctl)
{
    if (ctl->state == PT_CTL_STOPPED)
        return true;
    pt_ctl_error(ctl, "the program is running (use 'pause' or Ctrl-C first)");
    return false;
}

/*
 * A fiber reference from the user: an id, or a tag looked up in the fiber
 * list. 0 on success with *id set.
 */
static int resolve_fiber(struct pt_ctl *ctl, const char *ref, uint64_t *id)
{
    if (isdigit((unsigned char)ref[0])) {
        *id = strtoull(ref, NULL, 10);
        return 0;
    }
    /* Bounded, like `fibers`: an unbounded list could exceed the message limit. */
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_FIBERS, 0);
    req.u.fibers_req.limit = FIBERS_FETCH;
    if (pt_ctl_request(ctl, &req, &rep))
        return -EPROTO;
    int rc = -ENOENT;
    for (size_t i = 0; i < rep.u.fibers.nfibers; i++) {
        const char *tag = rep.u.fibers.fibers[i].tag;
        if (tag && strcmp(tag, ref) == 0) {
            *id = rep.u.fibers.fibers[i].id;
            rc = 0;
            break;
        }
    }
    pt_msg_free(&rep);
    if (rc)
        pt_ctl_error(ctl, "no fiber tagged '%s'", ref);
    return rc;
}

/* Sends a resume request; on OK the program runs. */
static int resume(struct pt_ctl *ctl, enum pt_msg_type type, bool with_fiber)
{
    if (!need_stopped(ctl))
        return 0;
    struct pt_msg req, rep;
    pt_msg_init(&req, type, 0);
    if (with_fiber)
        req.u.fiber.fiber = ctl->sel_fiber == ctl->stop_fiber ? 0 : ctl->sel_fiber;
    if (pt_ctl_request(ctl, &req, &rep))
        return 0;
    pt_msg_free(&rep);
    if (ctl->state == PT_CTL_STOPPED)
        ctl->state = PT_CTL_RUNNING;
    return 0;
}

int pt_hdl_step(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    return resume(ctl, PT_REQ_STEP, true);
}

int pt_hdl_skip(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    return resume(ctl, PT_REQ_SKIP, true);
}

int pt_hdl_up(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    return resume(ctl, PT_REQ_UP, true);
}

int pt_hdl_continue(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    return resume(ctl, PT_REQ_CONTINUE, false);
}

int pt_hdl_switch(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (!need_stopped(ctl))
        return 0;
    uint64_t id;
    if (resolve_fiber(ctl, a->fiber, &id))
        return 0;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_SWITCH, 0);
    req.u.fiber.fiber = id;
    if (pt_ctl_request(ctl, &req, &rep))
        return 0;
    const struct pt_proto_fiber *f = &rep.u.fiber_info.fiber;
    ctl->sel_fiber = f->id ? f->id : id;
    ctl->frame = 0;
    pt_str_copy(ctl->frame_file, sizeof ctl->frame_file, f->file ? f->file : "");
    ctl->frame_line = f->line;
    pt_str_copy(ctl->list_file, sizeof ctl->list_file, ctl->frame_file);
    ctl->list_next = 0;
    fputs("Selected ", ctl->out);
    pt_fmt_fiber_line(ctl->out, f);
    fprintf(ctl->out, "step, skip and up now follow fiber %" PRIu64 "\n", ctl->sel_fiber);
    pt_msg_free(&rep);
    return 0;
}

int pt_hdl_fibers(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    if (!need_stopped(ctl))
        return 0;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_FIBERS, 0);
    req.u.fibers_req.limit = FIBERS_FETCH;
    if (pt_ctl_request(ctl, &req, &rep))
        return 0;
    pt_fmt_fibers(ctl->out, rep.u.fibers.fibers, rep.u.fibers.nfibers, rep.u.fibers.total,
                  ctl->sel_fiber, PT_FMT_FIBERS_SHOWN);
    pt_msg_free(&rep);
    return 0;
}

/* Frames of a fiber (0 = selected); 0 with *rep filled, or <0 (printed). */
static int get_frames(struct pt_ctl *ctl, uint64_t fiber, struct pt_msg *rep)
{
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_BACKTRACE, 0);
    req.u.backtrace.fiber = fiber;
    req.u.backtrace.limit = 0;
    return pt_ctl_request(ctl, &req, rep);
}

int pt_hdl_backtrace(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (!need_stopped(ctl))
        return 0;
    uint64_t fiber = ctl->sel_fiber;
    if (a->fiber[0] && resolve_fiber(ctl, a->fiber, &fiber))
        return 0;
    struct pt_msg rep;
    if (get_frames(ctl, fiber, &rep))
        return 0;
    pt_fmt_frames(ctl->out, rep.u.frames.frames, rep.u.frames.nframes,
                  fiber == ctl->sel_fiber ? ctl->frame : -1);
    pt_msg_free(&rep);
    return 0;
}

/* Selects frame n of the selected fiber and shows it. */
static int select_frame(struct pt_ctl *ctl, long n)
{
    struct pt_msg rep;
    if (get_frames(ctl, ctl->sel_fiber, &rep))
        return 0;
    size_t count = rep.u.frames.nframes;
    if (n < 0 || (size_t)n >= count) {
        if (count == 0)
            pt_ctl_error(ctl, "fiber %" PRIu64 " has no frames", ctl->sel_fiber);
        else if (n < 0)
            pt_ctl_error(ctl, "already at the innermost frame");
        else if (n == (long)count && ctl->frame == (long)count - 1)
            pt_ctl_error(ctl, "already at the outermost frame");
        else
            pt_ctl_error(ctl, "no frame %ld (frames 0 to %zu)", n, count - 1);
        pt_msg_free(&rep);
        return 0;
    }
    const struct pt_proto_frame *f = &rep.u.frames.frames[n];
    ctl->frame = n;
    pt_str_copy(ctl->frame_file, sizeof ctl->frame_file, f->file ? f->file : "");
    ctl->frame_line = f->line;
    pt_str_copy(ctl->list_file, sizeof ctl->list_file, ctl->frame_file);
    pt_fmt_frames(ctl->out, f, 1, n);
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
    if (!need_stopped(ctl))
        return 0;
    return select_frame(ctl, a->number);
}

int pt_hdl_upframe(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    if (!need_stopped(ctl))
        return 0;
    return select_frame(ctl, ctl->frame + 1);
}

int pt_hdl_downframe(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    if (!need_stopped(ctl))
        return 0;
    return select_frame(ctl, ctl->frame - 1);
}

int pt_hdl_list(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (!need_stopped(ctl))
        return 0;
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
        pt_src_window(ctl->frame_line, 5, 5, &first, &last);
    }
    int mark = strcmp(ctl->list_file, ctl->frame_file) == 0 ? ctl->frame_line : 0;
    pt_ctl_show_source(ctl, ctl->list_file, mark, first, last);
    ctl->list_next = last + 1;
    return 0;
}

int pt_hdl_print(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (!need_stopped(ctl))
        return 0;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_EVAL, 0);
    req.u.eval.fiber = ctl->sel_fiber == ctl->stop_fiber ? 0 : ctl->sel_fiber;
    req.u.eval.frame = (uint32_t)ctl->frame;
    req.u.eval.expr = (char *)a->text;
    int rc = pt_ctl_request(ctl, &req, &rep);
    req.u.eval.expr = NULL;
    if (rc)
        return 0;
    if (rep.u.value.text) {
        fwrite(rep.u.value.text, 1, rep.u.value.text_len, ctl->out);
        fputc('\n', ctl->out);
    }
    pt_msg_free(&rep);
    return 0;
}

/* An absolute path for a breakpoint file when it can be found; else as given. */
static void resolve_file(struct pt_ctl *ctl, const char *file, char *out, size_t len)
{
    char real[PATH_MAX];
    if (file[0] != '/' && ctl->pid > 0) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "/proc/%ld/cwd/%s", (long)ctl->pid, file);
        if (realpath(path, real)) {
            pt_str_copy(out, len, real);
            return;
        }
    }
    if (realpath(file, real))
        pt_str_copy(out, len, real);
    else
        pt_str_copy(out, len, file);
}

int pt_hdl_break(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (!need_stopped(ctl))
        return 0;
    uint64_t fiber = 0;
    if (a->fiber[0] && resolve_fiber(ctl, a->fiber, &fiber))
        return 0;
    char file[PATH_MAX];
    file[0] = '\0';
    if (!a->method[0]) {
        if (a->file[0]) {
            resolve_file(ctl, a->file, file, sizeof file);
        } else if (ctl->frame_file[0]) {
            pt_str_copy(file, sizeof file, ctl->frame_file);
        } else {
            pt_ctl_error(ctl, "break: no current file; give FILE:LINE");
            return 0;
        }
    }
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_BREAK, 0);
    req.u.brk.file = a->method[0] ? NULL : file;
    req.u.brk.line = a->method[0] ? 0 : (int32_t)a->line;
    req.u.brk.method = a->method[0] ? (char *)a->method : NULL;
    req.u.brk.cond = a->text[0] ? (char *)a->text : NULL;
    req.u.brk.fiber = fiber;
    int rc = pt_ctl_request(ctl, &req, &rep);
    memset(&req.u.brk, 0, sizeof req.u.brk);
    if (rc)
        return 0;
    fprintf(ctl->out, "Breakpoint %u at ", (unsigned)rep.u.bp.bp.id);
    pt_fmt_bp_where(ctl->out, &rep.u.bp.bp);
    fputc('\n', ctl->out);
    pt_msg_free(&rep);
    return 0;
}

int pt_hdl_delete(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (!need_stopped(ctl))
        return 0;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_DELETE, 0);
    req.u.del.bp = (uint32_t)a->number;
    if (pt_ctl_request(ctl, &req, &rep))
        return 0;
    fprintf(ctl->out, "Deleted breakpoint %ld\n", a->number);
    pt_msg_free(&rep);
    return 0;
}

int pt_hdl_breakpoints(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    if (!need_stopped(ctl))
        return 0;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_BREAKPOINTS, 0);
    if (pt_ctl_request(ctl, &req, &rep))
        return 0;
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
    uint64_t fiber = 0;
    if (a->fiber[0] && resolve_fiber(ctl, a->fiber, &fiber))
        return 0;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_TRACE_OPS, 0);
    req.u.trace_ops.on = a->mode == PT_MODE_ON;
    req.u.trace_ops.fiber = fiber;
    if (pt_ctl_request(ctl, &req, &rep))
        return 0;
    if (a->mode != PT_MODE_ON)
        fputs("Op tracing off.\n", ctl->out);
    else if (fiber)
        fprintf(ctl->out, "Tracing I/O ops of fiber %" PRIu64 ".\n", fiber);
    else
        fputs("Tracing I/O ops of all fibers.\n", ctl->out);
    pt_msg_free(&rep);
    return 0;
}

static const char *mode_word(enum pt_cmd_mode m)
{
    return m == PT_MODE_ON ? "on" : m == PT_MODE_OFF ? "off" : "step";
}

int pt_hdl_set(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    if (!need_stopped(ctl))
        return 0;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_SET, 0);
    req.u.set.name = (char *)a->text;
    req.u.set.value = (char *)mode_word(a->mode);
    int rc = pt_ctl_request(ctl, &req, &rep);
    memset(&req.u.set, 0, sizeof req.u.set);
    if (rc)
        return 0;
    fprintf(ctl->out, "%s is now %s\n", a->text, mode_word(a->mode));
    pt_msg_free(&rep);
    return 0;
}

static int catch_index(const struct pt_ctl *ctl, const char *name)
{
    if (name[0] == ':' && name[1] == ':')
        name += 2;
    for (int i = 0; i < ctl->ncatches; i++)
        if (strcmp(ctl->catches[i], name) == 0)
            return i;
    return -1;
}

static void catch_list(struct pt_ctl *ctl)
{
    if (ctl->ncatches == 0) {
        fprintf(ctl->out, "No exceptions are caught.\n");
        return;
    }
    fprintf(ctl->out, "Catching:");
    for (int i = 0; i < ctl->ncatches; i++)
        fprintf(ctl->out, " %s", ctl->catches[i]);
    fprintf(ctl->out, "\n");
}

/* catch [CLASS | off [CLASS]]: SET name "catch"; the list is kept here. */
int pt_hdl_catch(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    char value[PT_CMD_TEXT_MAX + 8];
    const char *name = a->text[0] == ':' && a->text[1] == ':' ? a->text + 2 : a->text;

    if (a->mode != PT_MODE_OFF && !a->text[0]) {
        catch_list(ctl);
        return 0;
    }
    if (!need_stopped(ctl))
        return 0;
    if (a->mode != PT_MODE_OFF && catch_index(ctl, name) < 0 && ctl->ncatches == PT_CTL_CATCH_MAX) {
        pt_ctl_error(ctl, "too many catches");
        return 0;
    }
    snprintf(value, sizeof value, "%s%s%s", a->mode == PT_MODE_OFF ? "off" : "",
             a->mode == PT_MODE_OFF && a->text[0] ? " " : "", a->text);
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_SET, 0);
    req.u.set.name = (char *)"catch";
    req.u.set.value = value;
    int rc = pt_ctl_request(ctl, &req, &rep);
    memset(&req.u.set, 0, sizeof req.u.set);
    if (rc)
        return 0;
    pt_msg_free(&rep);
    if (a->mode == PT_MODE_OFF && !a->text[0]) {
        ctl->ncatches = 0;
        fprintf(ctl->out, "No exceptions are caught.\n");
        return 0;
    }
    int i = catch_index(ctl, name);
    if (a->mode == PT_MODE_OFF) {
        if (i >= 0) {
            memmove(ctl->catches[i], ctl->catches[i + 1],
                    (size_t)(ctl->ncatches - i - 1) * sizeof ctl->catches[0]);
            ctl->ncatches--;
        }
        fprintf(ctl->out, "%s is no longer caught.\n", name);
        return 0;
    }
    if (i < 0)
        pt_str_copy(ctl->catches[ctl->ncatches++], sizeof ctl->catches[0], name);
    fprintf(ctl->out, "Catching %s.\n", name);
    return 0;
}

int pt_hdl_pause(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    if (ctl->state == PT_CTL_STOPPED) {
        pt_ctl_error(ctl, "the program is already stopped");
        return 0;
    }
    if (ctl->pause_pending)
        return 0;
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_PAUSE, 0);
    int rc = pt_sess_send(&ctl->sess, &req);
    if (rc)
        pt_ctl_connection_lost(ctl, rc);
    else
        ctl->pause_pending = true;
    return 0;
}

/* Reaps our child after it was killed or detached from; reports how it ended. */
static void wait_child(struct pt_ctl *ctl, bool report)
{
    if (!ctl->child)
        return;
    int status;
    pid_t w;
    do
        w = waitpid(ctl->pid, &status, 0);
    while (w < 0 && errno == EINTR);
    ctl->child = false;
    if (w == ctl->pid && report)
        pt_ctl_child_exited(ctl, status);
}

int pt_hdl_detach(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_DETACH, 0);
    if (ctl->state == PT_CTL_RUNNING) {
        /* The reply arrives among events; wait for the close instead. */
        if (pt_sess_send(&ctl->sess, &req) != 0) {
            pt_ctl_connection_lost(ctl, 0);
            return 0;
        }
    } else if (pt_ctl_request(ctl, &req, &rep)) {
        return 0;
    } else {
        pt_msg_free(&rep);
    }
    pt_sess_close(&ctl->sess);
    fprintf(ctl->out, "Detached from process %ld.\n", (long)ctl->pid);
    fflush(ctl->out);
    if (ctl->child) {
        /* We started it: it keeps the terminal, and we report how it ends
         * (polytrace's own exit status after a detach stays 0). */
        pt_term_give(&ctl->term, ctl->pid);
        wait_child(ctl, true);
        pt_term_take(&ctl->term);
    }
    ctl->exit_code = 0;
    ctl->state = PT_CTL_DONE;
    return 0;
}

/* Asks the tracer to kill the program; falls back to SIGKILL for our child. */
static void kill_program(struct pt_ctl *ctl)
{
    if (ctl->sess.fd >= 0) {
        struct pt_msg req, rep;
        pt_msg_init(&req, PT_REQ_KILL, 0);
        if (ctl->state == PT_CTL_STOPPED &&
            pt_sess_request(&ctl->sess, &req, &rep, PT_SESS_REPLY_MS) == 0)
            pt_msg_free(&rep);
        else if (ctl->state != PT_CTL_STOPPED)
            pt_sess_send(&ctl->sess, &req);
        pt_sess_close(&ctl->sess);
    }
    if (ctl->child) {
        kill(ctl->pid, SIGKILL);
        wait_child(ctl, false);
    }
}

int pt_hdl_quit(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    if (ctl->mode == PT_CTL_ATTACHED)
        return pt_hdl_detach(ctl, a);
    kill_program(ctl);
    ctl->exit_code = 0;
    ctl->state = PT_CTL_DONE;
    return 0;
}

int pt_hdl_kill(struct pt_ctl *ctl, const struct pt_cmd_args *a)
{
    (void)a;
    kill_program(ctl);
    fprintf(ctl->out, "Killed process %ld.\n", (long)ctl->pid);
    fflush(ctl->out);
    ctl->exit_code = 0;
    ctl->state = PT_CTL_DONE;
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
        if (!ctl->last_step || ctl->state != PT_CTL_STOPPED)
            return;
        memset(&call, 0, sizeof call);
        call.cmd = ctl->last_step;
    } else if (rc) {
        pt_ctl_error(ctl, "%s", err);
        return;
    }
    if (ctl->state == PT_CTL_RUNNING && !call.cmd->while_running) {
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
