/*
 * unhooked.c — Thread::Mutex#lock, #synchronize and #sleep where Ruby
 * calls no fiber scheduler: in a thread's root fiber (the main fiber), or
 * in any fiber once Ruby has dropped the scheduler (rt_unhooked). There a
 * contended lock would block the whole thread, and with it the holder:
 * another fiber of the same thread, which could then never unlock. So the
 * wait goes through a fiber Ruby does call the scheduler from
 * (polyphony/unhooked.rb, which does the same for Queue, SizedQueue,
 * ConditionVariable and name resolution). Everywhere else these are Ruby's
 * own, called through the C API, so the usual path costs one check.
 */
#include "rt_internal.h"

static VALUE mUnhooked;
static ID id_lock_mutex, id_sleep_mutex, id_owned_p;

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

void rt_unhooked_init(VALUE mPolyphony)
{
    VALUE cMutex = rb_path2class("Thread::Mutex");

    mUnhooked = rb_define_module_under(mPolyphony, "Unhooked");
    id_lock_mutex = rb_intern("lock_mutex");
    id_sleep_mutex = rb_intern("sleep_mutex");
    id_owned_p = rb_intern("owned?");
    rb_define_method(cMutex, "lock", mutex_lock, 0);
    rb_define_method(cMutex, "synchronize", mutex_synchronize, 0);
    rb_define_method(cMutex, "sleep", mutex_sleep, -1);
}
