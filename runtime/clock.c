/*
 * clock.c — choosing the tick source of clock.h and converting ticks to
 * time. The TSC is used only when CPUID reports it invariant (leaf
 * 0x80000007, EDX bit 8); its rate is not asked of the CPU (many virtual
 * machines do not say) but measured: ticks and CLOCK_MONOTONIC are both read
 * at load, and each conversion compares them with a fresh pair. A
 * conversion asked for very soon after load first lets a millisecond pass so
 * that the ratio is meaningful. A pair is read as CLOCK_MONOTONIC, ticks,
 * CLOCK_MONOTONIC again, and read anew when the thread was preempted in
 * between (on a busy machine): the milliseconds lost there would otherwise
 * skew every conversion by that much over the time since load.
 */
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include "clock.h"

int rt_clock_use_tsc;
static uint64_t ref_ticks, ref_ns;

/* Below this much elapsed time the ratio is too noisy to use. */
#define RT_CLOCK_MIN_SPAN_NS 1000000u

/* A pair whose two monotonic reads are further apart was interrupted. */
#define RT_CLOCK_PAIR_MAX_NS 2000u
#define RT_CLOCK_PAIR_TRIES 16

/* Ticks and the monotonic time at the same moment: the tightest of a few. */
static void read_pair(uint64_t *ns, uint64_t *ticks)
{
    uint64_t best = UINT64_MAX;

    for (int i = 0; i < RT_CLOCK_PAIR_TRIES; i++) {
        uint64_t before = rt_clock_mono_ns();
        uint64_t t = rt_clock_ticks();
        uint64_t after = rt_clock_mono_ns();

        if (after - before < best) {
            best = after - before;
            *ns = before + (after - before) / 2;
            *ticks = t;
        }
        if (best <= RT_CLOCK_PAIR_MAX_NS)
            break;
    }
}

void rt_clock_init(void)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    const char *force = getenv("POLYPHONY_CLOCK");

    if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000007 &&
        __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8)))
        rt_clock_use_tsc = 1;
    /* POLYPHONY_CLOCK=monotonic: never the TSC (for comparisons). */
    if (force && strcmp(force, "monotonic") == 0)
        rt_clock_use_tsc = 0;
#endif
    if (rt_clock_use_tsc) {
        read_pair(&ref_ns, &ref_ticks);
    } else {
        ref_ns = rt_clock_mono_ns();
        ref_ticks = ref_ns;
    }
}

double rt_clock_ns_per_tick(void)
{
    uint64_t ns, ticks;

    if (!rt_clock_use_tsc)
        return 1.0;
    ns = rt_clock_mono_ns();
    if (ns - ref_ns < RT_CLOCK_MIN_SPAN_NS) {
        struct timespec pause = { 0, (long)(RT_CLOCK_MIN_SPAN_NS - (ns - ref_ns)) };
        nanosleep(&pause, NULL);
        ns = rt_clock_mono_ns();
    }
    read_pair(&ns, &ticks);
    if (ticks <= ref_ticks || ns <= ref_ns)
        return 1.0;
    return (double)(ns - ref_ns) / (double)(ticks - ref_ticks);
}
