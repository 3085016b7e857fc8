/*
 * dbg_break.c — what the program stops for and how it runs: breakpoints
 * (file:line resolved as the program sees the file, or Class#meth; a
 * condition; a fiber), exception catches (the list is kept here, as the
 * tracer accepted it), op tracing and the tracer's settings. With several
 * processes each goes to all of them: the selected one decides (its error
 * is the command's) and the others follow, a breakpoint with the number
 * the selected one gave it, so that "breakpoint 2" means the same in each.
 */
#include "dbg.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strcopy.h"

/* An absolute path for a breakpoint file when it can be found (relative
 * paths as the program sees them); else as given. A program on another
 * host (connect) sees other files: as given, for the tracer to match. */
static void resolve_file(struct pt_dbg *d, const char *file, char *out, size_t len)
{
    char real[PATH_MAX];
    if (d->remote) {
        pt_str_copy(out, len, file);
        return;
    }
    if (file[0] != '/' && d->inf->pid > 0) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "/proc/%ld/cwd/%s", (long)d->inf->pid, file);
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

int pt_dbg_break(struct pt_dbg *d, const struct pt_dbg_bp_spec *spec, struct pt_msg *rep)
{
    memset(rep, 0, sizeof *rep);
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    uint64_t fiber = 0;
    if (spec->fiber && spec->fiber[0] && (rc = pt_dbg_resolve_fiber(d, spec->fiber, &fiber)))
        return rc;
    bool method = spec->method && spec->method[0];
    char file[PATH_MAX];
    file[0] = '\0';
    if (!method) {
        if (spec->file && spec->file[0])
            resolve_file(d, spec->file, file, sizeof file);
        else if (d->inf->frame_file[0])
            pt_str_copy(file, sizeof file, d->inf->frame_file);
        else
            return pt_dbg_fail(d, -EINVAL, "break: no current file; give FILE:LINE");
    }
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_BREAK, 0);
    req.u.brk.file = method ? NULL : file;
    req.u.brk.line = method ? 0 : (int32_t)spec->line;
    req.u.brk.method = method ? (char *)spec->method : NULL;
    req.u.brk.cond = spec->cond && spec->cond[0] ? (char *)spec->cond : NULL;
    req.u.brk.fiber = fiber;
    req.u.brk.hit_cond = spec->hit_cond && spec->hit_cond[0] ? (char *)spec->hit_cond : NULL;
    req.u.brk.log = spec->log && spec->log[0] ? (char *)spec->log : NULL;
    rc = pt_dbg_request(d, &req, rep);
    if (rc == 0 && rep->type == PT_REP_BREAKPOINT) {
        /* A fiber is the selected process's own: the others stop in any. */
        req.u.brk.fiber = 0;
        req.u.brk.bp = rep->u.bp.bp.id;
        pt_dbg_request_others(d, &req, false);
    }
    memset(&req.u.brk, 0, sizeof req.u.brk);
    return rc;
}

int pt_dbg_code_lines(struct pt_dbg *d, const char *file, int first, int last, int **lines, size_t *n)
{
    *lines = NULL;
    *n = 0;
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    char path[PATH_MAX];
    resolve_file(d, file, path, sizeof path);
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_SOURCE, 0);
    req.u.source.file = path;
    req.u.source.first = first;
    req.u.source.last = last;
    req.u.source.code_only = true;
    rc = pt_dbg_request(d, &req, &rep);
    req.u.source.file = NULL;
    if (rc)
        return rc;
    int *v = malloc((rep.u.lines.nlines ? rep.u.lines.nlines : 1) * sizeof *v);
    if (!v) {
        pt_msg_free(&rep);
        return pt_dbg_fail(d, -ENOMEM, "out of memory");
    }
    /* A line with code is never empty; "" marks one without. */
    for (size_t i = 0; i < rep.u.lines.nlines; i++)
        if (rep.u.lines.lines[i][0])
            v[(*n)++] = rep.u.lines.first + (int)i;
    *lines = v;
    pt_msg_free(&rep);
    return 0;
}

int pt_dbg_delete(struct pt_dbg *d, uint32_t id)
{
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_DELETE, 0);
    req.u.del.bp = id;
    if ((rc = pt_dbg_request(d, &req, &rep)))
        return rc;
    pt_msg_free(&rep);
    pt_dbg_request_others(d, &req, true);
    return 0;
}

int pt_dbg_breakpoints(struct pt_dbg *d, struct pt_msg *rep)
{
    memset(rep, 0, sizeof *rep);
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_BREAKPOINTS, 0);
    return pt_dbg_request(d, &req, rep);
}

static int catch_index(const struct pt_inf *inf, const char *name)
{
    for (int i = 0; i < inf->ncatches; i++)
        if (strcmp(inf->catches[i], name) == 0)
            return i;
    return -1;
}

int pt_dbg_catch(struct pt_dbg *d, const char *name, bool on)
{
    struct pt_inf *inf = d->inf;
    if (!name)
        name = "";
    if (name[0] == ':' && name[1] == ':')
        name += 2;
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    if (on && !name[0])
        return pt_dbg_fail(d, -EINVAL, "catch: which exception class?");
    if (on && catch_index(inf, name) < 0 && inf->ncatches == PT_DBG_CATCH_MAX)
        return pt_dbg_fail(d, -ENOSPC, "too many catches");
    if (strlen(name) >= PT_DBG_CATCH_NAME_MAX)
        return pt_dbg_fail(d, -ENAMETOOLONG, "catch: class name too long");
    char value[PT_DBG_CATCH_NAME_MAX + 8];
    snprintf(value, sizeof value, "%s%s%s", on ? "" : "off", !on && name[0] ? " " : "", name);
    if ((rc = pt_dbg_set(d, "catch", value)))
        return rc;
    for (int p = 0; p < d->nprocs; p++) {
        inf = d->procs[p];
        int i = catch_index(inf, name);
        if (!on && !name[0]) {
            inf->ncatches = 0;
        } else if (!on) {
            if (i >= 0) {
                memmove(inf->catches[i], inf->catches[i + 1],
                        (size_t)(inf->ncatches - i - 1) * sizeof inf->catches[0]);
                inf->ncatches--;
            }
        } else if (i < 0 && inf->ncatches < PT_DBG_CATCH_MAX) {
            pt_str_copy(inf->catches[inf->ncatches++], sizeof inf->catches[0], name);
        }
    }
    return 0;
}

int pt_dbg_trace_ops(struct pt_dbg *d, bool on, uint64_t fiber)
{
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_TRACE_OPS, 0);
    req.u.trace_ops.on = on;
    req.u.trace_ops.fiber = fiber;
    if ((rc = pt_dbg_request(d, &req, &rep)))
        return rc;
    pt_msg_free(&rep);
    /* A fiber is the selected process's own. */
    if (!fiber || !on)
        pt_dbg_request_others(d, &req, false);
    return 0;
}

int pt_dbg_hog(struct pt_dbg *d, enum pt_dbg_hog how, long us)
{
    char value[64];
    int rc;

    if (how == PT_DBG_HOG_OFF)
        snprintf(value, sizeof value, "off");
    else
        snprintf(value, sizeof value, "%s%ldus", how == PT_DBG_HOG_REPORT ? "report " : "", us);
    if ((rc = pt_dbg_set(d, "hog", value)))
        return rc;
    for (int i = 0; i < d->nprocs; i++) {
        d->procs[i]->hog = how;
        d->procs[i]->hog_us = how == PT_DBG_HOG_OFF ? 0 : us;
    }
    return 0;
}

int pt_dbg_set(struct pt_dbg *d, const char *name, const char *value)
{
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_SET, 0);
    req.u.set.name = (char *)name;
    req.u.set.value = (char *)value;
    rc = pt_dbg_request(d, &req, &rep);
    if (rc == 0) {
        pt_msg_free(&rep);
        pt_dbg_request_others(d, &req, false);
    }
    memset(&req.u.set, 0, sizeof req.u.set);
    return rc;
}
