/*
 * process.c — Process.wait, .waitpid, .wait2 and Backend#waitpid on the
 * backend, so that waiting for a child suspends only the calling fiber.
 * $? is set as Ruby's own methods do.
 */
#include <errno.h>
#include <sys/wait.h>
#include "rt_internal.h"

#define RT_WAIT_ANY_POLL 0.005

/*
 * Waits for `pid` (> 0 through the backend; -1 or a group by polling with
 * WNOHANG between short sleeps, as there is no fd to wait on). Returns the
 * pid, or raises.
 */
static pid_t wait_child(struct rt_thread *t, pid_t pid, int flags, int *status)
{
    if (pid > 0 && !(flags & WNOHANG)) {
        pid_t r = rt_ops(t)->waitpid(t->be, pid, status);
        if (r < 0)
            rb_syserr_fail(-r, "waitpid");
        return r;
    }
    for (;;) {
        pid_t r = waitpid(pid, status, flags | WNOHANG);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rb_sys_fail("waitpid");
        if (r > 0 || (flags & WNOHANG))
            return r;
        int rc = rt_backend_sleep(t, RT_WAIT_ANY_POLL);
        if (rc < 0)
            rb_syserr_fail(-rc, "waitpid");
    }
}

static VALUE do_wait(int argc, VALUE *argv)
{
    VALUE vpid, vflags;
    int status = 0;
    rb_scan_args(argc, argv, "02", &vpid, &vflags);
    pid_t pid = vpid == Qnil ? -1 : NUM2PIDT(vpid);
    int flags = vflags == Qnil ? 0 : NUM2INT(vflags);
    pid_t r = wait_child(rt_thread_current(), pid, flags, &status);
    if (r == 0) {
        rb_last_status_set(0, 0);
        return Qnil;
    }
    rb_last_status_set(status, r);
    return PIDT2NUM(r);
}

static VALUE pr_wait(int argc, VALUE *argv, VALUE self)
{
    (void)self;
    return do_wait(argc, argv);
}

static VALUE pr_wait2(int argc, VALUE *argv, VALUE self)
{
    (void)self;
    VALUE pid = do_wait(argc, argv);
    if (pid == Qnil)
        return Qnil;
    return rb_assoc_new(pid, rb_last_status_get());
}

VALUE rt_process_wait_status(rb_pid_t pid, int flags)
{
    int status = 0;
    pid_t r = wait_child(rt_thread_current(), pid, flags, &status);

    if (r == 0)
        return Qnil;
    rb_last_status_set(status, r);
    return rb_last_status_get();
}

/*
 * Backend#waitpid(pid): [pid, wait status] — the raw status waitpid(2)
 * gives (exit code << 8, or the signal), as Polyphony's; $? is set too.
 */
static VALUE be_waitpid(VALUE self, VALUE vpid)
{
    int status = 0;
    struct rt_thread *t = rt_thread_from_backend(self);
    pid_t r = wait_child(t, NUM2PIDT(vpid), 0, &status);
    rb_last_status_set(status, r);
    return rb_assoc_new(PIDT2NUM(r), INT2NUM(status));
}

void rt_process_init(VALUE mPolyphony)
{
    rb_define_singleton_method(rb_mProcess, "wait", pr_wait, -1);
    rb_define_singleton_method(rb_mProcess, "waitpid", pr_wait, -1);
    rb_define_singleton_method(rb_mProcess, "wait2", pr_wait2, -1);
    rb_define_singleton_method(rb_mProcess, "waitpid2", pr_wait2, -1);
    VALUE cBackend = rb_const_get(mPolyphony, rb_intern("Backend"));
    rb_define_method(cBackend, "waitpid", be_waitpid, 1);
}
