/*
 * stats.c — reading the counters of stats.h out: one fiber's (the current
 * run and the current wait included), for the tracer through rt_api.h and
 * for Ruby as Fiber#stats; the loop suspension's effect on them (time at a
 * debugger stop is nobody's run); and the switch that turns them off.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "rt_internal.h"

int rt_stats_on = 1;

void rt_stats_loop_suspended(struct rt_thread *t)
{
    uint64_t start;

    if (!rt_stats_on || t->stats.suspended_at)
        return;
    start = rt_stats_load(&t->stats.run_start);
    t->stats.suspended_at = rt_clock_ticks();
    t->stats.suspended_start = start;
    rt_stats_store(&t->stats.run_start, 0);
}

void rt_stats_loop_resumed(struct rt_thread *t)
{
    uint64_t now;

    if (!rt_stats_on || !t->stats.suspended_at)
        return;
    now = rt_clock_ticks();
    /* The run goes on as if the time suspended had not passed. */
    if (t->stats.suspended_start)
        rt_stats_store(&t->stats.run_start,
                       t->stats.suspended_start + (now - t->stats.suspended_at));
    t->stats.suspended_at = 0;
    t->stats.suspended_start = 0;
}

void rt_stats_op_started(struct rt_fiber *f)
{
    f->stats.ops++;
}

void rt_stats_fiber(struct rt_fiber *f, double ns_per_tick, struct rt_fiber_counters *out)
{
    uint64_t run = f->stats.run_ticks, longest = f->stats.longest_ticks;
    uint64_t wait = f->stats.wait_ticks, now = rt_clock_ticks();
    struct rt_thread *t = f->t;

    memset(out, 0, sizeof *out);
    if (t && t->running == f && !f->dead) {
        uint64_t start = rt_stats_load(&t->stats.run_start);
        /* Suspended (a debugger stop): the run so far, up to the stop. */
        if (!start && t->stats.suspended_at) {
            start = t->stats.suspended_start;
            now = t->stats.suspended_at;
        }
        if (start && now > start) {
            run += now - start;
            if (now - start > longest)
                longest = now - start;
        }
    } else if (f->wait_op && f->stats.mark && now > f->stats.mark) {
        wait += now - f->stats.mark;
    }
    out->runs = f->stats.runs;
    out->run_ns = (uint64_t)((double)run * ns_per_tick);
    out->longest_ns = (uint64_t)((double)longest * ns_per_tick);
    out->wait_ns = (uint64_t)((double)wait * ns_per_tick);
    out->ops = f->stats.ops;
    /* A timer's sleep waits in the backend too, but is no I/O op. */
    out->ops_in_flight = f->in_op && f->wait_op && strcmp(f->wait_op, "sleep") != 0;
}

int rt_stats_thread(VALUE thread, double ns_per_tick, struct rt_thread_counters *out)
{
    struct rt_thread *t = rt_thread_of(thread, 0);

    memset(out, 0, sizeof *out);
    if (!t)
        return -ESRCH;
    out->switches = t->switch_count;
    out->idle_ns = (uint64_t)((double)t->stats.idle_ticks * ns_per_tick);
    out->runnable = rt_runqueue_len(&t->runqueue);
    out->ops_in_flight = t->external_ops > 0 ? (uint64_t)t->external_ops : 0;
    out->timers = t->timers.len;
    return 0;
}

static uint64_t loaded_ns;

double rt_stats_uptime(void)
{
    return (double)(rt_clock_mono_ns() - loaded_ns) / 1e9;
}

/* Fiber#stats: the counters as a Hash, times in seconds. */
static VALUE f_stats(VALUE self)
{
    struct rt_fiber *f = rt_fiber_get_if_any(self);
    struct rt_fiber_counters c;
    VALUE h = rb_hash_new();

    memset(&c, 0, sizeof c);
    if (f)
        rt_stats_fiber(f, rt_clock_ns_per_tick(), &c);
    rb_hash_aset(h, ID2SYM(rb_intern("runs")), ULL2NUM(c.runs));
    rb_hash_aset(h, ID2SYM(rb_intern("cpu_time")), DBL2NUM((double)c.run_ns / 1e9));
    rb_hash_aset(h, ID2SYM(rb_intern("longest_run")), DBL2NUM((double)c.longest_ns / 1e9));
    rb_hash_aset(h, ID2SYM(rb_intern("wait_time")), DBL2NUM((double)c.wait_ns / 1e9));
    rb_hash_aset(h, ID2SYM(rb_intern("ops")), ULL2NUM(c.ops));
    rb_hash_aset(h, ID2SYM(rb_intern("ops_in_flight")), UINT2NUM(c.ops_in_flight));
    return h;
}

/* Polyphony.counters?: whether the counters run (POLYPHONY_COUNTERS). */
static VALUE pp_counters_p(VALUE self)
{
    (void)self;
    return rt_stats_on ? Qtrue : Qfalse;
}

void rt_stats_init(VALUE mPolyphony)
{
    const char *env = getenv("POLYPHONY_COUNTERS");

    rt_clock_init();
    loaded_ns = rt_clock_mono_ns();
    rt_stats_on = !(env && strcmp(env, "0") == 0);
    rb_define_method(rt_cFiber, "stats", f_stats, 0);
    rb_define_singleton_method(mPolyphony, "counters?", pp_counters_p, 0);
}
