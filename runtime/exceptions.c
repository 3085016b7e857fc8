/*
 * exceptions.c — the exceptions that control fibers, as in Polyphony:
 * Polyphony::BaseException carries a value; MoveOn (stop, move_on_after),
 * Cancel (cancel_after), Terminate (a parent ending) and Restart derive from
 * Polyphony::Interrupt, which derives from it. Polyphony::Interjection
 * carries the block of Fiber#interject (its value), run by the fiber where
 * it waits rather than raised (scheduler.c).
 */
#include "rt_internal.h"

VALUE rt_eBaseException, rt_eInterrupt, rt_eMoveOn, rt_eCancel, rt_eTerminate, rt_eRestart,
    rt_eInterjection;
static ID id_value;

static VALUE be_initialize(int argc, VALUE *argv, VALUE self)
{
    VALUE value;
    rb_scan_args(argc, argv, "01", &value);
    rb_call_super(0, NULL);
    rb_ivar_set(self, id_value, value);
    return self;
}

static VALUE be_value(VALUE self)
{
    return rb_attr_get(self, id_value);
}

VALUE rt_exception_new(VALUE klass, VALUE value)
{
    return rb_class_new_instance(1, &value, klass);
}

void rt_exceptions_init(VALUE mPolyphony)
{
    id_value = rb_intern("@value");
    rt_eBaseException = rb_define_class_under(mPolyphony, "BaseException", rb_eException);
    rb_define_method(rt_eBaseException, "initialize", be_initialize, -1);
    rb_define_method(rt_eBaseException, "value", be_value, 0);
    rt_eInterrupt = rb_define_class_under(mPolyphony, "Interrupt", rt_eBaseException);
    rt_eMoveOn = rb_define_class_under(mPolyphony, "MoveOn", rt_eInterrupt);
    rt_eCancel = rb_define_class_under(mPolyphony, "Cancel", rt_eInterrupt);
    rt_eTerminate = rb_define_class_under(mPolyphony, "Terminate", rt_eInterrupt);
    rt_eRestart = rb_define_class_under(mPolyphony, "Restart", rt_eInterrupt);
    rt_eInterjection = rb_define_class_under(mPolyphony, "Interjection", rt_eBaseException);
}
