/*
 * receive_loop.c — Fiber#receive_loop and Kernel#receive_loop: yields each
 * message of the current fiber's mailbox as it arrives, forever, as one C
 * loop (no method call per message). `break` in the block leaves it, and so
 * does StopIteration, whose result becomes the loop's value.
 */
#include "surface.h"

static VALUE receive_loop_body(VALUE unused)
{
    struct rt_fiber *f = rt_fiber_get(rb_fiber_current());

    (void)unused;
    for (;;) {
        while (NIL_P(f->mailbox) || RARRAY_LEN(f->mailbox) == 0) {
            VALUE v;

            f->receiving = 1;
            v = rt_sched_await_unwind(f->t, "receive", -1, rt_receive_unwind, f);
            f->receiving = 0;
            if (rb_obj_is_kind_of(v, rb_eException))
                rb_exc_raise(v);
        }
        rb_yield(rb_ary_shift(f->mailbox));
    }
    return Qnil;
}

static VALUE k_receive_loop(VALUE self)
{
    (void)self;
    rb_need_block();
    return rt_loop_run(receive_loop_body, Qnil);
}

static VALUE f_receive_loop(VALUE self)
{
    if (self != rb_fiber_current())
        rb_raise(rb_eArgError, "receive_loop runs on the current fiber only");
    return k_receive_loop(self);
}

void rt_receive_loop_init(VALUE mPolyphony)
{
    VALUE cFiber = rb_const_get(rb_cObject, rb_intern("Fiber"));

    (void)mPolyphony;
    rb_define_method(cFiber, "receive_loop", f_receive_loop, 0);
    rb_define_method(rb_mKernel, "receive_loop", k_receive_loop, 0);
}
