/*
 * backend_common.c — the backend-independent half of backend.h: choosing a
 * backend at run time, running a blocking wait without the GVL, and emitting
 * op events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ruby/thread.h>
#include "rt_internal.h"

const struct rt_backend_ops *rt_backend_select(void)
{
    static int warned;
    const char *name = getenv("POLYPHONY_BACKEND");

    if (!name || !*name || strcmp(name, "libev") == 0)
        return &rt_backend_libev_ops;
    if (strcmp(name, "io_uring") == 0 && &rt_backend_io_uring_ops != NULL)
        return &rt_backend_io_uring_ops;
    if (!warned) {
        warned = 1;
        fprintf(stderr, "polyphony: backend %s is not available, using libev\n", name);
    }
    return &rt_backend_libev_ops;
}

struct rt_thread *rt_backend_thread(struct rt_backend *be)
{
    return *(struct rt_thread **)be;
}

void rt_op_submit(struct rt_thread *t, const char *op, int fd, long len)
{
    rt_stats_op_started(t);
    rt_emit(RT_EV_OP_SUBMIT, t->current, Qnil, op, fd, len, 0);
}

void rt_op_fair(struct rt_thread *t, int fd)
{
    if (t->ops_without_wait < RT_OPS_PER_SNOOZE)
        return;
    t->ops_without_wait = 0;
    rt_sched_snooze_fd(t, fd);
}

/* Counts towards rt_op_fair; any wait (scheduler.c) resets the count. */
void rt_op_complete(struct rt_thread *t, const char *op, int fd, long len, long result)
{
    t->ops_without_wait++;
    rt_emit(RT_EV_OP_COMPLETE, t->current, Qnil, op, fd, len, result);
}

static void unblock(void *arg)
{
    struct rt_backend *be = arg;
    rt_backend_thread(be)->ops->wakeup(be);
}

/*
 * rb_nogvl: a pending interrupt is raised before fn runs
 * or after it returns (never while interrupts are masked, e.g. inside
 * Kernel#p or Thread.handle_interrupt). The scheduler's poll catches it
 * (scheduler.c, poll_protected) and hands it to the current fiber.
 */
void *rt_backend_nogvl(void *(*fn)(void *), void *arg, struct rt_backend *be)
{
    /*
     * Both wakeups (ev_async_send, an eventfd write) are async-signal-safe;
     * saying so keeps Ruby from starting a helper thread to call them, which
     * deadlocks while interrupts are masked.
     */
    return rb_nogvl(fn, arg, unblock, be, RB_NOGVL_UBF_ASYNC_SAFE);
}
