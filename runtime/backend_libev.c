/*
 * backend_libev.c — the libev backend (backend.h): one ev_loop per thread,
 * readiness watchers for the fds fibers wait on, an ev_async to be woken from
 * other threads and from Ruby's unblocking function. Ops try the syscall on
 * the non-blocking fd first and wait for readiness only on EAGAIN.
 *
 * A wait uses the backend's watcher for its fd (fd_watcher) when no other
 * wait holds it, else a watcher in a struct on the waiting fiber's C stack.
 * Callbacks run inside ev_run without the GVL, so they only record the
 * completion on a list; poll resumes the fibers once the GVL is back.
 *
 * The per-fd watcher stays started when its wait ends, so the next wait on
 * the fd (a connection's next read) neither stops nor starts it: no
 * epoll_ctl at all. (A watcher made afresh for each wait costs one: libev
 * re-registers the fd of a newly set watcher, as the number may name
 * another file since, and the kernel answers EEXIST.) If it fires with no
 * wait holding it, it is stopped then. Only read watchers are kept: a
 * socket is writable nearly always, so a write watcher left started would
 * fire at the next poll for nobody.
 *
 * A started watcher is only as good as the file behind its number. A close
 * the runtime sees (IO#close, IO#reopen, a number handed out by accept)
 * makes the backend forget it (lv_fd_forget). A close it cannot see (an
 * IO's finalizer, an extension's close, a dup2 over the fd) leaves it
 * started for a file that is gone, which the kernel took out of the epoll
 * set: a wait on a new file under the number would never fire. So a wait
 * that reuses a started watcher is "unchecked" until it fires, and one
 * that has not fired after UNCHECKED_POLLS polls has its fd registered
 * again (one epoll_ctl, what every wait used to cost); while unchecked
 * waits exist a poll blocks at most UNCHECKED_MAX_BLOCK seconds. A wait on
 * a file put under the number behind the runtime's back is thus woken
 * late, never lost.
 *
 * A watcher that fired stays started at least until its fiber runs:
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

/* fds numbered from here on get no per-fd watcher (a watcher per wait). */
#define FD_WATCHERS_MAX (1 << 20)
/*
 * An unchecked wait is registered again once this many polls have begun
 * since it began without it firing; meanwhile a poll blocks at most
 * UNCHECKED_MAX_BLOCK seconds (the top comment says why). One poll is too
 * few: a wait often begins just before the scheduler's next poll, before
 * the peer could answer.
 */
#define UNCHECKED_POLLS 2
#define UNCHECKED_MAX_BLOCK 0.01

/* The per-fd watcher: io.data is the op holding it, or NULL. */
struct fd_watcher {
    ev_io io;
};

struct rt_backend {
    struct rt_thread *t;       /* first, see rt_backend_thread */
    struct ev_loop *loop;
    ev_async async;
    ev_timer poll_timer;
    struct libev_op *done;     /* completions recorded by callbacks */
    struct libev_op *waiting;  /* every op whose fiber is in wait_fd */
    long fired_started;        /* ops whose watcher fired and is still started */
    struct fd_watcher **fds;   /* per fd number, allocated on first use */
    size_t fds_len;
    struct libev_op *unchecked;  /* ops reusing a started watcher, not fired yet */
    unsigned long polls;       /* polls begun */
};

struct libev_op {
    ev_io own;                     /* the watcher, unless it uses a per-fd one */
    ev_io *w;                      /* own, or &fd_watcher.io */
    VALUE fiber;
    struct rt_backend *be;
    struct libev_op *next_done;
    struct libev_op *prev, *next;  /* in be->waiting while linked */
    struct libev_op *uprev, *unext;  /* in be->unchecked while unchecked */
    unsigned long poll_mark;       /* be->polls when it became unchecked */
    int linked;
    int unchecked;
    int revents;
    int fired;                     /* recorded on the done list once */
    int fired_started;             /* fired, and still started: counted in be */
};

static void io_cb(struct ev_loop *loop, ev_io *w, int revents);

static int op_uses_fd_watcher(const struct libev_op *op)
{
    return op->w != &op->own;
}

static void unchecked_remove(struct rt_backend *be, struct libev_op *op)
{
    if (!op->unchecked)
        return;
    if (op->uprev)
        op->uprev->unext = op->unext;
    else
        be->unchecked = op->unext;
    if (op->unext)
        op->unext->uprev = op->uprev;
    op->unchecked = 0;
}

static void unchecked_add(struct rt_backend *be, struct libev_op *op)
{
    op->uprev = NULL;
    op->unext = be->unchecked;
    if (be->unchecked)
        be->unchecked->uprev = op;
    be->unchecked = op;
    op->unchecked = 1;
    op->poll_mark = be->polls;
}

/* Stops op's watcher (any number of times). */
static void op_stop(struct rt_backend *be, struct libev_op *op)
{
    ev_io_stop(be->loop, op->w);
    unchecked_remove(be, op);
    if (op->fired_started) {
        op->fired_started = 0;
        be->fired_started--;
    }
}

/*
 * The wait is over: its own watcher is stopped; a per-fd watcher is let go
 * of and stays started (or stopped, if op_stop stopped it) for the next
 * wait on the fd.
 */
static void op_release(struct rt_backend *be, struct libev_op *op)
{
    if (!op_uses_fd_watcher(op)) {
        op_stop(be, op);
        return;
    }
    if (op->w->events & EV_WRITE)
        ev_io_stop(be->loop, op->w);
    unchecked_remove(be, op);
    if (op->fired_started) {
        op->fired_started = 0;
        be->fired_started--;
    }
    op->w->data = NULL;
}

/* fd's watcher, made on first use; NULL when fd gets none. */
static struct fd_watcher *fd_watcher_get(struct rt_backend *be, int fd)
{
    if (fd < 0 || fd >= FD_WATCHERS_MAX)
        return NULL;
    if ((size_t)fd >= be->fds_len) {
        size_t len = be->fds_len ? be->fds_len : 64;
        struct fd_watcher **p;

        while (len <= (size_t)fd)
            len *= 2;
        p = realloc(be->fds, len * sizeof(*p));
        if (!p)
            return NULL;
        for (size_t i = be->fds_len; i < len; i++)
            p[i] = NULL;
        be->fds = p;
        be->fds_len = len;
    }
    if (!be->fds[fd]) {
        struct fd_watcher *fw = calloc(1, sizeof(*fw));
        if (!fw)
            return NULL;
        ev_init(&fw->io, io_cb);
        fw->io.data = NULL;
        be->fds[fd] = fw;
    }
    return be->fds[fd];
}

/*
 * Registers op's watcher with the kernel again, as libev does for a newly
 * set watcher: it now names whatever file the number names.
 */
static void op_reregister(struct rt_backend *be, struct libev_op *op)
{
    int fd = op->w->fd, events = op->w->events & (EV_READ | EV_WRITE);

    ev_io_stop(be->loop, op->w);
    ev_io_set(op->w, fd, events);
    ev_io_start(be->loop, op->w);
}

/*
 * Before a poll: the unchecked waits that went through a whole poll
 * without firing are registered again (the top comment says why).
 */
static void check_unchecked(struct rt_backend *be)
{
    struct libev_op *op = be->unchecked;
    while (op) {
        struct libev_op *next = op->unext;
        if (be->polls - op->poll_mark >= UNCHECKED_POLLS) {
            unchecked_remove(be, op);
            op_reregister(be, op);
        }
        op = next;
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
    struct libev_op *op = w->data;

    if (!op) {
        /* A per-fd watcher no wait holds: its fd is ready for nobody. */
        ev_io_stop(loop, w);
        return;
    }
    if (op->fired)
        return;
    op->fired = 1;
    unchecked_remove(op->be, op);
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
    for (size_t fd = 0; fd < be->fds_len; fd++) {
        if (be->fds[fd]) {
            ev_io_stop(be->loop, &be->fds[fd]->io);
            free(be->fds[fd]);
        }
    }
    free(be->fds);
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
    if (be->unchecked)
        check_unchecked(be);
    be->polls++;
    if (be->unchecked && (timeout < 0 || timeout > UNCHECKED_MAX_BLOCK))
        timeout = UNCHECKED_MAX_BLOCK;
    if (timeout == 0) {
        ev_run(be->loop, EVRUN_NOWAIT);
    } else {
        if (be->fired_started)
            for (struct libev_op *op = be->waiting; op; op = op->next)
                if (op->fired_started)
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
        op->w->data = NULL;
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
        if (op->w->fd != fd)
            continue;
        op_stop(be, op);
        forget_done(be, op);
    }
}

/*
 * fd is being closed or replaced by this thread (backend.h): its per-fd
 * watcher, if no wait holds it, is stopped, so the next wait on the
 * number registers it afresh.
 */
static void lv_fd_forget(struct rt_backend *be, int fd)
{
    if (fd >= 0 && (size_t)fd < be->fds_len && be->fds[fd] && !be->fds[fd]->io.data)
        ev_io_stop(be->loop, &be->fds[fd]->io);
}

static void wait_fd_unwind(void *arg)
{
    struct libev_op *op = arg;
    op_release(op->be, op);
    forget_done(op->be, op);
    waiting_remove(op->be, op);
}

/* waitpid's pidfd wait left by a throw or a kill: the pidfd goes too. */
static void pidfd_wait_unwind(void *arg)
{
    struct libev_op *op = arg;
    wait_fd_unwind(arg);
    close(op->own.fd);
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
    int ev = ((events & RT_IO_READ) ? EV_READ : 0) | ((events & RT_IO_WRITE) ? EV_WRITE : 0);
    /* waitpid's pidfd, closed right after, gets a watcher of its own. */
    struct fd_watcher *fw = unwind == wait_fd_unwind ? fd_watcher_get(be, fd) : NULL;

    op.fiber = rb_fiber_current();
    op.be = be;
    op.revents = 0;
    op.fired = 0;
    op.fired_started = 0;
    op.unchecked = 0;
    op.next_done = NULL;
    if (fw && !fw->io.data) {
        op.w = &fw->io;
        fw->io.data = &op;
        if (ev_is_active(&fw->io) && (fw->io.events & (EV_READ | EV_WRITE)) == ev) {
            unchecked_add(be, &op);
        } else {
            ev_io_stop(be->loop, &fw->io);
            ev_io_set(&fw->io, fd, ev);
            ev_io_start(be->loop, &fw->io);
        }
    } else {
        op.w = &op.own;
        ev_io_init(&op.own, io_cb, fd, ev);
        op.own.data = &op;
        ev_io_start(be->loop, &op.own);
    }
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
    int conn = (int)retry_syscall(be, "accept", &c);
    /* The number is new to the runtime: a watcher left on it is stale. */
    if (conn >= 0)
        lv_fd_forget(be, conn);
    return conn;
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
    .fair_poll_ns = 100000,     /* epoll_wait costs 1-3 us on a VM: <= 3 % */
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
    .fd_forget = lv_fd_forget,
    .shutdown = lv_shutdown,
};
