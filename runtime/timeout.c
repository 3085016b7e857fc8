/*
 * timeout.c — timers seen from Ruby: Kernel#sleep (in any fiber, the main
 * one included), Backend#sleep, and Polyphony::Timeout, a resettable timer
 * that resumes a fiber with a given value or exception when it expires. The
 * Ruby layer builds move_on_after, cancel_after and Polyphony::Timer on it.
 */
#include <math.h>
#include "rt_internal.h"

static VALUE cTimeout;

struct rt_timeout {
    struct rt_timer timer;
    struct rt_thread *t;
    VALUE backend;        /* t->self, kept alive */
};

static void to_mark(void *p)
{
    struct rt_timeout *to = p;
    rb_gc_mark_movable(to->backend);
    rb_gc_mark_movable(to->timer.fiber);
    rb_gc_mark_movable(to->timer.value);
}

static void to_compact(void *p)
{
    struct rt_timeout *to = p;
    to->backend = rb_gc_location(to->backend);
    to->timer.fiber = rb_gc_location(to->timer.fiber);
    to->timer.value = rb_gc_location(to->timer.value);
    to->timer.owner = rb_gc_location(to->timer.owner);
}

/* An armed timeout is marked by its thread's heap, so it is never freed armed. */
static void to_free(void *p)
{
    xfree(p);
}

static size_t to_size(const void *p)
{
    (void)p;
    return sizeof(struct rt_timeout);
}

static const rb_data_type_t to_type = {
    "Polyphony::Timeout",
    { to_mark, to_free, to_size, to_compact, { 0 } },
    NULL, NULL, RUBY_TYPED_FREE_IMMEDIATELY
};

static VALUE to_alloc(VALUE klass)
{
    struct rt_timeout *to;
    VALUE obj = TypedData_Make_Struct(klass, struct rt_timeout, &to_type, to);
    rt_timer_setup(&to->timer, Qnil, Qnil, Qnil);
    to->backend = Qnil;
    return obj;
}

static double seconds(VALUE v)
{
    double d = NUM2DBL(v);
    if (isnan(d) || d < 0)
        rb_raise(rb_eArgError, "time interval must not be negative");
    return d;
}

/* Timeout.new(interval, value, fiber = Fiber.current): armed at once. */
static VALUE to_initialize(int argc, VALUE *argv, VALUE self)
{
    struct rt_timeout *to = RTYPEDDATA_DATA(self);
    VALUE interval, value, fiber;

    rb_scan_args(argc, argv, "21", &interval, &value, &fiber);
    if (fiber == Qnil)
        fiber = rb_fiber_current();
    if (to->t)
        rt_timer_stop(&to->t->timers, &to->timer);
    to->t = rt_fiber_get(fiber)->t;
    to->backend = to->t->self;
    rt_timer_setup(&to->timer, fiber, value, self);
    if (rt_timer_start(&to->t->timers, &to->timer, seconds(interval)) < 0)
        rb_raise(rb_eNoMemError, "timer");
    return self;
}

static VALUE to_reset(int argc, VALUE *argv, VALUE self)
{
    struct rt_timeout *to = RTYPEDDATA_DATA(self);
    VALUE interval;
    rb_scan_args(argc, argv, "01", &interval);
    if (!to->t)
        rb_raise(rb_eRuntimeError, "timeout not initialized");
    double d = interval == Qnil ? to->timer.interval : seconds(interval);
    if (rt_timer_start(&to->t->timers, &to->timer, d) < 0)
        rb_raise(rb_eNoMemError, "timer");
    return self;
}

static VALUE to_stop(VALUE self)
{
    struct rt_timeout *to = RTYPEDDATA_DATA(self);
    if (to->t)
        rt_timer_stop(&to->t->timers, &to->timer);
    return self;
}

static VALUE to_fired_p(VALUE self)
{
    struct rt_timeout *to = RTYPEDDATA_DATA(self);
    return to->timer.fired ? Qtrue : Qfalse;
}

static VALUE to_active_p(VALUE self)
{
    struct rt_timeout *to = RTYPEDDATA_DATA(self);
    return to->timer.index != RT_TIMER_IDLE ? Qtrue : Qfalse;
}

static VALUE to_value(VALUE self)
{
    return ((struct rt_timeout *)RTYPEDDATA_DATA(self))->timer.value;
}

static VALUE to_remaining(VALUE self)
{
    struct rt_timeout *to = RTYPEDDATA_DATA(self);
    if (!to->t)
        return Qnil;
    double left = rt_timer_remaining(&to->t->timers, &to->timer);
    return left < 0 ? Qnil : DBL2NUM(left);
}

struct with_timeout {
    VALUE timeout, exc;
    VALUE (*fn)(VALUE);
    VALUE arg;
    int *timed_out;
};

static VALUE wt_body(VALUE arg)
{
    struct with_timeout *w = (struct with_timeout *)arg;
    return w->fn(w->arg);
}

static VALUE wt_rescue(VALUE arg, VALUE err)
{
    struct with_timeout *w = (struct with_timeout *)arg;
    if (err != w->exc)
        rb_exc_raise(err);
    *w->timed_out = 1;
    return Qnil;
}

static VALUE wt_protected(VALUE arg)
{
    return rb_rescue2(wt_body, arg, wt_rescue, arg, rt_eMoveOn, (VALUE)0);
}

static VALUE wt_ensure(VALUE arg)
{
    return to_stop(((struct with_timeout *)arg)->timeout);
}

VALUE rt_with_timeout(double secs, VALUE (*fn)(VALUE), VALUE arg, int *timed_out)
{
    struct with_timeout w;
    VALUE exc = rt_exception_new(rt_eMoveOn, Qnil);
    VALUE args[2] = { DBL2NUM(secs), exc };
    w.timeout = rb_class_new_instance(2, args, cTimeout);
    w.exc = exc;
    w.fn = fn;
    w.arg = arg;
    w.timed_out = timed_out;
    *timed_out = 0;
    VALUE r = rb_ensure(wt_protected, (VALUE)&w, wt_ensure, (VALUE)&w);
    RB_GC_GUARD(w.timeout);
    RB_GC_GUARD(exc);
    return r;
}

/*
 * As in Polyphony: sleep with no argument waits until scheduled, even when
 * nothing else could ever schedule the fiber (unlike suspend: the process
 * then waits for a signal), and sleep returns the value the fiber was
 * resumed with (nil when the time is up), not Ruby's whole seconds.
 */
static VALUE do_sleep(struct rt_thread *t, VALUE duration)
{
    if (duration == Qnil)
        return rt_sched_suspend(t, "sleep");
    return rt_timer_sleep(t, seconds(duration));
}

static VALUE k_sleep(int argc, VALUE *argv, VALUE self)
{
    VALUE duration;
    (void)self;
    rb_scan_args(argc, argv, "01", &duration);
    return do_sleep(rt_thread_current(), duration);
}

static VALUE be_sleep(VALUE self, VALUE duration)
{
    return do_sleep(rt_thread_from_backend(self), duration);
}

static VALUE be_now(VALUE self)
{
    return DBL2NUM(rt_timers_now(&rt_thread_from_backend(self)->timers));
}

void rt_timeout_init(VALUE mPolyphony)
{
    cTimeout = rb_define_class_under(mPolyphony, "Timeout", rb_cObject);
    rb_define_alloc_func(cTimeout, to_alloc);
    rb_define_method(cTimeout, "initialize", to_initialize, -1);
    rb_define_method(cTimeout, "reset", to_reset, -1);
    rb_define_method(cTimeout, "stop", to_stop, 0);
    rb_define_method(cTimeout, "cancel", to_stop, 0);
    rb_define_method(cTimeout, "fired?", to_fired_p, 0);
    rb_define_method(cTimeout, "active?", to_active_p, 0);
    rb_define_method(cTimeout, "value", to_value, 0);
    rb_define_method(cTimeout, "remaining", to_remaining, 0);

    rb_define_global_function("sleep", k_sleep, -1);
    VALUE cBackend = rb_const_get(mPolyphony, rb_intern("Backend"));
    rb_define_method(cBackend, "sleep", be_sleep, 1);
    rb_define_method(cBackend, "now", be_now, 0);
}
