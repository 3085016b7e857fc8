/*
 * c_api.c — publishes struct rt_api (rt_api.h) as Polyphony::C_API: a frozen
 * object wrapping the address of the static table, so that another extension
 * (the tracer) reaches hooks, the fiber lock, loop suspend and fiber
 * introspection without linking against this one.
 */
#include <errno.h>
#include <string.h>
#include "rt_internal.h"

static enum rt_fiber_state api_fiber_state(VALUE fiber)
{
    return rt_fiber_state_of(fiber);
}

static VALUE api_fiber_parent(VALUE fiber)
{
    struct rt_fiber *f = rt_fiber_get_if_any(fiber);
    return f && f->parent ? f->parent->fiber : Qnil;
}

static VALUE api_fiber_tag(VALUE fiber)
{
    struct rt_fiber *f = rt_fiber_get_if_any(fiber);
    return f ? f->tag : Qnil;
}

static int api_fiber_wait_info(VALUE fiber, struct rt_wait_info *out)
{
    struct rt_fiber *f = rt_fiber_get_if_any(fiber);
    out->op = NULL;
    out->fd = -1;
    out->timeout = -1;
    if (!f || f->dead || !f->wait_op || !f->t)
        return 0;
    out->op = f->wait_op;
    out->fd = f->wait_fd;
    if (f->wait_timer)
        out->timeout = rt_timer_remaining(&f->t->timers, f->wait_timer);
    return 0;
}

static void api_each_fiber(VALUE thread, rt_fiber_visit_fn fn, void *data)
{
    struct rt_thread *t = rt_thread_of(thread, 0);
    if (t)
        rt_fiber_each(t, fn, data);
}

static const char *api_backend_name(VALUE thread)
{
    struct rt_thread *t = rt_thread_of(thread, 0);
    return t ? t->ops->name : rt_backend_select()->name;
}

/* May run without the GVL, from any thread. */
static void api_wakeup(VALUE thread)
{
    rt_thread_wakeup(thread);
}

static double api_clock_scale(void)
{
    return rt_clock_ns_per_tick();
}

static int api_fiber_counters(VALUE fiber, double ns_per_tick, struct rt_fiber_counters *out)
{
    struct rt_fiber *f = rt_fiber_get_if_any(fiber);

    if (!f) {
        memset(out, 0, sizeof *out);
        return -ENOENT;
    }
    rt_stats_fiber(f, ns_per_tick, out);
    return 0;
}

static int api_fiber_spin_frames(VALUE fiber, const VALUE **frames, const int **lines, int *moved)
{
    struct rt_fiber *f = rt_fiber_get_if_any(fiber);
    *moved = f ? f->moved : 0;
    return f ? rt_spin_site_frames(f->spin_site, frames, lines) : 0;
}

static int api_thread_info(VALUE thread, struct rt_thread_info *out)
{
    struct rt_thread *t = rt_thread_of(thread, 0);
    out->current = t ? rt_thread_running_fiber(t) : Qnil;
    out->polling = t ? t->polling : 0;
    out->runnable = t ? rt_runqueue_len(&t->runqueue) : 0;
    return t ? 0 : -ESRCH;
}

static void api_each_scheduled(VALUE thread, rt_scheduled_visit_fn fn, void *data)
{
    struct rt_thread *t = rt_thread_of(thread, 0);
    for (size_t i = 0; t && i < rt_runqueue_len(&t->runqueue); i++) {
        struct rt_runqueue_entry *e = rt_runqueue_at(&t->runqueue, i);
        fn(e->fiber, e->value, data);
    }
}

static const struct rt_api api = {
    .version = RT_API_VERSION,
    .size = sizeof(struct rt_api),
    .hook_add = rt_hook_add,
    .hook_remove = rt_hook_remove,
    .fiber_lock = rt_fiber_lock,
    .fiber_unlock = rt_fiber_unlock,
    .fiber_lock_owner = rt_fiber_lock_owner,
    .loop_suspend = rt_loop_suspend,
    .loop_resume = rt_loop_resume,
    .fiber_state = api_fiber_state,
    .fiber_parent = api_fiber_parent,
    .fiber_tag = api_fiber_tag,
    .fiber_wait_info = api_fiber_wait_info,
    .each_fiber = api_each_fiber,
    .backend_name = api_backend_name,
    .wakeup = api_wakeup,
    .clock_scale = api_clock_scale,
    .fiber_counters = api_fiber_counters,
    .each_thread = rt_thread_each,
    .diag_set = rt_diag_set,
    .watchdog_arm = rt_watchdog_arm,
    .fiber_spin_frames = api_fiber_spin_frames,
    .thread_info = api_thread_info,
    .each_scheduled = api_each_scheduled,
    .thread_counters = rt_stats_thread,
    .uptime = rt_stats_uptime,
    .on_next_wait = rt_sched_on_next_wait,
};

static size_t capsule_size(const void *p)
{
    (void)p;
    return 0;
}

/* The table is static: nothing to mark, free or move. */
static const rb_data_type_t capsule_type = {
    "Polyphony::C_API",
    { NULL, NULL, capsule_size, NULL, { 0 } },
    NULL, NULL, 0
};

void rt_c_api_init(VALUE mPolyphony)
{
    VALUE capsule = TypedData_Wrap_Struct(rb_cObject, &capsule_type, (void *)&api);
    rb_obj_freeze(capsule);
    rb_define_const(mPolyphony, "C_API", capsule);
}
