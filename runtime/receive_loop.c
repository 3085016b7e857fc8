/*
 * receive_loop.c — Fiber#receive_loop and Kernel#receive_loop: yields each
 * message of the current fiber's mailbox as it arrives, forever, as one C
 * loop (no method call per message). `break` in the block leaves it, and so
 * does StopIteration, whose result becomes the loop's value.
 */
#include "surface.h"

static VALUE receive_loop_body(VALUE unused)
{
    (void)unused;
    for (;;)
        rb_yield(rt_mailbox_receive());
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
