/*
 * rt_api.h — the runtime's C interface for other extensions.
 *
 * Two separately loaded extensions cannot link against each other's symbols,
 * so the runtime publishes one table of function pointers, struct rt_api,
 * through the Ruby constant Polyphony::C_API: a frozen object wrapping the
 * table's address (the "capsule"). A client such as the tracer fetches it
 * once at load with rt_api_fetch() below and afterwards only calls through
 * the pointers: hot paths never go through Ruby method calls.
 *
 * Versioning: RT_API_VERSION grows when the table changes incompatibly.
 * Members are only ever appended; `size` tells how much of the table the
 * runtime filled in, so a newer client can test for a member it needs.
 *
 * Functions return 0 or a negative errno and never raise, unless they say
 * otherwise. They must be called on a Ruby thread holding the GVL.
 */
#ifndef RT_API_H
#define RT_API_H

#include <stddef.h>
#include <stdint.h>
#include <ruby.h>

#define RT_API_VERSION 1

/* What a hook is told about. */
enum rt_event_kind {
    RT_EV_FIBER_SPIN,      /* fiber created by spin; other = parent fiber */
    RT_EV_FIBER_SCHEDULE,  /* fiber put on the run queue; other = value */
    RT_EV_FIBER_SWITCH,    /* fiber is switched to (starts or resumes running) */
    RT_EV_FIBER_BLOCK,     /* fiber suspends, waiting (I/O, timer, receive ...) */
    RT_EV_FIBER_UNBLOCK,   /* what it waited on happened; it will be scheduled */
    RT_EV_FIBER_TERMINATE, /* fiber finished; other = its result or exception */
    RT_EV_OP_SUBMIT,       /* an I/O op starts: op, fd, len */
    RT_EV_OP_COMPLETE,     /* an I/O op ends: op, fd, len, result */
    RT_EV_COUNT
};

struct rt_event {
    enum rt_event_kind kind;
    VALUE fiber;     /* the fiber concerned */
    VALUE other;     /* see the kinds above; Qnil where not given */
    const char *op;  /* op events and BLOCK: "read", "write", "accept",
                        "connect", "recv", "send", "sleep", "waitpid",
                        "receive", "suspend", "await", ...; else NULL */
    int fd;          /* op events: the file descriptor, else -1 */
    long len;        /* op events: bytes asked for, else 0 */
    long result;     /* OP_COMPLETE: bytes done or -errno, else 0 */
};

/*
 * A hook. While a hook runs no hook is called again (the runtime holds a
 * per-thread "in hook" flag), so a hook may itself do I/O through the
 * runtime. It must not raise; the runtime protects against it all the same.
 */
typedef void (*rt_hook_fn)(const struct rt_event *ev, void *data);

/* Fiber states, as Fiber#state reports them. */
enum rt_fiber_state {
    RT_FIBER_RUNNING,   /* :running  — the current fiber */
    RT_FIBER_RUNNABLE,  /* :runnable — on the run queue */
    RT_FIBER_WAITING,   /* :waiting  — suspended, waiting on something */
    RT_FIBER_DEAD       /* :dead     — finished */
};

/* What a waiting fiber waits on (for the debugger's `fibers`). */
struct rt_wait_info {
    const char *op;     /* as rt_event.op; NULL when not waiting */
    int fd;             /* -1 when not an fd op */
    double timeout;     /* seconds left on its timer, or -1 when none */
};

/* A fiber's counters (the runtime's always-on statistics), times in ns. */
struct rt_fiber_counters {
    uint64_t runs;           /* times it was switched to */
    uint64_t run_ns;         /* time spent running, the current run included */
    uint64_t longest_ns;     /* its longest single run (the current one counts) */
    uint64_t wait_ns;        /* time spent waiting, the current wait included */
    uint64_t ops;            /* I/O ops it started */
    uint32_t ops_in_flight;  /* 1 while it waits in an I/O op */
};

/* A thread's loop counters. */
struct rt_thread_counters {
    uint64_t switches;       /* fiber switches */
    uint64_t idle_ns;        /* time the loop spent blocked waiting */
    uint64_t runnable;       /* fibers on the run queue */
    uint64_t ops_in_flight;  /* backend ops in flight (I/O, waitpid, timed sleeps) */
    uint64_t timers;         /* timers armed */
};

typedef void (*rt_fiber_visit_fn)(VALUE fiber, void *data);

typedef void (*rt_scheduled_visit_fn)(VALUE fiber, VALUE value, void *data);

/* A thread as the runtime sees it (thread_info). */
struct rt_thread_info {
    VALUE current;      /* the fiber running on it, or last to, or Qnil */
    int polling;        /* in its loop's poll: idle, waiting for events */
    size_t runnable;    /* fibers on its run queue */
};
typedef void (*rt_thread_visit_fn)(VALUE thread, void *data);

/*
 * Diagnostics (the tracer's): called by the runtime, never re-entered.
 * on_hog: in a fiber that has run longer than the watchdog's threshold
 * without switching, at a safe point of its current line (a postponed job),
 * with the time it has run so far; a non-zero return asks for on_hog_end,
 * called as that run ends (from the switch path: it must not switch
 * fibers) with its whole length. on_deadlock: on the thread that found that
 * nothing can ever wake its waiting fibers, in its current fiber, with the
 * wait-for graph as text; return non-zero after stopping the program (the
 * runtime then looks again), 0 to let the runtime raise Polyphony::Deadlock
 * in the main fiber. fiber_name: how messages (the graph) name a fiber,
 * e.g. "fiber 4 (worker)"; 0, or <0 to let the runtime name it.
 * Any member may be NULL.
 */
struct rt_diag_hooks {
    int (*on_hog)(VALUE fiber, uint64_t ran_ns, void *data);
    void (*on_hog_end)(VALUE fiber, uint64_t ran_ns, void *data);
    int (*on_deadlock)(const char *graph, void *data);
    int (*fiber_name)(VALUE fiber, char *buf, size_t len, void *data);
    void *data;
};

struct rt_api {
    unsigned version;   /* RT_API_VERSION of the runtime */
    size_t size;        /* sizeof(struct rt_api) as the runtime knows it */

    /* Hooks: several may be registered; called in registration order. */
    int (*hook_add)(rt_hook_fn fn, void *data);
    int (*hook_remove)(rt_hook_fn fn, void *data);

    /*
     * Fiber lock of `thread`: while held, only `fiber` is scheduled; what is
     * scheduled for other fibers meanwhile is kept, in order, and delivered
     * when the lock is released. Locking again moves the lock to `fiber`.
     * lock_owner returns the holder or Qnil.
     */
    int (*fiber_lock)(VALUE thread, VALUE fiber);
    int (*fiber_unlock)(VALUE thread);
    VALUE (*fiber_lock_owner)(VALUE thread);

    /*
     * Event loop of `thread`: while suspended, time does not count towards
     * its timers. Calls nest: only the outermost resume resumes.
     */
    int (*loop_suspend)(VALUE thread);
    int (*loop_resume)(VALUE thread);

    /* Introspection. */
    enum rt_fiber_state (*fiber_state)(VALUE fiber);
    VALUE (*fiber_parent)(VALUE fiber);      /* Qnil for a thread's main fiber */
    VALUE (*fiber_tag)(VALUE fiber);         /* Qnil when untagged */
    int (*fiber_wait_info)(VALUE fiber, struct rt_wait_info *out);
    /* Every live fiber of `thread`, parents before children. */
    void (*each_fiber)(VALUE thread, rt_fiber_visit_fn fn, void *data);
    /* "libev" or "io_uring" for `thread`'s backend. */
    const char *(*backend_name)(VALUE thread);
    /* Wakes `thread`'s event loop from any thread, GVL or not. */
    void (*wakeup)(VALUE thread);

    /* --- appended: diagnostics ------------------------------------------ */

    /*
     * A fiber's counters; ns_per_tick from clock_scale(), asked once for
     * many fibers. -ENOENT for a fiber the runtime does not know.
     */
    double (*clock_scale)(void);
    int (*fiber_counters)(VALUE fiber, double ns_per_tick, struct rt_fiber_counters *out);
    /* Every thread that has runtime state, the main thread first if it has. */
    void (*each_thread)(rt_thread_visit_fn fn, void *data);
    /* The diagnostics hooks (copied; NULL clears them). */
    int (*diag_set)(const struct rt_diag_hooks *hooks);
    /*
     * Arms the loop watchdog with a threshold (0 disarms). -ENOTSUP when
     * the counters are off (POLYPHONY_COUNTERS=0).
     */
    int (*watchdog_arm)(uint64_t threshold_ns);

    /* --- appended: spin sites ------------------------------------------ */
    /*
     * Where `fiber` was spun: its spinner's frames at that moment, as
     * rb_profile_frames gives them (instruction sequences and method
     * entries, innermost first; at most 32), and their lines (0 for a C
     * method), through pointers valid while the fiber lives. Returns how
     * many: 0 for a fiber not spun (a thread's main fiber, Fiber.new).
     * *moved is set when the fiber has been moved under another parent
     * since (Fiber#attach_to, #detach): its parent is not its spinner.
     */
    int (*fiber_spin_frames)(VALUE fiber, const VALUE **frames, const int **lines, int *moved);

    /* --- appended: threads ---------------------------------------------- */

    /* What a debugger shows of a thread with runtime state. 0, or -ESRCH. */
    int (*thread_info)(VALUE thread, struct rt_thread_info *out);
    /* `thread`'s run queue in order: each fiber with the value it will be
     * resumed with. fn must not change the queue. */
    void (*each_scheduled)(VALUE thread, rt_scheduled_visit_fn fn, void *data);
    /* --- appended: loop counters -------------------------------------- */
    /* A thread's loop counters; -ESRCH when it has no runtime state. */
    int (*thread_counters)(VALUE thread, double ns_per_tick, struct rt_thread_counters *out);
    /* Seconds since the runtime was loaded. */
    double (*uptime)(void);
    /* --- appended: the loop's wait --------------------------------------- */
    /*
     * Asks for one call of fn(data) when a thread's loop is next about to
     * wait for I/O or a timer: nothing is runnable, and a poll that does
     * not wait found nothing to run either (a wait that would end at once,
     * as in a program trading messages over sockets, does not count). It
     * runs on that thread, in its current fiber; it must not switch fibers
     * nor raise. A newer request replaces one not yet answered. For a
     * client that batches what it sends: the last batch goes out as the
     * program goes quiet.
     */
    void (*on_next_wait)(void (*fn)(void *data), void *data);
};

/* Whether the runtime's table has `member` (appended after the first version). */
#define RT_API_HAS(api, member) \
    ((api)->size >= offsetof(struct rt_api, member) + sizeof((api)->member))

/*
 * For clients: fetch the runtime's table, requiring 'polyphony' first.
 * Returns NULL when the runtime is missing or too old. Defined static inline
 * so a client needs no symbol from the runtime.
 */
static inline const struct rt_api *rt_api_fetch(void)
{
    VALUE mod, capsule;
    const struct rt_api *api;

    if (!rb_const_defined(rb_cObject, rb_intern("Polyphony")))
        return NULL;
    mod = rb_const_get(rb_cObject, rb_intern("Polyphony"));
    if (!rb_const_defined(mod, rb_intern("C_API")))
        return NULL;
    capsule = rb_const_get(mod, rb_intern("C_API"));
    if (!RB_TYPE_P(capsule, T_DATA))
        return NULL;
    api = (const struct rt_api *)DATA_PTR(capsule);
    if (!api || api->version != RT_API_VERSION)
        return NULL;
    return api;
}

#endif /* RT_API_H */
