/*
 * clock.h — the cheap clock behind the per-fiber counters (stats.h) and the
 * loop watchdog (watchdog.c). Every fiber switch reads it once, so it must
 * cost a few nanoseconds: on x86-64 with an invariant TSC (constant rate,
 * running in every power state; CPUID says so) it is the time-stamp
 * counter, elsewhere CLOCK_MONOTONIC in nanoseconds. Readings are "ticks";
 * rt_clock_ns_per_tick() turns differences into time. Any thread, GVL or
 * not, may read it.
 */
#ifndef RT_CLOCK_H
#define RT_CLOCK_H

#include <stdint.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

extern int rt_clock_use_tsc;    /* set once by rt_clock_init */

static inline uint64_t rt_clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t rt_clock_ticks(void)
{
#if defined(__x86_64__)
    if (__builtin_expect(rt_clock_use_tsc, 1))
        return __rdtsc();
#endif
    return rt_clock_mono_ns();
}

/* Decides the tick source and notes a reference point; once, at load. */
void rt_clock_init(void);

/*
 * Nanoseconds per tick, measured against CLOCK_MONOTONIC since
 * rt_clock_init (1.0 when ticks are nanoseconds). Costs two clock reads;
 * callers converting many values ask once.
 */
double rt_clock_ns_per_tick(void);

/* The difference of two readings in nanoseconds; 0 when b is before a. */
static inline uint64_t rt_clock_delta_ns(uint64_t a, uint64_t b, double ns_per_tick)
{
    return b > a ? (uint64_t)((double)(b - a) * ns_per_tick) : 0;
}

#endif /* RT_CLOCK_H */
