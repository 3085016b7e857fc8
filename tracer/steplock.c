/*
 * steplock.c — the fiber lock while stepping under "fiberlock step".
 *
 * The stepped fiber has priority rather than exclusivity: it holds the
 * runtime's fiber lock while it is runnable or running, and gives the lock
 * up while it waits (I/O, a timer, receive, an await of another fiber), so
 * the fibers it waits on can run and a skip over a wait finishes. The
 * runtime's hooks drive it: the fiber's BLOCK releases the lock; its
 * SCHEDULE, UNBLOCK and SWITCH take it again. No line of another fiber runs
 * between two lines of the stepped fiber unless the stepped fiber waited in
 * between. The hook costs one test when no step is in progress.
 */
#include "tracer.h"

static int active;
static VALUE lock_thread = Qnil;
static VALUE lock_fiber = Qnil;

void pt_steplock_mark(void)
{
    rb_gc_mark(lock_thread);
    rb_gc_mark(lock_fiber);
}

static void on_runtime_event(const struct rt_event *ev, void *data)
{
    const struct rt_api *rt = pt_tr.rt;

    (void)data;
    if (!active || pt_tr.serving || ev->fiber != lock_fiber || !rt)
        return;
    switch (ev->kind) {
    case RT_EV_FIBER_BLOCK:
        rt->fiber_unlock(lock_thread);
        break;
    case RT_EV_FIBER_SCHEDULE:
    case RT_EV_FIBER_UNBLOCK:
    case RT_EV_FIBER_SWITCH:
        rt->fiber_lock(lock_thread, lock_fiber);
        break;
    case RT_EV_FIBER_TERMINATE:
        /* The runtime drops a dead holder's lock by itself. */
        pt_steplock_stop();
        break;
    default:
        break;
    }
}

void pt_steplock_runtime_hook(int on)
{
    if (on)
        pt_tr.rt->hook_add(on_runtime_event, NULL);
    else
        pt_tr.rt->hook_remove(on_runtime_event, NULL);
}

VALUE pt_steplock_start(VALUE thread, VALUE fiber)
{
    const struct rt_api *rt = pt_tr.rt;

    if (!rt)
        return Qnil;
    active = 1;
    lock_thread = thread;
    lock_fiber = fiber;
    /* A waiting fiber takes the lock when it becomes runnable. */
    return rt->fiber_state(fiber) == RT_FIBER_WAITING ? Qnil : fiber;
}

void pt_steplock_stop(void)
{
    active = 0;
    lock_thread = Qnil;
    lock_fiber = Qnil;
}
