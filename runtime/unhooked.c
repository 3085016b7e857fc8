/*
 * unhooked.c — Thread::Mutex#lock, #synchronize and #sleep where Ruby
 * calls no fiber scheduler: in a thread's root fiber (the main fiber), or
 * in any fiber once Ruby has dropped the scheduler (rt_unhooked). There a
 * contended lock would block the whole thread, and with it the holder:
 * another fiber of the same thread, which could then never unlock. So the
 * wait goes through a fiber Ruby does call the scheduler from
 * (polyphony/unhooked.rb, which does the same for Queue, SizedQueue and
 * name resolution). Thread::ConditionVariable's wait, signal and broadcast
 * are here too, in a module prepended to it: an unhooked waiter waits on an
 * Event of its own (Unhooked.condvar_wait), which signal and broadcast set
 * as well as waking Ruby's own waiters. Everywhere else these are Ruby's
 * own, called through the C API, so the usual path costs one check; that
 * matters for a condition variable, waited on again by every waiter a
 * broadcast wakes for nothing (connection_pool's check-in does that).
 */
#include "rt_internal.h"

static VALUE mUnhooked;
static ID id_lock_mutex, id_sleep_mutex, id_owned_p, id_condvar_wait, id_signal, id_waiters;

static VALUE mutex_lock(VALUE self)
{
    if (!rt_unhooked())
        return rb_mutex_lock(self);
    if (rb_mutex_trylock(self) == Qtrue)
        return self;
    if (RTEST(rb_funcall(self, id_owned_p, 0)))
        rb_raise(rb_eThreadError, "deadlock; recursive locking");
    return rb_funcall(mUnhooked, id_lock_mutex, 1, self);
}

static VALUE yield_block(VALUE unused)
{
    (void)unused;
    return rb_yield(Qundef);
}

static VALUE mutex_synchronize(VALUE self)
{
    if (!rb_block_given_p())
        rb_raise(rb_eThreadError, "must be called with a block");
    if (!rt_unhooked())
        return rb_mutex_synchronize(self, yield_block, Qnil);
    mutex_lock(self);
    return rb_ensure(yield_block, Qnil, rb_mutex_unlock, self);
}

static VALUE mutex_sleep(int argc, VALUE *argv, VALUE self)
{
    VALUE timeout;

    rb_scan_args(argc, argv, "01", &timeout);
    if (!rt_unhooked())
        return rb_mutex_sleep(self, timeout);
    return rb_funcall(mUnhooked, id_sleep_mutex, 2, self, timeout);
}

/* ConditionVariable#wait(mutex, timeout = nil) */
static VALUE condvar_wait(int argc, VALUE *argv, VALUE self)
{
    if (!rt_unhooked())
        return rb_call_super(argc, argv);
    rb_check_arity(argc, 1, 2);
    return rb_funcall(mUnhooked, id_condvar_wait, 3, self, argv[0], argc > 1 ? argv[1] : Qnil);
}

/* Sets the Event of up to `max` unhooked waiters (oldest first). */
static void condvar_wake_unhooked(VALUE self, long max)
{
    VALUE waiters = rb_attr_get(self, id_waiters);

    if (!RB_TYPE_P(waiters, T_ARRAY))
        return;
    for (; max > 0 && RARRAY_LEN(waiters) > 0; max--)
        rb_funcall(rb_ary_shift(waiters), id_signal, 0);
}

static VALUE condvar_signal(VALUE self)
{
    rb_call_super(0, NULL);
    condvar_wake_unhooked(self, 1);
    return self;
}

static VALUE condvar_broadcast(VALUE self)
{
    rb_call_super(0, NULL);
    condvar_wake_unhooked(self, LONG_MAX);
    return self;
}

void rt_unhooked_init(VALUE mPolyphony)
{
    VALUE cMutex = rb_path2class("Thread::Mutex");
    VALUE cCondvar = rb_path2class("Thread::ConditionVariable");
    VALUE mCondvarWait;

    mUnhooked = rb_define_module_under(mPolyphony, "Unhooked");
    id_lock_mutex = rb_intern("lock_mutex");
    id_sleep_mutex = rb_intern("sleep_mutex");
    id_owned_p = rb_intern("owned?");
    rb_define_method(cMutex, "lock", mutex_lock, 0);
    rb_define_method(cMutex, "synchronize", mutex_synchronize, 0);
    rb_define_method(cMutex, "sleep", mutex_sleep, -1);

    id_condvar_wait = rb_intern("condvar_wait");
    id_signal = rb_intern("signal");
    id_waiters = rb_intern("@__polyphony_waiters");
    mCondvarWait = rb_define_module_under(mUnhooked, "ConditionVariableWait");
    rb_define_method(mCondvarWait, "wait", condvar_wait, -1);
    rb_define_method(mCondvarWait, "signal", condvar_signal, 0);
    rb_define_method(mCondvarWait, "broadcast", condvar_broadcast, 0);
    rb_prepend_module(cCondvar, mCondvarWait);
}
