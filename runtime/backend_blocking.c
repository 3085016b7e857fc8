/*
 * backend_blocking.c — the ops of backend.h as plain system calls that
 * block the thread, for Ruby code that runs inside a fiber's wait: a trap
 * handler Ruby runs while the loop polls, the idle proc, a debugger stop
 * made there (rt_ops in rt_internal.h chooses this table while t->nested).
 *
 * That code runs on the stack of a fiber that is itself waiting in an op.
 * It cannot wait through the scheduler: the fiber's wake-ups are keyed by
 * the fiber, so a second wait on the same fiber would take the wake-up of
 * the first and leave it waiting for ever. So, as Ruby's own blocking I/O
 * does, each op tries the syscall and, when the fd is not ready, waits for
 * it with poll(2) without the GVL (Ruby's unblocking function for I/O, so
 * signals, Thread#raise and other threads get through). The backend is
 * not touched: completions of other fibers' ops stay in the kernel (the
 * ring, the watched fds) until the interrupted poll looks at them, and
 * nothing of the fiber's own wait is disturbed. Timers do not fire
 * meanwhile; a sleep there sleeps the thread (rt_blocking_sleep). Op
 * events are emitted as for any op.
 */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <ruby/thread.h>
#include "rt_internal.h"

struct bk_poll {
    struct pollfd p;
    int timeout_ms;
    int ret, err;
};

static void *bk_poll_nogvl(void *arg)
{
    struct bk_poll *c = arg;

    c->ret = poll(&c->p, 1, c->timeout_ms);
    c->err = errno;
    return NULL;
}

/*
 * Waits until fd is ready for `events` (POLLIN, POLLOUT) or timeout_ms
 * passed (< 0: no limit); the revents, 0 on timeout, or -errno. Ruby
 * checks interrupts around the wait, so a pending exception is raised
 * from here.
 */
static int bk_wait(int fd, short events, int timeout_ms)
{
    struct bk_poll c = { { fd, events, 0 }, timeout_ms, 0, 0 };

    for (;;) {
        c.p.revents = 0;
        rb_thread_call_without_gvl(bk_poll_nogvl, &c, RUBY_UBF_IO, NULL);
        if (c.ret > 0)
            return c.p.revents;
        if (c.ret == 0 && timeout_ms >= 0)
            return 0;
        if (c.ret < 0 && c.err != EINTR)
            return -c.err;
    }
}

static int bk_ready_mask(int revents, int asked)
{
    int ready = 0;

    if (revents & (POLLIN | POLLHUP | POLLERR | POLLPRI))
        ready |= RT_IO_READ;
    if (revents & (POLLOUT | POLLHUP | POLLERR))
        ready |= RT_IO_WRITE;
    ready &= asked;
    return ready ? ready : asked;
}

static short bk_poll_events(int events)
{
    return (short)(((events & RT_IO_READ) ? POLLIN : 0) | ((events & RT_IO_WRITE) ? POLLOUT : 0));
}

int rt_blocking_wait_fd(int fd, int events, double timeout)
{
    int ms = timeout < 0 ? -1 : (int)(timeout * 1000.0 + 0.999);
    int r = bk_wait(fd, bk_poll_events(events), ms);

    if (r < 0)
        rb_syserr_fail(-r, "poll");
    return r == 0 ? 0 : bk_ready_mask(r, events);
}

void rt_blocking_sleep(double seconds)
{
    struct timespec now;
    double deadline;

    clock_gettime(CLOCK_MONOTONIC, &now);
    deadline = (double)now.tv_sec + (double)now.tv_nsec / 1e9 + seconds;
    for (;;) {
        double left;
        struct bk_poll c = { { -1, 0, 0 }, 0, 0, 0 };

        clock_gettime(CLOCK_MONOTONIC, &now);
        left = deadline - ((double)now.tv_sec + (double)now.tv_nsec / 1e9);
        if (left <= 0)
            return;
        c.timeout_ms = left > 86400.0 ? 86400000 : (int)(left * 1000.0 + 0.999);
        rb_thread_call_without_gvl(bk_poll_nogvl, &c, RUBY_UBF_IO, NULL);
    }
}

static int bk_wait_io(struct rt_backend *be, int fd, int events)
{
    struct rt_thread *t = rt_backend_thread(be);
    int r;

    rt_op_submit(t, "wait_io", fd, 0);
    r = bk_wait(fd, bk_poll_events(events), -1);
    if (r >= 0)
        r = bk_ready_mask(r, events);
    rt_op_complete(t, "wait_io", fd, 0, r);
    return r;
}

enum bk_kind { BK_READ, BK_RECV, BK_WRITE, BK_SEND };

static ssize_t bk_syscall(enum bk_kind kind, int fd, char *buf, size_t len, int flags)
{
    switch (kind) {
    case BK_READ: return read(fd, buf, len);
    case BK_RECV: return recv(fd, buf, len, flags | MSG_DONTWAIT);
    case BK_WRITE: return write(fd, buf, len);
    default: return send(fd, buf, len, flags | MSG_DONTWAIT | MSG_NOSIGNAL);
    }
}

/* read and recv return what one call got; write and send write it all. */
static ssize_t bk_rw(struct rt_backend *be, enum bk_kind kind, int fd, char *buf, size_t len,
                     int flags)
{
    static const char *const names[] = { "read", "recv", "write", "send" };
    struct rt_thread *t = rt_backend_thread(be);
    int is_write = kind == BK_WRITE || kind == BK_SEND;
    size_t done = 0;
    ssize_t res = 0;

    rt_op_submit(t, names[kind], fd, (long)len);
    for (;;) {
        ssize_t n = bk_syscall(kind, fd, buf + done, len - done, flags);

        if (n >= 0 && !is_write) {
            res = n;
            break;
        }
        if (n >= 0) {
            done += (size_t)n;
            if (done < len && n > 0)
                continue;
            res = (ssize_t)done;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            res = -errno;
            break;
        }
        n = bk_wait(fd, is_write ? POLLOUT : POLLIN, -1);
        if (n < 0) {
            res = n;
            break;
        }
    }
    rt_op_complete(t, names[kind], fd, (long)len, res);
    return res;
}

static ssize_t bk_read(struct rt_backend *be, int fd, void *buf, size_t len)
{
    return bk_rw(be, BK_READ, fd, buf, len, 0);
}

static ssize_t bk_write(struct rt_backend *be, int fd, const void *buf, size_t len)
{
    return bk_rw(be, BK_WRITE, fd, (char *)(uintptr_t)buf, len, 0);
}

static ssize_t bk_recv(struct rt_backend *be, int fd, void *buf, size_t len, int flags)
{
    return bk_rw(be, BK_RECV, fd, buf, len, flags);
}

static ssize_t bk_send(struct rt_backend *be, int fd, const void *buf, size_t len, int flags)
{
    return bk_rw(be, BK_SEND, fd, (char *)(uintptr_t)buf, len, flags);
}

static int bk_accept(struct rt_backend *be, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    struct rt_thread *t = rt_backend_thread(be);
    int res;

    rt_op_submit(t, "accept", fd, 0);
    for (;;) {
        res = accept4(fd, addr, addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (res >= 0)
            break;
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            res = -errno;
            break;
        }
        res = bk_wait(fd, POLLIN, -1);
        if (res < 0)
            break;
    }
    rt_op_complete(t, "accept", fd, 0, res);
    return res;
}

static int bk_connect(struct rt_backend *be, int fd, const struct sockaddr *addr,
                      socklen_t addrlen)
{
    struct rt_thread *t = rt_backend_thread(be);
    int res = 0;

    rt_op_submit(t, "connect", fd, 0);
    if (connect(fd, addr, addrlen) < 0) {
        /* An interrupted connect goes on in the background, as EINPROGRESS. */
        if (errno != EINPROGRESS && errno != EINTR && errno != EALREADY) {
            res = -errno;
        } else {
            res = bk_wait(fd, POLLOUT, -1);
            if (res >= 0) {
                int err = 0;
                socklen_t elen = sizeof(err);

                res = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 ? -errno : -err;
            }
        }
    }
    rt_op_complete(t, "connect", fd, 0, res);
    return res;
}

struct bk_waitpid {
    pid_t pid;
    int *status;
    pid_t ret;
    int err;
};

static void *bk_waitpid_nogvl(void *arg)
{
    struct bk_waitpid *w = arg;

    w->ret = waitpid(w->pid, w->status, 0);
    w->err = errno;
    return NULL;
}

static pid_t bk_waitpid(struct rt_backend *be, pid_t pid, int *status)
{
    struct rt_thread *t = rt_backend_thread(be);
    struct bk_waitpid w = { pid, status, 0, 0 };

    rt_op_submit(t, "waitpid", -1, pid);
    for (;;) {
        rb_thread_call_without_gvl(bk_waitpid_nogvl, &w, RUBY_UBF_IO, NULL);
        if (w.ret >= 0 || w.err != EINTR)
            break;
    }
    if (w.ret < 0)
        w.ret = -w.err;
    rt_op_complete(t, "waitpid", -1, pid, w.ret);
    return w.ret;
}

/*
 * Only the ops: create, poll, wakeup and the rest are the thread's real
 * backend's, never called through this table. No close op: the caller
 * closes the fd itself.
 */
const struct rt_backend_ops rt_backend_blocking_ops = {
    .name = "blocking",
    .wait_io = bk_wait_io,
    .read = bk_read,
    .write = bk_write,
    .recv = bk_recv,
    .send = bk_send,
    .accept = bk_accept,
    .connect = bk_connect,
    .waitpid = bk_waitpid,
};
