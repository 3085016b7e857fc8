/*
 * loop_suspend.c — suspending a thread's event loop: the runtime clock
 * (timers.c) stops, so time spent suspended never counts towards timers, and
 * the backend is told (libev: ev_suspend/ev_resume). Calls nest; only the
 * outermost resume resumes. From Ruby: Backend#loop_suspend/#loop_resume,
 * and Polyphony.loop_suspend { } for the current thread.
 *
 * Another thread's loop may be suspended too (a debugger stopped in one
 * thread suspends them all), with the GVL held: its clock stops, which is
 * all its timers see; its backend is left alone, since that thread may be
 * inside the backend's poll without the GVL. On resume it is woken, so a
 * poll that was timed against the stopped clock looks again.
 */
#include <errno.h>
#include "rt_internal.h"

int rt_loop_suspend(VALUE thread)
{
    struct rt_thread *t = rt_thread_of(thread, 0);
    if (!t)
        return -ESRCH;
    if (t->timers.paused == 0) {
        if (t->ops->suspend && t->thread == rb_thread_current()) {
            t->ops->suspend(t->be);
            t->backend_suspended = 1;
        }
        rt_stats_loop_suspended(t);
    }
    rt_timers_pause(&t->timers);
    return 0;
}

int rt_loop_resume(VALUE thread)
{
    struct rt_thread *t = rt_thread_of(thread, 0);
    if (!t)
        return -ESRCH;
    if (t->timers.paused == 0)
        return -EINVAL;
    if (rt_timers_unpause(&t->timers)) {
        if (t->backend_suspended && t->ops->resume)
            t->ops->resume(t->be);
        t->backend_suspended = 0;
        rt_stats_loop_resumed(t);
        /* A poll waiting with no timer in sight must see the timers again. */
        if (t->thread != rb_thread_current())
            t->ops->wakeup(t->be);
    }
    return 0;
}

static VALUE be_loop_suspend(VALUE self)
{
    rt_loop_suspend(rt_thread_from_backend(self)->thread);
    return self;
}

static VALUE be_loop_resume(VALUE self)
{
    int rc = rt_loop_resume(rt_thread_from_backend(self)->thread);
    if (rc < 0)
        rb_raise(rb_eRuntimeError, "loop is not suspended");
    return self;
}

static VALUE be_loop_suspended_p(VALUE self)
{
    return rt_thread_from_backend(self)->timers.paused ? Qtrue : Qfalse;
}

static VALUE resume_current(VALUE unused)
{
    (void)unused;
    rt_loop_resume(rb_thread_current());
    return Qnil;
}

static VALUE pp_loop_suspend(VALUE self)
{
    (void)self;
    rt_thread_current();
    rt_loop_suspend(rb_thread_current());
    if (!rb_block_given_p())
        return Qnil;
    return rb_ensure(rb_yield, Qnil, resume_current, Qnil);
}

static VALUE pp_loop_resume(VALUE self)
{
    (void)self;
    return resume_current(Qnil);
}

void rt_loop_suspend_init(VALUE mPolyphony)
{
    VALUE cBackend = rb_const_get(mPolyphony, rb_intern("Backend"));
    rb_define_method(cBackend, "loop_suspend", be_loop_suspend, 0);
    rb_define_method(cBackend, "loop_resume", be_loop_resume, 0);
    rb_define_method(cBackend, "loop_suspended?", be_loop_suspended_p, 0);
    rb_define_singleton_method(mPolyphony, "loop_suspend", pp_loop_suspend, 0);
    rb_define_singleton_method(mPolyphony, "loop_resume", pp_loop_resume, 0);
}
