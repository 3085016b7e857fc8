/*
 * dap.c — the adapter's loop and its messages: one poll() over the
 * editor's stream, every process's tracer socket, the launched program's
 * stdout and stderr pipes and the signal pipe; requests dispatched by name
 * to the dap_*.c handlers; responses and events sent back; the session's
 * callbacks (a stop, output, a process that came or ended, the end) turned
 * into DAP events; which process a request is about (its thread id).
 *
 * Order matters to an editor: what the program printed before it stopped
 * is sent before the stopped event (the pipes are drained first; the
 * tracer made the program's stdio synchronous), and a stop that comes
 * before configurationDone (the entry stop) is held until then.
 */
#include "dap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "signals.h"

/* ---- sending ------------------------------------------------------------- */

void pt_dap_send(struct pt_dap *a, json_t *msg)
{
    if (!msg)
        return;
    json_object_set_new(msg, "seq", json_integer(a->seq++));
    if (!a->client_gone && pt_dapio_write(a->out_fd, msg) != 0)
        a->client_gone = true;
    json_decref(msg);
}

void pt_dap_event(struct pt_dap *a, const char *event, json_t *body)
{
    json_t *m = json_pack("{s:s, s:s}", "type", "event", "event", event);
    if (m && body)
        json_object_set_new(m, "body", body);
    else
        json_decref(body);
    pt_dap_send(a, m);
}

static json_t *response(json_t *req, bool success)
{
    json_t *seq = json_object_get(req, "seq");
    json_t *cmd = json_object_get(req, "command");
    return json_pack("{s:s, s:I, s:b, s:s}", "type", "response",
                     "request_seq", (json_int_t)(json_is_integer(seq) ? json_integer_value(seq) : 0),
                     "success", success, "command", json_is_string(cmd) ? json_string_value(cmd) : "");
}

int pt_dap_ok(struct pt_dap *a, json_t *req, json_t *body)
{
    json_t *m = response(req, true);
    if (m && body)
        json_object_set_new(m, "body", body);
    else
        json_decref(body);
    pt_dap_send(a, m);
    return 0;
}

int pt_dap_fail(struct pt_dap *a, json_t *req, const char *fmt, ...)
{
    char msg[PT_DBG_ERR_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *m = response(req, false);
    if (m)
        json_object_set_new(m, "message", pt_dapio_str(msg, strlen(msg)));
    pt_dap_send(a, m);
    return 0;
}

void pt_dap_output(struct pt_dap *a, const char *category, const char *text, size_t len)
{
    json_t *body = json_pack("{s:s}", "category", category);
    if (body)
        json_object_set_new(body, "output", pt_dapio_str(text, len));
    pt_dap_event(a, "output", body);
}

json_t *pt_dap_args(json_t *req)
{
    json_t *args = json_object_get(req, "arguments");
    if (json_is_object(args))
        return args;
    /* An empty object that lives as long as req. */
    args = json_object();
    json_object_set_new(req, "arguments", args);
    return args;
}

/* ---- the program's stdout and stderr ------------------------------------- */

/* Reads what is waiting on one pipe and sends it; closes it at its end. */
static void drain_pipe(struct pt_dap *a, int *fd, char *keep, size_t *nkeep, const char *category)
{
    char buf[65536];
    while (*fd >= 0) {
        memcpy(buf, keep, *nkeep);
        ssize_t n = read(*fd, buf + *nkeep, sizeof buf - *nkeep);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
            if (*nkeep)
                pt_dap_output(a, category, buf, *nkeep);
            *nkeep = 0;
            close(*fd);
            *fd = -1;
            return;
        }
        if (n < 0)
            return;
        size_t have = *nkeep + (size_t)n;
        /* A character cut by the read waits for its other bytes. */
        size_t whole = pt_dapio_utf8_complete(buf, have);
        *nkeep = have - whole;
        memcpy(keep, buf + whole, *nkeep);
        if (whole)
            pt_dap_output(a, category, buf, whole);
    }
}

void pt_dap_drain_pipes(struct pt_dap *a)
{
    drain_pipe(a, &a->out_pipe, a->out_keep, &a->out_nkeep, "stdout");
    drain_pipe(a, &a->err_pipe, a->err_keep, &a->err_nkeep, "stderr");
}

/* ---- per-stop ids -------------------------------------------------------- */

void pt_dap_forget_stop(struct pt_dap *a, int num)
{
    bool any_stopped = false;
    for (int i = 0; i < a->dbg.nprocs; i++)
        any_stopped |= a->dbg.procs[i]->state == PT_DBG_STOPPED;
    if (!any_stopped) {
        a->nframes = 0;
        a->nvars = 0;
        return;
    }
    /* Others are stopped and their ids live on: this process's die. */
    for (size_t i = 0; i < a->nframes; i++)
        if (a->frames[i].num == num)
            a->frames[i].num = 0;
    for (size_t i = 0; i < a->nvars; i++)
        if (a->vars[i].num == num)
            a->vars[i].num = 0;
}

/* ---- processes ------------------------------------------------------------- */

struct pt_dap_proc *pt_dap_proc(struct pt_dap *a, int num, bool create)
{
    for (size_t i = 0; i < a->nprocs; i++)
        if (a->procs[i]->num == num)
            return a->procs[i];
    if (!create)
        return NULL;
    struct pt_dap_proc **v = realloc(a->procs, (a->nprocs + 1) * sizeof *v);
    if (!v)
        return NULL;
    a->procs = v;
    struct pt_dap_proc *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->num = num;
    a->procs[a->nprocs++] = p;
    return p;
}

static void proc_free(struct pt_dap_proc *p)
{
    json_decref(p->threads);
    free(p->known);
    free(p->shown);
    free(p);
}

bool pt_dap_several(const struct pt_dap *a)
{
    return a->dbg.nprocs > 1;
}

long long pt_dap_thread_arg(json_t *args)
{
    json_t *t = json_object_get(args, "threadId");
    return json_is_integer(t) && json_integer_value(t) > 0 ? (long long)json_integer_value(t) : 0;
}

int pt_dap_select_num(struct pt_dap *a, json_t *req, int num)
{
    if (!a->session)
        return pt_dap_fail(a, req, "no program yet (launch or attach first)"), -1;
    struct pt_inf *inf = pt_dbg_process(&a->dbg, num);
    a->req_num = num;
    if (inf && inf->state != PT_DBG_DONE && inf->sess.fd < 0)
        return pt_dap_fail(a, req, "process %d (pid %ld) is ending: its debugger connection closed",
                           num, (long)inf->pid), -1;
    if (inf && inf->state != PT_DBG_DONE) {
        a->dbg.inf = inf;
        return 0;
    }
    const struct pt_dap_proc *p = pt_dap_proc(a, num, false);
    if (p && p->ended)
        return pt_dap_fail(a, req, "process %d (pid %ld) has ended: its threads are gone", num,
                           (long)p->pid), -1;
    if (pt_dbg_done(&a->dbg))
        return pt_dap_fail(a, req, "the program is gone"), -1;
    return pt_dap_fail(a, req, "no process %d under the debugger (a thread id names a process "
                       "and a fiber)", num), -1;
}

const char *pt_dap_why(struct pt_dap *a)
{
    const char *err = pt_dbg_error(&a->dbg);
    const struct pt_dap_proc *p = pt_dap_proc(a, a->req_num, false);
    if (*err)
        return err;
    if (pt_dbg_done(&a->dbg))
        snprintf(a->why, sizeof a->why, "the program is gone");
    else if (p && p->ended)
        snprintf(a->why, sizeof a->why, "process %d (pid %ld) ended meanwhile", p->num, (long)p->pid);
    else
        snprintf(a->why, sizeof a->why, "the program did not answer");
    return a->why;
}

bool pt_dap_select_stopped(struct pt_dap *a)
{
    if (pt_dbg_stopped(&a->dbg))
        return true;
    for (int i = 0; i < a->dbg.nprocs; i++) {
        if (a->dbg.procs[i]->state == PT_DBG_STOPPED) {
            a->dbg.inf = a->dbg.procs[i];
            a->req_num = a->dbg.inf->num;
            return true;
        }
    }
    return false;
}

int pt_dap_select_tid(struct pt_dap *a, json_t *req, long long tid)
{
    if (tid <= 0) {
        if (!a->session)
            return pt_dap_fail(a, req, "no program yet (launch or attach first)"), -1;
        return 0;
    }
    return pt_dap_select_num(a, req, pt_dap_tid_num(tid));
}

static int push_shown(struct pt_dap_proc *p, long long tid)
{
    for (size_t i = 0; i < p->nshown; i++)
        if (p->shown[i] == tid)
            return 0;
    long long *v = realloc(p->shown, (p->nshown + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    p->shown = v;
    v[p->nshown++] = tid;
    return 0;
}

/* ---- the session's callbacks --------------------------------------------- */

static void on_error(void *ctx, const char *msg);

static const char *dap_reason(const char *reason)
{
    static const struct { const char *ours, *theirs; } map[] = {
        { "entry", "entry" }, { "attach", "entry" }, { "breakpoint", "breakpoint" },
        { "step", "step" }, { "return", "step" }, { "pause", "pause" },
        { "exception", "exception" }, { "deadlock", "exception" }, { "hog", "pause" },
        { "call", "breakpoint" },
    };
    for (size_t i = 0; reason && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].ours, reason) == 0)
            return map[i].theirs;
    return "pause";
}

static bool is_function_bp(const struct pt_dap *a, uint32_t id)
{
    for (size_t i = 0; i < a->nfn; i++)
        if (a->fn_ids[i] == id)
            return true;
    return false;
}

/* What the editor shows for a stop besides its reason: a description and
 * the detail (the exception, the returned value, the tracer's note). */
static void describe(json_t *body, const struct pt_proto_ev_stopped *st)
{
    char desc[256] = "", text[PT_DBG_ERR_MAX] = "";
    const char *r = st->reason ? st->reason : "";
    if (strcmp(r, "call") == 0)
        snprintf(desc, sizeof desc, "Kernel#breakpoint");
    if (strcmp(r, "exception") == 0 && st->exception && *st->exception) {
        snprintf(desc, sizeof desc, "Exception raised");
        snprintf(text, sizeof text, "%s", st->exception);
    }
    if (strcmp(r, "return") == 0) {
        snprintf(desc, sizeof desc, "Returning from %s", st->method ? st->method : "the method");
        snprintf(text, sizeof text, "=> %s", st->value ? st->value : "?");
    }
    if (strcmp(r, "deadlock") == 0)
        snprintf(desc, sizeof desc, "Deadlock: no fiber can wake the waiting ones");
    if (strcmp(r, "hog") == 0)
        snprintf(desc, sizeof desc, "A fiber held the event loop too long");
    if (st->note && *st->note && !text[0])
        snprintf(text, sizeof text, "%s", st->note);
    if (desc[0])
        json_object_set_new(body, "description", pt_dapio_str(desc, strlen(desc)));
    if (text[0])
        json_object_set_new(body, "text", pt_dapio_str(text, strlen(text)));
}

void pt_dap_report_stop(struct pt_dap *a, const struct pt_inf *inf,
                        const struct pt_proto_ev_stopped *st, uint64_t fiber)
{
    const char *reason = st ? st->reason : "pause";
    uint32_t bp = st ? st->bp : 0;
    int num = inf->num;
    if (st)
        fiber = st->fiber;
    pt_dap_drain_pipes(a);
    if (st && a->restore_lock) {
        a->restore_lock = false;
        if (pt_dbg_set(&a->dbg, "fiberlock", a->fiberlock) != 0) {
            char msg[96];
            int n = snprintf(msg, sizeof msg, "polytrace: could not set fiberlock back to %s\n", a->fiberlock);
            pt_dap_output(a, "console", msg, (size_t)n);
        }
        if (pt_dbg_done(&a->dbg))
            return;
    }
    const char *why = dap_reason(reason);
    if (bp && strcmp(why, "breakpoint") == 0 && reason && strcmp(reason, "call") != 0 &&
        is_function_bp(a, bp))
        why = "function breakpoint";
    /* One process stops alone: with several, the stop is its fiber's. */
    long long tid = pt_dap_tid(num, fiber);
    json_t *body = json_pack("{s:s, s:I, s:b}", "reason", why, "threadId", (json_int_t)tid,
                             "allThreadsStopped", !pt_dap_several(a));
    if (body && st)
        describe(body, st);
    if (body && bp)
        json_object_set_new(body, "hitBreakpointIds", json_pack("[I]", (json_int_t)bp));
    pt_dap_event(a, "stopped", body);
    /* The fibers are fetched when the editor asks for threads (every
     * editor does after a stop), so a stop costs no extra round trip. */
    struct pt_dap_proc *p = pt_dap_proc(a, num, true);
    if (p) {
        p->pid = inf->pid;
        p->stale = true;
        push_shown(p, tid);
    }
    if (st)
        pt_dap_refresh_breakpoints(a);
}

static void on_stopped(void *ctx, const struct pt_proto_ev_stopped *st)
{
    struct pt_dap *a = ctx;
    if (a->no_debug) {
        /* A run without debugging stops for nothing (Kernel#breakpoint, a
         * deadlock): the editor could not continue it. On it goes. */
        char line[160];
        int n = snprintf(line, sizeof line, "polytrace: not stopping (%s): launched without debugging\n",
                         st->reason ? st->reason : "stop");
        pt_dap_drain_pipes(a);
        pt_dap_output(a, "console", line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        if (pt_dbg_resume(&a->dbg, PT_DBG_CONTINUE, 0) != 0 && !pt_dbg_done(&a->dbg))
            on_error(a, pt_dbg_error(&a->dbg));
        return;
    }
    if (a->internal_pause) {
        a->internal_pause = false;
        if (st->reason && strcmp(st->reason, "pause") == 0) {
            a->held = true;     /* ours: not the editor's business */
            return;
        }
    }
    if (!a->configured) {
        /* The entry (or attach) stop: configurationDone decides. */
        a->first_stop_pending = true;
        return;
    }
    pt_dap_report_stop(a, a->dbg.inf, st, 0);
}

/* The selected process runs again: its ids die, and with several
 * processes each of its threads the editor was told stopped is told it
 * continues (the others' stops stand). */
static void on_running(void *ctx)
{
    struct pt_dap *a = ctx;
    int num = a->dbg.inf->num;
    struct pt_dap_proc *p = pt_dap_proc(a, num, false);
    pt_dap_forget_stop(a, num);
    if (!p)
        return;
    for (size_t i = 0; i < p->nshown && pt_dap_several(a); i++)
        pt_dap_event(a, "continued", json_pack("{s:I, s:b}", "threadId", (json_int_t)p->shown[i],
                                               "allThreadsContinued", 0));
    p->nshown = 0;
}

/* "[pid 4242] " before what one of several processes says. */
static int proc_prefix(const struct pt_dap *a, char *buf, size_t len)
{
    const struct pt_inf *from = a->dbg.event_inf;
    if (!from || a->dbg.next_num <= 2)
        return 0;
    int n = snprintf(buf, len, "[pid %ld] ", (long)from->pid);
    return n > 0 && (size_t)n < len ? n : 0;
}

static void on_process(void *ctx, const struct pt_inf *inf, enum pt_dbg_proc_event ev,
                       const char *how)
{
    struct pt_dap *a = ctx;
    struct pt_dap_proc *p;
    char line[PT_DBG_ERR_MAX + 160];
    int n = 0;
    pt_dap_drain_pipes(a);
    switch (ev) {
    case PT_DBG_PROC_NEW:
        if ((p = pt_dap_proc(a, inf->num, true))) {
            p->pid = inf->pid;
            p->fresh = true;
            a->fresh = true;
        }
        n = snprintf(line, sizeof line, "New process %d (pid %ld), forked by pid %ld.\n", inf->num,
                     (long)inf->pid, (long)inf->parent);
        break;
    case PT_DBG_PROC_FORKED:
        n = snprintf(line, sizeof line, "Process %d (pid %ld) forked %s (not followed: followFork "
                     "is parent).\n", inf->num, (long)inf->pid, how ? how : "a child");
        break;
    case PT_DBG_PROC_STOPPED:
        pt_dap_report_stop(a, inf, a->dbg.event_stop, inf->stop_fiber);
        return;
    case PT_DBG_PROC_SELECTED:
        return;     /* every stop was told as it came; selection is per request */
    case PT_DBG_PROC_ENDED:
        n = snprintf(line, sizeof line, "%s\n", how ? how : "a process ended");
        pt_dap_output(a, "console", line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        pt_dap_proc_ended(a, inf->num);
        return;
    }
    if (n > 0)
        pt_dap_output(a, "console", line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void on_op(void *ctx, const struct pt_proto_ev_op *op)
{
    char line[256];
    int n = snprintf(line, sizeof line, "op: fiber %llu %s %s fd %d len %lld -> %lld\n",
                     (unsigned long long)op->fiber, op->phase, op->op, (int)op->fd,
                     (long long)op->len, (long long)op->result);
    pt_dap_output(ctx, "console", line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void on_output(void *ctx, const char *text, size_t len)
{
    /* Tracer notices and logpoints: after what the program printed. */
    struct pt_dap *a = ctx;
    char pre[48];
    int n = proc_prefix(a, pre, sizeof pre);
    pt_dap_drain_pipes(a);
    if (!n) {
        pt_dap_output(a, "console", text, len);
        return;
    }
    char *line = malloc((size_t)n + len);
    if (!line) {
        pt_dap_output(a, "console", text, len);
        return;
    }
    memcpy(line, pre, (size_t)n);
    memcpy(line + n, text, len);
    pt_dap_output(a, "console", line, (size_t)n + len);
    free(line);
}

static void on_error(void *ctx, const char *msg)
{
    char line[PT_DBG_ERR_MAX + 80], pre[48];
    int k = proc_prefix(ctx, pre, sizeof pre);
    int n = snprintf(line, sizeof line, "polytrace: %.*s%s\n", k, pre, msg);
    pt_dap_output(ctx, "console", line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void on_ended(void *ctx, const char *how, bool error)
{
    struct pt_dap *a = ctx;
    char line[PT_DBG_ERR_MAX + 32];
    pt_dap_drain_pipes(a);
    int n = snprintf(line, sizeof line, "%s%s\n", error ? "polytrace: " : "", how);
    pt_dap_output(a, "console", line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    if (!error)
        pt_dap_event(a, "exited", json_pack("{s:i}", "exitCode", a->dbg.exit_code));
    if (!a->terminated_sent) {
        a->terminated_sent = true;
        pt_dap_event(a, "terminated", NULL);
    }
}

/* The tracer is gone but our child lives on (finishing its at_exit
 * handlers): keep its output flowing until it ends. While other processes
 * live (forked children that may stop, an editor to answer), not here:
 * the loop reaps it when SIGCHLD comes, and it stays in the session till
 * then (an exec, say, may keep it a long time). */
static int wait_program(void *ctx, pid_t pid, int *status)
{
    struct pt_dap *a = ctx;
    if (a->dbg.nprocs > 1)
        return -EAGAIN;
    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            return 0;
        if (w < 0 && errno != EINTR)
            return -errno;
        struct pollfd p[3];
        int n = 0;
        p[n++] = (struct pollfd){ .fd = pt_sig_fd(), .events = POLLIN };
        if (a->out_pipe >= 0)
            p[n++] = (struct pollfd){ .fd = a->out_pipe, .events = POLLIN };
        if (a->err_pipe >= 0)
            p[n++] = (struct pollfd){ .fd = a->err_pipe, .events = POLLIN };
        if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
            return -errno;
        int sig;
        while ((sig = pt_sig_next()) != 0)
            if (sig == SIGTERM || sig == SIGHUP || sig == SIGINT) {
                a->done = true;     /* told to go: leave the program be */
                pt_sig_requeue(sig);
                return -EINTR;
            }
        pt_dap_drain_pipes(a);
    }
}

static const struct pt_dbg_ui dap_ui = {
    .wait_program = wait_program,
    .stopped = on_stopped,
    .running = on_running,
    .op = on_op,
    .output = on_output,
    .error = on_error,
    .ended = on_ended,
    .process = on_process,
};

/* ---- holding the program for a change ------------------------------------ */

int pt_dap_need_stopped(struct pt_dap *a, json_t *req)
{
    if (!a->session)
        return pt_dap_fail(a, req, "no program yet (launch or attach first)"), -1;
    if (pt_dbg_done(&a->dbg))
        return pt_dap_fail(a, req, "the program is gone"), -1;
    if (a->no_debug)
        return pt_dap_fail(a, req, "%s", PT_DAP_NO_DEBUG), -1;
    if (!pt_dbg_stopped(&a->dbg)) {
        const struct pt_inf *inf = a->dbg.inf;
        if (a->dbg.next_num > 2)
            return pt_dap_fail(a, req, "process %d (pid %ld) is running (pause it first)", inf->num,
                               (long)inf->pid), -1;
        return pt_dap_fail(a, req, "the program is running (pause it first)"), -1;
    }
    return 0;
}

int pt_dap_hold(struct pt_dap *a, json_t *req, bool *was_running)
{
    *was_running = false;
    if (!a->session || pt_dbg_done(&a->dbg))
        return pt_dap_fail(a, req, a->session ? "the program is gone" : "no program yet (launch or attach first)"), -1;
    if (pt_dbg_stopped(&a->dbg))
        return 0;
    /* Breakpoints and catches go to every process: a stopped one takes
     * them for all, and none has to be paused. */
    if (pt_dap_select_stopped(a))
        return 0;
    if (a->no_debug)
        return pt_dap_fail(a, req, "%s", PT_DAP_NO_DEBUG), -1;
    a->internal_pause = true;
    a->held = false;
    int rc = pt_dbg_pause(&a->dbg);
    if (rc == 0)
        rc = pt_dbg_wait_stop(&a->dbg, PT_SESS_REPLY_MS);
    a->internal_pause = false;
    if (rc)
        return pt_dap_fail(a, req, "could not pause the program: %s", pt_dap_why(a)), -1;
    *was_running = a->held;
    return 0;
}

void pt_dap_resume_quiet(struct pt_dap *a, bool was_running)
{
    if (was_running && pt_dbg_stopped(&a->dbg) && pt_dbg_resume(&a->dbg, PT_DBG_CONTINUE, 0) != 0)
        pt_dap_output(a, "console", "polytrace: could not continue the program\n", 42);
}

/* ---- requests ------------------------------------------------------------ */

static const struct {
    const char *command;
    pt_dap_fn fn;
} requests[] = {
    { "initialize", pt_dap_initialize },
    { "launch", pt_dap_launch },
    { "attach", pt_dap_attach },
    { "configurationDone", pt_dap_configuration_done },
    { "disconnect", pt_dap_disconnect },
    { "terminate", pt_dap_terminate },
    { "setBreakpoints", pt_dap_set_breakpoints },
    { "setFunctionBreakpoints", pt_dap_set_function_breakpoints },
    { "setExceptionBreakpoints", pt_dap_set_exception_breakpoints },
    { "breakpointLocations", pt_dap_breakpoint_locations },
    { "continue", pt_dap_continue },
    { "next", pt_dap_next },
    { "stepIn", pt_dap_step_in },
    { "stepOut", pt_dap_step_out },
    { "pause", pt_dap_pause },
    { "threads", pt_dap_threads },
    { "stackTrace", pt_dap_stack_trace },
    { "scopes", pt_dap_scopes },
    { "variables", pt_dap_variables },
    { "setVariable", pt_dap_set_variable },
    { "evaluate", pt_dap_evaluate },
    { "source", pt_dap_source },
    { "exceptionInfo", pt_dap_exception_info },
};

static void handle(struct pt_dap *a, json_t *msg)
{
    if (!json_is_object(msg)) {
        json_t *empty = json_object();
        pt_dap_fail(a, empty, "a message must be a JSON object");
        json_decref(empty);
        return;
    }
    const char *type = json_string_value(json_object_get(msg, "type"));
    const char *command = json_string_value(json_object_get(msg, "command"));
    if (type && strcmp(type, "response") == 0)
        return;     /* we send no requests; nothing to match */
    if (!type || strcmp(type, "request") != 0 || !command) {
        pt_dap_fail(a, msg, "not a request: a message needs \"type\": \"request\" and a \"command\"");
        return;
    }
    a->req_num = a->dbg.inf->num;
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        if (strcmp(requests[i].command, command) == 0) {
            requests[i].fn(a, msg);
            return;
        }
    }
    pt_dap_fail(a, msg, "polytrace does not support the request '%s'", command);
}

/* Reads what the editor sent and handles every whole message. */
static void read_client(struct pt_dap *a)
{
    char buf[65536];
    ssize_t n = read(a->in_fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        a->client_gone = true;
        return;
    }
    if (pt_dapio_feed(&a->io, buf, (size_t)n)) {
        a->client_gone = true;
        return;
    }
    for (;;) {
        json_t *msg;
        char err[256];
        int rc = pt_dapio_next(&a->io, &msg, err, sizeof err);
        if (rc == 0)
            return;
        if (rc == -EPROTO) {
            json_t *empty = json_object();
            pt_dap_fail(a, empty, "%s", err);
            json_decref(empty);
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "polytrace dap: %s; closing\n", err);
            a->client_gone = true;
            return;
        }
        handle(a, msg);
        json_decref(msg);
        if (a->done || a->client_gone)
            return;
    }
}

/* ---- the loop ------------------------------------------------------------ */

static void reap_child(struct pt_dap *a)
{
    pid_t pid = pt_dbg_child_pid(&a->dbg);
    int status;
    if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid)
        pt_dbg_reaped(&a->dbg, pid, status);
}

/* Handles what every process's connection has queued (events that came
 * while a reply was awaited), and announces children that came. */
static void drain_queued(struct pt_dap *a)
{
    /* Handling one may queue more (a request made meanwhile): until none. */
    for (bool again = true; again && !pt_dbg_done(&a->dbg);) {
        again = false;
        int last = a->dbg.next_num;
        for (int num = 1; num < last && !pt_dbg_done(&a->dbg); num++) {
            struct pt_inf *inf = pt_dbg_process(&a->dbg, num);
            if (inf && inf->sess.fd >= 0 && pt_sess_pending(&inf->sess)) {
                pt_dbg_drain_process(&a->dbg, inf, false);
                again = true;
            }
        }
        if (a->fresh && !pt_dbg_done(&a->dbg)) {
            pt_dap_announce_fresh(a);
            again = true;
        }
    }
}

/* The editor left without a disconnect: a launched program goes with it,
 * an attached one runs on. */
static void leave(struct pt_dap *a)
{
    if (!a->session || pt_dbg_done(&a->dbg))
        return;
    if (a->launched)
        pt_dbg_kill(&a->dbg);
    else
        pt_dbg_detach(&a->dbg);
}

void pt_dap_free(struct pt_dap *a)
{
    pt_dbg_close(&a->dbg);
    if (a->out_pipe >= 0)
        close(a->out_pipe);
    if (a->err_pipe >= 0)
        close(a->err_pipe);
    a->out_pipe = a->err_pipe = -1;
    pt_dapio_free(&a->io);
    free(a->frames);
    free(a->vars);
    for (size_t i = 0; i < a->nsrcs; i++) {
        free(a->srcs[i].path);
        free(a->srcs[i].ids);
    }
    free(a->srcs);
    free(a->fn_ids);
    free(a->pending_ids);
    for (size_t i = 0; i < a->nprocs; i++)
        proc_free(a->procs[i]);
    free(a->procs);
    memset(a, 0, sizeof *a);
    a->out_pipe = a->err_pipe = -1;
}

int pt_dap_serve(int in_fd, int out_fd)
{
    struct pt_dap *a = calloc(1, sizeof *a);
    if (!a)
        return 1;
    a->in_fd = in_fd;
    a->out_fd = out_fd;
    a->seq = 1;
    a->out_pipe = a->err_pipe = -1;
    snprintf(a->fiberlock, sizeof a->fiberlock, "step");
    pt_dapio_init(&a->io);
    pt_dbg_init(&a->dbg, PT_DBG_LAUNCHED, &dap_ui, a);

    while (!a->done && !a->client_gone) {
        drain_queued(a);
        struct pt_dbg *d = &a->dbg;
        struct pollfd p[4 + PT_DBG_PROCS_MAX];
        int nums[PT_DBG_PROCS_MAX];
        int n = 0, nsess = 0, sig_i, in_i, sess_i, out_i = -1, err_i = -1;
        sig_i = n;
        p[n++] = (struct pollfd){ .fd = pt_sig_fd(), .events = POLLIN };
        in_i = n;
        p[n++] = (struct pollfd){ .fd = a->in_fd, .events = POLLIN };
        if (a->out_pipe >= 0) {
            out_i = n;
            p[n++] = (struct pollfd){ .fd = a->out_pipe, .events = POLLIN };
        }
        if (a->err_pipe >= 0) {
            err_i = n;
            p[n++] = (struct pollfd){ .fd = a->err_pipe, .events = POLLIN };
        }
        sess_i = n;
        for (int i = 0; i < d->nprocs && !pt_dbg_done(d); i++) {
            const struct pt_inf *inf = d->procs[i];
            if (inf->state == PT_DBG_DONE || inf->sess.fd < 0)
                continue;
            nums[nsess++] = inf->num;
            p[n++] = (struct pollfd){ .fd = inf->sess.fd, .events = POLLIN };
        }
        if (poll(p, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[sig_i].revents & POLLIN) {
            int sig;
            while ((sig = pt_sig_next()) != 0) {
                if (sig == SIGCHLD) {
                    reap_child(a);
                } else if (sig == SIGTERM || sig == SIGHUP || sig == SIGINT) {
                    /* Told to go: the program runs on, as with the REPL;
                     * a listening server hears it too. */
                    pt_dbg_hangup(d, 1);
                    a->done = true;
                    pt_sig_requeue(sig);
                    break;
                }
            }
        }
        if (out_i >= 0 && p[out_i].revents)
            drain_pipe(a, &a->out_pipe, a->out_keep, &a->out_nkeep, "stdout");
        if (err_i >= 0 && p[err_i].revents)
            drain_pipe(a, &a->err_pipe, a->err_keep, &a->err_nkeep, "stderr");
        /* By number: a process that ends meanwhile is not looked at. */
        for (int i = 0; i < nsess && !a->done && !pt_dbg_done(d); i++) {
            struct pt_inf *inf = p[sess_i + i].revents ? pt_dbg_process(d, nums[i]) : NULL;
            if (inf && inf->sess.fd >= 0)
                pt_dbg_drain_process(d, inf, true);
        }
        if (!a->done && p[in_i].revents)
            read_client(a);
    }
    if (!a->done)
        leave(a);
    int code = a->dbg.exit_code;
    pt_dap_free(a);
    free(a);
    return code;
}
