/*
 * watchdog.c — the loop watchdog: notices a fiber that has run longer than
 * a threshold without switching (it holds up every other fiber and timer of
 * its thread) and has it reported in that fiber, at its current line,
 * without any per-line hook.
 *
 * A run is a hog only when it keeps something of its thread waiting: a
 * runnable fiber, a timer, any wait in flight (not a program's start-up);
 * and only when it used the CPU that long, not when the system left its
 * thread waiting (the thread's CPU clock, read by the watchdog).
 * A native thread, armed with the threshold, looks every quarter of it at
 * each runtime thread's counters (stats.h: when the current run began, and
 * which run it is), reading only atomics and holding no GVL. A run past the
 * threshold is flagged, and its thread gets RT_WATCHDOG_SIGNAL (tgkill); the
 * handler only registers a postponed job, which Ruby runs at that thread's
 * next safe point: in the hogging fiber, at the line it is executing. The
 * job calls the client's on_hog (rt_api.h's diagnostics hooks: the tracer
 * stops there or notes the place); when the run finally ends, the switch
 * path calls on_hog_end with its whole length. A job that ran on another
 * thread (postponed jobs are process-wide) leaves the run unacknowledged and
 * the watchdog signals again on its next look.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "rt_internal.h"
#include <ruby/debug.h>

int rt_watchdog_armed;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_t watcher;
static int started, quit;
static pid_t owner;                 /* the process the thread runs in */
static uint64_t threshold_ns;       /* 0: disarmed */
static int handler_installed;

int rt_watchdog_signal(void)
{
    return SIGRTMIN + 5;
}

/* ---- in the hogging thread ------------------------------------------------ */

struct hog_call {
    VALUE fiber;
    uint64_t ns;
    int result;
};

static VALUE call_on_hog(VALUE arg)
{
    struct hog_call *c = (struct hog_call *)arg;
    const struct rt_diag_hooks *h = rt_diag_hooks();

    c->result = h && h->on_hog ? h->on_hog(c->fiber, c->ns, h->data) : 0;
    return Qnil;
}

static VALUE call_on_hog_end(VALUE arg)
{
    struct hog_call *c = (struct hog_call *)arg;
    const struct rt_diag_hooks *h = rt_diag_hooks();

    if (h && h->on_hog_end)
        h->on_hog_end(c->fiber, c->ns, h->data);
    return Qnil;
}

/* The postponed job: a safe point of whichever thread took the signal. */
static void hog_job(void *unused)
{
    struct rt_thread *t = rt_thread_of(rb_thread_current(), 0);
    uint64_t seq, start, now;
    struct hog_call c;
    int state = 0;
    VALUE saved;

    (void)unused;
    if (!t || !rt_watchdog_armed)
        return;
    seq = rt_stats_load(&t->stats.run_seq);
    start = rt_stats_load(&t->stats.run_start);
    if (rt_stats_load(&t->stats.hog_seq) != seq || !start ||
        rt_stats_load(&t->stats.hog_acked) == seq)
        return;
    rt_stats_store(&t->stats.hog_acked, seq);
    /*
     * A long run holds up nobody when nothing else of the thread waits on
     * the loop: no fiber runnable, no timer, no wait in flight (a program's
     * start-up, a lone computation). Not a hog.
     */
    if (rt_runqueue_len(&t->runqueue) == 0 && t->timers.len == 0 && t->pending_ops == 0)
        return;
    now = rt_clock_ticks();
    c.fiber = rb_fiber_current();
    c.ns = rt_clock_delta_ns(start, now, rt_clock_ns_per_tick());
    c.result = 0;
    saved = rb_errinfo();
    rb_protect(call_on_hog, (VALUE)&c, &state);
    if (state)
        rb_set_errinfo(saved);
    t->hog_report = c.result != 0;
}

static void on_signal(int sig)
{
    int saved = errno;

    (void)sig;
    rb_postponed_job_register_one(0, hog_job, NULL);
    errno = saved;
}

void rt_watchdog_run_ends(struct rt_thread *t, uint64_t now)
{
    uint64_t seq = rt_stats_load(&t->stats.run_seq);
    struct hog_call c;
    int state = 0;
    VALUE saved;

    if (rt_stats_load(&t->stats.hog_seq) != seq)
        return;
    rt_stats_store(&t->stats.hog_seq, 0);
    if (!t->hog_report || !t->running)
        return;
    t->hog_report = 0;
    c.fiber = t->running->fiber;
    c.ns = rt_clock_delta_ns(rt_stats_load(&t->stats.run_start), now, rt_clock_ns_per_tick());
    saved = rb_errinfo();
    rb_protect(call_on_hog_end, (VALUE)&c, &state);
    if (state)
        rb_set_errinfo(saved);
}

/* ---- the watching thread --------------------------------------------------- */

struct look {
    uint64_t now;
    double ns_per_tick;
    uint64_t threshold;
    pid_t pid;
};

/* The CPU time thread tid of this process has used (ns), or -1. */
static int64_t thread_cpu_ns(pid_t tid)
{
    /* Linux's clock id for a thread's CPU time (as pthread_getcpuclockid
     * makes it): no pthread_t needed, and a thread gone is an error. */
    clockid_t clock = (clockid_t)(((unsigned)~tid << 3) | 6);
    struct timespec ts;

    if (clock_gettime(clock, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Whether the current run of t, begun at start, has used the CPU for the
 * threshold, not only the wall clock: a thread the system did not schedule
 * (a loaded machine) holds up its loop without being a hog. The thread's
 * CPU clock is read at every look; from the look that first sees the run,
 * its CPU time is counted exactly. Before that the run can have used at
 * most the wall time since it began, and at most the thread's CPU time
 * since the previous look (the run began after it, or that look would have
 * seen it): the smaller of the two. So a run first seen late, when the
 * watchdog itself was kept off the CPU, is not blamed for the wait.
 */
static int ran_on_cpu(struct rt_thread *t, const struct look *l, uint64_t seq, uint64_t start)
{
    int64_t cpu = thread_cpu_ns(t->tid);
    int64_t last = t->wd_look_cpu;

    if (cpu < 0)
        return 1;
    t->wd_look_cpu = cpu;
    if (t->wd_seq != seq) {
        uint64_t used = rt_clock_delta_ns(start, l->now, l->ns_per_tick);

        if (cpu >= last && (uint64_t)(cpu - last) < used)
            used = (uint64_t)(cpu - last);
        t->wd_seq = seq;
        t->wd_used = used;
        t->wd_cpu = cpu;
    }
    return t->wd_used + (uint64_t)(cpu - t->wd_cpu) >= l->threshold;
}

/* Under the registry's lock: t cannot be freed meanwhile. */
static void look_at(struct rt_thread *t, void *arg)
{
    struct look *l = arg;
    uint64_t start = rt_stats_load(&t->stats.run_start);
    uint64_t seq = rt_stats_load(&t->stats.run_seq);

    if (!start || t->ended || !t->tid)
        return;
    if (!ran_on_cpu(t, l, seq, start) ||
        rt_clock_delta_ns(start, l->now, l->ns_per_tick) < l->threshold)
        return;
    /* Flagged already and the job took it: nothing more to do for this run. */
    if (rt_stats_load(&t->stats.hog_seq) == seq && rt_stats_load(&t->stats.hog_acked) == seq)
        return;
    rt_stats_store(&t->stats.hog_seq, seq);
    syscall(SYS_tgkill, l->pid, t->tid, rt_watchdog_signal());
}

static void *watch(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!quit) {
        struct timespec until;
        uint64_t period;
        struct look l;

        if (!threshold_ns) {
            pthread_cond_wait(&cv, &mu);
            continue;
        }
        period = threshold_ns / 4;
        if (period < 1000000u)
            period = 1000000u;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)(period / 1000000000u);
        until.tv_nsec += (long)(period % 1000000000u);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&cv, &mu, &until);
        if (quit || !threshold_ns)
            continue;
        l.threshold = threshold_ns;
        pthread_mutex_unlock(&mu);
        l.ns_per_tick = rt_clock_ns_per_tick();
        l.now = rt_clock_ticks();
        l.pid = getpid();
        rt_thread_registry_each(look_at, &l);
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

static int start_thread(void)
{
    pthread_condattr_t ca;
    sigset_t all, old;
    int r;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &ca);
    pthread_condattr_destroy(&ca);
    quit = 0;
    /* Signals go to Ruby's threads, never to this one. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    r = pthread_create(&watcher, NULL, watch, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0)
        return -r;
    started = 1;
    owner = getpid();
    return 0;
}

static int install_handler(void)
{
    struct sigaction sa;

    if (handler_installed)
        return 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(rt_watchdog_signal(), &sa, NULL) < 0)
        return -errno;
    handler_installed = 1;
    return 0;
}

int rt_watchdog_arm(uint64_t ns)
{
    int r;

    if (ns && !rt_stats_on)
        return -ENOTSUP;
    if (ns && (r = install_handler()) < 0)
        return r;
    /* A forked child has our state but not the thread. */
    if (started && owner != getpid())
        started = 0;
    if (ns && !started && (r = start_thread()) < 0)
        return r;
    pthread_mutex_lock(&mu);
    threshold_ns = ns;
    rt_watchdog_armed = ns != 0;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    return 0;
}

uint64_t rt_watchdog_threshold(void)
{
    return threshold_ns;
}

static void after_fork_child(void)
{
    /* The thread is gone in the child; a later arm starts a new one. */
    started = 0;
    threshold_ns = 0;
    rt_watchdog_armed = 0;
    pthread_mutex_init(&mu, NULL);
}

void rt_watchdog_init(VALUE mPolyphony)
{
    (void)mPolyphony;
    pthread_atfork(NULL, NULL, after_fork_child);
}
