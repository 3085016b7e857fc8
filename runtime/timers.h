/*
 * timers.h — a thread's timers: a binary min-heap of deadlines on the
 * runtime's own monotonic clock. The clock stops while the loop is suspended
 * (rt_timers_pause/unpause), so suspended time never counts towards a timer,
 * whatever the backend. A fired timer resumes its fiber with its value
 * (nil for sleep, an exception for cancel_after/move_on_after).
 */
#ifndef RT_TIMERS_H
#define RT_TIMERS_H

#include <stddef.h>
#include <ruby.h>

#define RT_TIMER_IDLE ((size_t)-1)

struct rt_timer {
    double deadline;   /* on the runtime clock */
    double interval;   /* the duration it was started with, for reset */
    size_t index;      /* position in the heap, RT_TIMER_IDLE when not armed */
    VALUE fiber;       /* resumed when it fires */
    VALUE value;       /* ... with this value */
    VALUE owner;       /* kept alive while armed (a Timeout object), or Qnil */
    int fired;
};

struct rt_timers {
    struct rt_timer **heap;
    size_t len, capa;
    int paused;            /* nesting depth of pauses */
    double paused_at;      /* raw clock when the outermost pause began */
    double paused_total;   /* raw seconds spent paused so far */
};

void rt_timers_init(struct rt_timers *ts);
void rt_timers_free(struct rt_timers *ts);
/* Disarms every timer (the thread has ended: nothing will fire them). */
void rt_timers_clear(struct rt_timers *ts);
void rt_timers_mark(struct rt_timers *ts);
void rt_timers_compact(struct rt_timers *ts);

/* The runtime clock in seconds: monotonic time minus time spent paused. */
double rt_timers_now(const struct rt_timers *ts);
void rt_timers_pause(struct rt_timers *ts);
/* Returns 1 when this ended the outermost pause. */
int rt_timers_unpause(struct rt_timers *ts);

void rt_timer_setup(struct rt_timer *tm, VALUE fiber, VALUE value, VALUE owner);
/* Arms (or re-arms) tm to fire `seconds` from now. 0 or -ENOMEM. */
int rt_timer_start(struct rt_timers *ts, struct rt_timer *tm, double seconds);
void rt_timer_stop(struct rt_timers *ts, struct rt_timer *tm);
/* Seconds left, or -1 when not armed. */
double rt_timer_remaining(const struct rt_timers *ts, const struct rt_timer *tm);

/* Seconds to the next deadline (>= 0), or -1 when none or paused. */
double rt_timers_next_timeout(const struct rt_timers *ts);
/* Pops every due timer into out[] (at most n); returns how many. */
size_t rt_timers_pop_due(struct rt_timers *ts, struct rt_timer **out, size_t n);

#endif /* RT_TIMERS_H */
