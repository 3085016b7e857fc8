/*
 * clock.c — choosing the tick source of clock.h and converting ticks to
 * time. The TSC is used only when CPUID reports it invariant (leaf
 * 0x80000007, EDX bit 8); its rate is not asked of the CPU (many virtual
 * machines do not say) but measured: ticks and CLOCK_MONOTONIC are both read
 * at load, and each conversion compares them with a fresh pair. A
 * conversion asked for very soon after load first lets a millisecond pass so
 * that the ratio is meaningful.
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
    ref_ns = rt_clock_mono_ns();
    ref_ticks = rt_clock_ticks();
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
    ticks = rt_clock_ticks();
    if (ticks <= ref_ticks)
        return 1.0;
    return (double)(ns - ref_ns) / (double)(ticks - ref_ticks);
}
