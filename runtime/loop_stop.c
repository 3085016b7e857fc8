/*
 * loop_stop.c — how every loop helper of the I/O surface ends on
 * StopIteration: rt_loop_run runs a loop body and, as Kernel#loop does,
 * turns a StopIteration raised inside it into the loop's return value (the
 * exception's result). `break` needs nothing: it unwinds through the body.
 */
#include "surface.h"

static VALUE stop_result(VALUE unused, VALUE exc)
{
    (void)unused;
    return rb_attr_get(exc, rb_intern("result"));
}

VALUE rt_loop_run(VALUE (*body)(VALUE), VALUE arg)
{
    return rb_rescue2(body, arg, stop_result, Qnil, rb_eStopIteration, (VALUE)0);
}
