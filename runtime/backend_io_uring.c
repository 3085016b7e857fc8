/*
 * backend_io_uring.c — the io_uring backend (liburing) behind backend.h.
 *
 * Each op gets an SQE whose user_data points at a struct uring_op on the
 * calling fiber's C stack; the fiber then awaits (rt_backend_await) until
 * poll reaps the matching CQE and resumes it. An interrupted op submits
 * IORING_OP_ASYNC_CANCEL and keeps awaiting until the original CQE has
 * arrived, so the kernel never touches the caller's buffer after the op
 * returns. When the submission queue is full, the backend submits what it has
 * and retries instead of failing.
 *
 * Waking: an eventfd always has a read op armed in the ring; wakeup (also the
 * unblocking function of the GVL-free wait) writes to it, which completes the
 * read and ends the kernel wait, so signals and other threads get through.
 *
 * SQEs are queued and submitted together by the next poll (the scheduler
 * polls when nothing is runnable, and every few switches otherwise).
 *
 * Timers are not here (timers.c drives poll's timeout). Child processes are
 * awaited through a pidfd polled in the ring. A pipe that Ruby made
 * non-blocking answers -EAGAIN to io_uring; such an op waits for readiness
 * with a poll op and retries. Sockets are read and written with recv and
 * send, which wait in the kernel whatever the fd's flags.
 *
 * POLYPHONY_FORCE_URING_FAIL=1 makes create fail with -ENOSYS, as a kernel
 * refusing io_uring would: tests use it to check the fallback to libev.
 */
#include "surface.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Entries in the submission queue (the completion queue is twice that);
 * POLYPHONY_URING_ENTRIES overrides it (tests use a tiny ring).
 */
#define URING_ENTRIES 256

/* user_data of the eventfd read; 0 marks CQEs nobody waits for (cancels). */
#define URING_WAKE_TAG ((uint64_t)1)

/*
 * One op in flight, on the waiting fiber's C stack; linked in the backend's
 * in-flight list from its submission until its CQE is reaped.
 */
struct uring_op {
    VALUE fiber;
    int fd;             /* the fd the op names, for fd_closing */
    int result;
    int done;
    int cancelled;      /* an IORING_OP_ASYNC_CANCEL for it was queued */
    struct uring_op *prev, *next;
};

struct rt_backend {
    struct rt_thread *t;
    struct io_uring ring;
    int wake_fd;            /* eventfd written by wakeup */
    uint64_t wake_buf;      /* the armed read's target */
    int wake_armed;         /* an eventfd read is in the ring */
    unsigned long full;     /* times the queue was full and got submitted */
    struct uring_op *inflight;  /* ops whose CQE has not been reaped */
    unsigned long inflight_count;
    int shut_down;          /* the thread ended: reaping resumes nobody */
    unsigned char *fd_kind; /* per fd: FD_UNKNOWN, FD_SOCKET, FD_OTHER (is_socket) */
    size_t fd_kind_len;
};

static void inflight_add(struct rt_backend *be, struct uring_op *op)
{
    op->prev = NULL;
    op->next = be->inflight;
    if (be->inflight)
        be->inflight->prev = op;
    be->inflight = op;
    be->inflight_count++;
}

static void inflight_remove(struct rt_backend *be, struct uring_op *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else
        be->inflight = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->prev = op->next = NULL;
    be->inflight_count--;
}

/* Per-fd facts for is_socket (below). */
#define FD_KIND_MAX (1u << 20)   /* fds above are looked at every time */
enum { FD_UNKNOWN = 0, FD_SOCKET = 1, FD_OTHER = 2 };

static void fd_kind_set(struct rt_backend *be, int fd, int kind)
{
    if (fd < 0 || (unsigned)fd >= FD_KIND_MAX)
        return;
    if ((size_t)fd >= be->fd_kind_len) {
        size_t len = be->fd_kind_len ? be->fd_kind_len : 64;
        unsigned char *p;

        if (kind == FD_UNKNOWN)
            return;
        while (len <= (size_t)fd)
            len *= 2;
        p = realloc(be->fd_kind, len);
        if (!p)
            return;
        memset(p + be->fd_kind_len, FD_UNKNOWN, len - be->fd_kind_len);
        be->fd_kind = p;
        be->fd_kind_len = len;
    }
    be->fd_kind[fd] = (unsigned char)kind;
}

static int is_socket(struct rt_backend *be, int fd)
{
    struct stat st;
    int kind = fd >= 0 && (size_t)fd < be->fd_kind_len ? be->fd_kind[fd] : FD_UNKNOWN;

    if (kind != FD_UNKNOWN)
        return kind == FD_SOCKET;
    kind = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) ? FD_SOCKET : FD_OTHER;
    fd_kind_set(be, fd, kind);
    return kind == FD_SOCKET;
}

/* Completions found without the GVL are handled here, with it. */
static int uring_reap(struct rt_backend *be)
{
    struct io_uring_cqe *cqe;
    int resumed = 0;

    while (io_uring_peek_cqe(&be->ring, &cqe) == 0) {
        uint64_t data = cqe->user_data;
        int res = cqe->res;

        io_uring_cqe_seen(&be->ring, cqe);
        if (data == 0)
            continue;
        if (data == URING_WAKE_TAG) {
            be->wake_armed = 0;
            continue;
        }
        struct uring_op *op = (struct uring_op *)(uintptr_t)data;
        op->result = res;
        op->done = 1;
        inflight_remove(be, op);
        if (be->shut_down)
            continue;
        rt_backend_resume(be->t, op->fiber, Qnil);
        resumed++;
    }
    return resumed;
}

/* Submits what is queued; a kernel short of completion room gets reaped. */
static void uring_submit(struct rt_backend *be)
{
    for (;;) {
        int ret = io_uring_submit(&be->ring);

        if (ret >= 0)
            return;
        if (ret == -EBUSY || ret == -EAGAIN) {
            uring_reap(be);
            if (io_uring_sq_ready(&be->ring) == 0)
                return;
            continue;
        }
        if (ret != -EINTR)
            return;
    }
}

/* An SQE, submitting the queued ones first when the queue is full. */
static struct io_uring_sqe *uring_sqe(struct rt_backend *be)
{
    struct io_uring_sqe *sqe;

    while (!(sqe = io_uring_get_sqe(&be->ring))) {
        be->full++;
        uring_submit(be);
    }
    memset(sqe, 0, sizeof(*sqe));
    return sqe;
}

static void uring_arm_wake(struct rt_backend *be)
{
    struct io_uring_sqe *sqe;

    if (be->wake_armed)
        return;
    sqe = uring_sqe(be);
    io_uring_prep_read(sqe, be->wake_fd, &be->wake_buf, sizeof(be->wake_buf), 0);
    io_uring_sqe_set_data64(sqe, URING_WAKE_TAG);
    be->wake_armed = 1;
}

/*
 * One op as the hooks see it: its name, fd and length, and the interrupt
 * that ended it early (Qnil while none).
 */
struct uring_call {
    const char *name;
    int fd;
    long len;
    VALUE interrupt;
    int unwind_close;   /* an fd to close if the op is left by a throw, or -1 */
};

/* What uring_await_unwind needs to abandon an op. */
struct uring_await {
    struct rt_backend *be;
    struct uring_op *op;
    struct uring_call *call;
};

/* Queues the cancellation of op, once; its CQE still comes and is awaited. */
static void uring_cancel(struct rt_backend *be, struct uring_op *op)
{
    struct io_uring_sqe *sqe;

    if (op->done || op->cancelled)
        return;
    sqe = uring_sqe(be);
    io_uring_prep_cancel(sqe, op, 0);
    io_uring_sqe_set_data64(sqe, 0);
    op->cancelled = 1;
}

/*
 * The fiber's stack is being unwound past an op still in flight (a throw at
 * the interrupt point, its thread killed): cancel the op and wait here,
 * blocking, for its CQE, so the kernel is done with the buffer and the
 * uring_op before the unwinding frees them.
 */
static void uring_abandon(struct rt_backend *be, struct uring_op *op)
{
    if (op->done)
        return;
    uring_cancel(be, op);
    while (!op->done) {
        struct io_uring_cqe *cqe;
        int ret = io_uring_submit_and_wait(&be->ring, 1);

        if (ret < 0 && ret != -EINTR && ret != -EBUSY && ret != -EAGAIN)
            break;
        if (io_uring_peek_cqe(&be->ring, &cqe) == 0)
            uring_reap(be);
    }
    if (!op->done)
        inflight_remove(be, op); /* the ring failed: its stack is going */
}

static void uring_await_unwind(void *arg)
{
    struct uring_await *a = arg;

    uring_abandon(a->be, a->op);
    if (a->call->unwind_close >= 0) {
        close(a->call->unwind_close);
        a->call->unwind_close = -1;
    }
}

/*
 * Runs the op whose SQE was just prepared with `op` as user_data, for the
 * current fiber, and returns the CQE's result. When the fiber is
 * interrupted, the op is cancelled and its CQE awaited all the same; the
 * interrupt is kept in call->interrupt and -ECANCELED returned, for
 * uring_end to raise once the caller has cleaned up.
 */
static int uring_run(struct rt_backend *be, struct uring_op *op, struct uring_call *call)
{
    struct uring_await args = { be, op, call };

    op->fiber = rt_backend_current_fiber(be->t);
    op->fd = call->fd;
    op->done = 0;
    op->result = 0;
    op->cancelled = 0;
    inflight_add(be, op);
    /* Not submitted here: poll submits everything queued in one go (and a
     * full queue is submitted by uring_sqe). */
    while (!op->done) {
        VALUE v = rt_backend_await_unwind(be->t, call->name, call->fd,
                                          uring_await_unwind, &args);

        /* An interrupt wins even when the CQE came in the same poll. */
        if (rt_backend_is_interrupt(v) && call->interrupt == Qnil) {
            call->interrupt = v;
            uring_cancel(be, op);
        }
    }
    RB_GC_GUARD(call->interrupt);
    return call->interrupt != Qnil ? -ECANCELED : op->result;
}

/* Step 5 of an op: the complete event, then the interrupt if any. */
static long uring_end(struct rt_backend *be, struct uring_call *call, long res)
{
    if (call->interrupt != Qnil) {
        rt_op_complete(be->t, call->name, call->fd, call->len, -ECANCELED);
        rt_backend_raise(call->interrupt);
    }
    rt_op_complete(be->t, call->name, call->fd, call->len, res);
    return res;
}

static void uring_begin(struct rt_backend *be, struct uring_call *call, const char *name,
                        int fd, long len)
{
    call->name = name;
    call->fd = fd;
    call->len = len;
    call->interrupt = Qnil;
    call->unwind_close = -1;
    rt_op_submit(be->t, name, fd, len);
}

/* Waits for poll events on fd through the ring; returns revents or -errno. */
static int uring_poll_fd(struct rt_backend *be, struct uring_call *call, int fd,
                         unsigned mask)
{
    struct uring_op op;
    struct io_uring_sqe *sqe = uring_sqe(be);

    io_uring_prep_poll_add(sqe, fd, mask);
    io_uring_sqe_set_data(sqe, &op);
    return uring_run(be, &op, call);
}

/* --- lifecycle ------------------------------------------------------------ */

static int ur_create(struct rt_thread *t, struct rt_backend **out)
{
    const char *force = getenv("POLYPHONY_FORCE_URING_FAIL");
    struct rt_backend *be;
    int ret, entries;

    if (force && strcmp(force, "1") == 0)
        return -ENOSYS;
    be = calloc(1, sizeof(*be));
    if (!be)
        return -ENOMEM;
    be->t = t;
    entries = getenv("POLYPHONY_URING_ENTRIES") ? atoi(getenv("POLYPHONY_URING_ENTRIES")) : 0;
    ret = io_uring_queue_init(entries > 0 ? (unsigned)entries : URING_ENTRIES, &be->ring, 0);
    if (ret < 0) {
        free(be);
        return ret;
    }
    /* Blocking on purpose: io_uring answers a read of a non-blocking fd
     * with -EAGAIN instead of waiting. */
    be->wake_fd = eventfd(0, EFD_CLOEXEC);
    if (be->wake_fd < 0) {
        ret = -errno;
        io_uring_queue_exit(&be->ring);
        free(be);
        return ret;
    }
    *out = be;
    return 0;
}

static void ur_destroy(struct rt_backend *be)
{
    if (!be)
        return;
    io_uring_queue_exit(&be->ring);
    close(be->wake_fd);
    free(be->fd_kind);
    free(be);
}

/*
 * The thread ended while fibers still wait in ops (backend.h): cancel each
 * op and reap until every CQE is in, for at most URING_SHUTDOWN_SECS, so
 * the kernel is done with the fibers' buffers before the GC frees them.
 * The fibers are not resumed.
 */
#define URING_SHUTDOWN_SECS 2.0

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ur_shutdown(struct rt_backend *be)
{
    double deadline = mono_now() + URING_SHUTDOWN_SECS;

    be->shut_down = 1;
    for (struct uring_op *op = be->inflight; op; op = op->next) {
        op->cancelled = 0; /* a cancel queued earlier may have failed */
        uring_cancel(be, op);
    }
    while (be->inflight && mono_now() < deadline) {
        struct __kernel_timespec ts = { 0, 50 * 1000 * 1000 };
        struct io_uring_cqe *cqe;

        uring_submit(be);
        io_uring_wait_cqe_timeout(&be->ring, &cqe, &ts);
        uring_reap(be);
    }
}

/*
 * fd is being closed (backend.h): ops on it that are only queued are
 * submitted now, so they resolve the old file rather than whatever gets
 * the number next, and every op on it is cancelled. Their fibers, resumed
 * with an IOError, await the cancelled CQEs before raising.
 */
static void ur_fd_closing(struct rt_backend *be, int fd)
{
    int any = 0;

    fd_kind_set(be, fd, FD_UNKNOWN);
    for (struct uring_op *op = be->inflight; op; op = op->next) {
        if (op->fd == fd && !op->done) {
            uring_cancel(be, op);
            any = 1;
        }
    }
    if (any)
        uring_submit(be);
}

/* fd is being closed or replaced (backend.h): its fact is forgotten. */
static void ur_fd_forget(struct rt_backend *be, int fd)
{
    fd_kind_set(be, fd, FD_UNKNOWN);
}

/* --- the loop ------------------------------------------------------------- */

struct uring_wait {
    struct rt_backend *be;
    struct __kernel_timespec ts;
    int has_timeout;
    int ret;
};

static void *uring_wait_nogvl(void *arg)
{
    struct uring_wait *w = arg;
    struct io_uring_cqe *cqe;

    w->ret = io_uring_submit_and_wait_timeout(&w->be->ring, &cqe, 1,
                                              w->has_timeout ? &w->ts : NULL, NULL);
    return NULL;
}

static int ur_poll(struct rt_backend *be, double timeout)
{
    struct uring_wait w;

    uring_arm_wake(be);
    if (timeout == 0 || io_uring_cq_ready(&be->ring) > 0) {
        uring_submit(be);
        return uring_reap(be);
    }
    memset(&w, 0, sizeof(w));
    w.be = be;
    if (timeout > 0) {
        w.has_timeout = 1;
        w.ts.tv_sec = (long long)timeout;
        w.ts.tv_nsec = (long long)((timeout - (double)w.ts.tv_sec) * 1e9);
    }
    if (!rt_backend_nogvl(uring_wait_nogvl, &w, be))
        uring_submit(be); /* not waited: an interrupt came first */
    if (w.ret < 0 && w.ret != -ETIME && w.ret != -EINTR && w.ret != -EAGAIN &&
        w.ret != -EBUSY)
        return w.ret;
    return uring_reap(be);
}

static void ur_wakeup(struct rt_backend *be)
{
    uint64_t one = 1;
    ssize_t n;

    do {
        n = write(be->wake_fd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
}

/* --- ops ------------------------------------------------------------------- */

static int ur_wait_io(struct rt_backend *be, int fd, int events)
{
    struct uring_call call;
    int res;
    unsigned mask = ((events & RT_IO_READ) ? POLLIN : 0) | ((events & RT_IO_WRITE) ? POLLOUT : 0);

    uring_begin(be, &call, "wait_io", fd, 0);
    res = uring_poll_fd(be, &call, fd, mask);
    if (res >= 0) {
        int ready = 0;

        if (res & (POLLIN | POLLHUP | POLLERR | POLLPRI))
            ready |= RT_IO_READ;
        if (res & (POLLOUT | POLLHUP | POLLERR))
            ready |= RT_IO_WRITE;
        ready &= events;
        res = ready ? ready : events;
    }
    return (int)uring_end(be, &call, res);
}

enum uring_rw { UR_READ, UR_WRITE, UR_RECV, UR_SEND };

/*
 * io_uring answers a read or write of a non-blocking fd (Ruby makes pipes
 * and sockets non-blocking) with -EAGAIN; its recv and send wait instead,
 * so sockets are read and written with those.
 *
 * Whether an fd is a socket is remembered per fd number (an fstat per op
 * cost more than the op's own system call time), forgotten when the
 * runtime closes the fd (ur_close, ur_fd_closing) and learnt at accept. A
 * close it does not see (a C extension's, a finalizer's) can leave the
 * fact stale: a socket taken for another file is still read right (plain
 * read and write work on sockets, with a readiness wait on -EAGAIN), and
 * another file taken for a socket answers -ENOTSOCK, which sends the op
 * back to read or write and corrects the fact.
 */

/*
 * read, write, recv and send: one SQE, and on -EAGAIN (a non-blocking fd)
 * a wait for readiness and another try. write and send go on until every
 * byte is written (as with libev); read and recv return what one op got.
 */
static ssize_t uring_rw(struct rt_backend *be, enum uring_rw kind, int fd, char *buf,
                        size_t len, int flags)
{
    static const char *const names[] = { "read", "write", "recv", "send" };
    int is_write = kind == UR_WRITE || kind == UR_SEND;
    struct uring_call call;
    size_t done = 0;
    long res;

    enum uring_rw asked = kind;

    rt_op_fair(be->t, fd);
    uring_begin(be, &call, names[kind], fd, (long)len);
    if ((kind == UR_READ || kind == UR_WRITE) && is_socket(be, fd)) {
        kind = kind == UR_READ ? UR_RECV : UR_SEND;
        flags = kind == UR_SEND ? MSG_NOSIGNAL : 0;
    }
    for (;;) {
        struct uring_op op;
        struct io_uring_sqe *sqe = uring_sqe(be);
        char *p = buf + done;
        size_t left = len - done;

        switch (kind) {
        case UR_READ:
            io_uring_prep_read(sqe, fd, p, (unsigned)left, (__u64)-1);
            break;
        case UR_WRITE:
            io_uring_prep_write(sqe, fd, p, (unsigned)left, (__u64)-1);
            break;
        case UR_RECV:
            io_uring_prep_recv(sqe, fd, p, left, flags);
            break;
        case UR_SEND:
            io_uring_prep_send(sqe, fd, p, left, flags);
            break;
        }
        io_uring_sqe_set_data(sqe, &op);
        res = uring_run(be, &op, &call);
        if (res == -EINTR)
            continue;
        if (res == -ENOTSOCK && asked != kind) {
            /* Taken for a socket by a stale fact (is_socket). */
            fd_kind_set(be, fd, FD_OTHER);
            kind = asked;
            continue;
        }
        if (res == -EAGAIN) {
            res = uring_poll_fd(be, &call, fd, is_write ? POLLOUT : POLLIN);
            if (res < 0)
                break;
            continue;
        }
        if (res < 0 || !is_write)
            break;
        done += (size_t)res;
        if (done >= len || res == 0) {
            res = (long)done;
            break;
        }
    }
    return uring_end(be, &call, res);
}

static ssize_t ur_read(struct rt_backend *be, int fd, void *buf, size_t len)
{
    return uring_rw(be, UR_READ, fd, buf, len, 0);
}

static ssize_t ur_write(struct rt_backend *be, int fd, const void *buf, size_t len)
{
    return uring_rw(be, UR_WRITE, fd, (char *)(uintptr_t)buf, len, 0);
}

static ssize_t ur_recv(struct rt_backend *be, int fd, void *buf, size_t len, int flags)
{
    return uring_rw(be, UR_RECV, fd, buf, len, flags);
}

static ssize_t ur_send(struct rt_backend *be, int fd, const void *buf, size_t len, int flags)
{
    return uring_rw(be, UR_SEND, fd, (char *)(uintptr_t)buf, len, flags | MSG_NOSIGNAL);
}

static int ur_accept(struct rt_backend *be, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    struct uring_call call;
    int res;

    rt_op_fair(be->t, fd);
    uring_begin(be, &call, "accept", fd, 0);
    for (;;) {
        struct uring_op op;
        struct io_uring_sqe *sqe = uring_sqe(be);

        io_uring_prep_accept(sqe, fd, addr, addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        io_uring_sqe_set_data(sqe, &op);
        res = uring_run(be, &op, &call);
        if (res == -EINTR || res == -ECONNABORTED)
            continue;
        if (res >= 0)
            fd_kind_set(be, (int)res, FD_SOCKET);
        if (res != -EAGAIN)
            break;
        res = uring_poll_fd(be, &call, fd, POLLIN);
        if (res < 0)
            break;
    }
    return uring_end(be, &call, res);
}

static int ur_connect(struct rt_backend *be, int fd, const struct sockaddr *addr,
                      socklen_t addrlen)
{
    struct uring_call call;
    struct uring_op op;
    struct io_uring_sqe *sqe;
    int res;

    uring_begin(be, &call, "connect", fd, 0);
    sqe = uring_sqe(be);
    io_uring_prep_connect(sqe, fd, addr, addrlen);
    io_uring_sqe_set_data(sqe, &op);
    res = uring_run(be, &op, &call);
    if (res == -EINPROGRESS || res == -EALREADY || res == -EAGAIN || res == -EINTR) {
        /* In progress: wait for writability, then read SO_ERROR. */
        res = uring_poll_fd(be, &call, fd, POLLOUT);
        if (res >= 0) {
            int err = 0;
            socklen_t elen = sizeof(err);

            res = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 ? -errno : -err;
        }
    } else if (res == -EISCONN) {
        res = 0;
    }
    return uring_end(be, &call, res);
}

/* Closes fd through the ring without waiting for the result. */
static void uring_close_quietly(struct rt_backend *be, int fd)
{
    struct io_uring_sqe *sqe = uring_sqe(be);

    fd_kind_set(be, fd, FD_UNKNOWN);
    io_uring_prep_close(sqe, fd);
    io_uring_sqe_set_data64(sqe, 0);
    uring_submit(be);
}

/* close(2) as an io_uring op; the fiber waits for its result. */
static int ur_close(struct rt_backend *be, int fd)
{
    struct uring_call call;
    struct uring_op op;
    struct io_uring_sqe *sqe;
    long res;

    uring_begin(be, &call, "close", fd, 0);
    fd_kind_set(be, fd, FD_UNKNOWN);
    sqe = uring_sqe(be);
    io_uring_prep_close(sqe, fd);
    io_uring_sqe_set_data(sqe, &op);
    res = uring_run(be, &op, &call);
    return (int)uring_end(be, &call, res);
}

/*
 * A child is awaited by polling its pidfd in the ring, then reaping it. The
 * pidfd is closed by an IORING_OP_CLOSE; the op events name it, as libev's.
 */
static pid_t ur_waitpid(struct rt_backend *be, pid_t pid, int *status)
{
    struct uring_call call;
    long res;
    int pfd = pidfd_open(pid, 0);
    int pfd_err = pfd < 0 ? -errno : 0;

    uring_begin(be, &call, "waitpid", pfd, pid);
    call.unwind_close = pfd;
    for (;;) {
        res = waitpid(pid, status, WNOHANG);
        if (res < 0 && errno == EINTR)
            continue;
        if (res != 0) {
            if (res < 0)
                res = -errno;
            break;
        }
        if (pfd < 0) {
            res = pfd_err;
            break;
        }
        res = uring_poll_fd(be, &call, pfd, POLLIN);
        if (res < 0)
            break;
    }
    if (pfd >= 0)
        uring_close_quietly(be, pfd);
    return (pid_t)uring_end(be, &call, res);
}

const struct rt_backend_ops rt_backend_io_uring_ops = {
    .name = "io_uring",
    .create = ur_create,
    .destroy = ur_destroy,
    .poll = ur_poll,
    .wakeup = ur_wakeup,
    .suspend = NULL,
    .resume = NULL,
    .wait_io = ur_wait_io,
    .read = ur_read,
    .write = ur_write,
    .recv = ur_recv,
    .send = ur_send,
    .accept = ur_accept,
    .connect = ur_connect,
    .waitpid = ur_waitpid,
    .close = ur_close,
    .fd_closing = ur_fd_closing,
    .fd_forget = ur_fd_forget,
    .shutdown = ur_shutdown,
};

/*
 * Backend#uring_queue_full_count: how often an op found the submission
 * queue full and submitted it before retrying (nil on libev). For tests.
 */
static VALUE be_uring_queue_full_count(VALUE self)
{
    struct rt_thread *t = rt_thread_from_backend(self);

    if (t->ops != &rt_backend_io_uring_ops || !t->be)
        return Qnil;
    return ULONG2NUM(t->be->full);
}

/*
 * Backend#uring_inflight_count: ops submitted or queued whose completion
 * has not been reaped (nil on libev). For tests.
 */
static VALUE be_uring_inflight_count(VALUE self)
{
    struct rt_thread *t = rt_thread_from_backend(self);

    if (t->ops != &rt_backend_io_uring_ops || !t->be)
        return Qnil;
    return ULONG2NUM(t->be->inflight_count);
}

void rt_uring_init(VALUE mPolyphony)
{
    VALUE cBackend = rb_const_get(mPolyphony, rb_intern("Backend"));

    rb_define_method(cBackend, "uring_queue_full_count", be_uring_queue_full_count, 0);
    rb_define_method(cBackend, "uring_inflight_count", be_uring_inflight_count, 0);
}
