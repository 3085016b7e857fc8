/*
 * dbg_inspect.c — looking at the stopped program: fibers (by id or tag),
 * selecting a fiber and a frame, frames, evaluation in a frame, and source
 * lines (read here when the file is reachable, else asked of the tracer).
 */
#include "dbg.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sourcefile.h"
#include "strcopy.h"

int pt_dbg_fibers(struct pt_dbg *d, uint32_t limit, struct pt_msg *rep)
{
    memset(rep, 0, sizeof *rep);
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_FIBERS, 0);
    req.u.fibers_req.limit = limit;
    return pt_dbg_request(d, &req, rep);
}

int pt_dbg_switch_expr(struct pt_dbg *d, const char *expr, struct pt_msg *rep)
{
    struct pt_inf *inf = d->inf;
    memset(rep, 0, sizeof *rep);
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_SWITCH, 0);
    req.u.fiber.frame = pt_dbg_eval_frame(d);
    req.u.fiber.expr = (char *)expr;
    rc = pt_dbg_request(d, &req, rep);
    req.u.fiber.expr = NULL;
    if (rc)
        return rc;
    const struct pt_proto_fiber *f = &rep->u.fiber_info.fiber;
    inf->sel_fiber = f->id;
    inf->frame = 0;
    pt_str_copy(inf->frame_file, sizeof inf->frame_file, f->file ? f->file : "");
    inf->frame_line = f->line;
    return 0;
}

int pt_dbg_runqueue(struct pt_dbg *d, uint64_t fiber, struct pt_msg *rep)
{
    struct pt_inf *inf = d->inf;
    memset(rep, 0, sizeof *rep);
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    if (!fiber)
        fiber = inf->sel_fiber;
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_RUNQUEUE, 0);
    req.u.fiber.fiber = fiber == inf->stop_fiber ? 0 : fiber;
    return pt_dbg_request(d, &req, rep);
}

int pt_dbg_stats(struct pt_dbg *d, uint32_t limit, const char *sort, const char *filter,
                 struct pt_msg *rep)
{
    memset(rep, 0, sizeof *rep);
    if (d->inf->state == PT_DBG_DONE)
        return pt_dbg_fail(d, -ENOTCONN, "the program is gone");
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_STATS, 0);
    req.u.stats_req.limit = limit;
    req.u.stats_req.sort = (char *)sort;
    req.u.stats_req.filter = filter && *filter ? (char *)filter : NULL;
    int rc = pt_dbg_request(d, &req, rep);
    req.u.stats_req.sort = req.u.stats_req.filter = NULL;
    return rc;
}

int pt_dbg_resolve_fiber(struct pt_dbg *d, const char *ref, uint64_t *id)
{
    if (isdigit((unsigned char)ref[0])) {
        *id = strtoull(ref, NULL, 10);
        return 0;
    }
    /* Bounded: an unbounded list could exceed the message limit. */
    struct pt_msg rep;
    int rc = pt_dbg_fibers(d, PT_DBG_FIBERS_FETCH, &rep);
    if (rc)
        return rc;
    rc = -ENOENT;
    for (size_t i = 0; i < rep.u.fibers.nfibers; i++) {
        const char *tag = rep.u.fibers.fibers[i].tag;
        if (tag && strcmp(tag, ref) == 0) {
            *id = rep.u.fibers.fibers[i].id;
            rc = 0;
            break;
        }
    }
    pt_msg_free(&rep);
    return rc ? pt_dbg_fail(d, rc, "no fiber tagged '%s'", ref) : 0;
}

int pt_dbg_switch(struct pt_dbg *d, uint64_t id, struct pt_msg *rep)
{
    struct pt_inf *inf = d->inf;
    memset(rep, 0, sizeof *rep);
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_SWITCH, 0);
    req.u.fiber.fiber = id;
    if ((rc = pt_dbg_request(d, &req, rep)))
        return rc;
    const struct pt_proto_fiber *f = &rep->u.fiber_info.fiber;
    inf->sel_fiber = f->id ? f->id : id;
    inf->frame = 0;
    pt_str_copy(inf->frame_file, sizeof inf->frame_file, f->file ? f->file : "");
    inf->frame_line = f->line;
    return 0;
}

int pt_dbg_frames(struct pt_dbg *d, uint64_t fiber, struct pt_msg *rep)
{
    memset(rep, 0, sizeof *rep);
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_BACKTRACE, 0);
    req.u.backtrace.fiber = fiber ? fiber : d->inf->sel_fiber;
    req.u.backtrace.limit = 0;
    return pt_dbg_request(d, &req, rep);
}

/* Frame n, or with dir (+1 outwards, -1 inwards) the next frame from the
 * selected one in that direction that is not hidden. */
static int select_frame(struct pt_dbg *d, long n, int dir, struct pt_msg *rep)
{
    struct pt_inf *inf = d->inf;
    int rc = pt_dbg_frames(d, inf->sel_fiber, rep);
    if (rc)
        return rc;
    size_t count = rep->u.frames.nframes;
    if (dir) {
        n = inf->frame + dir;
        while (n >= 0 && (size_t)n < count && rep->u.frames.frames[n].hidden)
            n += dir;
    }
    if (n < 0 || (size_t)n >= count) {
        if (count == 0)
            pt_dbg_fail(d, -ERANGE, "fiber %" PRIu64 " has no frames", inf->sel_fiber);
        else if (dir < 0)
            pt_dbg_fail(d, -ERANGE, "already at the innermost frame");
        else if (dir > 0)
            pt_dbg_fail(d, -ERANGE, "already at the outermost frame");
        else
            pt_dbg_fail(d, -ERANGE, "no frame %ld (frames 0 to %zu)", n, count - 1);
        pt_msg_free(rep);
        return -ERANGE;
    }
    const struct pt_proto_frame *f = &rep->u.frames.frames[n];
    inf->frame = n;
    pt_str_copy(inf->frame_file, sizeof inf->frame_file, f->file ? f->file : "");
    inf->frame_line = f->line;
    return 0;
}

int pt_dbg_select_frame(struct pt_dbg *d, long n, struct pt_msg *rep)
{
    return select_frame(d, n, 0, rep);
}

int pt_dbg_move_frame(struct pt_dbg *d, int dir, struct pt_msg *rep)
{
    return select_frame(d, 0, dir < 0 ? -1 : 1, rep);
}

int pt_dbg_eval(struct pt_dbg *d, uint64_t fiber, long frame, const char *expr, struct pt_msg *rep)
{
    struct pt_inf *inf = d->inf;
    memset(rep, 0, sizeof *rep);
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    if (!fiber) {
        fiber = inf->sel_fiber;
        if (frame < 0)
            frame = inf->frame;
    }
    if (frame < 0)
        frame = 0;
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_EVAL, 0);
    req.u.eval.fiber = fiber == inf->stop_fiber ? 0 : fiber;
    req.u.eval.frame = (uint32_t)frame;
    req.u.eval.expr = (char *)expr;
    req.u.eval.limit = d->print_limit;
    rc = pt_dbg_request(d, &req, rep);
    req.u.eval.expr = NULL;
    return rc;
}

int pt_dbg_source(struct pt_dbg *d, const char *file, int first, int last, struct pt_src_lines *out)
{
    struct pt_inf *inf = d->inf;
    memset(out, 0, sizeof *out);
    /* A program on another host (connect): only it has its files. */
    int rc = d->remote ? -ENOENT : pt_src_read(file, inf->pid, first, last, out);
    if (rc == 0)
        return 0;
    if (rc == -ERANGE)
        return pt_dbg_fail(d, rc, "%s has no line %d", file, first);
    /* Not readable here: ask the tracer, which has the program's view. */
    int local = rc;
    if (inf->state != PT_DBG_STOPPED || inf->sess.fd < 0)
        return pt_dbg_fail(d, local, "source of %s not available: %s", file, strerror(-local));
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_SOURCE, 0);
    req.u.source.file = (char *)file;
    req.u.source.first = first;
    req.u.source.last = last;
    rc = pt_sess_request(&inf->sess, &req, &rep, PT_SESS_REPLY_MS);
    req.u.source.file = NULL;
    if (rc || rep.type != PT_REP_LINES || !rep.u.lines.nlines) {
        pt_msg_free(&rep);
        return pt_dbg_fail(d, local, "source of %s not available: %s", file, strerror(-local));
    }
    /* The reply's lines become ours. */
    out->lines = rep.u.lines.lines;
    out->n = rep.u.lines.nlines;
    out->first = rep.u.lines.first;
    out->total = 0;
    rep.u.lines.lines = NULL;
    rep.u.lines.nlines = 0;
    pt_msg_free(&rep);
    return 0;
}
