/*
 * rt_internal.h — declarations shared by the runtime's own files: the
 * per-thread state (struct rt_thread), the per-fiber state (struct rt_fiber),
 * and each concept's entry points. Not for other extensions (they use
 * rt_api.h) nor for backends beyond what backend.h gives them.
 */
#ifndef RT_INTERNAL_H
#define RT_INTERNAL_H

#include <ruby.h>
#include "rt_api.h"
#include "backend.h"
#include "runqueue.h"
#include "timers.h"
#include "stats.h"
#include <pthread.h>

/* --- per thread (thread_state.c, scheduler.c) ----------------------------- */

struct rt_thread {
    VALUE self;                  /* the Polyphony::Backend object wrapping this */
    VALUE thread;                /* the Ruby Thread */
    VALUE main_fiber;
    /*
     * The fiber the scheduler last switched to on this thread. A plain
     * Fiber#resume or #transfer is not seen, so code asking which fiber runs
     * now goes through rt_thread_running_fiber.
     */
    VALUE current;
    /*
     * The state of the fiber the scheduler last switched to or from: the
     * current fiber nearly always, found without rt_fiber_get's hash lookup
     * (scheduler.c, current_state). Checked by its ->fiber before use, and
     * marked by ts_mark so that it is never freed while remembered here.
     */
    struct rt_fiber *current_state;
    const struct rt_backend_ops *ops;
    struct rt_backend *be;
    struct rt_runqueue runqueue;
    struct rt_runqueue parked_queue; /* entries of parked fibers, set aside */
    struct rt_timers timers;
    VALUE lock_owner;            /* fiber holding the fiber lock, or Qnil */
    VALUE trace_proc;            /* Backend#trace_proc, or Qnil */
    unsigned long switch_count;
    unsigned long switches_since_poll;
    unsigned long poll_count;
    uint64_t fair_poll_at;       /* CLOCK_MONOTONIC ns of the last fairness poll */
    long pending_ops;            /* fibers in a backend op or blocking wait */
    long external_ops;           /* ... of which in a backend op (I/O, a timer's
                                    sleep, waitpid): ended from outside the loop */
    VALUE idle_proc;             /* Backend#idle_proc, or Qnil */
    double idle_gc_period;       /* Backend#idle_gc_period, 0 when off */
    double last_idle_gc;         /* runtime clock at the last idle GC */
    int ended;                   /* the thread has ended (rt_thread_end) */
    unsigned ops_without_wait;   /* ops done in a row without waiting */
    uint64_t handoff_entered;    /* stats_enter's ticks of a loop handed on
                                    by an ended fiber (scheduler.c) */
    /*
     * The fiber whose run the counters time (stats.h): the one the
     * scheduler last switched to. Marked (ts_mark), so never stale.
     */
    struct rt_fiber *running;
    struct rt_thread_stats stats;
    pid_t tid;                   /* its kernel thread id, for the watchdog's signal */
    int hog_report;              /* the client wants the flagged run's end */
    /* The watchdog's own (watchdog.c, its thread only): the run it is
     * timing, the CPU time that run had used at most when first seen, the
     * thread's CPU time then, and the thread's CPU time at the last look. */
    uint64_t wd_seq, wd_used;
    int64_t wd_cpu, wd_look_cpu;
    int parked;                  /* its loop waits with nothing of its own
                                    that could wake a fiber (deadlock.c) */
    int polling;                 /* in its backend's poll (scheduler.c) */
    int backend_suspended;       /* the backend was told of a loop suspend
                                    (loop_suspend.c: only by the thread itself) */
    VALUE scheduler;             /* its Polyphony::Scheduler (fiber_scheduler.c) */
    int blocking_ok;             /* a worker thread: its blocking calls may block it */
    /*
     * Ruby code runs inside a fiber's wait on this thread (a trap handler
     * run by the poll or the interrupt check, the idle proc, a GC's
     * finalizers): its ops block the thread (backend_blocking.c, through
     * rt_ops), its sleeps sleep the thread, other waits are refused.
     */
    int nested;
    int read_no_wait;            /* in IO#read_nonblock: the scheduler's io_read must not wait */
    VALUE read_buffers;          /* hidden Array of spare read buffers (io.c), or Qnil */
};

/*
 * The ops a fiber of t calls now: the backend's, or the blocking table while
 * t->nested (a second wait of the fiber through the scheduler would take the
 * wake-up its first wait is owed).
 */
extern const struct rt_backend_ops rt_backend_blocking_ops;
static inline const struct rt_backend_ops *rt_ops(const struct rt_thread *t)
{
    return RB_UNLIKELY(t->nested) ? &rt_backend_blocking_ops : t->ops;
}
/*
 * backend_blocking.c: waits for fd without the scheduler (poll(2) without
 * the GVL) at most `timeout` seconds (< 0: no limit); the ready RT_IO_* mask,
 * 0 when the time is up. rt_blocking_sleep sleeps the thread. Both raise
 * what Ruby's interrupt check raises.
 */
int rt_blocking_wait_fd(int fd, int events, double timeout);
void rt_blocking_sleep(double seconds);

/* The state of the calling thread, created on first use. */
struct rt_thread *rt_thread_current(void);
/* The same, given the calling fiber (rb_fiber_current()): often cheaper. */
struct rt_thread *rt_thread_of_current(VALUE fiber);
/* The state of `thread`, created if `create`, else NULL when it has none. */
struct rt_thread *rt_thread_of(VALUE thread, int create);
VALUE rt_thread_running_fiber(struct rt_thread *t);
struct rt_thread *rt_thread_from_backend(VALUE backend);
/* rt_api.h's each_thread. */
void rt_thread_each(rt_thread_visit_fn fn, void *data);
/* fn(t, data) for every thread state, under the registry's lock; any thread. */
void rt_thread_registry_each(void (*fn)(struct rt_thread *t, void *data), void *data);
/* Wakes `thread`'s loop; any thread, GVL or not. 0 or -ESRCH. */
int rt_thread_wakeup(VALUE thread);
void rt_thread_state_init(VALUE mPolyphony);
/*
 * The thread has ended: its backend cancels the ops still in flight
 * (ops->shutdown) and its timers are disarmed. Idempotent.
 */
void rt_thread_end(struct rt_thread *t);

/* --- per fiber (fiber.c) --------------------------------------------------- */

struct rt_fiber {
    VALUE fiber;                 /* the Ruby Fiber */
    VALUE self;                  /* the data object holding this struct */
    struct rt_thread *t;         /* owning thread's state */
    VALUE owner;                 /* t->self, kept alive */
    struct rt_fiber *parent;
    struct rt_fiber *first_child, *last_child, *prev_sibling, *next_sibling;
    VALUE block;                 /* spun fibers: the block to run */
    VALUE tag;
    VALUE result;
    VALUE mailbox;               /* Array of messages */
    VALUE awaiters;              /* Array of fibers in #await, or Qnil */
    VALUE when_done;             /* Array of procs, or Qnil */
    VALUE watchers;              /* fibers whose when_done takes the end (Array, or Qnil) */
    VALUE file;                  /* where it was spun, when a helper said so */
    VALUE label;                 /* ... in which method or block */
    int line;
    VALUE spin_site;             /* the spinner's frames at the spin (spin_site.c), or Qnil */
    VALUE last_site;             /* the site of the last fiber this one spun: reused
                                    when it spins from the same frames again */
    unsigned is_main : 1;
    unsigned is_spun : 1;
    unsigned dead : 1;
    unsigned scheduled : 1;      /* on the run queue */
    unsigned receiving : 1;      /* suspended in #receive */
    unsigned awaiting_children : 1;
    unsigned in_op : 1;          /* waiting in a backend op (rt_backend_await) */
    unsigned moved : 1;          /* moved away from its spinner (attach_to, detach) */
    unsigned parked : 1;         /* Fiber#__park__: not run until unparked */
    unsigned supervising : 1;    /* in Fiber#supervise: new children are watched */
    unsigned interjecting : 1;   /* running a Fiber#interject block */
    const char *wait_op;         /* what it waits on, NULL when not waiting */
    int wait_fd;
    struct rt_timer *wait_timer; /* its sleep timer, for wait_info */
    /* Fibers in an op on the same fd (fd_waiters.c); fdw_fd -1 when unlinked. */
    struct rt_fiber *fdw_prev, *fdw_next;
    int fdw_fd;
    unsigned fd_closed : 1;      /* told that fdw_fd was closed */
    struct rt_fiber_stats stats; /* stats.h */
    VALUE wait_on;               /* what its current wait is on (an awaited
                                    fiber, a queue, an event), or Qnil */
    VALUE wait_context;          /* ... as Ruby code named it (a mutex, a
                                    condition variable), or Qnil */
};

extern VALUE rt_cFiber;  /* ::Fiber */

/* The runtime state of `fiber`, created for fibers the runtime did not spin. */
struct rt_fiber *rt_fiber_get(VALUE fiber);
struct rt_fiber *rt_fiber_get_if_any(VALUE fiber);
enum rt_fiber_state rt_fiber_state_of(VALUE fiber);
void rt_fiber_each(struct rt_thread *t, rt_fiber_visit_fn fn, void *data);
VALUE rt_fiber_spin(VALUE parent, VALUE tag, VALUE block);
/* After fork: f becomes a root with no parent and no children. */
void rt_fiber_forget_tree(struct rt_fiber *f);
void rt_fiber_init(VALUE mPolyphony);

/* --- spin sites (spin_site.c) --------------------------------------------- */

/* How many of the spinner's frames a spin records (deeper ones are cut). */
#define RT_SPIN_FRAMES 32

/*
 * The calling fiber's frames now, as a spin site record: `previous` itself
 * when it holds the same frames (Qnil: none), else a new one.
 */
VALUE rt_spin_site_record(VALUE previous);
/* A record's frames and lines (pointers into it); how many. */
int rt_spin_site_frames(VALUE site, const VALUE **frames, const int **lines);
/* Its first frame with a line: the spin call. 0, or -1 when none. */
int rt_spin_site_place(VALUE site, VALUE *file, int *line, VALUE *label);

/* --- scheduling (scheduler.c) --------------------------------------------- */

/* Puts `fiber` on its thread's run queue with `value` (see backend.h). */
void rt_sched_schedule(VALUE fiber, VALUE value, int prioritize);
/* The same for a fiber whose state the caller has already looked up. */
void rt_sched_schedule_state(struct rt_fiber *f, VALUE value, int prioritize);
/* Is f on the run queue with an exception to raise (stop, raise, a timeout)? */
int rt_sched_interrupt_pending(struct rt_fiber *f);
/*
 * The state of `fiber`, the calling fiber, whose thread state is t: as
 * rt_fiber_get, but usually without its hash lookup (a cache in t).
 */
struct rt_fiber *rt_sched_current_state(struct rt_thread *t, VALUE fiber);
/*
 * Switches away from the current fiber to the next runnable one, polling
 * when none is; returns the value the current fiber is later resumed with
 * (it does not raise). The caller has either scheduled the current fiber
 * (snooze) or marked what it waits on (rt_sched_await).
 */
VALUE rt_sched_switch(struct rt_thread *t);
/* Marks the current fiber waiting on `op` and switches; returns the value. */
VALUE rt_sched_await(struct rt_thread *t, const char *op, int fd);
/*
 * As rt_sched_await; when the wait is left by a non-local exit instead of a
 * resume (a throw at the interrupt point, a thread kill), on_unwind(arg)
 * runs first, to release what the caller registered for the wait.
 */
VALUE rt_sched_await_unwind(struct rt_thread *t, const char *op, int fd,
                            void (*on_unwind)(void *), void *arg);
VALUE rt_sched_await_or_idle_unwind(struct rt_thread *t, const char *op, int fd,
                                    void (*on_unwind)(void *), void *arg);
/* As rt_sched_await, raising when resumed with an exception. */
VALUE rt_sched_suspend(struct rt_thread *t, const char *op);
/*
 * As rt_sched_suspend, but returns nil at once when nothing could ever
 * resume the fiber on this thread: nothing runnable, no op in flight, no
 * timer armed. Polyphony's suspend, await and sleep behave so.
 */
VALUE rt_sched_suspend_or_idle(struct rt_thread *t, const char *op);
VALUE rt_sched_await_or_idle(struct rt_thread *t, const char *op, int fd);
/* As rt_sched_switch, returning Qundef instead of blocking when idle. */
VALUE rt_sched_switch_or_idle(struct rt_thread *t);
VALUE rt_sched_snooze(struct rt_thread *t);
/* As rt_sched_snooze, given the calling fiber. */
VALUE rt_sched_snooze_fiber(struct rt_thread *t, VALUE fiber);
/* As rt_sched_snooze for an op about to start on fd: a close of fd meanwhile raises. */
VALUE rt_sched_snooze_fd(struct rt_thread *t, int fd);
/* Polls once: timeout < 0 blocks, 0 does not; fires due timers. */
void rt_sched_poll(struct rt_thread *t, double timeout);
/* rt_api.h's on_next_wait. */
void rt_sched_on_next_wait(void (*fn)(void *data), void *data);
void rt_scheduler_init(VALUE mPolyphony);

/* --- Ruby's Fiber::Scheduler interface (fiber_scheduler.c) -------------- */

/* Makes a scheduler for t, the calling thread's state, and sets it. */
void rt_fiber_scheduler_install(struct rt_thread *t);
/*
 * Does Ruby skip the scheduler for the calling fiber (a thread's root
 * fiber, or any once the scheduler is gone) on a thread that runs the
 * runtime? Then unhooked.c makes Ruby's blocking calls wait in the fiber.
 */
int rt_unhooked(void);
void rt_fiber_scheduler_init(VALUE mPolyphony);
void rt_unhooked_init(VALUE mPolyphony);

/* --- fibers in ops on an fd (fd_waiters.c) ------------------------------- */

/* Links f under fd (fd < 0: nothing) while it waits in an op on it. */
void rt_fdwait_link(struct rt_fiber *f, int fd);
void rt_fdwait_unlink(struct rt_fiber *f);
/*
 * fd is about to be closed: every fiber in an op on it is resumed with an
 * IOError and its op cancelled; returns once none of them can touch the fd
 * again (waiters on other threads are awaited). GVL held; may switch.
 */
void rt_fdwait_close(int fd);
/* In a forked child: the waits were the parent's; none is left. */
void rt_fdwait_forget_all(void);

/* --- fiber lock (fiber_lock.c) -------------------------------------------- */

int rt_fiber_lock(VALUE thread, VALUE fiber);
int rt_fiber_unlock(VALUE thread);
VALUE rt_fiber_lock_owner(VALUE thread);
void rt_fiber_lock_init(VALUE mPolyphony);

/* --- loop suspend (loop_suspend.c) ---------------------------------------- */

int rt_loop_suspend(VALUE thread);
int rt_loop_resume(VALUE thread);
void rt_loop_suspend_init(VALUE mPolyphony);

/* --- hooks (hooks.c) ------------------------------------------------------- */

extern int rt_hooks_active;   /* number of registered hooks */
/* The diagnostics hooks (rt_api.h) the client set, or NULL. */
const struct rt_diag_hooks *rt_diag_hooks(void);
int rt_diag_set(const struct rt_diag_hooks *hooks);
void rt_hooks_dispatch(const struct rt_event *ev);
int rt_hook_add(rt_hook_fn fn, void *data);
int rt_hook_remove(rt_hook_fn fn, void *data);
void rt_hooks_init(VALUE mPolyphony);

/* A branch when no hook is registered. */
static inline void rt_emit(enum rt_event_kind kind, VALUE fiber, VALUE other,
                           const char *op, int fd, long len, long result)
{
    if (RB_UNLIKELY(rt_hooks_active)) {
        struct rt_event ev = { kind, fiber, other, op, fd, len, result };
        rt_hooks_dispatch(&ev);
    }
}

/* --- counters (stats.c) and the watchdog (watchdog.c) ----------------------- */

void rt_stats_init(VALUE mPolyphony);
/* The loop of t is suspended / resumed (outermost): its run pauses. */
void rt_stats_loop_suspended(struct rt_thread *t);
void rt_stats_loop_resumed(struct rt_thread *t);
/* Fiber f starts an I/O op. */
void rt_stats_op_started(struct rt_fiber *f);
void rt_stats_fiber(struct rt_fiber *f, double ns_per_tick, struct rt_fiber_counters *out);
int rt_stats_thread(VALUE thread, double ns_per_tick, struct rt_thread_counters *out);
double rt_stats_uptime(void);

/* --- deadlock detection (deadlock.c) --------------------------------------- */

extern VALUE rt_eDeadlock;
/*
 * t's loop would block with nothing of its own to wake a fiber: is it a
 * deadlock? 1: a fiber was scheduled (look at the run queue again); 0:
 * carry on. *stopped: the debugger already stopped for it (once per switch).
 */
int rt_deadlock_check(struct rt_thread *t, int idle_returns, int *stopped);
/* A thread ends: the main thread looks again. */
void rt_deadlock_thread_ended(VALUE thread);
void rt_deadlock_init(VALUE mPolyphony);

extern int rt_watchdog_armed;
int rt_watchdog_arm(uint64_t threshold_ns);     /* 0 disarms; 0 or -errno */
uint64_t rt_watchdog_threshold(void);
int rt_watchdog_signal(void);
/* The flagged run of t ends at `now` (from the switch path, when armed). */
void rt_watchdog_run_ends(struct rt_thread *t, uint64_t now);
void rt_watchdog_init(VALUE mPolyphony);

/* --- the rest -------------------------------------------------------------- */

void rt_c_api_init(VALUE mPolyphony);
void rt_mailbox_init(VALUE mPolyphony);
/* receive: the current fiber's next message, waiting for one. */
VALUE rt_mailbox_receive(void);
/* Messages sent to `thread` before its runtime started go to `main_fiber`. */
void rt_mailbox_deliver_pending(VALUE thread, VALUE main_fiber);
/* A receive left by a throw or a kill: the fiber no longer receives. */
void rt_receive_unwind(void *fiber_state);
void rt_timeout_init(VALUE mPolyphony);
/*
 * Sleeps in the current fiber; returns the value it was resumed with (nil
 * when the time is up, or what Fiber#schedule gave earlier).
 */
VALUE rt_timer_sleep(struct rt_thread *t, double seconds);
/*
 * Waits in op for at most `seconds`: returns the value the fiber is
 * resumed with, on_expiry when the time is up (an exception is returned,
 * not raised).
 */
VALUE rt_timer_await(struct rt_thread *t, const char *op, double seconds, VALUE on_expiry);
/*
 * Runs fn(arg) in the current fiber, interrupting it with a MoveOn after
 * `seconds`; sets *timed_out and returns Qnil when that happened.
 */
VALUE rt_with_timeout(double seconds, VALUE (*fn)(VALUE), VALUE arg, int *timed_out);
void rt_io_init(VALUE mPolyphony);
/* The fd of an IO (IOError when closed). */
int rt_io_fd(VALUE io);
/*
 * How I/O on io's fd goes (io.c, decided once per IO and fd): pipes and
 * sockets are made non-blocking and retried after readiness; a blocking
 * fd the runtime leaves alone (a terminal) is waited on first; a plain
 * file is read and written as is.
 */
enum rt_io_mode { RT_IO_MODE_NONBLOCK = 1, RT_IO_MODE_WAIT_FIRST = 2, RT_IO_MODE_PLAIN = 3 };
enum rt_io_mode rt_io_read_mode(VALUE io, int fd);
/* Waits in the calling fiber; the ready RT_IO_* mask, 0 when timeout expired. */
int rt_io_wait_fd(struct rt_thread *t, int fd, int events, VALUE timeout);
/* RUBY_IO_* (IO::READABLE ...) to RT_IO_* and back. */
int rt_io_events_from_ruby(int ruby_events);
int rt_io_events_to_ruby(int ready, int asked);
void rt_process_init(VALUE mPolyphony);
/* Waits for a child in the calling fiber: its Process::Status ($? too), nil under WNOHANG. */
VALUE rt_process_wait_status(rb_pid_t pid, int flags);

/* Exception classes (exceptions.c). */
extern VALUE rt_eBaseException, rt_eInterrupt, rt_eMoveOn, rt_eCancel,
    rt_eTerminate, rt_eRestart, rt_eInterjection;
VALUE rt_exception_new(VALUE klass, VALUE value);
void rt_exceptions_init(VALUE mPolyphony);

#endif /* RT_INTERNAL_H */
