/*
 * scheduler.c — switching between fibers on one thread. Backend-independent:
 * it takes the next entry from the run queue (only the lock owner's while the
 * fiber lock is held), polls the backend when nothing may run, fires due
 * timers after every poll, and polls without blocking every so often so that
 * I/O and timers are not starved by fibers that keep snoozing (only when an
 * op or a timer is there to be served: fair_check).
 */
#include <errno.h>
#include "rt_internal.h"

/* Busy fibers get a non-blocking poll after this many switches (fair_check). */
#define RT_SWITCHES_PER_POLL 64
#define RT_TIMER_BATCH 64

/* nil, true, false, symbols and integers, the usual resume values, are not. */
static int is_exception(VALUE v)
{
    return !RB_SPECIAL_CONST_P(v) && rb_obj_is_kind_of(v, rb_eException) == Qtrue;
}

/*
 * The state of `fiber`, the calling fiber on t. The one-entry cache in
 * t->current_state saves rt_fiber_get's hash lookup on the switch path; it is
 * checked by fiber (a fiber may also have been entered by a plain
 * Fiber#resume or #transfer, which the scheduler does not see).
 */
static inline struct rt_fiber *current_state(struct rt_thread *t, VALUE fiber)
{
    struct rt_fiber *f = t->current_state;
    if (RB_LIKELY(f && f->fiber == fiber))
        return f;
    f = rt_fiber_get(fiber);
    t->current_state = f;
    return f;
}

/*
 * `on_own_thread`: the caller knows it runs on f's thread (snooze), which
 * saves the rb_thread_current() call deciding whether to wake the loop.
 */
static void schedule_state(struct rt_fiber *f, VALUE fiber, VALUE value, int prioritize,
                           int on_own_thread)
{
    struct rt_thread *t = f->t;

    if (f->dead)
        return;
    if (f->scheduled) {
        /*
         * One entry per fiber; an interrupt is never overwritten. Otherwise,
         * as in Polyphony, the fiber goes to the back of the queue (the
         * front when prioritized) with the new value.
         */
        struct rt_runqueue_entry *e = rt_runqueue_find(&t->runqueue, fiber);
        struct rt_runqueue_entry old;
        if (!e && f->parked && (e = rt_runqueue_find(&t->parked_queue, fiber)) &&
            !(is_exception(e->value) && !is_exception(value)))
            e->value = value; /* set aside: keeps its place there */
        else if (e && !(is_exception(e->value) && !is_exception(value)) &&
            rt_runqueue_take(&t->runqueue, fiber, &old) &&
            (prioritize ? rt_runqueue_unshift : rt_runqueue_push)(&t->runqueue, fiber, f, value) < 0)
            rb_raise(rb_eNoMemError, "run queue");
        rt_emit(RT_EV_FIBER_SCHEDULE, fiber, value, NULL, -1, 0, 0);
        return;
    }
    if (f->wait_op)
        rt_emit(RT_EV_FIBER_UNBLOCK, fiber, value, f->wait_op, f->wait_fd, 0, 0);
    if ((prioritize ? rt_runqueue_unshift : rt_runqueue_push)(&t->runqueue, fiber, f, value) < 0)
        rb_raise(rb_eNoMemError, "run queue");
    f->scheduled = 1;
    rt_emit(RT_EV_FIBER_SCHEDULE, fiber, value, NULL, -1, 0, 0);
    if (!on_own_thread && t->thread != rb_thread_current()) {
        t->parked = 0;
        t->ops->wakeup(t->be);
    }
}

void rt_sched_schedule(VALUE fiber, VALUE value, int prioritize)
{
    schedule_state(rt_fiber_get(fiber), fiber, value, prioritize, 0);
}

void rt_sched_schedule_state(struct rt_fiber *f, VALUE value, int prioritize)
{
    schedule_state(f, f->fiber, value, prioritize, 0);
}

int rt_sched_interrupt_pending(struct rt_fiber *f)
{
    struct rt_runqueue_entry *e;

    if (!f->scheduled)
        return 0;
    e = rt_runqueue_find(&f->t->runqueue, f->fiber);
    return e && is_exception(e->value);
}

struct rt_fiber *rt_sched_current_state(struct rt_thread *t, VALUE fiber)
{
    return current_state(t, fiber);
}

/*
 * A fired timer resumes its fiber only when that fiber is alive and still
 * waits on it. Defensive: every wait unregisters its timer however it ends,
 * but a timer must never resume a fiber that has gone or moved on. A timer
 * on the fiber's stack (no owner: sleep, waitpid's poll) must be the one
 * the fiber waits on; a Timeout object's fires while its fiber lives.
 */
static int timer_target_waits(const struct rt_timer *tm)
{
    struct rt_fiber *f;

    if (RB_SPECIAL_CONST_P(tm->fiber) || !rb_obj_is_kind_of(tm->fiber, rt_cFiber))
        return 0;
    f = rt_fiber_get_if_any(tm->fiber);
    if (!f || f->dead)
        return 0;
    return tm->owner != Qnil || f->wait_timer == tm;
}

static void fire_timers(struct rt_thread *t)
{
    struct rt_timer *due[RT_TIMER_BATCH];
    size_t n;

    do {
        n = rt_timers_pop_due(&t->timers, due, RT_TIMER_BATCH);
        for (size_t i = 0; i < n; i++)
            if (timer_target_waits(due[i]))
                rt_sched_schedule(due[i]->fiber, due[i]->value, 0);
    } while (n == RT_TIMER_BATCH);
}

struct poll_args {
    struct rt_thread *t;
    double timeout;
};

static VALUE poll_body(VALUE arg)
{
    struct poll_args *a = (struct poll_args *)arg;
    a->t->ops->poll(a->t->be, a->timeout);
    return Qnil;
}

/*
 * Polls, catching an interrupt raised while the GVL was given up; returns
 * it, or Qundef. Due timers fire either way.
 */
static VALUE poll_protected(struct rt_thread *t, double timeout)
{
    struct poll_args a = { t, timeout };
    int state = 0, nested = t->nested;
    VALUE err = Qundef;

    t->poll_count++;
    t->switches_since_poll = 0;
    t->polling = 1;     /* a debugger tells an idle loop from a thread blocked elsewhere */
    t->nested = 1;      /* trap handlers run in there, inside this fiber's wait */
    rb_protect(poll_body, (VALUE)&a, &state);
    t->nested = nested;
    t->polling = 0;
    t->parked = 0;
    if (state) {
        err = rb_errinfo();
        if (!is_exception(err))
            rb_jump_tag(state); /* thread kill: unwind as Ruby wants */
        rb_set_errinfo(Qnil);
    }
    fire_timers(t);
    return err;
}

void rt_sched_poll(struct rt_thread *t, double timeout)
{
    VALUE err = poll_protected(t, timeout);
    if (err != Qundef)
        rb_exc_raise(err);
}

/*
 * The next entry to run. A parked fiber's entry (Fiber#__park__) is set
 * aside in t->parked_queue, kept in order, until the fiber is unparked.
 */
static int pick(struct rt_thread *t, struct rt_runqueue_entry *e)
{
    if (t->lock_owner != Qnil) {
        struct rt_fiber *owner = rt_fiber_get(t->lock_owner);
        if (!owner->dead)
            return rt_runqueue_take(&t->runqueue, t->lock_owner, e);
        t->lock_owner = Qnil;
    }
    for (;;) {
        if (!rt_runqueue_shift(&t->runqueue, e))
            return 0;
        if (RB_LIKELY(!e->state->parked))
            return 1;
        if (rt_runqueue_push(&t->parked_queue, e->fiber, e->state, e->value) < 0)
            rb_raise(rb_eNoMemError, "run queue");
    }
}

static VALUE check_ints(VALUE unused)
{
    (void)unused;
    rb_thread_check_ints();
    return Qnil;
}

/*
 * Pending interrupts (a signal's exception, Thread#raise) are taken here, at
 * a point where every completion has been recorded, and handed to the
 * current fiber as its resume value so that whatever op it waits in cleans
 * up before raising. Returns Qundef when there is none. Trap handlers run
 * here too, inside the current fiber's wait.
 */
static VALUE take_interrupt(struct rt_thread *t)
{
    int state = 0, nested = t->nested;

    t->nested = 1;
    rb_protect(check_ints, Qnil, &state);
    t->nested = nested;
    if (!state)
        return Qundef;
    VALUE err = rb_errinfo();
    if (!is_exception(err))
        rb_jump_tag(state); /* thread kill: unwind as Ruby wants */
    rb_set_errinfo(Qnil);
    return err;
}

/*
 * Nothing is left to resume a fiber of this thread: nothing runnable, no op
 * or blocking wait (receive, a queue, an event) in flight, no timer. A plain
 * suspend does not count, as in Polyphony (whose libev loop does not count
 * its wakeup watcher either).
 */
static int idle(struct rt_thread *t)
{
    return rt_runqueue_len(&t->runqueue) == 0 && t->pending_ops == 0 && t->timers.len == 0;
}

static VALUE call_idle_proc(VALUE proc)
{
    return rb_funcall(proc, rb_intern("call"), 0);
}

/*
 * Polyphony's idle tasks: before the scheduler blocks in poll, at most once
 * per switch, a GC when idle_gc_period has passed and the idle proc.
 */
static VALUE idle_tasks_body(VALUE arg)
{
    struct rt_thread *t = (struct rt_thread *)arg;

    if (t->idle_gc_period > 0) {
        double now = rt_timers_now(&t->timers);
        if (now - t->last_idle_gc >= t->idle_gc_period) {
            /* Also when the program disabled the GC (the reason to ask for
             * idle GCs, in Polyphony): enabled for this one, as it was after. */
            VALUE was_disabled = rb_gc_enable();
            t->last_idle_gc = now;
            rb_gc_start();
            if (RTEST(was_disabled))
                rb_gc_disable();
        }
    }
    if (t->idle_proc != Qnil)
        call_idle_proc(t->idle_proc);
    return Qnil;
}

/* They run inside the current fiber's wait (t->nested); an exception is dropped. */
static void run_idle_tasks(struct rt_thread *t)
{
    int state = 0, nested = t->nested;

    t->nested = 1;
    rb_protect(idle_tasks_body, (VALUE)t, &state);
    t->nested = nested;
    if (state)
        rb_set_errinfo(Qnil);
}

/*
 * The counters (stats.h): the timed run ends as the scheduler is entered,
 * and the next begins with the fiber it switches to (or the same fiber,
 * when it goes on without a switch). One clock read per switch; a second
 * only when the loop polled or ran idle tasks in between (idle time).
 */
static inline uint64_t stats_enter(struct rt_thread *t)
{
    uint64_t now;

    if (!RB_LIKELY(rt_stats_on))
        return 0;
    now = rt_clock_ticks();
    if (t->running) {
        if (RB_UNLIKELY(rt_watchdog_armed))
            rt_watchdog_run_ends(t, now);
        rt_stats_run_end(&t->stats, &t->running->stats, now);
    }
    return now;
}

static inline void stats_leave(struct rt_thread *t, struct rt_fiber *f, uint64_t entered,
                               int looped)
{
    uint64_t now = entered;

    if (!RB_LIKELY(rt_stats_on))
        return;
    if (looped) {
        now = rt_clock_ticks();
        t->stats.idle_ticks += now - entered;
    }
    rt_stats_run_begin(&t->stats, &f->stats, f->wait_op != NULL, now);
    t->running = f;
}

/*
 * Nothing of this loop's own could wake a fiber: nothing runnable, no timer,
 * no backend op. Whether anything else could is deadlock.c's question.
 */
static inline int maybe_stuck(struct rt_thread *t)
{
    return rt_runqueue_len(&t->runqueue) == 0 && t->timers.len == 0 && t->external_ops == 0;
}

/*
 * rt_api.h's on_next_wait: one pending request, for whichever thread's loop
 * is about to wait first. Set and taken with the GVL held.
 */
static void (*next_wait_fn)(void *data);
static void *next_wait_data;

void rt_sched_on_next_wait(void (*fn)(void *data), void *data)
{
    next_wait_data = data;
    next_wait_fn = fn;
}

/*
 * Before a poll that may wait while a request is pending: a poll that does
 * not wait first, and if it found nothing to run (nor an interrupt, which
 * it returns), the request's call. Returns Qundef, or the interrupt.
 */
static VALUE announce_wait(struct rt_thread *t)
{
    VALUE err = poll_protected(t, 0);
    void (*fn)(void *) = next_wait_fn;

    if (err != Qundef || rt_runqueue_len(&t->runqueue) > 0 || !fn)
        return err;
    next_wait_fn = NULL;
    fn(next_wait_data);
    return Qundef;
}

/* fair_check's answers. */
enum { FAIR_NONE, FAIR_TIMERS, FAIR_POLL };

/*
 * Fairness while the run queue never empties: every RT_SWITCHES_PER_POLL
 * switches, due timers fire, and the backend is polled without blocking if
 * an op is in flight (nothing else could be ready: a wake-up from another
 * thread comes with a run queue entry, which the switch finds anyway) and
 * the backend's fair_poll_ns have passed since its last fairness poll. So a
 * fiber that keeps snoozing keeps ready I/O waiting for at most that time
 * and RT_SWITCHES_PER_POLL switches, and pays no poll while nothing waits.
 */
static inline int fair_check(struct rt_thread *t)
{
    unsigned long gap;

    if (RB_LIKELY(t->switches_since_poll < RT_SWITCHES_PER_POLL))
        return FAIR_NONE;
    if (t->external_ops > 0) {
        gap = t->ops->fair_poll_ns;
        if (gap == 0)
            return FAIR_POLL;
        uint64_t now = rt_clock_mono_ns();
        if (now - t->fair_poll_at >= gap) {
            t->fair_poll_at = now;
            return FAIR_POLL;
        }
    }
    t->switches_since_poll = 0;
    return t->timers.len > 0 ? FAIR_TIMERS : FAIR_NONE;
}

/*
 * Every switch ends here: `e`, taken off the run queue, runs (the calling
 * fiber `current` itself when e is its own entry, without a transfer).
 */
static inline VALUE switch_to(struct rt_thread *t, VALUE current, struct rt_runqueue_entry *e,
                              uint64_t entered, int looped)
{
    struct rt_fiber *next = e->state;

    t->switch_count++;
    t->switches_since_poll++;
    next->scheduled = 0;
    t->current = e->fiber;
    t->current_state = next;
    stats_leave(t, next, entered, looped);
    rt_emit(RT_EV_FIBER_SWITCH, e->fiber, e->value, NULL, -1, 0, 0);
    if (e->fiber == current)
        return e->value;
    VALUE v = rb_fiber_transfer(e->fiber, 1, &e->value);
    RB_GC_GUARD(current);
    return v;
}

/*
 * A fiber that has ended never returns (fiber.c): it switches away for good.
 * When it finds nothing to run, the loop's wait would run on its stack, and
 * with it whatever Ruby runs inside that wait (trap handlers: the
 * debugger's attach and pause stops; the hog and deadlock reports), in a
 * fiber that no longer exists for the program. So it hands the loop to the
 * thread's main fiber when that waits in a switch of its own (a wait op is
 * set, and it is not the one running): the main fiber's switch_to_next goes
 * on looping (resumed with loop_handoff) as if it had been switched to.
 * Nothing is added while anything is runnable, and no switch when the wait
 * wakes the main fiber, which would have been switched to anyway.
 */
static VALUE loop_handoff;  /* the resume value that says so (a frozen Object) */

static int hand_loop_to_main(struct rt_thread *t, VALUE current, uint64_t entered)
{
    struct rt_fiber *m;

    if (RB_LIKELY(!current_state(t, current)->dead) || t->main_fiber == current)
        return 0;
    m = rt_fiber_get_if_any(t->main_fiber);
    if (!m || m->dead || !m->wait_op || m->interjecting || m->t != t)
        return 0;
    t->handoff_entered = entered;
    t->current = t->main_fiber;
    t->current_state = m;
    rb_fiber_transfer(t->main_fiber, 1, &loop_handoff);
    /* Not expected (nothing schedules an ended fiber): loop on here. */
    t->current = current;
    return 1;
}

/* `current` is the calling fiber (its callers have it at hand already). */
static VALUE switch_to_next(struct rt_thread *t, VALUE current, int idle_returns)
{
    struct rt_runqueue_entry e;
    int idle_tasks_done = 0, looped = 0, deadlock_stopped = 0;
    uint64_t entered = stats_enter(t);
    VALUE v;

again:
    t->current = current;
    for (;;) {
        VALUE err = Qundef;
        switch (fair_check(t)) {
        case FAIR_NONE:
            break;
        case FAIR_TIMERS:
            fire_timers(t);
            break;
        default:
            looped = 1;
            err = poll_protected(t, 0);
        }
        if (err == Qundef && pick(t, &e))
            break;
        looped = 1;
        if (err == Qundef && hand_loop_to_main(t, current, entered))
            continue;
        if (err == Qundef && maybe_stuck(t) && (t->idle_proc == Qnil || idle_tasks_done) &&
            rt_deadlock_check(t, idle_returns, &deadlock_stopped))
            continue;
        if (err == Qundef && idle_returns && idle(t)) {
            t->current = current;
            stats_leave(t, current_state(t, current), entered, looped);
            return Qundef;
        }
        if (err == Qundef && !idle_tasks_done) {
            idle_tasks_done = 1;
            if (t->idle_proc != Qnil || t->idle_gc_period > 0) {
                run_idle_tasks(t);
                continue; /* the idle proc may have scheduled someone */
            }
        }
        if (err == Qundef && RB_UNLIKELY(next_wait_fn != NULL)) {
            err = announce_wait(t);
            if (err == Qundef && rt_runqueue_len(&t->runqueue) > 0)
                continue;
        }
        if (err == Qundef)
            err = poll_protected(t, rt_timers_next_timeout(&t->timers));
        if (err == Qundef)
            err = take_interrupt(t);
        if (err != Qundef) {
            struct rt_fiber *f = current_state(t, current);
            struct rt_runqueue_entry stale;
            if (f->scheduled && rt_runqueue_take(&t->runqueue, current, &stale))
                f->scheduled = 0;
            t->current = current;
            stats_leave(t, f, entered, looped);
            return err;
        }
    }
    v = switch_to(t, current, &e, entered, looped);
    if (RB_UNLIKELY(v == loop_handoff)) {
        /* An ended fiber handed this one the loop: a wait of its own now. */
        entered = t->handoff_entered;
        looped = 1;
        idle_tasks_done = deadlock_stopped = 0;
        goto again;
    }
    return v;
}

VALUE rt_sched_switch(struct rt_thread *t)
{
    return switch_to_next(t, rb_fiber_current(), 0);
}

VALUE rt_sched_switch_or_idle(struct rt_thread *t)
{
    return switch_to_next(t, rb_fiber_current(), 1);
}

/*
 * One wait, as rb_ensure runs it: the switch in the body, and in the ensure
 * function what any exit must undo. A wait can be left by a non-local exit
 * that is not a value the op sees (a throw raised at the interrupt point, as
 * Ruby's Timeout does; a thread kill): then the fiber's waiting marks, the
 * pending-op count and any stale run queue entry are undone here, and the
 * caller's on_unwind releases what the op registered (a timer, a watcher, a
 * kernel op) before the unwinding frees the stack it lives on.
 */
/* await_impl's flags. */
#define WAIT_IDLE_RETURNS 1  /* nil at once when nothing could ever resume it */
#define WAIT_EXTERNAL 2      /* a backend op: the kernel or a watcher ends it */

struct await_frame {
    struct rt_thread *t;
    VALUE fiber;
    struct rt_fiber *f;
    int flags;
    int returned;
    VALUE value;
    void (*on_unwind)(void *);
    void *arg;
};

/* Only made by Fiber#interject: the exact class, checked cheaply. */
static inline int is_interjection(VALUE v)
{
    return !RB_SPECIAL_CONST_P(v) && RBASIC_CLASS(v) == rt_eInterjection;
}

static VALUE call_interjection(VALUE v)
{
    return rb_funcall(rb_attr_get(v, rb_intern("@value")), rb_intern("call"), 0);
}

static VALUE end_interjection(VALUE arg)
{
    ((struct rt_fiber *)arg)->interjecting = 0;
    return Qnil;
}

/*
 * Fiber#interject: the block runs in the fiber where it waits, and the wait
 * goes on. The fiber's own op stays in flight meanwhile, so the block may
 * not wait itself (await_impl refuses; snooze does not switch). An
 * exception from the block leaves the wait like any other.
 */
static void run_interjection(struct rt_fiber *f, VALUE v)
{
    const char *op = f->wait_op;
    int fd = f->wait_fd;

    f->interjecting = 1;
    rb_ensure(call_interjection, v, end_interjection, (VALUE)f);
    f->wait_op = op;
    f->wait_fd = fd;
}

static VALUE await_body(VALUE arg)
{
    struct await_frame *a = (struct await_frame *)arg;
    a->value = switch_to_next(a->t, a->fiber, a->flags & WAIT_IDLE_RETURNS);
    while (RB_UNLIKELY(is_interjection(a->value))) {
        run_interjection(a->f, a->value);
        a->value = switch_to_next(a->t, a->fiber, a->flags & WAIT_IDLE_RETURNS);
    }
    a->returned = 1;
    return Qnil;
}

static VALUE await_ensure(VALUE arg)
{
    struct await_frame *a = (struct await_frame *)arg;
    struct rt_thread *t = a->t;

    if (!(a->flags & WAIT_IDLE_RETURNS))
        t->pending_ops--;
    if (a->f->fdw_fd >= 0)
        rt_fdwait_unlink(a->f);
    if (a->flags & WAIT_EXTERNAL) {
        t->external_ops--;
        a->f->in_op = 0;
    }
    a->f->wait_op = NULL;
    a->f->wait_on = Qnil;
    a->f->wait_fd = -1;
    if (!a->returned) {
        struct rt_runqueue_entry stale;
        t->current = a->fiber;
        /* First: releasing the op may resume this fiber (a reaped CQE). */
        if (a->on_unwind)
            a->on_unwind(a->arg);
        if (a->f->scheduled && rt_runqueue_take(&t->runqueue, a->fiber, &stale))
            a->f->scheduled = 0;
    }
    return Qnil;
}

static VALUE await_impl(struct rt_thread *t, const char *op, int fd, int flags,
                        void (*on_unwind)(void *), void *arg)
{
    VALUE fiber = rb_fiber_current();
    struct rt_fiber *f = current_state(t, fiber);
    struct await_frame a = { t, fiber, f, flags, 0, Qnil, on_unwind, arg };
    VALUE v;

    if (RB_UNLIKELY(f->interjecting))
        rb_raise(rb_eRuntimeError, "a Fiber#interject block cannot wait (%s)", op);
    if (RB_UNLIKELY(t->nested))
        rb_raise(rb_eThreadError,
                 "can't wait (%s) in code run inside a fiber's wait (a trap handler, the idle proc)",
                 op);

    f->wait_op = op;
    f->wait_fd = fd;
    if (fd >= 0)
        rt_fdwait_link(f, fd);
    t->ops_without_wait = 0;
    rt_emit(RT_EV_FIBER_BLOCK, fiber, Qnil, op, fd, 0, 0);
    if (!(flags & WAIT_IDLE_RETURNS))
        t->pending_ops++;
    if (flags & WAIT_EXTERNAL) {
        t->external_ops++;
        f->in_op = 1;
    }
    rb_ensure(await_body, (VALUE)&a, await_ensure, (VALUE)&a);
    v = a.value;
    if (v == Qundef) {
        v = Qnil;
        rt_emit(RT_EV_FIBER_UNBLOCK, fiber, Qnil, op, fd, 0, 0);
    }
    RB_GC_GUARD(fiber);
    return v;
}

VALUE rt_sched_await_unwind(struct rt_thread *t, const char *op, int fd,
                            void (*on_unwind)(void *), void *arg)
{
    return await_impl(t, op, fd, 0, on_unwind, arg);
}

VALUE rt_sched_await_or_idle_unwind(struct rt_thread *t, const char *op, int fd,
                                    void (*on_unwind)(void *), void *arg)
{
    return await_impl(t, op, fd, WAIT_IDLE_RETURNS, on_unwind, arg);
}

VALUE rt_sched_await(struct rt_thread *t, const char *op, int fd)
{
    return await_impl(t, op, fd, 0, NULL, NULL);
}

VALUE rt_sched_await_or_idle(struct rt_thread *t, const char *op, int fd)
{
    return await_impl(t, op, fd, WAIT_IDLE_RETURNS, NULL, NULL);
}

VALUE rt_sched_suspend(struct rt_thread *t, const char *op)
{
    VALUE v = await_impl(t, op, -1, 0, NULL, NULL);
    if (is_exception(v))
        rb_exc_raise(v);
    return v;
}

VALUE rt_sched_suspend_or_idle(struct rt_thread *t, const char *op)
{
    VALUE v = await_impl(t, op, -1, WAIT_IDLE_RETURNS, NULL, NULL);
    if (is_exception(v))
        rb_exc_raise(v);
    return v;
}

VALUE rt_sched_snooze(struct rt_thread *t)
{
    return rt_sched_snooze_fiber(t, rb_fiber_current());
}

/*
 * The common snooze, in one step (rt_runqueue_rotate): the fiber goes to
 * the back of its own thread's non-empty run queue and the first entry
 * runs, when schedule_state and switch_to_next would do just that: no
 * fiber lock, no fairness poll due, the first entry not parked, the fiber
 * not already scheduled (nor waiting, nor dead: it runs).
 */
static inline int snooze_rotates(struct rt_thread *t, struct rt_fiber *f)
{
    return f->t == t && !f->scheduled && !f->dead && !f->wait_op && t->lock_owner == Qnil &&
           t->switches_since_poll < RT_SWITCHES_PER_POLL && rt_runqueue_len(&t->runqueue) > 0 &&
           !rt_runqueue_at(&t->runqueue, 0)->state->parked;
}

VALUE rt_sched_snooze_fiber(struct rt_thread *t, VALUE fiber)
{
    t->ops_without_wait = 0;
    struct rt_fiber *f = current_state(t, fiber);
    if (RB_UNLIKELY(f->interjecting || t->nested))
        return Qnil; /* its own wait is still pending: no switch */
    VALUE v;
    if (RB_LIKELY(snooze_rotates(t, f))) {
        struct rt_runqueue_entry e;
        uint64_t entered = stats_enter(t);
        t->current = fiber;
        rt_runqueue_rotate(&t->runqueue, fiber, f, Qnil, &e);
        f->scheduled = 1;
        rt_emit(RT_EV_FIBER_SCHEDULE, fiber, Qnil, NULL, -1, 0, 0);
        v = switch_to(t, fiber, &e, entered, 0);
    } else {
        /*
         * Every caller passes the calling thread's state, so when the
         * current fiber belongs to t there is no other thread's loop to wake.
         */
        schedule_state(f, fiber, Qnil, 0, f->t == t);
        v = switch_to_next(t, fiber, 0);
    }
    if (RB_UNLIKELY(is_interjection(v))) {
        run_interjection(f, v);
        return Qnil;
    }
    if (is_exception(v))
        rb_exc_raise(v);
    return v;
}

struct snooze_fd {
    struct rt_thread *t;
    struct rt_fiber *f;
    VALUE fiber;
};

static VALUE snooze_fd_body(VALUE arg)
{
    struct snooze_fd *a = (struct snooze_fd *)arg;

    return switch_to_next(a->t, a->fiber, 0);
}

static VALUE snooze_fd_ensure(VALUE arg)
{
    rt_fdwait_unlink(((struct snooze_fd *)arg)->f);
    return Qnil;
}

VALUE rt_sched_snooze_fd(struct rt_thread *t, int fd)
{
    VALUE fiber = rb_fiber_current();
    struct snooze_fd a = { t, current_state(t, fiber), fiber };
    VALUE v;

    if (RB_UNLIKELY(t->nested))
        return Qnil; /* its own wait is still pending: no switch */
    t->ops_without_wait = 0;
    schedule_state(a.f, fiber, Qnil, 0, a.f->t == t);
    rt_fdwait_link(a.f, fd);
    v = rb_ensure(snooze_fd_body, (VALUE)&a, snooze_fd_ensure, (VALUE)&a);
    if (is_exception(v))
        rb_exc_raise(v);
    RB_GC_GUARD(fiber);
    return v;
}

/* --- backend.h: what a backend calls --------------------------------------- */

VALUE rt_backend_current_fiber(struct rt_thread *t)
{
    (void)t;
    return rb_fiber_current();
}

VALUE rt_backend_await(struct rt_thread *t, const char *op, int fd)
{
    return await_impl(t, op, fd, WAIT_EXTERNAL, NULL, NULL);
}

VALUE rt_backend_await_unwind(struct rt_thread *t, const char *op, int fd,
                              void (*on_unwind)(void *), void *arg)
{
    return await_impl(t, op, fd, WAIT_EXTERNAL, on_unwind, arg);
}

void rt_backend_resume(struct rt_thread *t, VALUE fiber, VALUE value)
{
    (void)t;
    rt_sched_schedule(fiber, value, 0);
}

int rt_backend_is_interrupt(VALUE value)
{
    return is_exception(value);
}

void rt_backend_raise(VALUE value)
{
    rb_exc_raise(value);
}

/* --- Ruby: Kernel#snooze, #suspend, Thread#switch_fiber ... ---------------- */

static VALUE k_snooze(VALUE self)
{
    VALUE fiber = rb_fiber_current();

    (void)self;
    return rt_sched_snooze_fiber(rt_thread_of_current(fiber), fiber);
}

static VALUE k_suspend(VALUE self)
{
    (void)self;
    return rt_sched_suspend_or_idle(rt_thread_current(), "suspend");
}

/*
 * Backend#wait_event(raise = true): waits until scheduled, even when nothing
 * else could schedule the fiber (Polyphony's wait_event holds the loop
 * open). The value it is scheduled with is returned; an exception is raised
 * unless `raise` is false.
 */
static VALUE be_wait_event(int argc, VALUE *argv, VALUE self)
{
    VALUE raise_on_exception;
    rb_scan_args(argc, argv, "01", &raise_on_exception);
    VALUE v = rt_sched_await(rt_thread_from_backend(self), "wait_event", -1);
    if (is_exception(v) && (argc == 0 || RTEST(raise_on_exception)))
        rb_exc_raise(v);
    return v;
}

static VALUE th_switch_fiber(VALUE self)
{
    return rt_sched_suspend_or_idle(rt_thread_of(self, 1), "suspend");
}

static VALUE th_schedule_fiber(int argc, VALUE *argv, VALUE self)
{
    VALUE fiber, value;
    (void)self;
    rb_scan_args(argc, argv, "11", &fiber, &value);
    rt_sched_schedule(fiber, value, 0);
    return self;
}

static VALUE th_schedule_fiber_with_priority(int argc, VALUE *argv, VALUE self)
{
    VALUE fiber, value;
    (void)self;
    rb_scan_args(argc, argv, "11", &fiber, &value);
    rt_sched_schedule(fiber, value, 1);
    return self;
}

/* fiber_unschedule(fiber): takes the fiber off the run queue, if it is on it. */
static VALUE th_fiber_unschedule(VALUE self, VALUE fiber)
{
    struct rt_thread *t = rt_thread_of(self, 1);
    struct rt_fiber *f = rt_fiber_get(fiber);
    struct rt_runqueue_entry e;

    if (f->t == t && f->scheduled && rt_runqueue_take(&t->runqueue, fiber, &e))
        f->scheduled = 0;
    return self;
}

/*
 * schedule_and_wakeup(fiber, value): schedules fiber first in line with
 * value (nil fiber: none) and wakes the thread's loop. Called on the thread
 * itself, the caller snoozes so the fiber runs now (Polyphony switches
 * away when its loop was not waiting).
 */
static VALUE th_schedule_and_wakeup(VALUE self, VALUE fiber, VALUE value)
{
    struct rt_thread *t = rt_thread_of(self, 1);

    if (fiber != Qnil)
        rt_sched_schedule(fiber, value, 1);
    if (self != rb_thread_current()) {
        t->ops->wakeup(t->be);
        return self;
    }
    rt_sched_snooze(t);
    return self;
}

/*
 * Fiber#__park__ / #__unpark__ / #__parked__? (Polyphony 1.6, for
 * debugging): a parked fiber is not run, though it can be scheduled; its
 * wake-ups wait, in order, until it is unparked.
 */
static VALUE f_park(VALUE self)
{
    rt_fiber_get(self)->parked = 1;
    return self;
}

static VALUE f_unpark(VALUE self)
{
    struct rt_fiber *f = rt_fiber_get(self);
    struct rt_thread *t = f->t;
    struct rt_runqueue_entry e;

    if (!f->parked)
        return self;
    f->parked = 0;
    if (t && rt_runqueue_take(&t->parked_queue, self, &e)) {
        if (rt_runqueue_push(&t->runqueue, e.fiber, e.state, e.value) < 0)
            rb_raise(rb_eNoMemError, "run queue");
        if (t->thread != rb_thread_current())
            t->ops->wakeup(t->be);
    }
    return self;
}

static VALUE f_parked_p(VALUE self)
{
    return rt_fiber_get(self)->parked ? Qtrue : Qnil;
}

static VALUE th_main_fiber(VALUE self)
{
    return rt_thread_of(self, 1)->main_fiber;
}

static VALUE th_runqueue_size(VALUE self)
{
    return SIZET2NUM(rt_runqueue_len(&rt_thread_of(self, 1)->runqueue));
}

void rt_scheduler_init(VALUE mPolyphony)
{
    loop_handoff = rb_obj_freeze(rb_obj_alloc(rb_cObject));
    rb_gc_register_mark_object(loop_handoff);
    VALUE cBackend = rb_const_get(mPolyphony, rb_intern("Backend"));
    rb_define_method(cBackend, "wait_event", be_wait_event, -1);
    rb_define_method(rb_mKernel, "snooze", k_snooze, 0);
    rb_define_method(rb_mKernel, "suspend", k_suspend, 0);
    rb_define_method(rb_cThread, "switch_fiber", th_switch_fiber, 0);
    rb_define_method(rb_cThread, "schedule_fiber", th_schedule_fiber, -1);
    rb_define_method(rb_cThread, "schedule_fiber_with_priority", th_schedule_fiber_with_priority, -1);
    rb_define_method(rb_cThread, "main_fiber", th_main_fiber, 0);
    rb_define_method(rb_cThread, "fiber_unschedule", th_fiber_unschedule, 1);
    rb_define_method(rb_cThread, "schedule_and_wakeup", th_schedule_and_wakeup, 2);
    rb_define_method(rb_cThread, "runqueue_size", th_runqueue_size, 0);
    rb_define_method(rt_cFiber, "__park__", f_park, 0);
    rb_define_method(rt_cFiber, "__unpark__", f_unpark, 0);
    rb_define_method(rt_cFiber, "__parked__?", f_parked_p, 0);
}
