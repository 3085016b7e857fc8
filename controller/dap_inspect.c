/*
 * dap_inspect.c — the DAP requests that look at the stopped program:
 * threads (one per live fiber of every process), stackTrace (paged; the
 * runtime's own frames left out), scopes (locals, instance variables, globals),
 * variables (objects expanded a page at a time), setVariable, evaluate (in
 * the chosen frame, with an expandable result), source, exceptionInfo.
 * Frame ids and variablesReferences are handed out per stop and forgotten
 * when their process resumes. Also the thread events after a stop, when a
 * forked child comes and when a process ends.
 */
#include "dap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "sourcefile.h"

/* ---- threads ------------------------------------------------------------- */

void pt_dap_thread_name(const struct pt_proto_fiber *f, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%" PRIu64, f->id);
    if (f->tag && *f->tag && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " %s", f->tag);
    else if (f->id == 1 && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " main");
    if (n <= 0 || (size_t)n >= len)
        return;
    if (f->state && strcmp(f->state, "waiting") == 0) {
        char wait[128];
        pt_fmt_wait(f, wait, sizeof wait);
        snprintf(buf + n, len - (size_t)n, " (waiting: %s)", wait);
    } else if (f->state && *f->state) {
        snprintf(buf + n, len - (size_t)n, " (%s)", f->state);
    }
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static bool has(const uint64_t *v, size_t n, uint64_t id)
{
    return v && bsearch(&id, v, n, sizeof *v, cmp_u64) != NULL;
}

static void thread_event(struct pt_dap *a, const char *reason, int num, uint64_t fiber)
{
    pt_dap_event(a, "thread", json_pack("{s:s, s:I}", "reason", reason, "threadId",
                                        (json_int_t)pt_dap_tid(num, fiber)));
}

void pt_dap_refresh_threads(struct pt_dap *a)
{
    const struct pt_inf *inf = a->dbg.inf;
    int num = inf->num;
    struct pt_dap_proc *p = pt_dap_proc(a, num, true);
    struct pt_msg rep;
    const struct pt_proto_fiber *fibers;
    size_t n;
    if (!p)
        return;
    p->pid = inf->pid;
    /* A running process answers STATS (the fibers as `top` sees them) if
     * it runs on the fiber runtime; else it stands as one thread, its
     * main fiber, until it stops (pausing that thread pauses it). */
    struct pt_proto_fiber stand_in = { .id = 1, .state = (char *)"running" };
    bool have_rep = true;
    if (inf->state == PT_DBG_STOPPED) {
        if (pt_dbg_fibers(&a->dbg, PT_DBG_FIBERS_FETCH, &rep))
            return;
        fibers = rep.u.fibers.fibers;
        n = rep.u.fibers.nfibers;
    } else if (pt_dbg_stats(&a->dbg, PT_DBG_FIBERS_FETCH, "id", NULL, &rep) == 0) {
        fibers = rep.u.stats.fibers;
        n = rep.u.stats.nfibers;
    } else {
        have_rep = false;
        fibers = &stand_in;
        n = 1;
    }
    /* The process may have ended during the request: nothing to show. */
    if (!(p = pt_dap_proc(a, num, false)) || p->ended || !pt_dbg_process(&a->dbg, num)) {
        if (have_rep)
            pt_msg_free(&rep);
        return;
    }
    uint64_t *ids = malloc((n ? n : 1) * sizeof *ids);
    json_t *list = json_array();
    if (!ids || !list) {
        free(ids);
        json_decref(list);
        if (have_rep)
            pt_msg_free(&rep);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct pt_proto_fiber *f = &fibers[i];
        char name[256];
        pt_dap_thread_name(f, name, sizeof name);    /* "[pid N]" comes when shown */
        ids[i] = f->id;
        json_t *t = json_pack("{s:I}", "id", (json_int_t)pt_dap_tid(p->num, f->id));
        json_object_set_new(t, "name", pt_dapio_str(name, strlen(name)));
        json_array_append_new(list, t);
    }
    qsort(ids, n, sizeof *ids, cmp_u64);
    /* Only the net change since the last stop, and not a flood of it: the
     * editor asks for every thread at each stop anyway. */
    size_t changes = 0;
    for (size_t i = 0; i < n; i++)
        changes += !has(p->known, p->nknown, ids[i]);
    for (size_t i = 0; i < p->nknown; i++)
        changes += !has(ids, n, p->known[i]);
    if (p->known && changes <= PT_DAP_THREAD_EVENTS_MAX) {
        for (size_t i = 0; i < n; i++)
            if (!has(p->known, p->nknown, ids[i]))
                thread_event(a, "started", p->num, ids[i]);
        for (size_t i = 0; i < p->nknown; i++)
            if (!has(ids, n, p->known[i]))
                thread_event(a, "exited", p->num, p->known[i]);
    }
    free(p->known);
    p->known = ids;
    p->nknown = n;
    json_decref(p->threads);
    p->threads = list;
    p->stale = false;
    if (have_rep)
        pt_msg_free(&rep);
}

/* Selects process num if it is live; false otherwise. */
static bool select_live(struct pt_dap *a, int num)
{
    struct pt_inf *inf = pt_dbg_process(&a->dbg, num);
    if (!inf || inf->state == PT_DBG_DONE || inf->sess.fd < 0)
        return false;
    a->dbg.inf = inf;
    return true;
}

/* Back to process num after looking at others, if it is still there. */
static void reselect(struct pt_dap *a, int num)
{
    if (!select_live(a, num) && a->dbg.inf->state == PT_DBG_DONE && a->dbg.nprocs > 0)
        a->dbg.inf = a->dbg.procs[0];
}

void pt_dap_announce_fresh(struct pt_dap *a)
{
    int keep = a->dbg.inf->num;
    a->fresh = false;
    for (size_t i = 0; i < a->nprocs && !pt_dbg_done(&a->dbg); i++) {
        struct pt_dap_proc *p = a->procs[i];
        if (!p->fresh || p->ended)
            continue;
        p->fresh = false;
        /* None known yet: every fiber it has is told as started. */
        if (!p->known && !(p->known = malloc(sizeof *p->known)))
            continue;
        if (select_live(a, p->num))
            pt_dap_refresh_threads(a);
    }
    reselect(a, keep);
}

void pt_dap_proc_ended(struct pt_dap *a, int num)
{
    struct pt_dap_proc *p = pt_dap_proc(a, num, false);
    if (!p)
        return;
    for (size_t i = 0; i < p->nknown; i++)
        thread_event(a, "exited", num, p->known[i]);
    p->ended = true;
    p->fresh = false;
    free(p->known);
    p->known = NULL;
    p->nknown = 0;
    p->nshown = 0;
    json_decref(p->threads);
    p->threads = NULL;
    pt_dap_forget_stop(a, num);
}

int pt_dap_threads(struct pt_dap *a, json_t *req)
{
    /* A stopped process's fibers are fetched once per stop; a running one
     * cannot be looked at without disturbing it: its last stop's list. */
    if (a->session && !a->no_debug && !pt_dbg_done(&a->dbg)) {
        int keep = a->dbg.inf->num, last = a->dbg.next_num;
        for (int num = 1; num < last && !pt_dbg_done(&a->dbg); num++) {
            struct pt_inf *inf = pt_dbg_process(&a->dbg, num);
            struct pt_dap_proc *p = pt_dap_proc(a, num, false);
            if (inf && inf->state == PT_DBG_STOPPED && (!p || p->stale || !p->threads) &&
                select_live(a, num))
                pt_dap_refresh_threads(a);
        }
        reselect(a, keep);
    }
    /* Once there were several processes, each thread says whose it is. */
    json_t *list = json_array();
    bool prefix = a->dbg.next_num > 2;
    for (size_t i = 0; i < a->nprocs; i++) {
        const struct pt_dap_proc *p = a->procs[i];
        size_t k;
        json_t *t;
        if (p->ended || !p->threads)
            continue;
        json_array_foreach(p->threads, k, t) {
            const char *name = json_string_value(json_object_get(t, "name"));
            char *full = NULL;
            if (!prefix || asprintf(&full, "[pid %ld] %s", (long)p->pid, name ? name : "") < 0) {
                json_array_append(list, t);
                continue;
            }
            json_array_append_new(list, json_pack("{s:O, s:s}", "id", json_object_get(t, "id"),
                                                  "name", full));
            free(full);
        }
    }
    if (json_array_size(list) == 0 && a->session)
        json_array_append_new(list, json_pack("{s:i, s:s}", "id", 1, "name", "1 main"));
    return pt_dap_ok(a, req, json_pack("{s:o}", "threads", list));
}

/* ---- ids for one stop ---------------------------------------------------- */

static long frame_id(struct pt_dap *a, int num, uint64_t fiber, uint32_t index)
{
    for (size_t i = 0; i < a->nframes; i++)
        if (a->frames[i].num == num && a->frames[i].fiber == fiber && a->frames[i].index == index)
            return (long)i + 1;
    if (a->nframes == a->capframes) {
        size_t cap = a->capframes ? a->capframes * 2 : 64;
        struct pt_dap_frame *f = realloc(a->frames, cap * sizeof *f);
        if (!f)
            return 0;
        a->frames = f;
        a->capframes = cap;
    }
    a->frames[a->nframes] = (struct pt_dap_frame){ num, fiber, index };
    return (long)++a->nframes;
}

/* The frame of a frameId, its process selected; NULL with req failed. */
static const struct pt_dap_frame *frame_of(struct pt_dap *a, json_t *req, json_t *id)
{
    if (!json_is_integer(id) || json_integer_value(id) < 1 ||
        (size_t)json_integer_value(id) > a->nframes || a->frames[json_integer_value(id) - 1].num == 0) {
        pt_dap_fail(a, req, "no such frame (frame ids last until the program resumes)");
        return NULL;
    }
    const struct pt_dap_frame *f = &a->frames[json_integer_value(id) - 1];
    return pt_dap_select_num(a, req, f->num) ? NULL : f;
}

static long var_id(struct pt_dap *a, const struct pt_dap_var *v)
{
    for (size_t i = 0; i < a->nvars; i++) {
        const struct pt_dap_var *o = &a->vars[i];
        if (o->num != v->num)
            continue;
        if (v->ref ? o->ref == v->ref
                   : !o->ref && o->fiber == v->fiber && o->frame == v->frame &&
                         strcmp(o->scope, v->scope) == 0)
            return (long)i + 1;
    }
    if (a->nvars == a->capvars) {
        size_t cap = a->capvars ? a->capvars * 2 : 64;
        struct pt_dap_var *n = realloc(a->vars, cap * sizeof *n);
        if (!n)
            return 0;
        a->vars = n;
        a->capvars = cap;
    }
    a->vars[a->nvars] = *v;
    return (long)++a->nvars;
}

/* The variable of a variablesReference, its process selected; NULL with
 * req failed. */
static const struct pt_dap_var *var_of(struct pt_dap *a, json_t *req, json_t *id)
{
    if (!json_is_integer(id) || json_integer_value(id) < 1 ||
        (size_t)json_integer_value(id) > a->nvars || a->vars[json_integer_value(id) - 1].num == 0) {
        pt_dap_fail(a, req, "no such variablesReference (they last until the program resumes)");
        return NULL;
    }
    const struct pt_dap_var *v = &a->vars[json_integer_value(id) - 1];
    return pt_dap_select_num(a, req, v->num) ? NULL : v;
}

/* ---- frames -------------------------------------------------------------- */

static json_t *source_of(const char *file)
{
    if (!file || !*file || file[0] == '<' || file[0] == '(')
        return NULL;    /* <internal:...>, (eval): nothing to open */
    const char *base = strrchr(file, '/');
    json_t *s = json_object();
    json_object_set_new(s, "name", pt_dapio_str(base ? base + 1 : file, strlen(base ? base + 1 : file)));
    json_object_set_new(s, "path", pt_dapio_str(file, strlen(file)));
    return s;
}

int pt_dap_stack_trace(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    long long tid = pt_dap_thread_arg(args);
    if (pt_dap_select_tid(a, req, tid) || pt_dap_need_stopped(a, req))
        return 0;
    int num = a->dbg.inf->num;
    uint64_t fiber = tid ? pt_dap_tid_fiber(tid) : a->dbg.inf->stop_fiber;
    long start = json_integer_value(json_object_get(args, "startFrame"));
    long levels = json_integer_value(json_object_get(args, "levels"));
    struct pt_msg rep;
    if (pt_dbg_frames(&a->dbg, fiber, &rep))
        return pt_dap_fail(a, req, "%s", pt_dap_why(a));
    json_t *frames = json_array();
    long shown = 0;
    for (size_t i = 0; i < rep.u.frames.nframes; i++) {
        const struct pt_proto_frame *f = &rep.u.frames.frames[i];
        if (f->hidden)
            continue;   /* the runtime's and the tracer's own frames */
        long k = shown++;
        if (k < start || (levels > 0 && k >= start + levels))
            continue;
        json_t *fr = json_pack("{s:i, s:i, s:i}", "id", (int)frame_id(a, num, fiber, f->index),
                               "line", (int)f->line, "column", 1);
        json_object_set_new(fr, "name", pt_dapio_str(f->label ? f->label : "?",
                                                     f->label ? strlen(f->label) : 1));
        json_t *src = source_of(f->file);
        if (src)
            json_object_set_new(fr, "source", src);
        else
            json_object_set_new(fr, "presentationHint", json_string("subtle"));
        json_array_append_new(frames, fr);
    }
    pt_msg_free(&rep);
    return pt_dap_ok(a, req, json_pack("{s:o, s:i}", "stackFrames", frames, "totalFrames", (int)shown));
}

int pt_dap_scopes(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    const struct pt_dap_frame *f = frame_of(a, req, json_object_get(args, "frameId"));
    if (!f || pt_dap_need_stopped(a, req))
        return 0;
    if (f->fiber != a->dbg.inf->stop_fiber) {
        /* Only the stopped fiber's frames have bindings to look into. */
        char name[160];
        snprintf(name, sizeof name, "Locals: not available (fiber %" PRIu64 " is not the stopped fiber)",
                 f->fiber);
        return pt_dap_ok(a, req, json_pack("{s:[{s:s, s:i, s:b}]}", "scopes", "name", name,
                                           "variablesReference", 0, "expensive", 0));
    }
    static const struct { const char *scope, *name, *hint; bool expensive; } kinds[] = {
        { "locals", "Locals", "locals", false },
        { "ivars", "Instance variables", NULL, false },
        { "globals", "Globals", NULL, true },
    };
    json_t *scopes = json_array();
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        struct pt_dap_var v = { .num = f->num, .fiber = f->fiber, .frame = f->index };
        snprintf(v.scope, sizeof v.scope, "%s", kinds[i].scope);
        json_t *s = json_pack("{s:s, s:i, s:b}", "name", kinds[i].name, "variablesReference",
                              (int)var_id(a, &v), "expensive", kinds[i].expensive);
        if (kinds[i].hint)
            json_object_set_new(s, "presentationHint", json_string(kinds[i].hint));
        json_array_append_new(scopes, s);
    }
    return pt_dap_ok(a, req, json_pack("{s:o}", "scopes", scopes));
}

/* The wire's fiber for a frame: 0 for the stopped one. */
static uint64_t wire_fiber(const struct pt_dap *a, uint64_t fiber)
{
    return fiber == a->dbg.inf->stop_fiber ? 0 : fiber;
}

/* One DAP variable (or evaluate/setVariable body with value_key "result"
 * or "value") from a tracer var; evaluate_name may be NULL. */
static json_t *dap_var(struct pt_dap *a, const struct pt_proto_var *v, const char *value_key,
                       const char *evaluate_name, const struct pt_dap_var *parent)
{
    json_t *j = json_object();
    long ref = 0;
    if (v->ref) {
        struct pt_dap_var o = { .num = parent ? parent->num : a->dbg.inf->num,
                                .fiber = parent ? parent->fiber : 0,
                                .frame = parent ? parent->frame : 0,
                                .ref = v->ref, .indexed = v->indexed > 0 };
        ref = var_id(a, &o);
    }
    if (strcmp(value_key, "value") == 0 && v->name)
        json_object_set_new(j, "name", pt_dapio_str(v->name, strlen(v->name)));
    json_object_set_new(j, value_key, pt_dapio_str(v->value ? v->value : "", v->value ? strlen(v->value) : 0));
    json_object_set_new(j, "type", pt_dapio_str(v->type ? v->type : "", v->type ? strlen(v->type) : 0));
    json_object_set_new(j, "variablesReference", json_integer(ref));
    if (v->named)
        json_object_set_new(j, "namedVariables", json_integer(v->named));
    if (v->indexed)
        json_object_set_new(j, "indexedVariables", json_integer(v->indexed));
    if (evaluate_name)
        json_object_set_new(j, "evaluateName", pt_dapio_str(evaluate_name, strlen(evaluate_name)));
    return j;
}

static int vars_request(struct pt_dap *a, const struct pt_dap_var *v, const char *expr,
                        uint32_t start, uint32_t count, struct pt_msg *rep)
{
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_VARS, 0);
    req.u.vars.fiber = wire_fiber(a, v->fiber);
    req.u.vars.frame = v->frame;
    req.u.vars.scope = (char *)(expr ? "eval" : v->ref ? "" : v->scope);
    req.u.vars.ref = v->ref;
    req.u.vars.expr = (char *)expr;
    req.u.vars.start = start;
    req.u.vars.count = count;
    int rc = pt_dbg_request(&a->dbg, &req, rep);
    memset(&req.u.vars, 0, sizeof req.u.vars);
    return rc;
}

int pt_dap_variables(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    const struct pt_dap_var *v = var_of(a, req, json_object_get(args, "variablesReference"));
    if (!v || pt_dap_need_stopped(a, req))
        return 0;
    struct pt_dap_var parent = *v;     /* a->vars may move as refs are added */
    const char *filter = json_string_value(json_object_get(args, "filter"));
    if (filter && ((strcmp(filter, "indexed") == 0 && !parent.indexed) ||
                   (strcmp(filter, "named") == 0 && parent.ref && parent.indexed)))
        return pt_dap_ok(a, req, json_pack("{s:[]}", "variables"));
    json_int_t start = json_integer_value(json_object_get(args, "start"));
    json_int_t count = json_integer_value(json_object_get(args, "count"));
    struct pt_msg rep;
    if (vars_request(a, &parent, NULL, start > 0 ? (uint32_t)start : 0, count > 0 ? (uint32_t)count : 0,
                     &rep))
        return pt_dap_fail(a, req, "%s", pt_dap_why(a));
    json_t *list = json_array();
    for (size_t i = 0; i < rep.u.vars_rep.nvars; i++) {
        const struct pt_proto_var *pv = &rep.u.vars_rep.vars[i];
        /* A scope's entries can be typed back in as they are. */
        const char *ename = !parent.ref ? pv->name : NULL;
        json_array_append_new(list, dap_var(a, pv, "value", ename, &parent));
    }
    pt_msg_free(&rep);
    return pt_dap_ok(a, req, json_pack("{s:o}", "variables", list));
}

int pt_dap_set_variable(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    const char *name = json_string_value(json_object_get(args, "name"));
    const char *value = json_string_value(json_object_get(args, "value"));
    const struct pt_dap_var *v = var_of(a, req, json_object_get(args, "variablesReference"));
    if (!v || pt_dap_need_stopped(a, req))
        return 0;
    if (!name || !value)
        return pt_dap_fail(a, req, "setVariable needs name and value");
    struct pt_dap_var parent = *v;
    struct pt_msg m, rep;
    pt_msg_init(&m, PT_REQ_SETVAR, 0);
    m.u.setvar.fiber = wire_fiber(a, parent.fiber);
    m.u.setvar.frame = parent.frame;
    m.u.setvar.scope = parent.ref ? "" : parent.scope;
    m.u.setvar.ref = parent.ref;
    m.u.setvar.name = (char *)name;
    m.u.setvar.expr = (char *)value;
    int rc = pt_dbg_request(&a->dbg, &m, &rep);
    memset(&m.u.setvar, 0, sizeof m.u.setvar);
    if (rc)
        return pt_dap_fail(a, req, "%s", pt_dap_why(a));
    json_t *body = rep.u.vars_rep.nvars ? dap_var(a, &rep.u.vars_rep.vars[0], "value", NULL, &parent)
                                        : json_object();
    json_object_del(body, "name");
    json_object_del(body, "evaluateName");
    pt_msg_free(&rep);
    return pt_dap_ok(a, req, body);
}

int pt_dap_evaluate(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    const char *expr = json_string_value(json_object_get(args, "expression"));
    if (!expr)
        return pt_dap_fail(a, req, "evaluate needs an expression");
    json_t *fid = json_object_get(args, "frameId");
    const struct pt_dap_frame *f = NULL;
    /* The frame's process, else the selected one or one that is stopped. */
    if (fid && !json_is_null(fid) && !(f = frame_of(a, req, fid)))
        return 0;
    if (!f)
        pt_dap_select_stopped(a);
    if (pt_dap_need_stopped(a, req))
        return 0;
    struct pt_dap_var where = { .num = a->dbg.inf->num, .fiber = a->dbg.inf->stop_fiber,
                                .frame = (uint32_t)a->dbg.inf->frame };
    if (f) {
        where.fiber = f->fiber;
        where.frame = f->index;
    }
    struct pt_msg rep;
    if (vars_request(a, &where, expr, 0, 0, &rep))
        return pt_dap_fail(a, req, "%s", pt_dap_why(a));
    json_t *body = rep.u.vars_rep.nvars ? dap_var(a, &rep.u.vars_rep.vars[0], "result", NULL, &where)
                                        : json_pack("{s:s, s:i}", "result", "", "variablesReference", 0);
    pt_msg_free(&rep);
    return pt_dap_ok(a, req, body);
}

int pt_dap_source(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    json_t *src = json_object_get(args, "source");
    const char *path = json_string_value(json_object_get(src, "path"));
    json_int_t ref = json_integer_value(json_object_get(args, "sourceReference"));
    if (!path || !*path)
        return pt_dap_fail(a, req, "polytrace hands out no source references (%lld); give source.path",
                           (long long)ref);
    if (!a->session)
        return pt_dap_fail(a, req, "no program yet (launch or attach first)");
    struct pt_src_lines lines;
    if (pt_dbg_source(&a->dbg, path, 1, 100000, &lines))
        return pt_dap_fail(a, req, "%s", pt_dap_why(a));
    size_t size = 1;
    for (size_t i = 0; i < lines.n; i++)
        size += strlen(lines.lines[i]) + 1;
    char *text = malloc(size), *p = text;
    for (size_t i = 0; text && i < lines.n; i++) {
        size_t n = strlen(lines.lines[i]);
        memcpy(p, lines.lines[i], n);
        p += n;
        *p++ = '\n';
    }
    pt_src_free(&lines);
    if (!text)
        return pt_dap_fail(a, req, "out of memory");
    json_t *body = json_pack("{s:s}", "mimeType", "text/x-ruby");
    json_object_set_new(body, "content", pt_dapio_str(text, (size_t)(p - text)));
    free(text);
    return pt_dap_ok(a, req, body);
}

int pt_dap_exception_info(struct pt_dap *a, json_t *req)
{
    if (pt_dap_select_tid(a, req, pt_dap_thread_arg(pt_dap_args(req))) || pt_dap_need_stopped(a, req))
        return 0;
    const char *exc = a->dbg.inf->stop_exception;
    if (!*exc)
        return pt_dap_fail(a, req, "the program did not stop for an exception");
    /* "Class: message" */
    const char *colon = strstr(exc, ": ");
    size_t clen = colon ? (size_t)(colon - exc) : strlen(exc);
    json_t *body = json_pack("{s:s}", "breakMode", "always");
    json_object_set_new(body, "exceptionId", pt_dapio_str(exc, clen));
    json_object_set_new(body, "description", pt_dapio_str(colon ? colon + 2 : exc, strlen(colon ? colon + 2 : exc)));
    return pt_dap_ok(a, req, body);
}
