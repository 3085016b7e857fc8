/*
 * stats.h — the always-on counters behind `polytrace top` and `fibers -s`:
 * per fiber, how often it ran, for how long in all, its longest single run,
 * how long it waited and how many I/O ops it started; per thread, when the
 * current run began (read by the loop watchdog from its own thread). The
 * scheduler (scheduler.c) ends one run and begins the next at every switch
 * with one clock read (clock.h); stats.c reads the counters out.
 *
 * POLYPHONY_COUNTERS=0 in the environment turns them off (for measuring
 * what they cost); the watchdog then has nothing to watch.
 */
#ifndef RT_STATS_H
#define RT_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include "clock.h"

struct rt_fiber_stats {
    uint64_t runs;          /* times it was switched to */
    uint64_t run_ticks;     /* time spent running */
    uint64_t longest_ticks; /* its longest single run */
    uint64_t wait_ticks;    /* time spent suspended in a wait until resumed */
    uint64_t mark;          /* when its last run ended */
    uint64_t ops;           /* I/O ops it started */
};

struct rt_thread_stats {
    /*
     * When the current run began, or 0 while no run is timed (the loop
     * polls, or is suspended at a debugger stop). With run_seq, bumped at
     * every run's start, this is all the watchdog reads, without the GVL.
     */
    _Atomic uint64_t run_start;
    _Atomic uint64_t run_seq;
    /* The run the watchdog flagged as a hog (its run_seq), or 0. */
    _Atomic uint64_t hog_seq;
    /* The flagged run whose postponed job ran (its run_seq). */
    _Atomic uint64_t hog_acked;
    uint64_t idle_ticks;    /* time the loop spent blocked in poll */
    uint64_t suspended_at;  /* ticks when the loop was suspended, or 0 */
    uint64_t suspended_start; /* run_start when it was suspended */
};

extern int rt_stats_on;         /* POLYPHONY_COUNTERS is not 0 */

static inline uint64_t rt_stats_load(_Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* Only the owning thread writes these fields: a plain store, no RMW. */
static inline void rt_stats_store(_Atomic uint64_t *v, uint64_t x)
{
    atomic_store_explicit(v, x, memory_order_relaxed);
}

/* The running fiber `f` stops running at `now`. */
static inline void rt_stats_run_end(struct rt_thread_stats *ts, struct rt_fiber_stats *f,
                                    uint64_t now)
{
    uint64_t start = rt_stats_load(&ts->run_start);

    if (start && now > start) {
        uint64_t d = now - start;
        f->run_ticks += d;
        if (d > f->longest_ticks)
            f->longest_ticks = d;
    }
    f->mark = now;
    rt_stats_store(&ts->run_start, 0);
}

/* `f` starts running at `now`; `waited`: it comes back from a wait. */
static inline void rt_stats_run_begin(struct rt_thread_stats *ts, struct rt_fiber_stats *f,
                                      int waited, uint64_t now)
{
    f->runs++;
    if (waited && f->mark && now > f->mark)
        f->wait_ticks += now - f->mark;
    rt_stats_store(&ts->run_seq, rt_stats_load(&ts->run_seq) + 1);
    rt_stats_store(&ts->run_start, now);
}

#endif /* RT_STATS_H */
