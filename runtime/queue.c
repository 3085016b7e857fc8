/*
 * queue.c — Polyphony::Queue, a FIFO for fibers, optionally bounded.
 *
 * shift waits (suspending only the calling fiber) while the queue is empty;
 * with a capacity, push waits while the queue is full, which is what a
 * program would use ::SizedQueue for outside fibers. As in Polyphony, push
 * and shift on a bounded queue yield once even when they need not wait, so
 * producers and consumers take turns. Waiters are woken in order. A closed queue refuses pushes;
 * its fibers waiting in shift get nil, and shift on it raises once it is
 * empty (ClosedQueueError, as Ruby's Queue). Items and waiters are Ruby Arrays so the GC sees them. A waiter is
 * an entry [fiber, woken]: one that stops waiting without having been woken
 * (interrupted, or resumed by something else) clears its fiber so the entry
 * is skipped, and one interrupted after being woken passes the wake-up on,
 * so none is lost and nobody is woken twice.
 */
#include "surface.h"

struct rt_queue {
    VALUE items;          /* Array of values */
    VALUE shift_waiters;  /* Array of fibers waiting for an item */
    VALUE push_waiters;   /* Array of fibers waiting for room */
    long capacity;        /* 0: unbounded */
    int closed;
};

static VALUE cQueue;
static VALUE eClosedQueueError;

static void queue_mark(void *p)
{
    struct rt_queue *q = p;

    rb_gc_mark_movable(q->items);
    rb_gc_mark_movable(q->shift_waiters);
    rb_gc_mark_movable(q->push_waiters);
}

static void queue_compact(void *p)
{
    struct rt_queue *q = p;

    q->items = rb_gc_location(q->items);
    q->shift_waiters = rb_gc_location(q->shift_waiters);
    q->push_waiters = rb_gc_location(q->push_waiters);
}

static size_t queue_size(const void *p)
{
    (void)p;
    return sizeof(struct rt_queue);
}

static const rb_data_type_t queue_type = {
    "Polyphony::Queue",
    { queue_mark, RUBY_TYPED_DEFAULT_FREE, queue_size, queue_compact, { 0 } },
    0, 0, RUBY_TYPED_FREE_IMMEDIATELY
};

static VALUE queue_alloc(VALUE klass)
{
    struct rt_queue *q;
    VALUE self = TypedData_Make_Struct(klass, struct rt_queue, &queue_type, q);

    q->items = rb_ary_new();
    q->shift_waiters = rb_ary_new();
    q->push_waiters = rb_ary_new();
    return self;
}

static struct rt_queue *queue_get(VALUE self)
{
    struct rt_queue *q;

    TypedData_Get_Struct(self, struct rt_queue, &queue_type, q);
    return q;
}

/* Queue.new(capacity = nil) */
static VALUE queue_initialize(int argc, VALUE *argv, VALUE self)
{
    struct rt_queue *q = queue_get(self);
    VALUE cap;

    rb_scan_args(argc, argv, "01", &cap);
    q->capacity = NIL_P(cap) ? 0 : NUM2LONG(cap);
    if (q->capacity < 0)
        rb_raise(rb_eArgError, "capacity must not be negative");
    return self;
}

/*
 * Wakes the first fiber still waiting on `waiters` with `value` (an
 * exception raises in it; anything else makes it check again); 0 when
 * there is none.
 */
static int wake_one_with(VALUE waiters, VALUE value)
{
    while (RARRAY_LEN(waiters) > 0) {
        VALUE entry = rb_ary_shift(waiters);
        VALUE fiber = RARRAY_AREF(entry, 0);

        if (NIL_P(fiber))
            continue;
        rb_ary_store(entry, 1, Qtrue);
        rt_sched_schedule(fiber, value, 0);
        return 1;
    }
    return 0;
}

/* Wakes the first fiber still waiting on `waiters`; 0 when there is none. */
static int wake_one(VALUE waiters)
{
    return wake_one_with(waiters, Qnil);
}

/* Waiters whose entry is still live. */
static long live_waiters(VALUE waiters)
{
    long i, n = 0;

    for (i = 0; i < RARRAY_LEN(waiters); i++)
        if (!NIL_P(RARRAY_AREF(RARRAY_AREF(waiters, i), 0)))
            n++;
    return n;
}

struct wait_args {
    const char *op;
    VALUE queue;
};

static VALUE wait_body(VALUE arg)
{
    struct wait_args *w = (struct wait_args *)arg;
    struct rt_thread *t = rt_thread_current();

    /* The wait-for graph (deadlock.c) names the queue. */
    rt_sched_current_state(t, rb_fiber_current())->wait_on = w->queue;
    return rt_sched_suspend(t, w->op);
}

/*
 * Suspends the current fiber on `waiters` once; the caller checks its
 * condition again. On an interrupt after a wake-up, the wake-up goes to the
 * next waiter of the same list when there is something for it; then the
 * interrupt is re-raised.
 */
static void queue_wait(VALUE self, struct rt_queue *q, VALUE waiters, const char *op,
                       int is_shift)
{
    VALUE entry = rb_ary_new_from_args(2, rb_fiber_current(), Qfalse);
    struct wait_args w = { op, self };
    int state = 0;

    rb_ary_push(waiters, entry);
    rb_protect(wait_body, (VALUE)&w, &state);
    if (!RTEST(RARRAY_AREF(entry, 1))) {
        rb_ary_store(entry, 0, Qnil);
    } else if (state) {
        long len = RARRAY_LEN(q->items);

        if (is_shift ? len > 0 : (q->capacity == 0 || len < q->capacity))
            wake_one(waiters);
    }
    RB_GC_GUARD(entry);
    if (state)
        rb_jump_tag(state);
}

static int queue_full(struct rt_queue *q)
{
    return q->capacity > 0 && RARRAY_LEN(q->items) >= q->capacity;
}

static void check_open(struct rt_queue *q)
{
    if (q->closed)
        rb_raise(eClosedQueueError, "queue closed");
}

static void queue_push_one(VALUE self, struct rt_queue *q, VALUE value, int front)
{
    check_open(q);
    if (q->capacity > 0) {
        /* Bounded: yield once with room (runnable again at once), else wait. */
        int yielded = 0;
        while (!yielded || queue_full(q)) {
            if (!queue_full(q))
                rt_sched_schedule(rb_fiber_current(), Qnil, 0);
            queue_wait(self, q, q->push_waiters, "push", 0);
            yielded = 1;
            check_open(q);
        }
    }
    if (front)
        rb_ary_unshift(q->items, value);
    else
        rb_ary_push(q->items, value);
    wake_one(q->shift_waiters);
}

/* push(value) / << value: appends, waiting while a bounded queue is full. */
static VALUE queue_push(VALUE self, VALUE value)
{
    queue_push_one(self, queue_get(self), value, 0);
    return self;
}

/* unshift(value): puts value first. */
static VALUE queue_unshift(VALUE self, VALUE value)
{
    queue_push_one(self, queue_get(self), value, 1);
    return self;
}

/*
 * shift(nonblock = false) / pop / deq: the first item, waiting while the
 * queue is empty; nonblock raises ThreadError instead of waiting. A fiber
 * waiting when the queue is closed gets nil.
 */
static VALUE queue_shift(int argc, VALUE *argv, VALUE self)
{
    struct rt_queue *q = queue_get(self);
    VALUE value, nonblock;

    rb_scan_args(argc, argv, "01", &nonblock);
    if (RARRAY_LEN(q->items) == 0) {
        if (RTEST(nonblock))
            rb_raise(rb_eThreadError, "queue empty");
        check_open(q);
    }
    /* A bounded queue's shift yields once too, as push does (Polyphony). */
    for (int yielded = q->capacity == 0; !yielded || RARRAY_LEN(q->items) == 0; yielded = 1) {
        if (RARRAY_LEN(q->items) == 0 && q->closed)
            return Qnil;
        if (RARRAY_LEN(q->items) > 0)
            rt_sched_schedule(rb_fiber_current(), Qnil, 0);
        queue_wait(self, q, q->shift_waiters, "shift", 1);
    }
    value = rb_ary_shift(q->items);
    wake_one(q->push_waiters);
    return value;
}

/*
 * flush_waiters(value): every fiber waiting in shift is resumed with value
 * (Polyphony 1.6): an exception raises in each; another value makes each
 * look at the queue again (and wait again while it is empty).
 */
static VALUE queue_flush_waiters(VALUE self, VALUE value)
{
    struct rt_queue *q = queue_get(self);
    VALUE waiters = q->shift_waiters;

    q->shift_waiters = rb_ary_new();
    while (wake_one_with(waiters, value))
        ;
    RB_GC_GUARD(waiters);
    return self;
}

/* shift_all: every item, at once, without waiting. */
static VALUE queue_shift_all(VALUE self)
{
    struct rt_queue *q = queue_get(self);
    VALUE all = q->items;
    long i, n = RARRAY_LEN(all);

    q->items = rb_ary_new();
    for (i = 0; i < n && wake_one(q->push_waiters); i++)
        ;
    return all;
}

/* shift_each { |item| }: yields and removes each item present now. */
static VALUE queue_shift_each(VALUE self)
{
    VALUE all = queue_shift_all(self);
    long i;

    RETURN_ENUMERATOR(self, 0, 0);
    for (i = 0; i < RARRAY_LEN(all); i++)
        rb_yield(RARRAY_AREF(all, i));
    return self;
}

static VALUE queue_delete(VALUE self, VALUE value)
{
    struct rt_queue *q = queue_get(self);

    if (!NIL_P(rb_ary_delete(q->items, value)))
        wake_one(q->push_waiters);
    return self;
}

static VALUE queue_clear(VALUE self)
{
    queue_shift_all(self);
    return self;
}

static VALUE queue_size_m(VALUE self)
{
    return LONG2NUM(RARRAY_LEN(queue_get(self)->items));
}

static VALUE queue_empty_p(VALUE self)
{
    return RARRAY_LEN(queue_get(self)->items) == 0 ? Qtrue : Qfalse;
}

static VALUE queue_capacity(VALUE self)
{
    struct rt_queue *q = queue_get(self);

    return q->capacity ? LONG2NUM(q->capacity) : Qnil;
}

/* cap(n): sets the capacity (nil or 0: unbounded), waking pushers. */
static VALUE queue_cap(VALUE self, VALUE cap)
{
    struct rt_queue *q = queue_get(self);
    long n = NIL_P(cap) ? 0 : NUM2LONG(cap);

    if (n < 0)
        rb_raise(rb_eArgError, "capacity must not be negative");
    q->capacity = n;
    for (long room = n - RARRAY_LEN(q->items); n == 0 || room > 0; room--)
        if (!wake_one(q->push_waiters))
            break;
    return self;
}

/* capped?: the capacity, or nil (Polyphony 1.6). */
static VALUE queue_capped_p(VALUE self)
{
    return queue_capacity(self);
}

/* close: no more pushes; the fibers waiting in shift get nil. */
static VALUE queue_close(VALUE self)
{
    struct rt_queue *q = queue_get(self);

    if (q->closed)
        return self;
    q->closed = 1;
    while (wake_one(q->shift_waiters))
        ;
    while (wake_one(q->push_waiters))
        ;
    return self;
}

static VALUE queue_closed_p(VALUE self)
{
    return queue_get(self)->closed ? Qtrue : Qfalse;
}

/* pending?: is a fiber waiting to shift. */
static VALUE queue_pending_p(VALUE self)
{
    return live_waiters(queue_get(self)->shift_waiters) > 0 ? Qtrue : Qfalse;
}

static VALUE queue_num_waiting(VALUE self)
{
    struct rt_queue *q = queue_get(self);

    return LONG2NUM(live_waiters(q->shift_waiters) + live_waiters(q->push_waiters));
}

void rt_queue_init(VALUE mPolyphony)
{
    cQueue = rb_define_class_under(mPolyphony, "Queue", rb_cObject);
    eClosedQueueError = rb_const_get(rb_cObject, rb_intern("ClosedQueueError"));
    rb_define_alloc_func(cQueue, queue_alloc);
    rb_define_method(cQueue, "initialize", queue_initialize, -1);
    rb_define_method(cQueue, "push", queue_push, 1);
    rb_define_method(cQueue, "<<", queue_push, 1);
    rb_define_method(cQueue, "enq", queue_push, 1);
    rb_define_method(cQueue, "unshift", queue_unshift, 1);
    rb_define_method(cQueue, "shift", queue_shift, -1);
    rb_define_method(cQueue, "pop", queue_shift, -1);
    rb_define_method(cQueue, "deq", queue_shift, -1);
    rb_define_method(cQueue, "close", queue_close, 0);
    rb_define_method(cQueue, "closed?", queue_closed_p, 0);
    rb_define_method(cQueue, "shift_all", queue_shift_all, 0);
    rb_define_method(cQueue, "shift_each", queue_shift_each, 0);
    rb_define_method(cQueue, "delete", queue_delete, 1);
    rb_define_method(cQueue, "clear", queue_clear, 0);
    rb_define_method(cQueue, "size", queue_size_m, 0);
    rb_define_method(cQueue, "length", queue_size_m, 0);
    rb_define_method(cQueue, "empty?", queue_empty_p, 0);
    rb_define_method(cQueue, "capacity", queue_capacity, 0);
    rb_define_method(cQueue, "cap", queue_cap, 1);
    rb_define_method(cQueue, "capped?", queue_capped_p, 0);
    rb_define_method(cQueue, "pending?", queue_pending_p, 0);
    rb_define_method(cQueue, "num_waiting", queue_num_waiting, 0);
    rb_define_method(cQueue, "flush_waiters", queue_flush_waiters, 1);
}
