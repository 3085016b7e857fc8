/*
 * mailbox.c — a mailbox per fiber: Fiber#<< / #send append a message and
 * wake the fiber if it waits in Kernel#receive; receive takes the oldest
 * message, suspending while there is none; receive_all_pending takes all.
 */
#include "rt_internal.h"

static VALUE mailbox(struct rt_fiber *f)
{
    if (f->mailbox == Qnil)
        f->mailbox = rb_ary_new();
    return f->mailbox;
}

static VALUE f_send(VALUE self, VALUE msg)
{
    struct rt_fiber *f = rt_fiber_get(self);
    if (f->dead)
        return self;
    rb_ary_push(mailbox(f), msg);
    if (f->receiving && !f->scheduled)
        rt_sched_schedule_state(f, Qnil, 0); /* f found once, not twice */
    return self;
}

void rt_receive_unwind(void *arg)
{
    ((struct rt_fiber *)arg)->receiving = 0;
}

static VALUE k_receive(VALUE self)
{
    VALUE fiber = rb_fiber_current();
    /* On every message round trip: the scheduler's cache, not a hash lookup. */
    struct rt_fiber *f = rt_sched_current_state(rt_thread_current(), fiber);
    (void)self;

    while (RARRAY_LEN(mailbox(f)) == 0) {
        f->receiving = 1;
        VALUE v = rt_sched_await_unwind(f->t, "receive", -1, rt_receive_unwind, f);
        f->receiving = 0;
        if (rb_obj_is_kind_of(v, rb_eException))
            rb_exc_raise(v);
    }
    return rb_ary_shift(f->mailbox);
}

static VALUE k_receive_all_pending(VALUE self)
{
    struct rt_fiber *f = rt_fiber_get(rb_fiber_current());
    VALUE all = mailbox(f);
    (void)self;
    f->mailbox = rb_ary_new();
    return all;
}

static VALUE f_mailbox_size(VALUE self)
{
    return LONG2NUM(RARRAY_LEN(mailbox(rt_fiber_get(self))));
}

void rt_mailbox_init(VALUE mPolyphony)
{
    (void)mPolyphony;
    rb_define_method(rt_cFiber, "<<", f_send, 1);
    rb_define_method(rt_cFiber, "send", f_send, 1);
    rb_define_method(rt_cFiber, "mailbox_size", f_mailbox_size, 0);
    rb_define_method(rb_mKernel, "receive", k_receive, 0);
    rb_define_method(rb_mKernel, "receive_all_pending", k_receive_all_pending, 0);
    rb_define_method(rb_mKernel, "receive_pending", k_receive_all_pending, 0);
}
