/*
 * polyphony.c — entry point of the runtime extension (polyphony_ext.so).
 * Init_polyphony_ext defines the Polyphony module and calls each concept's
 * own init function in dependency order, then starts the calling thread's
 * runtime so its current fiber becomes the main fiber.
 */
#include "rt_internal.h"
#include "surface.h"
#include "compat.h"

void Init_polyphony_ext(void)
{
    VALUE mPolyphony = rb_define_module("Polyphony");

    rt_exceptions_init(mPolyphony);
    rt_deadlock_init(mPolyphony);
    rt_compat_orig_init(mPolyphony); /* before rt_io_init replaces IO methods */
    rt_thread_state_init(mPolyphony);
    rt_fiber_init(mPolyphony);
    rt_stats_init(mPolyphony);
    rt_watchdog_init(mPolyphony);
    rt_scheduler_init(mPolyphony);
    rt_mailbox_init(mPolyphony);
    rt_timeout_init(mPolyphony);
    rt_fiber_lock_init(mPolyphony);
    rt_loop_suspend_init(mPolyphony);
    rt_hooks_init(mPolyphony);
    rt_io_init(mPolyphony);
    rt_compat_splice_init(mPolyphony);
    rt_process_init(mPolyphony);
    rt_fiber_scheduler_init(mPolyphony);
    rt_unhooked_init(mPolyphony);
    rt_c_api_init(mPolyphony);
    rt_surface_init(mPolyphony);
    rt_thread_current();
}
