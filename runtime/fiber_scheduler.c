/*
 * fiber_scheduler.c — Ruby's Fiber::Scheduler interface (Ruby 3.1) on the
 * runtime. Every thread that runs the runtime gets a Polyphony::Scheduler,
 * installed when its runtime starts, so that code waiting through Ruby's
 * own blocking hooks (rb_io_wait, as pg does; Thread::Queue, Mutex,
 * ConditionVariable, Thread#join, Process::Status.wait, getaddrinfo,
 * Timeout) waits in the calling fiber and the thread's other fibers run.
 *
 * The hooks are thin: io_wait is the backend's wait_io (with a timeout on
 * the runtime's timers), io_read/io_write are the syscall retried after the
 * backend says the fd is ready, block and kernel_sleep are the scheduler's
 * await (with a timer when given a timeout), unblock schedules the fiber,
 * process_wait is the backend's waitpid. So the fiber lock, loop suspend,
 * hooks, fiber counters and close-while-waiting hold for them as for the
 * Polyphony API. address_resolve, timeout_after, fiber and close are Ruby
 * (polyphony/fiber_scheduler.rb).
 *
 * Ruby calls a scheduler only from non-blocking fibers. Every fiber the
 * runtime spins is one; a thread's root fiber (the main fiber) is not, and
 * neither is any fiber once Ruby has dropped the scheduler: there
 * unhooked.c and polyphony/unhooked.rb make the same calls wait in the
 * fiber. Scheduler.unhooked? says which case holds.
 */
#include <errno.h>
#include <unistd.h>
#include <ruby/io.h>
#include <ruby/io/buffer.h>
#include <ruby/fiber/scheduler.h>
#include "rt_internal.h"

static VALUE cScheduler;

/* What a fiber waiting in block or kernel_sleep shows as its op. */
static const char op_block[] = "block";
static const char op_kernel_sleep[] = "kernel_sleep";

void rt_fiber_scheduler_install(struct rt_thread *t)
{
    t->scheduler = rb_obj_alloc(cScheduler);
    rb_fiber_scheduler_set(t->scheduler);
}

/*
 * Not while the debugger holds the thread (the fiber lock taken, the loop
 * suspended): no helper fiber could run then, and Ruby's own blocking wait
 * is what a call evaluated at a stop should do.
 */
int rt_unhooked(void)
{
    struct rt_thread *t;

    if (rb_fiber_scheduler_current() != Qnil)
        return 0;
    t = rt_thread_of(rb_thread_current(), 0);
    return t && !t->ended && !t->blocking_ok && t->lock_owner == Qnil && !t->timers.paused;
}

/* io_wait(io, events, timeout): the ready events, or false when timed out. */
static VALUE sc_io_wait(VALUE self, VALUE io, VALUE events, VALUE timeout)
{
    int asked = NUM2INT(events);
    int ready = rt_io_wait_fd(rt_thread_current(), rt_io_fd(io), rt_io_events_from_ruby(asked),
                              timeout);

    (void)self;
    return ready ? INT2NUM(rt_io_events_to_ruby(ready, asked)) : Qfalse;
}

/*
 * io_read(io, buffer, length) and io_write: at least `length` bytes (at
 * least one when 0) into or out of the IO::Buffer, the syscall retried
 * after the backend says the fd is ready; bytes moved, or -errno. A fd the
 * runtime leaves blocking (a terminal) is waited on before it is read. The
 * syscalls themselves never wait, so the kernel never holds the buffer
 * (Ruby's own, which a close may free) past the call.
 */
static VALUE sc_io_read(VALUE self, VALUE io, VALUE buffer, VALUE vlength)
{
    struct rt_thread *t = rt_thread_current();
    int fd = rt_io_fd(io);
    size_t length = NUM2SIZET(vlength), size, done = 0;
    void *base;

    (void)self;
    rb_io_buffer_get_bytes_for_writing(buffer, &base, &size);
    if (length > size)
        length = size;
    if (t->read_no_wait) {
        /* IO#read_nonblock: one try; EAGAIN is Ruby's :wait_readable. */
        ssize_t n;
        do
            n = read(fd, base, size);
        while (n < 0 && errno == EINTR);
        return n < 0 ? INT2NUM(-errno) : SSIZET2NUM(n);
    }
    if (rt_io_read_mode(io, fd) == RT_IO_MODE_WAIT_FIRST)
        rt_io_wait_fd(t, fd, RT_IO_READ, Qnil);
    while (done < size) {
        ssize_t n = read(fd, (char *)base + done, size - done);

        if (n > 0) {
            done += (size_t)n;
            if (done >= length)
                break;
        } else if (n == 0) {
            break;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            rt_io_wait_fd(t, fd, RT_IO_READ, Qnil);
        } else if (errno != EINTR) {
            if (done)
                break;
            return INT2NUM(-errno);
        }
    }
    return SIZET2NUM(done);
}

static VALUE sc_io_write(VALUE self, VALUE io, VALUE buffer, VALUE vlength)
{
    struct rt_thread *t = rt_thread_current();
    int fd = rt_io_fd(rb_io_get_write_io(io));
    size_t length = NUM2SIZET(vlength), size, done = 0;
    const void *base;

    (void)self;
    rb_io_buffer_get_bytes_for_reading(buffer, &base, &size);
    if (length > size)
        length = size;
    while (done < size) {
        ssize_t n = write(fd, (const char *)base + done, size - done);

        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (done > 0 && done >= length)
                break; /* enough: Ruby writes the rest */
            rt_io_wait_fd(t, fd, RT_IO_WRITE, Qnil);
        } else if (n == 0 || errno != EINTR) {
            if (done || n == 0)
                break;
            return INT2NUM(-errno);
        }
    }
    return SIZET2NUM(done);
}

/*
 * Waits in op until unblock (true), the timeout (false; nil timeout: none)
 * or an interrupt (raised).
 */
static VALUE wait_unblocked(const char *op, VALUE blocker, VALUE timeout)
{
    struct rt_thread *t = rt_thread_current();
    VALUE v;

    /* What the deadlock report names: the queue, mutex or thread. */
    rt_sched_current_state(t, rb_fiber_current())->wait_on = blocker;
    if (timeout == Qnil)
        v = rt_sched_await(t, op, -1);
    else
        v = rt_timer_await(t, op, NUM2DBL(timeout), Qfalse);
    if (rt_backend_is_interrupt(v))
        rt_backend_raise(v);
    return v == Qfalse ? Qfalse : Qtrue;
}

/* block(blocker, timeout = nil): Queue#pop, Mutex#lock, Thread#join ... */
static VALUE sc_block(int argc, VALUE *argv, VALUE self)
{
    VALUE blocker, timeout;

    (void)self;
    rb_scan_args(argc, argv, "11", &blocker, &timeout);
    return wait_unblocked(op_block, blocker, timeout);
}

/* kernel_sleep(duration = nil): Mutex#sleep, ConditionVariable#wait. */
static VALUE sc_kernel_sleep(int argc, VALUE *argv, VALUE self)
{
    (void)self;
    rb_check_arity(argc, 0, 1);
    return wait_unblocked(op_kernel_sleep, Qnil, argc ? argv[0] : Qnil);
}

/*
 * unblock(blocker, fiber): from any thread. Only a fiber still waiting in
 * block or kernel_sleep is woken, so a late call never ends another wait.
 */
static VALUE sc_unblock(VALUE self, VALUE blocker, VALUE fiber)
{
    struct rt_fiber *f = rt_fiber_get_if_any(fiber);

    (void)self;
    (void)blocker;
    if (f && !f->dead && (f->wait_op == op_block || f->wait_op == op_kernel_sleep))
        rt_sched_schedule_state(f, Qtrue, 0);
    return Qtrue;
}

/* process_wait(pid, flags): a Process::Status, or nil (WNOHANG, none yet). */
static VALUE sc_process_wait(VALUE self, VALUE pid, VALUE flags)
{
    (void)self;
    return rt_process_wait_status(NUM2PIDT(pid), NUM2INT(flags));
}

/*
 * __run_now__(fiber): Fiber.schedule starts the fiber at once; the caller
 * goes on where the new fiber first waits (or ends).
 */
static VALUE sc_run_now(VALUE self, VALUE fiber)
{
    struct rt_thread *t = rt_thread_current();
    struct rt_fiber *f = rt_fiber_get(fiber);
    struct rt_runqueue_entry e;
    VALUE v;

    (void)self;
    if (f->t != t || f->dead)
        return fiber;
    if (f->scheduled && rt_runqueue_take(&t->runqueue, fiber, &e))
        f->scheduled = 0;
    if (RB_UNLIKELY(t->nested)) {
        /* Inside a fiber's wait: it starts when that wait gives way. */
        rt_sched_schedule_state(f, Qnil, 1);
        return fiber;
    }
    rt_sched_schedule(rb_fiber_current(), Qnil, 1);
    rt_sched_schedule_state(f, Qnil, 1);
    v = rt_sched_switch(t);
    if (rt_backend_is_interrupt(v))
        rt_backend_raise(v);
    return fiber;
}

static VALUE sc_s_unhooked_p(VALUE klass)
{
    (void)klass;
    return rt_unhooked() ? Qtrue : Qfalse;
}

/* Thread#__polyphony_blocking_ok__: this thread's blocking calls may block it. */
static VALUE th_blocking_ok(VALUE self)
{
    struct rt_thread *t = rt_thread_of(self, 1);

    t->blocking_ok = 1;
    return self;
}

/*
 * Polyphony.__read_no_wait { }: IO#read_nonblock's read, which Ruby 3.1
 * hands to the scheduler's io_read like any other (length 0), must not
 * wait for the fd (sysread's, with the same arguments, does).
 */
static VALUE read_no_wait_end(VALUE tv)
{
    ((struct rt_thread *)tv)->read_no_wait--;
    return Qnil;
}

static VALUE pp_read_no_wait(VALUE self)
{
    struct rt_thread *t = rt_thread_current();

    (void)self;
    t->read_no_wait++;
    return rb_ensure(rb_yield, Qnil, read_no_wait_end, (VALUE)t);
}

void rt_fiber_scheduler_init(VALUE mPolyphony)
{
    cScheduler = rb_define_class_under(mPolyphony, "Scheduler", rb_cObject);
    rb_define_method(cScheduler, "io_wait", sc_io_wait, 3);
    rb_define_method(cScheduler, "io_read", sc_io_read, 3);
    rb_define_method(cScheduler, "io_write", sc_io_write, 3);
    rb_define_method(cScheduler, "block", sc_block, -1);
    rb_define_method(cScheduler, "unblock", sc_unblock, 2);
    rb_define_method(cScheduler, "kernel_sleep", sc_kernel_sleep, -1);
    rb_define_method(cScheduler, "process_wait", sc_process_wait, 2);
    rb_define_private_method(cScheduler, "__run_now__", sc_run_now, 1);
    rb_define_singleton_method(cScheduler, "unhooked?", sc_s_unhooked_p, 0);
    rb_define_method(rb_cThread, "__polyphony_blocking_ok__", th_blocking_ok, 0);
    rb_define_singleton_method(mPolyphony, "__read_no_wait", pp_read_no_wait, 0);
}
