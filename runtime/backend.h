/*
 * backend.h — the one interface between the fiber runtime and an event
 * backend (libev in backend_libev.c, io_uring in backend_io_uring.c).
 *
 * rt_backend interface: ready
 *
 * A backend is a table of function pointers, struct rt_backend_ops, chosen at
 * run time per thread (POLYPHONY_BACKEND=libev|io_uring, see
 * rt_backend_select below); nothing is selected with #ifdef. A backend file
 * does only the kernel-facing part. Everything else is shared and lives in
 * its own file: the run queue (runqueue.c), switching to the next fiber and
 * "poll when nothing is runnable" (scheduler.c), timers on a clock that can
 * be paused (timers.c), hook and op event emission (hooks.c, backend_common.c)
 * and fiber lock deferral (fiber_lock.c).
 *
 * How an op suspends the calling fiber, and how the backend resumes it
 * --------------------------------------------------------------------
 * Every op below except create/destroy/poll/wakeup/suspend/resume is called
 * by the fiber that wants the result, holding the GVL, e.g. readpartial calls
 * ops->read(be, fd, buf, len). The op:
 *
 *   1. calls rt_op_submit(t, "read", fd, len) (hook RT_EV_OP_SUBMIT) and
 *      starts the kernel-side work: libev starts an ev_io watcher (kept in a
 *      struct on the fiber's C stack); io_uring gets an SQE whose user_data
 *      points at such a struct;
 *   2. calls value = rt_backend_await(t, "read", fd): the fiber is marked
 *      waiting (hook RT_EV_FIBER_BLOCK) and the scheduler switches to the
 *      next runnable fiber, polling the backend when none is runnable;
 *   3. meanwhile, when the kernel reports the event, ops->poll (running in
 *      some other fiber of the same thread, GVL held again) calls
 *      rt_backend_resume(t, fiber, value) for the waiting fiber, which emits
 *      RT_EV_FIBER_UNBLOCK and puts it on the run queue with `value`;
 *   4. rt_backend_await returns that value in the waiting fiber. If it is an
 *      exception (rt_backend_is_interrupt), the fiber was interrupted while
 *      waiting (Fiber#raise, #stop, #terminate, cancel_after ...): the op must
 *      cancel its kernel-side work — libev stops the watcher, io_uring submits
 *      IORING_OP_ASYNC_CANCEL and keeps awaiting until the original CQE has
 *      arrived, so no buffer is touched after the op returns — then call
 *      rt_op_complete(t, name, fd, len, -ECANCELED) and
 *      rt_backend_raise(value), which does not return;
 *   5. otherwise it finishes (libev retries the syscall, io_uring reads the
 *      CQE result), calls rt_op_complete(t, "read", fd, len, result) (hook
 *      RT_EV_OP_COMPLETE) and returns the result.
 *
 * Results are >= 0 on success or a negative errno (never a Ruby exception,
 * except for the interrupt of step 4). EINTR and EAGAIN are handled inside
 * the op, never returned. Buffers passed to an op must stay valid and
 * unmoved until the op returns (callers use malloc'd memory or a Ruby
 * string with a heap buffer they keep alive).
 *
 * A completion found by poll must never be lost: if the waiting fiber is
 * already on the run queue (e.g. interrupted), rt_backend_resume keeps the
 * pending exception and drops the plain value, and step 4 cleans up.
 *
 * Timers
 * ------
 * Timers (sleep, move_on_after/cancel_after timeouts, Polyphony::Timer) are
 * not backend ops: timers.c keeps one heap per thread on the runtime's own
 * monotonic clock, which stops while the loop is suspended, so both backends
 * get the same loop-suspend arithmetic. The scheduler passes the time to the
 * next deadline as poll's timeout and fires due timers after every poll.
 * rt_backend_sleep below is the shared sleep op; a backend needs nothing
 * else for timers.
 *
 * Threads and the GVL
 * -------------------
 * One backend instance per Ruby thread, created lazily on the thread's first
 * runtime call. poll must release the GVL while it blocks, by calling
 * rt_backend_nogvl(fn, arg, be), whose unblocking function calls
 * ops->wakeup, so signals, Thread#raise and other threads work while the loop
 * waits. Code that runs without the GVL (e.g. libev callbacks inside ev_run)
 * must not touch Ruby objects: it records completions in C and poll resumes
 * the fibers after the GVL is back.
 */
#ifndef RT_BACKEND_H
#define RT_BACKEND_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <ruby.h>

struct rt_thread;   /* per-thread runtime state, scheduler.h */
struct rt_backend;  /* per-thread backend state, private to each backend file */

/* Events for wait_io, and its result (a mask of them). */
enum rt_io_events {
    RT_IO_READ = 1,
    RT_IO_WRITE = 2
};

struct rt_backend_ops {
    /* The kind, as Polyphony.backend / Backend#kind report it: "libev". */
    const char *name;

    /*
     * The least time, in nanoseconds, between two of the scheduler's
     * fairness polls (non-blocking polls while fibers keep the run queue
     * busy): 0 for a backend whose non-blocking poll is cheap (io_uring
     * peeks at its completion ring), more for one whose poll is a system
     * call (libev: epoll_wait), so that a fiber that keeps snoozing does not
     * pay one every few switches. It is also how long such a fiber can keep
     * ready I/O waiting, at most.
     */
    unsigned long fair_poll_ns;

    /* Per thread. create stores a new instance in *out; 0 or -errno. */
    int (*create)(struct rt_thread *t, struct rt_backend **out);
    void (*destroy)(struct rt_backend *be);

    /*
     * Waits for kernel events at most `timeout` seconds (< 0: until an event
     * or a wakeup; 0: do not block) and resumes the fibers whose ops
     * completed (rt_backend_resume). Called with the GVL, from whatever fiber
     * the scheduler runs in. Returns the number of fibers resumed or -errno.
     */
    int (*poll)(struct rt_backend *be, double timeout);

    /*
     * Makes a poll that blocks, or the next one, return soon. Callable from
     * any thread, without the GVL, and from the unblocking function; it must
     * be async-signal-safe (Ruby may call it from a signal handler).
     */
    void (*wakeup)(struct rt_backend *be);

    /*
     * Loop suspend/resume notification (the clock is paused by timers.c);
     * may be NULL. libev calls ev_suspend/ev_resume.
     */
    void (*suspend)(struct rt_backend *be);
    void (*resume)(struct rt_backend *be);

    /* Fiber-suspending ops: see the top comment. */

    /* Waits until fd is ready for `events`; returns the ready mask. */
    int (*wait_io)(struct rt_backend *be, int fd, int events);
    ssize_t (*read)(struct rt_backend *be, int fd, void *buf, size_t len);
    ssize_t (*write)(struct rt_backend *be, int fd, const void *buf, size_t len);
    ssize_t (*recv)(struct rt_backend *be, int fd, void *buf, size_t len, int flags);
    ssize_t (*send)(struct rt_backend *be, int fd, const void *buf, size_t len, int flags);
    /* Returns the accepted fd, non-blocking and close-on-exec. */
    int (*accept)(struct rt_backend *be, int fd, struct sockaddr *addr, socklen_t *addrlen);
    int (*connect)(struct rt_backend *be, int fd, const struct sockaddr *addr, socklen_t addrlen);
    /* Waits for child `pid` (> 0); stores its wait status; returns pid. */
    pid_t (*waitpid)(struct rt_backend *be, pid_t pid, int *status);
    /*
     * Closes fd (io_uring: IORING_OP_CLOSE); 0 or -errno. May be NULL (libev):
     * the caller then closes fd itself.
     */
    int (*close)(struct rt_backend *be, int fd);

    /*
     * fd is about to be closed by the thread owning `be`, while fibers of
     * that thread wait in ops on it (fd_waiters.c then resumes each with
     * an IOError). Drop their kernel-side work now, before the fd number
     * can name another file: nothing they started may touch it later, and
     * a completion not yet delivered must not resume them. May be NULL.
     */
    void (*fd_closing)(struct rt_backend *be, int fd);

    /*
     * fd is being closed, or made to name another file (IO#reopen), by the
     * thread owning `be`, or was just handed out by accept: whatever the
     * backend remembers about the number (libev: a watcher left started
     * on it; io_uring: whether it is a socket) is forgotten. A backend must
     * also stay correct when a close it is not told of reuses the number
     * (an extension's close, a dup2): this only saves it the detour. May
     * be NULL.
     */
    void (*fd_forget)(struct rt_backend *be, int fd);

    /*
     * The thread has ended (its block returned or raised, or it was
     * killed) while fibers may still wait in ops: cancel every op in flight
     * and wait, bounded, for the kernel to be done with it, without resuming
     * any fiber, so nothing completes later into memory the GC frees. The
     * instance stays usable for destroy (and a later poll finds nothing).
     */
    void (*shutdown)(struct rt_backend *be);
};

/* The backends. */
extern const struct rt_backend_ops rt_backend_libev_ops;
/*
 * Defined by backend_io_uring.c once it exists. Until then the weak
 * declaration leaves it NULL and rt_backend_select falls back to libev with
 * one line on stderr.
 */
extern const struct rt_backend_ops rt_backend_io_uring_ops __attribute__((weak));

/*
 * The ops for a new thread's backend, from POLYPHONY_BACKEND (libev when
 * unset). Unknown or unavailable names fall back to libev, saying so once on
 * stderr.
 */
const struct rt_backend_ops *rt_backend_select(void);

/* --- What a backend calls (backend_common.c) ------------------------------ */

/*
 * The runtime state owning `be`: every backend's struct rt_backend begins
 * with a `struct rt_thread *` member, set by create to its `t` argument.
 * rt_backend_current_fiber: the fiber running on that thread.
 */
struct rt_thread *rt_backend_thread(struct rt_backend *be);
VALUE rt_backend_current_fiber(struct rt_thread *t);

/*
 * Fairness, before step 1 of read, write, recv, send and accept (before
 * the op holds anything it would have to undo): after RT_OPS_PER_SNOOZE
 * ops in a row on the thread completed without the fiber waiting (a pipe
 * that always has bytes), snoozes once, so the other fibers, timers and
 * completions get their turn. May raise an interrupt delivered meanwhile,
 * or the IOError of a close of fd meanwhile (fd_waiters.c).
 */
#define RT_OPS_PER_SNOOZE 64
void rt_op_fair(struct rt_thread *t, int fd);

/* Step 1 and 5 of an op: emit RT_EV_OP_SUBMIT / RT_EV_OP_COMPLETE. */
void rt_op_submit(struct rt_thread *t, const char *op, int fd, long len);
void rt_op_complete(struct rt_thread *t, const char *op, int fd, long len, long result);

/*
 * Step 2: suspend the current fiber until rt_backend_resume; returns the
 * resume value. `op` and `fd` are what Fiber#state/wait_info report.
 */
VALUE rt_backend_await(struct rt_thread *t, const char *op, int fd);
/*
 * As rt_backend_await, for an op that registered something (a watcher, an
 * SQE, a timer) living on the fiber's stack: if the wait is left by a
 * non-local exit rather than a resume (a throw raised at the interrupt
 * point, a thread kill), on_unwind(arg) runs before the unwinding goes on
 * and must unregister it. Every op must wait through this (or clean up by
 * itself on any exit), so nothing left registered outlives its stack.
 */
VALUE rt_backend_await_unwind(struct rt_thread *t, const char *op, int fd,
                              void (*on_unwind)(void *), void *arg);

/* Step 3: make `fiber` runnable with `value` (GVL held). */
void rt_backend_resume(struct rt_thread *t, VALUE fiber, VALUE value);

/* Step 4: was the fiber resumed with an exception; raise it (no return). */
int rt_backend_is_interrupt(VALUE value);
void rt_backend_raise(VALUE value) __attribute__((noreturn));

/*
 * Runs fn(arg) without the GVL; a signal, Thread#raise or thread kill calls
 * ops->wakeup(be) to make fn return. Returns 1, or 0 when fn was not called
 * because an interrupt was pending (then poll must not have blocked: the
 * interrupt may be a trap handler that scheduled a fiber). Pending
 * interrupts are taken after fn, trap handlers run there and an exception
 * may be raised out of it: poll must keep completions it has not yet
 * delivered where its next call finds them (libev: its done list;
 * io_uring: CQEs left in the ring), and the scheduler catches the exception
 * and gives it to the current fiber.
 */
int rt_backend_nogvl(void *(*fn)(void *), void *arg, struct rt_backend *be);

/* The shared sleep op (timers.c): 0, or raises when interrupted. */
int rt_backend_sleep(struct rt_thread *t, double seconds);

#endif /* RT_BACKEND_H */
