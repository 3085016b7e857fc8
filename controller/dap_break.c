/*
 * dap_break.c — the DAP breakpoint requests on the session's breakpoints:
 * setBreakpoints (per source: line, condition, hitCondition, logMessage),
 * setFunctionBreakpoints (Class#meth, Class.meth), setExceptionBreakpoints
 * (filters mapped to catches), breakpointLocations (the lines with code).
 * Each request replaces what the editor set
 * before in its kind. A running program is paused for the change and
 * continued, unseen. Breakpoints in files not loaded yet are unverified
 * until a stop finds them resolved (a breakpoint event then says so).
 */
#include "dap.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int push_id(uint32_t **v, size_t *n, uint32_t id)
{
    uint32_t *g = realloc(*v, (*n + 1) * sizeof *g);
    if (!g)
        return -ENOMEM;
    *v = g;
    g[(*n)++] = id;
    return 0;
}

static void drop_id(uint32_t *v, size_t *n, uint32_t id)
{
    for (size_t i = 0; i < *n; i++) {
        if (v[i] == id) {
            v[i] = v[--*n];
            return;
        }
    }
}

/* Deletes the tracer's breakpoints ids[0..n) (and forgets them as pending). */
static void delete_all(struct pt_dap *a, uint32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (pt_dbg_delete(&a->dbg, ids[i]) != 0 && pt_dbg_done(&a->dbg))
            return;
        drop_id(a->pending_ids, &a->npending, ids[i]);
    }
}

/* Sets one breakpoint; the DAP Breakpoint that says how it went. */
static json_t *set_one(struct pt_dap *a, const struct pt_dbg_bp_spec *spec, uint32_t **ids, size_t *n)
{
    struct pt_msg rep;
    if (pt_dbg_break(&a->dbg, spec, &rep)) {
        json_t *b = json_pack("{s:b}", "verified", 0);
        const char *why = pt_dap_why(a);
        json_object_set_new(b, "message", pt_dapio_str(why, strlen(why)));
        if (spec->line > 0)
            json_object_set_new(b, "line", json_integer(spec->line));
        return b;
    }
    const struct pt_proto_bp *bp = &rep.u.bp.bp;
    json_t *b = json_pack("{s:I, s:b}", "id", (json_int_t)bp->id, "verified", !bp->pending);
    if (bp->line > 0)
        json_object_set_new(b, "line", json_integer(bp->line));
    if (bp->pending) {
        json_object_set_new(b, "message", json_string(bp->method ? "pending: the method is not defined yet"
                                                                  : "pending: the file is not loaded yet"));
        push_id(&a->pending_ids, &a->npending, bp->id);
    }
    push_id(ids, n, bp->id);
    pt_msg_free(&rep);
    return b;
}

/* Without debugging nothing is set: each breakpoint asked for is
 * unverified, and says why. */
static int not_debugging(struct pt_dap *a, json_t *req, size_t n)
{
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, json_pack("{s:b, s:s}", "verified", 0, "message", PT_DAP_NO_DEBUG));
    return pt_dap_ok(a, req, json_pack("{s:o}", "breakpoints", out));
}

static struct pt_dap_src_bps *source_bps(struct pt_dap *a, const char *path)
{
    for (size_t i = 0; i < a->nsrcs; i++)
        if (strcmp(a->srcs[i].path, path) == 0)
            return &a->srcs[i];
    struct pt_dap_src_bps *s = realloc(a->srcs, (a->nsrcs + 1) * sizeof *s);
    if (!s)
        return NULL;
    a->srcs = s;
    s = &a->srcs[a->nsrcs];
    memset(s, 0, sizeof *s);
    if (!(s->path = strdup(path)))
        return NULL;
    a->nsrcs++;
    return s;
}

int pt_dap_set_breakpoints(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    const char *path = json_string_value(json_object_get(json_object_get(args, "source"), "path"));
    json_t *list = json_object_get(args, "breakpoints");
    if (!path || !*path)
        return pt_dap_fail(a, req, "setBreakpoints needs source.path");
    if (list && !json_is_array(list))
        return pt_dap_fail(a, req, "breakpoints must be an array");
    if (a->no_debug)
        return not_debugging(a, req, json_array_size(list));
    bool was_running;
    if (pt_dap_hold(a, req, &was_running))
        return 0;
    struct pt_dap_src_bps *src = source_bps(a, path);
    if (!src) {
        pt_dap_resume_quiet(a, was_running);
        return pt_dap_fail(a, req, "out of memory");
    }
    delete_all(a, src->ids, src->n);
    src->n = 0;
    json_t *out = json_array();
    size_t i;
    json_t *b;
    json_array_foreach(list, i, b) {
        struct pt_dbg_bp_spec spec = {
            .file = path,
            .line = (long)json_integer_value(json_object_get(b, "line")),
            .cond = json_string_value(json_object_get(b, "condition")),
            .hit_cond = json_string_value(json_object_get(b, "hitCondition")),
            .log = json_string_value(json_object_get(b, "logMessage")),
        };
        if (spec.line <= 0) {
            json_array_append_new(out, json_pack("{s:b, s:s}", "verified", 0, "message",
                                                 "a breakpoint needs a line"));
            continue;
        }
        json_array_append_new(out, set_one(a, &spec, &src->ids, &src->n));
    }
    pt_dap_resume_quiet(a, was_running);
    return pt_dap_ok(a, req, json_pack("{s:o}", "breakpoints", out));
}

int pt_dap_set_function_breakpoints(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    json_t *list = json_object_get(args, "breakpoints");
    if (list && !json_is_array(list))
        return pt_dap_fail(a, req, "breakpoints must be an array");
    if (a->no_debug)
        return not_debugging(a, req, json_array_size(list));
    bool was_running;
    if (pt_dap_hold(a, req, &was_running))
        return 0;
    delete_all(a, a->fn_ids, a->nfn);
    a->nfn = 0;
    json_t *out = json_array();
    size_t i;
    json_t *b;
    json_array_foreach(list, i, b) {
        const char *name = json_string_value(json_object_get(b, "name"));
        struct pt_dbg_bp_spec spec = {
            .method = name,
            .cond = json_string_value(json_object_get(b, "condition")),
            .hit_cond = json_string_value(json_object_get(b, "hitCondition")),
        };
        if (!name || !*name) {
            json_array_append_new(out, json_pack("{s:b, s:s}", "verified", 0, "message",
                                                 "a function breakpoint needs a name (Class#meth)"));
            continue;
        }
        json_array_append_new(out, set_one(a, &spec, &a->fn_ids, &a->nfn));
    }
    pt_dap_resume_quiet(a, was_running);
    return pt_dap_ok(a, req, json_pack("{s:o}", "breakpoints", out));
}

/* The classes a "classes" condition names: split at commas and spaces. */
static int catch_classes(struct pt_dap *a, const char *cond, json_t *result)
{
    char name[PT_DBG_CATCH_NAME_MAX];
    const char *p = cond;
    int failed = 0;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        size_t n = 0;
        while (p[n] && p[n] != ',' && !isspace((unsigned char)p[n]))
            n++;
        if (!n)
            break;
        snprintf(name, sizeof name, "%.*s", (int)n, p);
        p += n;
        if (pt_dbg_catch(&a->dbg, name, true)) {
            const char *why = pt_dap_why(a);
            json_t *b = json_pack("{s:b}", "verified", 0);
            json_object_set_new(b, "message", pt_dapio_str(why, strlen(why)));
            json_array_append_new(result, b);
            failed = 1;
        }
    }
    return failed;
}

int pt_dap_set_exception_breakpoints(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    json_t *filters = json_object_get(args, "filters");
    json_t *options = json_object_get(args, "filterOptions");
    if (!a->session)
        return pt_dap_fail(a, req, "no program yet (launch or attach first)");
    if (a->no_debug)
        return not_debugging(a, req, json_array_size(filters) + json_array_size(options));
    bool was_running;
    if (pt_dap_hold(a, req, &was_running))
        return 0;
    json_t *out = json_array();
    if (pt_dbg_catch(&a->dbg, NULL, false) != 0) {
        pt_dap_resume_quiet(a, was_running);
        json_decref(out);
        return pt_dap_fail(a, req, "%s", pt_dap_why(a));
    }
    /* One Breakpoint per filter, in the order given. */
    json_t *all = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(filters, i, f)
        json_array_append_new(all, json_pack("{s:O}", "filterId", f));
    json_array_foreach(options, i, f)
        json_array_append(all, f);
    json_array_foreach(all, i, f) {
        const char *id = json_string_value(json_object_get(f, "filterId"));
        const char *cond = json_string_value(json_object_get(f, "condition"));
        json_t *one = json_array();
        if (!id) {
            json_array_append_new(out, json_pack("{s:b, s:s}", "verified", 0, "message", "no filterId"));
        } else if (strcmp(id, "raise") == 0 || strcmp(id, "standard") == 0) {
            const char *cls = strcmp(id, "raise") == 0 ? "Exception" : "StandardError";
            if (cond && *cond)
                catch_classes(a, cond, one);
            else if (pt_dbg_catch(&a->dbg, cls, true))
                json_array_append_new(one, json_pack("{s:b, s:s}", "verified", 0, "message",
                                                     pt_dbg_error(&a->dbg)));
        } else if (strcmp(id, "classes") == 0) {
            if (!cond || !*cond)
                json_array_append_new(one, json_pack("{s:b, s:s}", "verified", 0, "message",
                                                     "name the classes in the condition"));
            else
                catch_classes(a, cond, one);
        } else {
            json_array_append_new(one, json_pack("{s:b, s:s}", "verified", 0, "message",
                                                 "unknown exception filter"));
        }
        /* The filter's first problem, or verified. */
        json_t *first = json_array_get(one, 0);
        if (first)
            json_array_append(out, first);
        else
            json_array_append_new(out, json_pack("{s:b}", "verified", 1));
        json_decref(one);
    }
    json_decref(all);
    pt_dap_resume_quiet(a, was_running);
    return pt_dap_ok(a, req, json_pack("{s:o}", "breakpoints", out));
}

/* breakpointLocations: the lines in the range where code starts, from the
 * tracer (which compiled the file). While the program runs, or for a file
 * not loaded yet, it cannot tell without stopping the program or compiling
 * the file: then every line asked about is offered, as an adapter without
 * this request would. */
int pt_dap_breakpoint_locations(struct pt_dap *a, json_t *req)
{
    json_t *args = pt_dap_args(req);
    const char *path = json_string_value(json_object_get(json_object_get(args, "source"), "path"));
    json_int_t first = json_integer_value(json_object_get(args, "line"));
    json_t *end = json_object_get(args, "endLine");
    json_int_t last = json_is_integer(end) ? json_integer_value(end) : first;
    if (!path || !*path || first < 1)
        return pt_dap_fail(a, req, "breakpointLocations needs source.path and a line");
    if (last < first || last - first > 100000)
        return pt_dap_fail(a, req, "bad line range %lld-%lld", (long long)first, (long long)last);
    json_t *out = json_array();
    int *lines = NULL;
    size_t n = 0;
    if (a->session && pt_dap_select_stopped(a) &&
        pt_dbg_code_lines(&a->dbg, path, (int)first, (int)last, &lines, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            json_array_append_new(out, json_pack("{s:i}", "line", lines[i]));
    } else {
        for (json_int_t l = first; l <= last; l++)
            json_array_append_new(out, json_pack("{s:I}", "line", l));
    }
    free(lines);
    return pt_dap_ok(a, req, json_pack("{s:o}", "breakpoints", out));
}

void pt_dap_refresh_breakpoints(struct pt_dap *a)
{
    if (!a->npending)
        return;
    struct pt_msg rep;
    if (pt_dbg_breakpoints(&a->dbg, &rep))
        return;
    for (size_t i = 0; i < rep.u.bps.nbps; i++) {
        const struct pt_proto_bp *bp = &rep.u.bps.bps[i];
        bool was_pending = false;
        for (size_t k = 0; k < a->npending; k++)
            was_pending |= a->pending_ids[k] == bp->id;
        if (!was_pending || bp->pending)
            continue;
        drop_id(a->pending_ids, &a->npending, bp->id);
        json_t *b = json_pack("{s:I, s:b}", "id", (json_int_t)bp->id, "verified", 1);
        if (bp->line > 0)
            json_object_set_new(b, "line", json_integer(bp->line));
        pt_dap_event(a, "breakpoint", json_pack("{s:s, s:o}", "reason", "changed", "breakpoint", b));
    }
    pt_msg_free(&rep);
}
