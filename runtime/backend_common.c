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
    /*
     * The op's fiber may have been entered by a plain Fiber#resume, which
     * the scheduler does not see: set it as current, for this event and
     * for the complete one of an op that ends without a switch.
     */
    t->current = rb_fiber_current();
    rt_stats_op_started(rt_sched_current_state(t, t->current));
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

struct nogvl_call {
    void *(*fn)(void *);
    void *arg;
    VALUE thread;
    int ran;
};

/*
 * Without the GVL, the unblocking function already in place: an interrupt
 * that arrived after Ruby's own check (and so found no unblocking function
 * to call) is seen here, and fn is not called; one arriving from here on
 * calls ops->wakeup, which makes fn return.
 */
static void *call_unless_interrupted(void *arg)
{
    struct nogvl_call *c = arg;

    if (rb_thread_interrupted(c->thread))
        return NULL;
    c->ran = 1;
    return c->fn(c->arg);
}

/*
 * Why RB_NOGVL_INTR_FAIL. Without it, rb_nogvl takes a pending interrupt at
 * its start, after the scheduler decided to block: a trap handler or a GC
 * finalizer runs there, between the scheduler's last look at the run queue
 * and fn. A fiber it scheduled (a server's SIGTERM handler signalling its
 * stop event) was then not run: fn blocked with no wake-up owed, for ever
 * on an idle server. Also, any GVL-free call made there (a nested wait's
 * poll) ends, in Ruby, by clearing the "unblocking function is
 * async-signal-safe" flag rb_nogvl had just set for this wait. Now rb_nogvl
 * gives up when an interrupt is pending and nothing runs inside it; the
 * interrupts are taken here, after fn, and the scheduler looks at the run
 * queue again before it blocks.
 *
 * RB_NOGVL_UBF_ASYNC_SAFE: both wakeups (ev_async_send, an eventfd write)
 * are async-signal-safe; saying so keeps Ruby from starting a helper thread
 * to call them, which deadlocks while interrupts are masked.
 *
 * The interrupt check raises a signal's exception or Thread#raise's (never
 * while interrupts are masked, e.g. inside Kernel#p or
 * Thread.handle_interrupt); the scheduler's poll catches it (scheduler.c,
 * poll_protected) and hands it to the current fiber.
 */
int rt_backend_nogvl(void *(*fn)(void *), void *arg, struct rt_backend *be)
{
    struct nogvl_call c = { fn, arg, rt_backend_thread(be)->thread, 0 };

    rb_nogvl(call_unless_interrupted, &c, unblock, be,
             RB_NOGVL_UBF_ASYNC_SAFE | RB_NOGVL_INTR_FAIL);
    rb_thread_check_ints();
    return c.ran;
}
