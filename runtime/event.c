/*
 * event.c — Polyphony::Event, a one-shot signal between fibers and threads.
 *
 * await suspends the calling fiber until signal is called, and returns the
 * value given to signal. A signal with no fiber waiting is remembered: the
 * next await returns at once (and consumes it). signal wakes every waiting
 * fiber, and may be called from another thread (a ThreadPool worker does):
 * both methods run in C under the GVL, so a signal cannot slip in between an
 * await's check and its wait.
 */
#include "surface.h"

struct rt_event_obj {
    VALUE waiters;   /* Array of fibers in #await */
    VALUE value;     /* the remembered signal's value */
    int signaled;    /* a signal waits for the next #await */
};

static void event_mark(void *p)
{
    struct rt_event_obj *e = p;

    rb_gc_mark_movable(e->waiters);
    rb_gc_mark_movable(e->value);
}

static void event_compact(void *p)
{
    struct rt_event_obj *e = p;

    e->waiters = rb_gc_location(e->waiters);
    e->value = rb_gc_location(e->value);
}

static size_t event_size(const void *p)
{
    (void)p;
    return sizeof(struct rt_event_obj);
}

static const rb_data_type_t event_type = {
    "Polyphony::Event",
    { event_mark, RUBY_TYPED_DEFAULT_FREE, event_size, event_compact, { 0 } },
    0, 0, RUBY_TYPED_FREE_IMMEDIATELY
};

static VALUE event_alloc(VALUE klass)
{
    struct rt_event_obj *e;
    VALUE self = TypedData_Make_Struct(klass, struct rt_event_obj, &event_type, e);

    e->waiters = rb_ary_new();
    e->value = Qnil;
    return self;
}

static struct rt_event_obj *event_get(VALUE self)
{
    struct rt_event_obj *e;

    TypedData_Get_Struct(self, struct rt_event_obj, &event_type, e);
    return e;
}

/* signal(value = nil): wakes every waiter with value, or remembers it. */
static VALUE event_signal(int argc, VALUE *argv, VALUE self)
{
    struct rt_event_obj *e = event_get(self);
    VALUE value = argc > 0 ? argv[0] : Qnil;
    VALUE waiters;
    long i;

    rb_check_arity(argc, 0, 1);
    if (RARRAY_LEN(e->waiters) == 0) {
        e->signaled = 1;
        e->value = value;
        return self;
    }
    waiters = e->waiters;
    e->waiters = rb_ary_new();
    for (i = 0; i < RARRAY_LEN(waiters); i++)
        rt_sched_schedule(RARRAY_AREF(waiters, i), value, 0);
    RB_GC_GUARD(waiters);
    return self;
}

static VALUE await_body(VALUE unused)
{
    (void)unused;
    return rt_sched_suspend(rt_thread_current(), "event");
}

/* await: the value of the next (or a remembered) signal. */
static VALUE event_await(VALUE self)
{
    struct rt_event_obj *e = event_get(self);
    VALUE fiber = rb_fiber_current();
    VALUE v;
    int state = 0;

    if (e->signaled) {
        v = e->value;
        e->signaled = 0;
        e->value = Qnil;
        return v;
    }
    rb_ary_push(e->waiters, fiber);
    v = rb_protect(await_body, Qnil, &state);
    if (state) {
        rb_ary_delete(e->waiters, fiber);
        rb_jump_tag(state);
    }
    return v;
}

static VALUE event_signaled_p(VALUE self)
{
    return event_get(self)->signaled ? Qtrue : Qfalse;
}

static VALUE event_waiting_p(VALUE self)
{
    return RARRAY_LEN(event_get(self)->waiters) > 0 ? Qtrue : Qfalse;
}

void rt_event_init(VALUE mPolyphony)
{
    VALUE cEvent = rb_define_class_under(mPolyphony, "Event", rb_cObject);

    rb_define_alloc_func(cEvent, event_alloc);
    rb_define_method(cEvent, "signal", event_signal, -1);
    rb_define_method(cEvent, "await", event_await, 0);
    rb_define_method(cEvent, "signaled?", event_signaled_p, 0);
    rb_define_method(cEvent, "waiting?", event_waiting_p, 0);
}
