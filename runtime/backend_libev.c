/*
 * backend_libev.c — the libev backend (backend.h): one ev_loop per thread,
 * readiness watchers for the fds fibers wait on, an ev_async to be woken from
 * other threads and from Ruby's unblocking function. Ops try the syscall on
 * the non-blocking fd first and wait for readiness only on EAGAIN.
 *
 * Watchers live in a struct on the waiting fiber's C stack. Their callbacks
 * run inside ev_run without the GVL, so they only record the completion on a
 * list; poll resumes the fibers once the GVL is back.
 *
 * A watcher that fired stays started until its fiber runs and stops it:
 * stopped at once, its fd (still readable until the fiber reads it) would
 * be reported to a poll made before the fiber's turn with no watcher
 * wanting it, and libev would take it out of the epoll set, to add it again
 * at the fiber's next wait (two epoll_ctl calls per wait that way). A
 * started watcher that fires again before its fiber ran is ignored. Before
 * a poll that may block, such watchers are stopped after all (op_stop),
 * else their fds would end the wait at once for as long as their fibers
 * cannot run (held out by the fiber lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ev.h>
#include "rt_internal.h"

struct rt_backend {
    struct rt_thread *t;       /* first, see rt_backend_thread */
    struct ev_loop *loop;
    ev_async async;
    ev_timer poll_timer;
    struct libev_op *done;     /* completions recorded by callbacks */
    struct libev_op *waiting;  /* every op whose fiber is in wait_fd */
    long fired_started;        /* ops whose watcher fired and is still started */
};

struct libev_op {
    ev_io io;
    VALUE fiber;
    struct rt_backend *be;
    struct libev_op *next_done;
    struct libev_op *prev, *next;  /* in be->waiting while linked */
    int linked;
    int revents;
    int fired;                     /* recorded on the done list once */
    int fired_started;             /* fired, and still started: counted in be */
};

/* Stops op's watcher (any number of times). */
static void op_stop(struct rt_backend *be, struct libev_op *op)
{
    ev_io_stop(be->loop, &op->io);
    if (op->fired_started) {
        op->fired_started = 0;
        be->fired_started--;
    }
}

static void waiting_add(struct rt_backend *be, struct libev_op *op)
{
    op->prev = NULL;
    op->next = be->waiting;
    if (be->waiting)
        be->waiting->prev = op;
    be->waiting = op;
    op->linked = 1;
}

static void waiting_remove(struct rt_backend *be, struct libev_op *op)
{
    if (!op->linked)
        return;
    if (op->prev)
        op->prev->next = op->next;
    else
        be->waiting = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->linked = 0;
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct libev_op *op = (struct libev_op *)w;

    (void)loop;
    if (op->fired)
        return;
    op->fired = 1;
    op->fired_started = 1;
    op->be->fired_started++;
    op->revents = revents;
    op->next_done = op->be->done;
    op->be->done = op;
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop; (void)w; (void)revents;
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop; (void)w; (void)revents;
}

static int lv_create(struct rt_thread *t, struct rt_backend **out)
{
    struct rt_backend *be = calloc(1, sizeof(*be));
    if (!be)
        return -ENOMEM;
    be->t = t;
    be->loop = ev_loop_new(EVFLAG_NOSIGMASK);
    if (!be->loop) {
        free(be);
        return -ENOMEM;
    }
    ev_async_init(&be->async, async_cb);
    ev_async_start(be->loop, &be->async);
    ev_init(&be->poll_timer, timer_cb);
    *out = be;
    return 0;
}

static void lv_destroy(struct rt_backend *be)
{
    ev_async_stop(be->loop, &be->async);
    ev_timer_stop(be->loop, &be->poll_timer);
    ev_loop_destroy(be->loop);
    free(be);
}

static void *run_once(void *arg)
{
    struct rt_backend *be = arg;
    ev_run(be->loop, EVRUN_ONCE);
    return NULL;
}

/* Resumes the fibers whose watchers fired; the list survives a raise in poll. */
static int deliver(struct rt_backend *be)
{
    int resumed = 0;
    while (be->done) {
        struct libev_op *op = be->done;
        be->done = op->next_done;
        rt_backend_resume(be->t, op->fiber, INT2FIX(op->revents));
        resumed++;
    }
    return resumed;
}

static int lv_poll(struct rt_backend *be, double timeout)
{
    int resumed = deliver(be);
    if (resumed && timeout != 0)
        timeout = 0;
    if (timeout == 0) {
        ev_run(be->loop, EVRUN_NOWAIT);
    } else {
        if (be->fired_started)
            for (struct libev_op *op = be->waiting; op; op = op->next)
                op_stop(be, op);
        if (timeout > 0) {
            ev_now_update(be->loop);
            ev_timer_set(&be->poll_timer, timeout, 0.);
            ev_timer_start(be->loop, &be->poll_timer);
        }
        rt_backend_nogvl(run_once, be, be);
        ev_timer_stop(be->loop, &be->poll_timer);
    }
    return resumed + deliver(be);
}

/*
 * The thread ended (backend.h): its waiting fibers will never run again, so
 * their watchers, which live on their stacks, leave the loop now.
 */
static void lv_shutdown(struct rt_backend *be)
{
    while (be->waiting) {
        struct libev_op *op = be->waiting;
        op_stop(be, op);
        waiting_remove(be, op);
    }
    be->done = NULL;
}

static void lv_wakeup(struct rt_backend *be)
{
    ev_async_send(be->loop, &be->async);
}

static void lv_suspend(struct rt_backend *be)
{
    ev_suspend(be->loop);
}

static void lv_resume(struct rt_backend *be)
{
    ev_resume(be->loop);
}

/*
 * Takes op off the list of completions poll has not delivered yet: a poll
 * interrupted after ev_run keeps the list, and the fiber may leave its wait
 * (an interrupt, a throw) before the next poll delivers it.
 */
static void forget_done(struct rt_backend *be, struct libev_op *op)
{
    for (struct libev_op **p = &be->done; *p; p = &(*p)->next_done) {
        if (*p == op) {
            *p = op->next_done;
            return;
        }
    }
}

/*
 * fd is being closed (backend.h): the watchers of the ops waiting on it
 * leave the loop now, while the number still names the old file, and a
 * readiness recorded but not yet delivered is dropped (the fibers get an
 * IOError instead, from fd_waiters.c). The ops stay on the waiting list
 * until their fibers unwind them.
 */
static void lv_fd_closing(struct rt_backend *be, int fd)
{
    for (struct libev_op *op = be->waiting; op; op = op->next) {
        if (op->io.fd != fd)
            continue;
        op_stop(be, op);
        forget_done(be, op);
    }
}

static void wait_fd_unwind(void *arg)
{
    struct libev_op *op = arg;
    op_stop(op->be, op);
    forget_done(op->be, op);
    waiting_remove(op->be, op);
}

/* waitpid's pidfd wait left by a throw or a kill: the pidfd goes too. */
static void pidfd_wait_unwind(void *arg)
{
    struct libev_op *op = arg;
    wait_fd_unwind(arg);
    close(op->io.fd);
}

/*
 * Waits for readiness; returns the fiber's resume value (an exception when
 * it was interrupted). The watcher is stopped however the wait ends; on a
 * non-local exit `unwind` runs (wait_fd_unwind, or more).
 */
static VALUE wait_fd_with(struct rt_backend *be, int fd, int events, const char *op_name,
                          void (*unwind)(void *))
{
    struct libev_op op;
    op.fiber = rb_fiber_current();
    op.be = be;
    op.revents = 0;
    op.fired = 0;
    op.fired_started = 0;
    op.next_done = NULL;
    ev_io_init(&op.io, io_cb, fd,
               ((events & RT_IO_READ) ? EV_READ : 0) | ((events & RT_IO_WRITE) ? EV_WRITE : 0));
    ev_io_start(be->loop, &op.io);
    waiting_add(be, &op);
    VALUE v = rt_backend_await_unwind(be->t, op_name, fd, unwind, &op);
    wait_fd_unwind(&op);
    RB_GC_GUARD(op.fiber);
    return v;
}

static VALUE wait_fd(struct rt_backend *be, int fd, int events, const char *op_name)
{
    return wait_fd_with(be, fd, events, op_name, wait_fd_unwind);
}

static void check_interrupt(struct rt_backend *be, VALUE v, const char *op, int fd, long len)
{
    if (!rt_backend_is_interrupt(v))
        return;
    rt_op_complete(be->t, op, fd, len, -ECANCELED);
    rt_backend_raise(v);
}

static int lv_wait_io(struct rt_backend *be, int fd, int events)
{
    rt_op_submit(be->t, "wait_io", fd, 0);
    VALUE v = wait_fd(be, fd, events, "wait_io");
    check_interrupt(be, v, "wait_io", fd, 0);
    int ready = 0;
    if (FIXNUM_P(v)) {
        int rev = FIX2INT(v);
        ready = ((rev & EV_READ) ? RT_IO_READ : 0) | ((rev & EV_WRITE) ? RT_IO_WRITE : 0);
    }
    if (!ready)
        ready = events;
    rt_op_complete(be->t, "wait_io", fd, 0, ready);
    return ready;
}

/* The arguments of one of the syscalls retried by retry_syscall. */
struct sys_call {
    enum { SYS_READ, SYS_RECV, SYS_ACCEPT } kind;
    int fd;
    void *buf;
    size_t len;
    int flags;
    struct sockaddr *addr;
    socklen_t *addrlen;
};

static ssize_t do_syscall(const struct sys_call *c)
{
    switch (c->kind) {
    case SYS_READ: return read(c->fd, c->buf, c->len);
    case SYS_RECV: return recv(c->fd, c->buf, c->len, c->flags | MSG_DONTWAIT);
    default: return accept4(c->fd, c->addr, c->addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    }
}

/* Runs the syscall, again on EINTR, and after readiness on EAGAIN. */
static ssize_t retry_syscall(struct rt_backend *be, const char *op, const struct sys_call *c)
{
    rt_op_fair(be->t, c->fd);
    rt_op_submit(be->t, op, c->fd, (long)c->len);
    ssize_t result;
    for (;;) {
        result = do_syscall(c);
        if (result >= 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            result = -errno;
            break;
        }
        check_interrupt(be, wait_fd(be, c->fd, RT_IO_READ, op), op, c->fd, (long)c->len);
    }
    rt_op_complete(be->t, op, c->fd, (long)c->len, result);
    return result;
}

static ssize_t lv_read(struct rt_backend *be, int fd, void *buf, size_t len)
{
    struct sys_call c = { SYS_READ, fd, buf, len, 0, NULL, NULL };
    return retry_syscall(be, "read", &c);
}

static ssize_t lv_recv(struct rt_backend *be, int fd, void *buf, size_t len, int flags)
{
    struct sys_call c = { SYS_RECV, fd, buf, len, flags, NULL, NULL };
    return retry_syscall(be, "recv", &c);
}

/* Writes everything, waiting as needed; len or -errno. */
static ssize_t write_all(struct rt_backend *be, const char *op, int fd, const char *buf,
                         size_t len, int is_send, int flags)
{
    size_t done = 0;
    ssize_t result = 0;
    rt_op_fair(be->t, fd);
    rt_op_submit(be->t, op, fd, (long)len);
    while (done < len) {
        ssize_t n = is_send ? send(fd, buf + done, len - done, flags | MSG_DONTWAIT | MSG_NOSIGNAL)
                            : write(fd, buf + done, len - done);
        if (n >= 0) {
            done += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            result = -errno;
            break;
        }
        check_interrupt(be, wait_fd(be, fd, RT_IO_WRITE, op), op, fd, (long)len);
    }
    if (result == 0)
        result = (ssize_t)done;
    rt_op_complete(be->t, op, fd, (long)len, result);
    return result;
}

static ssize_t lv_write(struct rt_backend *be, int fd, const void *buf, size_t len)
{
    return write_all(be, "write", fd, buf, len, 0, 0);
}

static ssize_t lv_send(struct rt_backend *be, int fd, const void *buf, size_t len, int flags)
{
    return write_all(be, "send", fd, buf, len, 1, flags);
}

static int lv_accept(struct rt_backend *be, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    struct sys_call c = { SYS_ACCEPT, fd, NULL, 0, 0, addr, addrlen };
    return (int)retry_syscall(be, "accept", &c);
}

static int lv_connect(struct rt_backend *be, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    int result = 0;
    rt_op_submit(be->t, "connect", fd, 0);
    for (;;) {
        if (connect(fd, addr, addrlen) == 0)
            break;
        /* An interrupted connect goes on in the background, as EINPROGRESS. */
        if (errno != EINPROGRESS && errno != EINTR && errno != EALREADY) {
            result = -errno;
            break;
        }
        check_interrupt(be, wait_fd(be, fd, RT_IO_WRITE, "connect"), "connect", fd, 0);
        int err = 0;
        socklen_t elen = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
            err = errno;
        result = -err;
        break;
    }
    rt_op_complete(be->t, "connect", fd, 0, result);
    return result;
}

/* waitpid's short sleep between polls when there is no pidfd. */
struct poll_sleep {
    struct rt_thread *t;
    struct rt_fiber *f;
    struct rt_timer tm;
};

static void poll_sleep_unwind(void *arg)
{
    struct poll_sleep *ps = arg;
    ps->f->wait_timer = NULL;
    rt_timer_stop(&ps->t->timers, &ps->tm);
}

/*
 * A pidfd becomes readable when the child exits (Linux >= 5.3); without
 * pidfd_open the child is polled with short sleeps.
 */
static pid_t lv_waitpid(struct rt_backend *be, pid_t pid, int *status)
{
    pid_t result;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

    rt_op_submit(be->t, "waitpid", pidfd, pid);
    for (;;) {
        result = waitpid(pid, status, WNOHANG);
        if (result < 0 && errno == EINTR)
            continue;
        if (result != 0) {
            if (result < 0)
                result = -errno;
            break;
        }
        VALUE v;
        if (pidfd >= 0) {
            v = wait_fd_with(be, pidfd, RT_IO_READ, "waitpid", pidfd_wait_unwind);
        } else {
            struct poll_sleep ps;
            ps.t = be->t;
            ps.f = rt_fiber_get(rb_fiber_current());
            rt_timer_setup(&ps.tm, ps.f->fiber, Qnil, Qnil);
            if (rt_timer_start(&be->t->timers, &ps.tm, 0.005) < 0) {
                v = Qnil;
            } else {
                ps.f->wait_timer = &ps.tm;
                v = rt_backend_await_unwind(be->t, "waitpid", -1, poll_sleep_unwind, &ps);
                poll_sleep_unwind(&ps);
            }
        }
        if (rt_backend_is_interrupt(v)) {
            if (pidfd >= 0)
                close(pidfd);
            check_interrupt(be, v, "waitpid", pidfd, pid);
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    rt_op_complete(be->t, "waitpid", pidfd, pid, result);
    return result;
}

const struct rt_backend_ops rt_backend_libev_ops = {
    .name = "libev",
    .create = lv_create,
    .destroy = lv_destroy,
    .poll = lv_poll,
    .wakeup = lv_wakeup,
    .suspend = lv_suspend,
    .resume = lv_resume,
    .wait_io = lv_wait_io,
    .read = lv_read,
    .write = lv_write,
    .recv = lv_recv,
    .send = lv_send,
    .accept = lv_accept,
    .connect = lv_connect,
    .waitpid = lv_waitpid,
    .fd_closing = lv_fd_closing,
    .shutdown = lv_shutdown,
};
