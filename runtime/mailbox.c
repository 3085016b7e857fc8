/*
 * mailbox.c — a mailbox per fiber: Fiber#<< / #send append a message and
 * wake the fiber if it waits in Kernel#receive; receive takes the oldest
 * message, suspending while there is none; receive_all_pending takes all.
 *
 * A mailbox is a plain Array until someone asks for Fiber#mailbox (to cap it,
 * say): from then on it is that Polyphony::Queue, and sending and receiving
 * go through it (a capped mailbox makes senders wait), as in Polyphony.
 *
 * Thread#<< sends to the thread's main fiber; a message sent before the
 * thread has used the runtime waits on the Thread until it does.
 */
#include "rt_internal.h"

static ID id_push, id_shift, id_shift_all, id_size, id_pending;

static VALUE mailbox(struct rt_fiber *f)
{
    if (f->mailbox == Qnil)
        f->mailbox = rb_ary_new();
    return f->mailbox;
}

static inline int is_queue(VALUE mb)
{
    return mb != Qnil && !RB_TYPE_P(mb, T_ARRAY);
}

static VALUE f_send(VALUE self, VALUE msg)
{
    struct rt_fiber *f = rt_fiber_get(self);
    if (f->dead)
        return self;
    if (RB_UNLIKELY(is_queue(f->mailbox))) {
        rb_funcall(f->mailbox, id_push, 1, msg);
        return self;
    }
    rb_ary_push(mailbox(f), msg);
    if (f->receiving && !f->scheduled)
        rt_sched_schedule_state(f, Qnil, 0); /* f found once, not twice */
    return self;
}

void rt_receive_unwind(void *arg)
{
    ((struct rt_fiber *)arg)->receiving = 0;
}

VALUE rt_mailbox_receive(void)
{
    VALUE fiber = rb_fiber_current();
    /* On every message round trip: the scheduler's cache, not a hash lookup. */
    struct rt_fiber *f = rt_sched_current_state(rt_thread_current(), fiber);

    if (RB_UNLIKELY(is_queue(f->mailbox)))
        return rb_funcall(f->mailbox, id_shift, 0);
    while (RARRAY_LEN(mailbox(f)) == 0) {
        f->receiving = 1;
        VALUE v = rt_sched_await_unwind(f->t, "receive", -1, rt_receive_unwind, f);
        f->receiving = 0;
        if (rb_obj_is_kind_of(v, rb_eException))
            rb_exc_raise(v);
        if (RB_UNLIKELY(is_queue(f->mailbox))) /* became a queue meanwhile */
            return rb_funcall(f->mailbox, id_shift, 0);
    }
    return rb_ary_shift(f->mailbox);
}

static VALUE k_receive(VALUE self)
{
    (void)self;
    return rt_mailbox_receive();
}

static VALUE k_receive_all_pending(VALUE self)
{
    struct rt_fiber *f = rt_fiber_get(rb_fiber_current());
    VALUE all = mailbox(f);
    (void)self;
    if (is_queue(all))
        return rb_funcall(all, id_shift_all, 0);
    f->mailbox = rb_ary_new();
    return all;
}

static VALUE f_mailbox_size(VALUE self)
{
    VALUE mb = mailbox(rt_fiber_get(self));
    return is_queue(mb) ? rb_funcall(mb, id_size, 0) : LONG2NUM(RARRAY_LEN(mb));
}

/*
 * Fiber#mailbox: the mailbox as a Polyphony::Queue (made on first call,
 * holding the messages waiting so far). A fiber waiting in receive is
 * woken to wait on the queue instead.
 */
static VALUE f_mailbox(VALUE self)
{
    struct rt_fiber *f = rt_fiber_get(self);
    VALUE mb = mailbox(f);
    VALUE queue;

    if (is_queue(mb))
        return mb;
    queue = rb_class_new_instance(0, NULL,
                                  rb_const_get(rb_const_get(rb_cObject, rb_intern("Polyphony")),
                                               rb_intern("Queue")));
    for (long i = 0; i < RARRAY_LEN(mb); i++)
        rb_funcall(queue, id_push, 1, RARRAY_AREF(mb, i));
    f->mailbox = queue;
    if (f->receiving && !f->scheduled)
        rt_sched_schedule_state(f, Qnil, 0);
    return queue;
}

/* Thread#<<(msg): to the thread's main fiber. */
static VALUE th_send(VALUE self, VALUE msg)
{
    struct rt_thread *t = rt_thread_of(self, 0);
    VALUE pending;

    if (t) {
        f_send(t->main_fiber, msg);
        return self;
    }
    pending = rb_attr_get(self, id_pending);
    if (pending == Qnil) {
        pending = rb_ary_new();
        rb_ivar_set(self, id_pending, pending);
    }
    rb_ary_push(pending, msg);
    return self;
}

void rt_mailbox_deliver_pending(VALUE thread, VALUE main_fiber)
{
    VALUE pending = rb_attr_get(thread, id_pending);

    if (pending == Qnil)
        return;
    rb_ivar_set(thread, id_pending, Qnil);
    for (long i = 0; i < RARRAY_LEN(pending); i++)
        f_send(main_fiber, RARRAY_AREF(pending, i));
}

void rt_mailbox_init(VALUE mPolyphony)
{
    (void)mPolyphony;
    id_push = rb_intern("push");
    id_shift = rb_intern("shift");
    id_shift_all = rb_intern("shift_all");
    id_size = rb_intern("size");
    id_pending = rb_intern("__polyphony_pending_messages__");
    rb_define_method(rt_cFiber, "<<", f_send, 1);
    rb_define_method(rt_cFiber, "send", f_send, 1);
    rb_define_method(rt_cFiber, "mailbox_size", f_mailbox_size, 0);
    rb_define_method(rt_cFiber, "mailbox", f_mailbox, 0);
    rb_define_method(rb_cThread, "<<", th_send, 1);
    rb_define_method(rb_mKernel, "receive", k_receive, 0);
    rb_define_method(rb_mKernel, "receive_all_pending", k_receive_all_pending, 0);
    rb_define_method(rb_mKernel, "receive_pending", k_receive_all_pending, 0);
}
