/*
 * timers.c — the per-thread timer heap and its pausable clock (timers.h),
 * and the shared sleep op that backends use (backend.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include "rt_internal.h"

static double raw_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void rt_timers_init(struct rt_timers *ts)
{
    ts->heap = NULL;
    ts->len = ts->capa = 0;
    ts->paused = 0;
    ts->paused_at = ts->paused_total = 0;
}

/*
 * Does not touch the timers: at GC time they may live in objects or on
 * fiber stacks freed in the same sweep (an armed Timeout keeps the thread's
 * state alive, so none outlives it armed).
 */
void rt_timers_free(struct rt_timers *ts)
{
    free(ts->heap);
    ts->heap = NULL;
    ts->len = ts->capa = 0;
}

void rt_timers_clear(struct rt_timers *ts)
{
    for (size_t i = 0; i < ts->len; i++)
        ts->heap[i]->index = RT_TIMER_IDLE;
    ts->len = 0;
}

void rt_timers_mark(struct rt_timers *ts)
{
    for (size_t i = 0; i < ts->len; i++) {
        rb_gc_mark_movable(ts->heap[i]->fiber);
        rb_gc_mark_movable(ts->heap[i]->value);
        rb_gc_mark_movable(ts->heap[i]->owner);
    }
}

void rt_timers_compact(struct rt_timers *ts)
{
    for (size_t i = 0; i < ts->len; i++) {
        ts->heap[i]->fiber = rb_gc_location(ts->heap[i]->fiber);
        ts->heap[i]->value = rb_gc_location(ts->heap[i]->value);
        ts->heap[i]->owner = rb_gc_location(ts->heap[i]->owner);
    }
}

double rt_timers_now(const struct rt_timers *ts)
{
    if (ts->paused)
        return ts->paused_at - ts->paused_total;
    return raw_now() - ts->paused_total;
}

void rt_timers_pause(struct rt_timers *ts)
{
    if (ts->paused++ == 0)
        ts->paused_at = raw_now();
}

int rt_timers_unpause(struct rt_timers *ts)
{
    if (ts->paused == 0)
        return 0;
    if (--ts->paused > 0)
        return 0;
    ts->paused_total += raw_now() - ts->paused_at;
    return 1;
}

static void place(struct rt_timers *ts, size_t i, struct rt_timer *tm)
{
    ts->heap[i] = tm;
    tm->index = i;
}

static void sift_up(struct rt_timers *ts, size_t i)
{
    struct rt_timer *tm = ts->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (ts->heap[p]->deadline <= tm->deadline)
            break;
        place(ts, i, ts->heap[p]);
        i = p;
    }
    place(ts, i, tm);
}

static void sift_down(struct rt_timers *ts, size_t i)
{
    struct rt_timer *tm = ts->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= ts->len)
            break;
        if (c + 1 < ts->len && ts->heap[c + 1]->deadline < ts->heap[c]->deadline)
            c++;
        if (tm->deadline <= ts->heap[c]->deadline)
            break;
        place(ts, i, ts->heap[c]);
        i = c;
    }
    place(ts, i, tm);
}

void rt_timer_setup(struct rt_timer *tm, VALUE fiber, VALUE value, VALUE owner)
{
    tm->deadline = tm->interval = 0;
    tm->index = RT_TIMER_IDLE;
    tm->fiber = fiber;
    tm->value = value;
    tm->owner = owner;
    tm->fired = 0;
}

int rt_timer_start(struct rt_timers *ts, struct rt_timer *tm, double seconds)
{
    if (seconds < 0)
        seconds = 0;
    tm->interval = seconds;
    tm->deadline = rt_timers_now(ts) + seconds;
    tm->fired = 0;
    if (tm->index != RT_TIMER_IDLE) {
        /* Re-arming in place keeps a reset loop from growing anything. */
        sift_up(ts, tm->index);
        sift_down(ts, tm->index);
        return 0;
    }
    if (ts->len == ts->capa) {
        size_t capa = ts->capa ? ts->capa * 2 : 16;
        struct rt_timer **h = realloc(ts->heap, capa * sizeof(*h));
        if (!h)
            return -ENOMEM;
        ts->heap = h;
        ts->capa = capa;
    }
    place(ts, ts->len++, tm);
    sift_up(ts, tm->index);
    return 0;
}

void rt_timer_stop(struct rt_timers *ts, struct rt_timer *tm)
{
    size_t i = tm->index;
    if (i == RT_TIMER_IDLE)
        return;
    tm->index = RT_TIMER_IDLE;
    ts->len--;
    if (i == ts->len)
        return;
    place(ts, i, ts->heap[ts->len]);
    sift_up(ts, i);
    sift_down(ts, ts->heap[i]->index);
}

double rt_timer_remaining(const struct rt_timers *ts, const struct rt_timer *tm)
{
    if (tm->index == RT_TIMER_IDLE)
        return -1;
    double left = tm->deadline - rt_timers_now(ts);
    return left < 0 ? 0 : left;
}

double rt_timers_next_timeout(const struct rt_timers *ts)
{
    if (!ts->len || ts->paused)
        return -1;
    double left = ts->heap[0]->deadline - rt_timers_now(ts);
    return left < 0 ? 0 : left;
}

size_t rt_timers_pop_due(struct rt_timers *ts, struct rt_timer **out, size_t n)
{
    size_t count = 0;
    if (ts->paused || !ts->len)
        return 0;
    double now = rt_timers_now(ts);
    while (count < n && ts->len && ts->heap[0]->deadline <= now) {
        struct rt_timer *tm = ts->heap[0];
        rt_timer_stop(ts, tm);
        tm->fired = 1;
        out[count++] = tm;
    }
    return count;
}

struct sleep_frame {
    struct rt_thread *t;
    struct rt_fiber *f;
    struct rt_timer tm;
};

/* The sleep is left by a throw or a thread kill: its timer must go now. */
static void sleep_unwind(void *arg)
{
    struct sleep_frame *s = arg;
    s->f->wait_timer = NULL;
    rt_timer_stop(&s->t->timers, &s->tm);
}

VALUE rt_timer_await(struct rt_thread *t, const char *op, double seconds, VALUE on_expiry)
{
    VALUE fiber = rb_fiber_current();
    struct sleep_frame s;
    VALUE value;

    s.t = t;
    s.f = rt_fiber_get(fiber);
    rt_timer_setup(&s.tm, fiber, on_expiry, Qnil);
    if (rt_timer_start(&t->timers, &s.tm, seconds) < 0)
        rb_raise(rb_eNoMemError, "timer");
    s.f->wait_timer = &s.tm;
    value = rt_backend_await_unwind(t, op, -1, sleep_unwind, &s);
    s.f->wait_timer = NULL;
    rt_timer_stop(&t->timers, &s.tm);
    RB_GC_GUARD(fiber);
    RB_GC_GUARD(on_expiry);
    return value;
}

VALUE rt_timer_sleep(struct rt_thread *t, double seconds)
{
    VALUE value;

    if (RB_UNLIKELY(t->nested)) {
        /* Inside a fiber's wait (a trap handler): the thread sleeps. */
        rt_blocking_sleep(seconds);
        return Qnil;
    }
    value = rt_timer_await(t, "sleep", seconds, Qnil);

    if (rt_backend_is_interrupt(value))
        rt_backend_raise(value);
    return value;
}

int rt_backend_sleep(struct rt_thread *t, double seconds)
{
    rt_timer_sleep(t, seconds);
    return 0;
}
