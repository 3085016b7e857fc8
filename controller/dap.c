/*
 * dap.c — the adapter's loop and its messages: one poll() over the
 * editor's stream, the tracer's socket, the launched program's stdout and
 * stderr pipes and the signal pipe; requests dispatched by name to the
 * dap_*.c handlers; responses and events sent back; the session's
 * callbacks (a stop, output, the end) turned into DAP events.
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

void pt_dap_forget_stop(struct pt_dap *a)
{
    a->nframes = 0;
    a->nvars = 0;
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

/* The stopped event for the program's stop, then what changed meanwhile. */
static void report_stop(struct pt_dap *a, const struct pt_proto_ev_stopped *st)
{
    const char *reason = st->reason;
    uint64_t fiber = st->fiber;
    uint32_t bp = st->bp;
    pt_dap_forget_stop(a);
    pt_dap_drain_pipes(a);
    if (a->restore_lock) {
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
    json_t *body = json_pack("{s:s, s:I, s:b}", "reason", why, "threadId", (json_int_t)fiber,
                             "allThreadsStopped", 1);
    if (body)
        describe(body, st);
    if (body && bp)
        json_object_set_new(body, "hitBreakpointIds", json_pack("[I]", (json_int_t)bp));
    pt_dap_event(a, "stopped", body);
    /* The fibers are fetched when the editor asks for threads (every
     * editor does after a stop), so a stop costs no extra round trip. */
    a->threads_stale = true;
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
    report_stop(a, st);
}

static void on_running(void *ctx)
{
    pt_dap_forget_stop(ctx);
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
    pt_dap_drain_pipes(ctx);
    pt_dap_output(ctx, "console", text, len);
}

static void on_error(void *ctx, const char *msg)
{
    char line[PT_DBG_ERR_MAX + 32];
    int n = snprintf(line, sizeof line, "polytrace: %s\n", msg);
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
 * handlers): keep its output flowing until it ends. */
static int wait_program(void *ctx, pid_t pid, int *status)
{
    struct pt_dap *a = ctx;
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
    if (!pt_dbg_stopped(&a->dbg))
        return pt_dap_fail(a, req, "the program is running (pause it first)"), -1;
    return 0;
}

int pt_dap_hold(struct pt_dap *a, json_t *req, bool *was_running)
{
    *was_running = false;
    if (!a->session || pt_dbg_done(&a->dbg))
        return pt_dap_fail(a, req, a->session ? "the program is gone" : "no program yet (launch or attach first)"), -1;
    if (pt_dbg_stopped(&a->dbg))
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
        return pt_dap_fail(a, req, "could not pause the program: %s", pt_dbg_error(&a->dbg)), -1;
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
    const struct pt_inf *inf = a->dbg.inf;
    if (!inf->child)
        return;
    int status;
    if (waitpid(inf->pid, &status, WNOHANG) == inf->pid)
        pt_dbg_child_exited(&a->dbg, status);
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
    free(a->known);
    json_decref(a->threads);
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
        struct pt_inf *inf = a->dbg.inf;
        if (inf->sess.fd >= 0 && pt_sess_pending(&inf->sess))
            pt_dbg_drain(&a->dbg);
        struct pollfd p[5];
        int n = 0, sig_i, in_i, sess_i = -1, out_i = -1, err_i = -1;
        sig_i = n;
        p[n++] = (struct pollfd){ .fd = pt_sig_fd(), .events = POLLIN };
        in_i = n;
        p[n++] = (struct pollfd){ .fd = a->in_fd, .events = POLLIN };
        if (inf->sess.fd >= 0) {
            sess_i = n;
            p[n++] = (struct pollfd){ .fd = inf->sess.fd, .events = POLLIN };
        }
        if (a->out_pipe >= 0) {
            out_i = n;
            p[n++] = (struct pollfd){ .fd = a->out_pipe, .events = POLLIN };
        }
        if (a->err_pipe >= 0) {
            err_i = n;
            p[n++] = (struct pollfd){ .fd = a->err_pipe, .events = POLLIN };
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
                    pt_dbg_hangup(&a->dbg, 1);
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
        if (sess_i >= 0 && p[sess_i].revents && inf->sess.fd >= 0)
            pt_dbg_drain(&a->dbg);
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
