/*
 * fd_waiters.c — which fibers are in an op on which fd, process-wide, so
 * that closing an IO reaches every fiber waiting on its fd, on any thread.
 *
 * A fiber is linked under an fd while it waits in an op on it (scheduler.c
 * links it around the wait, and around the fairness snooze an op may take
 * before it starts). IO#close (io_close.c) calls rt_fdwait_close before the
 * fd is closed: each waiter is resumed with an IOError, as a thread blocked
 * on a closed IO gets one in Ruby, and its op cancels its kernel-side work
 * instead of going on. Nothing it started may touch the fd number again,
 * since the next file opened can get the same number:
 *
 *  - waiters on the closing thread: the backend drops their kernel-side
 *    work at once (ops->fd_closing: libev stops the watchers, io_uring
 *    submits the queued SQEs, so they resolve the old file, and cancels
 *    them), before the fd is closed;
 *  - waiters on other threads: their loops are woken and the closing fiber
 *    waits until each has left its op (its backend is its own thread's to
 *    touch), then the fd is closed, as Ruby's close waits for the threads
 *    blocked on it.
 *
 * The index is an array of list heads indexed by fd, touched only with the
 * GVL held. A fiber state freed while linked unlinks itself (fiber.c).
 */
#include <stdlib.h>
#include "rt_internal.h"

static struct rt_fiber **heads;
static size_t heads_len;

/* A fiber closing an fd that fibers of other threads wait on. */
struct close_wait {
    int fd;
    VALUE fiber;
    struct close_wait *next;
};
static struct close_wait *close_waits;

static int grow(int fd)
{
    size_t len = heads_len ? heads_len : 64;
    struct rt_fiber **h;

    while (len <= (size_t)fd)
        len *= 2;
    h = realloc(heads, len * sizeof(*h));
    if (!h)
        return -1;
    for (size_t i = heads_len; i < len; i++)
        h[i] = NULL;
    heads = h;
    heads_len = len;
    return 0;
}

void rt_fdwait_link(struct rt_fiber *f, int fd)
{
    if (fd < 0 || f->fdw_fd >= 0)
        return;
    if ((size_t)fd >= heads_len && grow(fd) < 0)
        return; /* out of memory: the wait goes on unindexed */
    f->fdw_prev = NULL;
    f->fdw_next = heads[fd];
    if (heads[fd])
        heads[fd]->fdw_prev = f;
    heads[fd] = f;
    f->fdw_fd = fd;
    f->fd_closed = 0;
}

static void wake_closers(int fd)
{
    for (struct close_wait *cw = close_waits; cw; cw = cw->next)
        if (cw->fd == fd)
            rt_sched_schedule(cw->fiber, Qnil, 0);
}

void rt_fdwait_unlink(struct rt_fiber *f)
{
    int fd = f->fdw_fd;
    int notified = f->fd_closed;

    if (fd < 0)
        return;
    if (f->fdw_prev)
        f->fdw_prev->fdw_next = f->fdw_next;
    else
        heads[fd] = f->fdw_next;
    if (f->fdw_next)
        f->fdw_next->fdw_prev = f->fdw_prev;
    f->fdw_prev = f->fdw_next = NULL;
    f->fdw_fd = -1;
    f->fd_closed = 0;
    if (notified && close_waits)
        wake_closers(fd);
}

void rt_fdwait_forget_all(void)
{
    for (size_t fd = 0; fd < heads_len; fd++) {
        while (heads[fd]) {
            struct rt_fiber *f = heads[fd];
            heads[fd] = f->fdw_next;
            f->fdw_prev = f->fdw_next = NULL;
            f->fdw_fd = -1;
            f->fd_closed = 0;
        }
    }
    close_waits = NULL;
}

/* Waiters of other threads told of the close that are still in their op. */
static int others_in_op(int fd, struct rt_thread *self)
{
    if ((size_t)fd >= heads_len)
        return 0;
    for (struct rt_fiber *f = heads[fd]; f; f = f->fdw_next)
        if (f->t != self && f->fd_closed)
            return 1;
    return 0;
}

/*
 * Tells every waiter on fd not told yet; returns whether some wait on
 * other threads. A waiter whose thread has ended never runs again (its
 * backend cancelled its op at the end): it is only unlinked.
 */
static int notify(int fd, struct rt_thread *self)
{
    long n = 0;
    int own = 0, others = 0;
    VALUE fibers;

    for (struct rt_fiber *f = heads[fd]; f; f = f->fdw_next)
        n++;
    fibers = rb_ary_new_capa(n); /* may run the GC, which may unlink */
    for (struct rt_fiber *f = heads[fd]; f && RARRAY_LEN(fibers) < n; f = f->fdw_next)
        if (!f->fd_closed)
            rb_ary_push(fibers, f->self);
    for (long i = 0; i < RARRAY_LEN(fibers); i++) {
        struct rt_fiber *f = RTYPEDDATA_DATA(RARRAY_AREF(fibers, i));
        if (f->t == self)
            own = 1;
    }
    /* Before anything can switch: the fd is still the old file. */
    if (own && self->be && self->ops->fd_closing)
        self->ops->fd_closing(self->be, fd);
    for (long i = 0; i < RARRAY_LEN(fibers); i++) {
        struct rt_fiber *f = RTYPEDDATA_DATA(RARRAY_AREF(fibers, i));
        VALUE err;

        if (f->fdw_fd != fd || f->fd_closed)
            continue;
        if (f->t->ended || f->dead) {
            rt_fdwait_unlink(f);
            continue;
        }
        f->fd_closed = 1;
        if (rt_sched_interrupt_pending(f))
            continue; /* already leaving its op with its own exception */
        err = rb_exc_new_cstr(rb_eIOError, f->t == self ? "stream closed in another fiber"
                                                         : "stream closed in another thread");
        rt_sched_schedule_state(f, err, 0);
        if (f->t != self)
            others = 1;
    }
    RB_GC_GUARD(fibers);
    return others;
}

struct close_args {
    struct rt_thread *t;
    struct close_wait cw;
};

static VALUE close_wait_body(VALUE arg)
{
    struct close_args *a = (struct close_args *)arg;

    while (others_in_op(a->cw.fd, a->t)) {
        rt_sched_suspend(a->t, "close");
        notify(a->cw.fd, a->t); /* an op started meanwhile */
    }
    return Qnil;
}

static VALUE close_wait_ensure(VALUE arg)
{
    struct close_args *a = (struct close_args *)arg;

    for (struct close_wait **p = &close_waits; *p; p = &(*p)->next) {
        if (*p == &a->cw) {
            *p = a->cw.next;
            break;
        }
    }
    return Qnil;
}

void rt_fdwait_close(int fd)
{
    struct rt_thread *self;

    if (fd < 0 || (size_t)fd >= heads_len || !heads[fd])
        return;
    self = rt_thread_of(rb_thread_current(), 0);
    if (!notify(fd, self) || !others_in_op(fd, self))
        return;
    /* Waiters on other threads: wait until they have let go of the fd. */
    struct close_args a;
    a.t = rt_thread_current();
    a.cw.fd = fd;
    a.cw.fiber = rb_fiber_current();
    a.cw.next = close_waits;
    close_waits = &a.cw;
    rb_ensure(close_wait_body, (VALUE)&a, close_wait_ensure, (VALUE)&a);
    RB_GC_GUARD(a.cw.fiber);
}
