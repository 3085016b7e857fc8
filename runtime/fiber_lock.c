/*
 * fiber_lock.c — the fiber lock of a thread: while a fiber holds it, the
 * scheduler (scheduler.c, pick) runs only that fiber. Whatever is scheduled
 * for other fibers meanwhile stays on the run queue, in order, and runs
 * after the lock is released: nothing is lost. A lock held by a fiber that
 * ends is released. Thread#fiber_lock(fiber = Fiber.current) { } from Ruby.
 */
#include <errno.h>
#include "rt_internal.h"

int rt_fiber_lock(VALUE thread, VALUE fiber)
{
    struct rt_thread *t = rt_thread_of(thread, 0);
    if (!t)
        return -ESRCH;
    struct rt_fiber *f = rt_fiber_get_if_any(fiber);
    if (f && f->dead)
        return -EINVAL;
    t->lock_owner = fiber;
    return 0;
}

int rt_fiber_unlock(VALUE thread)
{
    struct rt_thread *t = rt_thread_of(thread, 0);
    if (!t)
        return -ESRCH;
    t->lock_owner = Qnil;
    return 0;
}

VALUE rt_fiber_lock_owner(VALUE thread)
{
    struct rt_thread *t = rt_thread_of(thread, 0);
    return t ? t->lock_owner : Qnil;
}

struct lock_args {
    struct rt_thread *t;
    VALUE previous;
};

static VALUE unlock_block(VALUE arg)
{
    struct lock_args *a = (struct lock_args *)arg;
    a->t->lock_owner = a->previous;
    return Qnil;
}

static VALUE th_fiber_lock(int argc, VALUE *argv, VALUE self)
{
    VALUE fiber;
    struct rt_thread *t = rt_thread_of(self, 1);
    rb_scan_args(argc, argv, "01", &fiber);
    if (fiber == Qnil)
        fiber = rb_fiber_current();
    if (!rb_obj_is_kind_of(fiber, rt_cFiber))
        rb_raise(rb_eTypeError, "not a fiber");
    struct lock_args a = { t, t->lock_owner };
    int rc = rt_fiber_lock(self, fiber);
    if (rc < 0)
        rb_syserr_fail(-rc, "fiber_lock");
    if (!rb_block_given_p())
        return fiber;
    return rb_ensure(rb_yield, fiber, unlock_block, (VALUE)&a);
}

static VALUE th_fiber_unlock(VALUE self)
{
    rt_fiber_unlock(self);
    return self;
}

static VALUE th_fiber_lock_owner(VALUE self)
{
    return rt_fiber_lock_owner(self);
}

void rt_fiber_lock_init(VALUE mPolyphony)
{
    (void)mPolyphony;
    rb_define_method(rb_cThread, "fiber_lock", th_fiber_lock, -1);
    rb_define_method(rb_cThread, "fiber_unlock", th_fiber_unlock, 0);
    rb_define_method(rb_cThread, "fiber_lock_owner", th_fiber_lock_owner, 0);
}
