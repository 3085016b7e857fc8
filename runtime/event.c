/*
 * event.c — Polyphony::Event, a one-shot signal between fibers and threads.
 *
 * await suspends the calling fiber until signal is called, and returns the
 * value given to signal. A signal with no fiber waiting is remembered: the
 * next await returns at once (and consumes it). signal wakes every waiting
 * fiber, and may be called from another thread (a ThreadPool worker does):
 * both methods run in C under the GVL, so a signal cannot slip in between an
 * await's check and its wait. A waiter is an entry [fiber, signaled, value];
 * a fiber resumed by anything but a signal goes on waiting, and one that is
 * interrupted clears its fiber so that signal skips the entry.
 *
 * Signals coalesce (Polyphony 1.6): a signal while a waiter it would wake
 * is already woken but has not run yet is part of that wake-up, not
 * remembered for the next await (the woken fiber sees whatever the later
 * signal announced when it runs).
 */
#include "surface.h"

struct rt_event_obj {
    VALUE waiters;   /* Array of fibers in #await */
    VALUE woken;     /* entries signaled whose await has not returned yet */
    VALUE value;     /* the remembered signal's value */
    int signaled;    /* a signal waits for the next #await */
};

static void event_mark(void *p)
{
    struct rt_event_obj *e = p;

    rb_gc_mark_movable(e->waiters);
    rb_gc_mark_movable(e->woken);
    rb_gc_mark_movable(e->value);
}

static void event_compact(void *p)
{
    struct rt_event_obj *e = p;

    e->waiters = rb_gc_location(e->waiters);
    e->woken = rb_gc_location(e->woken);
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
    e->woken = rb_ary_new();
    e->value = Qnil;
    return self;
}

static struct rt_event_obj *event_get(VALUE self)
{
    struct rt_event_obj *e;

    TypedData_Get_Struct(self, struct rt_event_obj, &event_type, e);
    return e;
}

/*
 * Whether a woken waiter has yet to run: entries whose await returned (or
 * whose fiber was interrupted or died) are dropped.
 */
static int wake_pending(struct rt_event_obj *e)
{
    VALUE left;

    if (RARRAY_LEN(e->woken) == 0)
        return 0;
    left = rb_ary_new();

    for (long i = 0; i < RARRAY_LEN(e->woken); i++) {
        VALUE entry = RARRAY_AREF(e->woken, i);
        VALUE fiber = RARRAY_AREF(entry, 0);

        if (!NIL_P(fiber) && RTEST(rb_fiber_alive_p(fiber)))
            rb_ary_push(left, entry);
    }
    e->woken = left;
    return RARRAY_LEN(left) > 0;
}

/*
 * signal(value = nil): wakes every waiter with value, or remembers it
 * unless a wake-up is still pending.
 */
static VALUE event_signal(int argc, VALUE *argv, VALUE self)
{
    struct rt_event_obj *e = event_get(self);
    VALUE value = argc > 0 ? argv[0] : Qnil;
    VALUE waiters;
    long i, woken = 0;

    rb_check_arity(argc, 0, 1);
    int pending = wake_pending(e);
    waiters = e->waiters;
    e->waiters = rb_ary_new();
    for (i = 0; i < RARRAY_LEN(waiters); i++) {
        VALUE entry = RARRAY_AREF(waiters, i);
        VALUE fiber = RARRAY_AREF(entry, 0);

        if (NIL_P(fiber))
            continue;
        rb_ary_store(entry, 1, Qtrue);
        rb_ary_store(entry, 2, value);
        rt_sched_schedule(fiber, value, 0);
        rb_ary_push(e->woken, entry);
        woken++;
    }
    if (woken == 0 && !pending) {
        e->signaled = 1;
        e->value = value;
    }
    RB_GC_GUARD(waiters);
    return self;
}

static VALUE await_body(VALUE event)
{
    struct rt_thread *t = rt_thread_current();

    /* The wait-for graph (deadlock.c) names the event. */
    rt_sched_current_state(t, rb_fiber_current())->wait_on = event;
    return rt_sched_suspend(t, "event");
}

/* await: the value of the next (or a remembered) signal. */
static VALUE event_await(VALUE self)
{
    struct rt_event_obj *e = event_get(self);
    VALUE entry, v;
    int state = 0;

    if (e->signaled) {
        v = e->value;
        e->signaled = 0;
        e->value = Qnil;
        return v;
    }
    entry = rb_ary_new_from_args(3, rb_fiber_current(), Qfalse, Qnil);
    rb_ary_push(e->waiters, entry);
    while (!RTEST(RARRAY_AREF(entry, 1))) {
        rb_protect(await_body, self, &state);
        if (state) {
            rb_ary_store(entry, 0, Qnil);
            rb_jump_tag(state);
        }
    }
    rb_ary_store(entry, 0, Qnil); /* no longer a pending wake-up */
    return RARRAY_AREF(entry, 2);
}

static VALUE event_signaled_p(VALUE self)
{
    return event_get(self)->signaled ? Qtrue : Qfalse;
}

static VALUE event_waiting_p(VALUE self)
{
    VALUE waiters = event_get(self)->waiters;
    long i;

    for (i = 0; i < RARRAY_LEN(waiters); i++)
        if (!NIL_P(RARRAY_AREF(RARRAY_AREF(waiters, i), 0)))
            return Qtrue;
    return Qfalse;
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
