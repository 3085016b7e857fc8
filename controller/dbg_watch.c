/*
 * dbg_watch.c — the session's displays and watchpoints. A display is the
 * session's own: an expression the front end evaluates and shows at every
 * stop (`display`). A watchpoint is the tracer's: it checks the expression
 * at every line and stops the program in the fiber that changed its value
 * (`watch`, docs/ARCHITECTURE.md).
 */
#include "dbg.h"
#include "strcopy.h"

#include <errno.h>
#include <string.h>

int pt_dbg_display_add(struct pt_dbg *d, const char *expr, uint32_t *id)
{
    if (d->ndisplays == PT_DBG_DISPLAY_MAX)
        return pt_dbg_fail(d, -ENOSPC, "at most %d displays", PT_DBG_DISPLAY_MAX);
    if (strlen(expr) >= PT_DBG_EXPR_MAX)
        return pt_dbg_fail(d, -E2BIG, "expression too long");
    struct pt_dbg_display *x = &d->displays[d->ndisplays++];
    x->id = ++d->next_display;
    pt_str_copy(x->expr, sizeof x->expr, expr);
    *id = x->id;
    return 0;
}

int pt_dbg_display_del(struct pt_dbg *d, uint32_t id)
{
    for (size_t i = 0; i < d->ndisplays; i++) {
        if (d->displays[i].id != id)
            continue;
        memmove(&d->displays[i], &d->displays[i + 1], (d->ndisplays - i - 1) * sizeof d->displays[0]);
        d->ndisplays--;
        return 0;
    }
    return pt_dbg_fail(d, -ENOENT, "no display %u", (unsigned)id);
}

int pt_dbg_watch(struct pt_dbg *d, const char *expr, struct pt_msg *rep)
{
    memset(rep, 0, sizeof *rep);
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_WATCH, 0);
    req.u.watch.expr = (char *)expr;
    req.u.watch.frame = pt_dbg_eval_frame(d);
    rc = pt_dbg_request(d, &req, rep);
    req.u.watch.expr = NULL;
    return rc;
}

int pt_dbg_unwatch(struct pt_dbg *d, uint32_t id)
{
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_UNWATCH, 0);
    req.u.watch.watch = id;
    if ((rc = pt_dbg_request(d, &req, &rep)))
        return rc;
    pt_msg_free(&rep);
    return 0;
}

int pt_dbg_watches(struct pt_dbg *d, struct pt_msg *rep)
{
    memset(rep, 0, sizeof *rep);
    int rc = pt_dbg_need_stopped(d);
    if (rc)
        return rc;
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_WATCHES, 0);
    return pt_dbg_request(d, &req, rep);
}
