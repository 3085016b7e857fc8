/*
 * dap_run.c — the DAP requests of a session's life and of running the
 * program: initialize (the capabilities, stated as they are), launch
 * (program or command, args, cwd, env, stopOnEntry: the REPL's launch path,
 * with the program's stdio on pipes; noDebug: never stopped), attach (pid,
 * a listening tracer's socket, or one listening on TCP: "connect"),
 * configurationDone, disconnect, terminate; continue, next,
 * stepIn, stepOut for one fiber (singleThread: only that fiber runs), and
 * pause, each acting on the process of its thread. followFork (launch and
 * attach) says which forked children come under the session.
 */
#include "dap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"
#include "pt_remote.h"

json_t *pt_dap_capabilities(void)
{
    json_t *filters = json_pack(
        "[{s:s, s:s, s:s, s:b}, {s:s, s:s, s:s, s:b}, {s:s, s:s, s:s, s:b, s:b, s:s}]",
        "filter", "raise", "label", "Raised exceptions",
        "description", "Stop where any exception is raised, rescued or not (catch Exception)",
        "default", 0,
        "filter", "standard", "label", "Raised StandardError",
        "description", "Stop where a StandardError is raised, rescued or not",
        "default", 0,
        "filter", "classes", "label", "Raised exceptions of given classes",
        "description", "Stop where an exception of one of the classes in the condition is raised",
        "default", 0, "supportsCondition", 1,
        "conditionDescription", "Class names separated by commas, e.g. KeyError, MyApp::Error");
    json_t *caps = json_pack(
        "{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b,"
        " s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}",
        "supportsConfigurationDoneRequest", 1,
        "supportsFunctionBreakpoints", 1,
        "supportsConditionalBreakpoints", 1,
        "supportsHitConditionalBreakpoints", 1,
        "supportsLogPoints", 1,
        "supportsEvaluateForHovers", 1,
        "supportsSetVariable", 1,
        "supportsExceptionInfoRequest", 1,
        "supportsExceptionFilterOptions", 1,
        "supportsTerminateRequest", 1,
        "supportTerminateDebuggee", 1,
        "supportsSingleThreadExecutionRequests", 1,
        "supportsDelayedStackTraceLoading", 1,
        "supportsStepBack", 0,
        "supportsRestartRequest", 0,
        "supportsRestartFrame", 0,
        "supportsGotoTargetsRequest", 0,
        "supportsStepInTargetsRequest", 0,
        "supportsCompletionsRequest", 0,
        "supportsModulesRequest", 0,
        "supportsLoadedSourcesRequest", 0,
        "supportsBreakpointLocationsRequest", 1,
        "supportsDataBreakpoints", 0,
        "supportsSetExpression", 0,
        "supportsValueFormattingOptions", 0,
        "supportsSteppingGranularity", 0);
    if (caps)
        json_object_set_new(caps, "exceptionBreakpointFilters", filters);
    else
        json_decref(filters);
    return caps;
}

int pt_dap_initialize(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    /* We speak 1-based lines and columns and plain paths: say so when the
     * editor asks for something else rather than misplace every stop. */
    json_t *l1 = json_object_get(args, "linesStartAt1");
    const char *fmt = json_string_value(json_object_get(args, "pathFormat"));
    if (json_is_false(l1))
        return pt_dap_fail(a, req, "polytrace numbers lines from 1 (linesStartAt1 false is not supported)");
    if (fmt && strcmp(fmt, "path") != 0)
        return pt_dap_fail(a, req, "polytrace takes file paths (pathFormat '%s' is not supported)", fmt);
    a->initialized = true;
    return pt_dap_ok(a, req, pt_dap_capabilities());
}

/* The launch or attach argument "fiberlock" ("step", "on", "off"): who runs
 * while a fiber is stepped, as `set fiberlock` at the prompt. 0, or <0 with
 * req failed. */
static int apply_fiberlock(struct pt_dap *a, json_t *req, json_t *args)
{
    const char *lock = json_string_value(json_object_get(args, "fiberlock"));
    if (!lock)
        return 0;
    if (strcmp(lock, "step") != 0 && strcmp(lock, "on") != 0 && strcmp(lock, "off") != 0)
        return pt_dap_fail(a, req, "fiberlock is step, on or off, not '%s'", lock), -1;
    if (pt_dbg_set(&a->dbg, "fiberlock", lock))
        return pt_dap_fail(a, req, "fiberlock: %s", pt_dbg_error(&a->dbg)), -1;
    snprintf(a->fiberlock, sizeof a->fiberlock, "%s", lock);
    return 0;
}

/* The launch or attach argument "followFork": which forked children come
 * under the session ("all", the default: each a process whose fibers are
 * threads; "parent": they run free; "child": the parent is let go at a
 * fork). 0, or <0 with req failed. */
static int apply_follow(struct pt_dap *a, json_t *req, json_t *args)
{
    json_t *v = json_object_get(args, "followFork");
    const char *f = json_string_value(v);
    a->dbg.follow = PT_DBG_FOLLOW_ALL;
    if (!v || json_is_null(v))
        return 0;
    if (f && strcmp(f, "all") == 0)
        return 0;
    if (f && strcmp(f, "parent") == 0)
        a->dbg.follow = PT_DBG_FOLLOW_PARENT;
    else if (f && strcmp(f, "child") == 0)
        a->dbg.follow = PT_DBG_FOLLOW_CHILD;
    else
        return pt_dap_fail(a, req, "followFork is all, parent or child"), -1;
    return 0;
}

/* The editor's record of process 1, as the session reached it. */
static void first_proc(struct pt_dap *a)
{
    struct pt_dap_proc *p = pt_dap_proc(a, 1, true);
    if (p)
        p->pid = a->dbg.one.pid;
}

/* ---- launch -------------------------------------------------------------- */

struct strv {
    char **v;
    size_t n, cap;
};

static int strv_push(struct strv *s, const char *str)
{
    if (s->n + 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strdup(str)))
        return -ENOMEM;
    s->v[++s->n] = NULL;
    return 0;
}

static void strv_free(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* Appends every string of a JSON array; -EINVAL if one is not a string. */
static int push_strings(struct strv *s, json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v))
            return -EINVAL;
        if (strv_push(s, json_string_value(v)))
            return -ENOMEM;
    }
    return 0;
}

/* argv from the launch arguments: command, or [ruby, program, *args]. */
static int launch_argv(json_t *args, struct strv *argv, const char **why)
{
    json_t *command = json_object_get(args, "command");
    const char *program = json_string_value(json_object_get(args, "program"));
    json_t *pargs = json_object_get(args, "args");
    const char *ruby = json_string_value(json_object_get(args, "ruby"));

    if (json_is_array(command) && json_array_size(command) > 0) {
        if (push_strings(argv, command)) {
            *why = "command must be an array of strings";
            return -EINVAL;
        }
    } else if (program && *program) {
        if (strv_push(argv, ruby && *ruby ? ruby : "ruby") || strv_push(argv, program))
            return -ENOMEM;
    } else {
        *why = "launch needs \"program\" (a Ruby script) or \"command\" (an argv array)";
        return -EINVAL;
    }
    if (pargs && !json_is_array(pargs)) {
        *why = "args must be an array of strings";
        return -EINVAL;
    }
    if (pargs && push_strings(argv, pargs)) {
        *why = "args must be an array of strings";
        return -EINVAL;
    }
    return 0;
}

/* env from the launch arguments ("NAME" alone: unset), plus ours. */
static int launch_env(json_t *args, struct strv *env, const char **why)
{
    json_t *obj = json_object_get(args, "env");
    const char *name;
    json_t *v;
    if (obj && !json_is_object(obj)) {
        *why = "env must be an object of strings";
        return -EINVAL;
    }
    json_object_foreach(obj, name, v) {
        char *kv = NULL;
        if (json_is_null(v))
            kv = strdup(name);
        else if (!json_is_string(v) || asprintf(&kv, "%s=%s", name, json_string_value(v)) < 0)
            kv = NULL;
        if (!kv || strchr(name, '=') || !*name) {
            free(kv);
            *why = "env must map names to strings (or null to unset one)";
            return -EINVAL;
        }
        int rc = strv_push(env, kv);
        free(kv);
        if (rc)
            return rc;
    }
    /* The program's stdio are our pipes: the tracer makes them synchronous. */
    return strv_push(env, "POLYTRACE_STDIO=pipe");
}

int pt_dap_launch(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    struct strv argv = { 0 }, env = { 0 };
    const char *why = "out of memory";
    int out[2] = { -1, -1 }, err[2] = { -1, -1 }, null = -1;

    if (a->session)
        return pt_dap_fail(a, req, "a program is already being debugged");
    if (apply_follow(a, req, args))
        return 0;
    if (launch_argv(args, &argv, &why) || launch_env(args, &env, &why)) {
        pt_dap_fail(a, req, "%s", why);
        goto out;
    }
    if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
        (null = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        pt_dap_fail(a, req, "cannot make the program's pipes: %s", strerror(errno));
        goto out;
    }
    struct pt_launch_spec spec;
    pt_launch_spec_init(&spec, argv.v);
    spec.cwd = json_string_value(json_object_get(args, "cwd"));
    spec.env = env.v;
    spec.stdio[0] = null;
    spec.stdio[1] = out[1];
    spec.stdio[2] = err[1];
    /* Always stop at the first line, so that breakpoints are in place
     * before the program runs; configurationDone then continues it unless
     * stopOnEntry. Without debugging (noDebug, an editor's "run"), no stop:
     * the program runs from the start and only its output comes. */
    a->no_debug = json_is_true(json_object_get(args, "noDebug"));
    spec.nonstop = a->no_debug;
    if (a->no_debug)
        a->dbg.follow = PT_DBG_FOLLOW_NONE;   /* children run free, their output comes */
    a->stop_on_entry = !a->no_debug && json_is_true(json_object_get(args, "stopOnEntry"));
    a->dbg.inf->mode = PT_DBG_LAUNCHED;
    int rc = pt_dbg_launch(&a->dbg, &spec);
    close(out[1]);
    close(err[1]);
    close(null);
    out[1] = err[1] = null = -1;
    a->out_pipe = out[0];
    a->err_pipe = err[0];
    out[0] = err[0] = -1;
    fcntl(a->out_pipe, F_SETFL, O_NONBLOCK);
    fcntl(a->err_pipe, F_SETFL, O_NONBLOCK);
    if (rc) {
        pt_dap_drain_pipes(a);
        pt_dap_fail(a, req, "cannot launch %s: %s", argv.v[0], pt_dbg_error(&a->dbg));
        goto out;
    }
    a->session = true;
    a->launched = true;
    first_proc(a);
    if (a->no_debug) {
        pt_dap_ok(a, req, NULL);
        pt_dap_event(a, "initialized", NULL);
        goto out;
    }
    if (pt_dbg_wait_stop(&a->dbg, PT_SESS_REPLY_MS * 2) != 0) {
        char reason[PT_DBG_ERR_MAX];
        snprintf(reason, sizeof reason, "%s", pt_dbg_error(&a->dbg));
        pt_dap_drain_pipes(a);
        if (!pt_dbg_done(&a->dbg))
            pt_dbg_kill(&a->dbg);
        pt_dap_fail(a, req, "the program never reached its first line: %s", reason);
        goto out;
    }
    if (apply_fiberlock(a, req, args)) {
        pt_dbg_kill(&a->dbg);
        goto out;
    }
    /* At its first line a launched program has one fiber, the main one: the
     * editor hears of every other as it starts. Its list stands for it
     * while it runs. */
    pt_dap_refresh_threads(a);
    struct pt_dap_proc *one = pt_dap_proc(a, 1, true);
    if (one && !one->known && (one->known = malloc(sizeof *one->known))) {
        one->known[0] = a->dbg.inf->stop_fiber;
        one->nknown = 1;
    }
    pt_dap_ok(a, req, NULL);
    pt_dap_event(a, "initialized", NULL);
out:
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (err[i] >= 0)
            close(err[i]);
    }
    if (null >= 0)
        close(null);
    strv_free(&argv);
    strv_free(&env);
    return 0;
}

/* ---- attach -------------------------------------------------------------- */

/* attach with "connect": a tracer listening on TCP (polytrace --listen).
 * The token is "token", or the first line of "tokenFile". 0 connected;
 * 1 the request is answered (a bad token argument); <0 the session's
 * error. */
static int attach_remote(struct pt_dap *a, json_t *req, json_t *args, const char *addr)
{
    const char *token = json_string_value(json_object_get(args, "token"));
    const char *file = json_string_value(json_object_get(args, "tokenFile"));
    char buf[PT_PROTO_REMOTE_TOKEN_MAX + 1], err[PT_DBG_ERR_MAX];
    struct pt_dbg_remote r = { .addr = addr, .tls = json_is_true(json_object_get(args, "tls")),
                               .tls_ca = json_string_value(json_object_get(args, "tlsCa")) };
    if (file && *file) {
        if (pt_proto_remote_token_read(file, buf, sizeof buf, err, sizeof err)) {
            pt_dap_fail(a, req, "cannot attach: %s", err);
            return 1;
        }
    } else if (token && pt_proto_remote_token_valid(token) && strlen(token) < sizeof buf) {
        snprintf(buf, sizeof buf, "%s", token);
    } else {
        pt_dap_fail(a, req, "attach with \"connect\" needs \"token\" (%d to %d printable "
                    "characters) or \"tokenFile\"", PT_PROTO_REMOTE_TOKEN_MIN,
                    PT_PROTO_REMOTE_TOKEN_MAX);
        return 1;
    }
    r.token = buf;
    int rc = pt_dbg_connect(&a->dbg, &r);
    explicit_bzero(buf, sizeof buf);
    return rc;
}

int pt_dap_attach(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    json_t *jpid = json_object_get(args, "pid");
    const char *sock = json_string_value(json_object_get(args, "socket"));
    const char *addr = json_string_value(json_object_get(args, "connect"));
    long long pid = 0;

    if (a->session)
        return pt_dap_fail(a, req, "a program is already being debugged");
    if (apply_follow(a, req, args))
        return 0;
    if (json_is_integer(jpid))
        pid = json_integer_value(jpid);
    else if (json_is_string(jpid))
        pid = strtoll(json_string_value(jpid), NULL, 10);
    if (pid <= 0 && !(sock && *sock) && !(addr && *addr))
        return pt_dap_fail(a, req, "attach needs \"pid\" (a Ruby process of yours), \"socket\" (a listening tracer) "
                           "or \"connect\" (HOST:PORT of a tracer listening on TCP)");
    a->dbg.inf->mode = PT_DBG_ATTACHED;
    a->stop_on_entry = json_is_true(json_object_get(args, "stopOnEntry"));
    if (addr && *addr && pid <= 0 && !(sock && *sock)) {
        int r = attach_remote(a, req, args, addr);
        if (r > 0)
            return 0;
        if (r < 0 || pt_dbg_first_stop(&a->dbg))
            return pt_dap_fail(a, req, "cannot attach: %s", pt_dbg_error(&a->dbg));
        /* Its children would wait on sockets of its host: out of reach. */
        if (json_is_string(json_object_get(args, "followFork"))) {
            static const char note[] = "polytrace: followFork does not apply over TCP (connect): "
                                       "forked children run free\n";
            pt_dap_output(a, "console", note, sizeof note - 1);
        }
        goto attached;
    }
    int rc = pid > 0 ? pt_dbg_attach(&a->dbg, (pid_t)pid) : pt_dbg_attach_socket(&a->dbg, sock);
    if (rc == 0)
        rc = pt_dbg_first_stop(&a->dbg);
    if (rc)
        return pt_dap_fail(a, req, "cannot attach: %s", pt_dbg_error(&a->dbg));
attached:
    if (apply_fiberlock(a, req, args)) {
        pt_dbg_detach(&a->dbg);
        return 0;
    }
    a->session = true;
    a->launched = false;
    first_proc(a);
    pt_dap_ok(a, req, NULL);
    pt_dap_event(a, "initialized", NULL);
    return 0;
}

int pt_dap_configuration_done(struct pt_dap *a, json_t *req)
{
    a->configured = true;
    pt_dap_ok(a, req, NULL);
    if (!a->first_stop_pending)
        return 0;
    a->first_stop_pending = false;
    if (!pt_dbg_stopped(&a->dbg))
        return 0;
    if (a->stop_on_entry) {
        json_t *body = json_pack("{s:s, s:I, s:b}", "reason", "entry", "threadId",
                                 (json_int_t)a->dbg.inf->stop_fiber, "allThreadsStopped", 1);
        pt_dap_drain_pipes(a);
        pt_dap_event(a, "stopped", body);
        struct pt_dap_proc *p = pt_dap_proc(a, a->dbg.inf->num, true);
        if (p)
            p->stale = true;
    } else if (pt_dbg_resume(&a->dbg, PT_DBG_CONTINUE, 0) != 0 && pt_dbg_error(&a->dbg)[0]) {
        pt_dap_output(a, "console", pt_dbg_error(&a->dbg), strlen(pt_dbg_error(&a->dbg)));
    }
    return 0;
}

/* ---- the end ------------------------------------------------------------- */

int pt_dap_disconnect(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    json_t *term = json_object_get(args, "terminateDebuggee");
    bool kill_it = json_is_boolean(term) ? json_is_true(term) : a->launched;

    if (a->session && !pt_dbg_done(&a->dbg)) {
        if (kill_it)
            pt_dbg_kill(&a->dbg);
        else if (pt_dbg_detach(&a->dbg) != 0 && !pt_dbg_done(&a->dbg))
            pt_dbg_hangup(&a->dbg, 0);   /* it runs on once we are gone */
    }
    pt_dap_ok(a, req, NULL);
    a->done = true;
    return 0;
}

int pt_dap_terminate(struct pt_dap *a, json_t *req)
{
    if (!a->session || pt_dbg_done(&a->dbg))
        return pt_dap_ok(a, req, NULL);
    /* A pid of another host names nothing (or something else) here. */
    if (a->dbg.remote)
        return pt_dap_fail(a, req, "cannot signal a program on another host (connect): "
                           "disconnect with terminateDebuggee to kill it");
    /* Gracefully: SIGTERM to every process, at_exit handlers run. A
     * stopped process must run to see it; one the signal already set
     * running (its reply says so), or that ended, needs nothing more. By
     * number: one may end meanwhile. */
    int last = a->dbg.next_num;
    for (int num = 1; num < last; num++) {
        struct pt_inf *inf = pt_dbg_process(&a->dbg, num);
        if (!inf || inf->state == PT_DBG_DONE)
            continue;
        if (kill(inf->pid, SIGTERM) != 0 && errno != ESRCH)
            return pt_dap_fail(a, req, "cannot signal process %ld: %s", (long)inf->pid, strerror(errno));
    }
    for (int num = 1; num < last; num++) {
        struct pt_inf *inf = pt_dbg_process(&a->dbg, num);
        if (!inf || inf->state != PT_DBG_STOPPED || inf->sess.fd < 0)
            continue;
        a->dbg.inf = inf;
        pt_dbg_resume(&a->dbg, PT_DBG_CONTINUE, 0);
    }
    return pt_dap_ok(a, req, NULL);
}

/* ---- running ------------------------------------------------------------- */

/* singleThread: only the fiber runs until the next stop (fiberlock on). */
static int single(struct pt_dap *a, json_t *args)
{
    if (!json_is_true(json_object_get(args, "singleThread")))
        return 0;
    if (pt_dbg_set(&a->dbg, "fiberlock", "on"))
        return -1;
    a->restore_lock = true;
    return 0;
}

static int resume(struct pt_dap *a, json_t *req, enum pt_dbg_resume how)
{
    json_t *args = pt_dap_args(req);
    long long tid = pt_dap_thread_arg(args);
    /* The thread's process resumes; the others stay as they are. */
    if (pt_dap_select_tid(a, req, tid) || pt_dap_need_stopped(a, req))
        return 0;
    bool several = pt_dap_several(a);
    uint64_t fiber = tid ? pt_dap_tid_fiber(tid) : a->dbg.inf->stop_fiber;
    if (how == PT_DBG_CONTINUE && json_is_true(json_object_get(args, "singleThread")) &&
        fiber != a->dbg.inf->stop_fiber) {
        /* Continuing one fiber: it must be the selected one. */
        struct pt_msg rep;
        if (pt_dbg_switch(&a->dbg, fiber, &rep))
            return pt_dap_fail(a, req, "%s", pt_dap_why(a));
        pt_msg_free(&rep);
    }
    if (single(a, args) || pt_dbg_resume(&a->dbg, how, fiber)) {
        a->restore_lock = a->restore_lock && pt_dbg_stopped(&a->dbg);
        return pt_dap_fail(a, req, "%s", pt_dap_why(a));
    }
    if (how == PT_DBG_CONTINUE)
        return pt_dap_ok(a, req, json_pack("{s:b}", "allThreadsContinued",
                                           !several && !json_is_true(json_object_get(args, "singleThread"))));
    return pt_dap_ok(a, req, NULL);
}

int pt_dap_continue(struct pt_dap *a, json_t *req)
{
    return resume(a, req, PT_DBG_CONTINUE);
}

int pt_dap_next(struct pt_dap *a, json_t *req)
{
    return resume(a, req, PT_DBG_SKIP);
}

int pt_dap_step_in(struct pt_dap *a, json_t *req)
{
    return resume(a, req, PT_DBG_STEP);
}

int pt_dap_step_out(struct pt_dap *a, json_t *req)
{
    return resume(a, req, PT_DBG_UP);
}

int pt_dap_pause(struct pt_dap *a, json_t *req)
{
    if (!a->session || pt_dbg_done(&a->dbg))
        return pt_dap_fail(a, req, "no program is running");
    if (a->no_debug)
        return pt_dap_fail(a, req, "%s", PT_DAP_NO_DEBUG);
    long long tid = pt_dap_thread_arg(pt_dap_args(req));
    if (pt_dap_select_tid(a, req, tid))
        return 0;
    int rc = pt_dbg_pause(&a->dbg);
    if (rc && rc != -EALREADY)
        return pt_dap_fail(a, req, "%s", pt_dap_why(a));
    pt_dap_ok(a, req, NULL);
    /* With several processes the editor shows only the stopping fiber of
     * a stop as stopped: pausing another fiber of a stopped process shows
     * that one too (its frames, for one). */
    if (rc == -EALREADY && tid && pt_dap_several(a))
        pt_dap_report_stop(a, a->dbg.inf, NULL, pt_dap_tid_fiber(tid));
    return 0;
}
