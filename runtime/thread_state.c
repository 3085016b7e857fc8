/*
 * thread_state.c — the runtime state of one Ruby thread (struct rt_thread):
 * its backend, run queue, timers and fiber lock, wrapped in the Ruby object
 * Polyphony::Backend and kept in a hidden instance variable of the Thread,
 * created on the thread's first runtime call. Thread#backend returns it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "rt_internal.h"
#include "surface.h"

static VALUE cBackend;
static ID id_state;

/*
 * rt_thread_current() runs on every switch; looking the state up in the
 * Thread's hidden ivar is a hash lookup (Ruby's generic-ivar table). So each
 * native thread remembers the state it last found. The pointer may only be
 * followed while no thread state has been freed since it was stored: every
 * ts_free bumps states_freed (under the GVL, as GC frees), so a remembered
 * pointer from an older generation is looked up again instead of read. It
 * must also belong to the calling Ruby thread: Ruby 3.1 reuses native threads
 * for new Ruby threads, so the TLS can outlive the Thread it was stored for.
 * After fork the forking thread's TLS carries over and be_post_fork keeps
 * the same struct (t->thread updated), so the entry stays right.
 */
static unsigned long states_freed;
/* One TLS object, not two: each is a __tls_get_addr call in a shared object. */
static _Thread_local struct {
    struct rt_thread *t;
    unsigned long generation;   /* states_freed when t was stored */
} tls_state;

/*
 * Every thread's state, for rt_thread_wakeup: it may be called from a native
 * thread without the GVL, where looking at Ruby objects is not allowed.
 */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rt_thread **registry;
static size_t registry_len, registry_capa;

static void registry_add(struct rt_thread *t)
{
    pthread_mutex_lock(&registry_lock);
    if (registry_len == registry_capa) {
        size_t capa = registry_capa ? registry_capa * 2 : 8;
        struct rt_thread **r = realloc(registry, capa * sizeof(*r));
        if (r) {
            registry = r;
            registry_capa = capa;
        }
    }
    if (registry_len < registry_capa)
        registry[registry_len++] = t;
    pthread_mutex_unlock(&registry_lock);
}

static void registry_remove(struct rt_thread *t)
{
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < registry_len; i++) {
        if (registry[i] == t) {
            registry[i] = registry[--registry_len];
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

void rt_thread_registry_each(void (*fn)(struct rt_thread *t, void *data), void *data)
{
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < registry_len; i++)
        fn(registry[i], data);
    pthread_mutex_unlock(&registry_lock);
}

/*
 * Every thread with runtime state, the main thread first: a snapshot of the
 * registry taken under its lock (fn may create thread states meanwhile).
 * With the GVL, so no state in the snapshot is freed before fn sees it.
 */
void rt_thread_each(rt_thread_visit_fn fn, void *data)
{
    VALUE main = rb_thread_main(), *list;
    size_t n, i, k = 0;

    pthread_mutex_lock(&registry_lock);
    n = registry_len;
    list = n ? malloc(n * sizeof *list) : NULL;
    for (i = 0; list && i < n; i++)
        if (!registry[i]->ended)
            list[k++] = registry[i]->thread;
    pthread_mutex_unlock(&registry_lock);
    for (i = 0; i < k; i++)
        if (list[i] == main)
            fn(main, data);
    for (i = 0; i < k; i++)
        if (list[i] != main)
            fn(list[i], data);
    free(list);
}

int rt_thread_wakeup(VALUE thread)
{
    int rc = -ESRCH;
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < registry_len; i++) {
        struct rt_thread *t = registry[i];
        if (t->thread == thread && t->be) {
            t->ops->wakeup(t->be);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return rc;
}

static void ts_mark(void *p)
{
    struct rt_thread *t = p;
    rb_gc_mark(t->thread); /* pinned: rt_thread_wakeup compares it without the GVL */
    rb_gc_mark_movable(t->main_fiber);
    rb_gc_mark_movable(t->current);
    if (t->current_state)
        rb_gc_mark_movable(t->current_state->self);
    if (t->running)
        rb_gc_mark_movable(t->running->self);
    rb_gc_mark_movable(t->lock_owner);
    rb_gc_mark_movable(t->trace_proc);
    rb_gc_mark_movable(t->idle_proc);
    rb_gc_mark_movable(t->scheduler);
    rb_gc_mark_movable(t->read_buffers);
    rt_runqueue_mark(&t->runqueue);
    rt_runqueue_mark(&t->parked_queue);
    rt_timers_mark(&t->timers);
}

static void ts_compact(void *p)
{
    struct rt_thread *t = p;
    t->self = rb_gc_location(t->self);
    t->main_fiber = rb_gc_location(t->main_fiber);
    t->current = rb_gc_location(t->current);
    t->lock_owner = rb_gc_location(t->lock_owner);
    t->trace_proc = rb_gc_location(t->trace_proc);
    t->idle_proc = rb_gc_location(t->idle_proc);
    t->scheduler = rb_gc_location(t->scheduler);
    t->read_buffers = rb_gc_location(t->read_buffers);
    rt_runqueue_compact(&t->runqueue);
    rt_runqueue_compact(&t->parked_queue);
    rt_timers_compact(&t->timers);
}

static void ts_free(void *p)
{
    struct rt_thread *t = p;
    states_freed++; /* invalidates every thread's tls_state (see above) */
    registry_remove(t);
    if (t->be)
        t->ops->destroy(t->be);
    rt_runqueue_free(&t->runqueue);
    rt_runqueue_free(&t->parked_queue);
    rt_timers_free(&t->timers);
    free(t);
}

static size_t ts_size(const void *p)
{
    const struct rt_thread *t = p;
    return sizeof(*t) + t->runqueue.capa * sizeof(struct rt_runqueue_entry) +
           t->timers.capa * sizeof(struct rt_timer *);
}

static const rb_data_type_t ts_type = {
    "Polyphony::Backend",
    { ts_mark, ts_free, ts_size, ts_compact, { 0 } },
    NULL, NULL, RUBY_TYPED_FREE_IMMEDIATELY
};

static struct rt_thread *create(VALUE thread)
{
    struct rt_thread *t = calloc(1, sizeof(*t));
    int rc;

    if (!t)
        rb_raise(rb_eNoMemError, "Polyphony::Backend");
    t->thread = thread;
    t->main_fiber = t->current = rb_fiber_current();
    t->lock_owner = Qnil;
    t->trace_proc = Qnil;
    t->idle_proc = Qnil;
    t->scheduler = Qnil;
    t->read_buffers = Qnil;
    rt_runqueue_init(&t->runqueue);
    rt_runqueue_init(&t->parked_queue);
    rt_timers_init(&t->timers);
    t->ops = rt_backend_select();
    t->self = TypedData_Wrap_Struct(cBackend, &ts_type, t);
    rc = rt_backend_start(t); /* backend_choice.c: the choice and its fallback */
    if (rc < 0)
        rb_syserr_fail(-rc, "Polyphony backend");
    rb_ivar_set(thread, id_state, t->self);
    registry_add(t);
    /* The fiber that first uses the runtime on a thread is its main fiber. */
    struct rt_fiber *f = rt_fiber_get(t->main_fiber);
    f->is_main = 1;
    f->tag = ID2SYM(rb_intern("main"));
    /* ... and has been running since: its first run is timed from here. */
    t->tid = (pid_t)syscall(SYS_gettid);
    if (rt_stats_on) {
        t->running = f;
        rt_stats_run_begin(&t->stats, &f->stats, 0, rt_clock_ticks());
    }
    rt_mailbox_deliver_pending(thread, t->main_fiber);
    rt_fiber_scheduler_install(t);
    return t;
}

struct rt_thread *rt_thread_of(VALUE thread, int create_it)
{
    VALUE obj = rb_attr_get(thread, id_state);
    if (obj != Qnil)
        return RTYPEDDATA_DATA(obj);
    if (!create_it)
        return NULL;
    if (thread != rb_thread_current())
        rb_raise(rb_eThreadError, "the runtime of another thread is not started yet");
    return create(thread);
}

struct rt_thread *rt_thread_current(void)
{
    VALUE thread = rb_thread_current();
    struct rt_thread *t = tls_state.t;

    if (RB_LIKELY(t && tls_state.generation == states_freed && t->thread == thread))
        return t;
    t = rt_thread_of(thread, 1);
    tls_state.t = t;
    tls_state.generation = states_freed;
    return t;
}

/*
 * The fiber running on t: on the calling thread the calling fiber, which
 * may have been entered by a plain Fiber#resume the scheduler did not see;
 * on another thread (stopped at a GVL switch) the one last switched to.
 */
VALUE rt_thread_running_fiber(struct rt_thread *t)
{
    return t->thread == rb_thread_current() ? rb_fiber_current() : t->current;
}

/*
 * The state last found by this function, on whichever thread (all callers
 * hold the GVL). A thread's t->current is always one of its own fibers, and
 * it is marked, so no other fiber can take its address: when it is the
 * calling fiber, t is the calling thread's state. This saves the two TLS
 * look-ups of rt_thread_current on the snooze path.
 */
static struct {
    struct rt_thread *t;
    unsigned long generation;
} last_state;

struct rt_thread *rt_thread_of_current(VALUE fiber)
{
    struct rt_thread *t = last_state.t;

    if (RB_LIKELY(t && last_state.generation == states_freed && t->current == fiber))
        return t;
    t = rt_thread_current();
    last_state.t = t;
    last_state.generation = states_freed;
    return t;
}

struct rt_thread *rt_thread_from_backend(VALUE backend)
{
    return rb_check_typeddata(backend, &ts_type);
}

void rt_thread_end(struct rt_thread *t)
{
    if (t->ended)
        return;
    t->ended = 1;
    /* Nothing of it runs any more: the watchdog must not signal it. */
    rt_stats_store(&t->stats.run_start, 0);
    t->tid = 0;
    if (t->be && t->ops->shutdown)
        t->ops->shutdown(t->be);
    rt_timers_clear(&t->timers);
}

/*
 * Thread#__rt_thread_end__: called by the thread itself as its block ends
 * (polyphony/thread_end.rb wraps every Thread.new block in an ensure).
 */
static VALUE th_rt_thread_end(VALUE self)
{
    struct rt_thread *t = rt_thread_of(self, 0);

    if (t && self == rb_thread_current())
        rt_thread_end(t);
    if (self == rb_thread_current())
        rt_deadlock_thread_ended(self);
    return Qnil;
}

/* Thread#__rt_started__?: has the thread used the runtime yet. */
static VALUE th_rt_started_p(VALUE self)
{
    return rt_thread_of(self, 0) ? Qtrue : Qfalse;
}

static VALUE th_backend(VALUE self)
{
    return rt_thread_of(self, 1)->self;
}

static VALUE be_kind(VALUE self)
{
    return ID2SYM(rb_intern(rt_thread_from_backend(self)->ops->name));
}

static VALUE be_poll(VALUE self, VALUE blocking)
{
    struct rt_thread *t = rt_thread_from_backend(self);
    rt_sched_poll(t, RTEST(blocking) ? rt_timers_next_timeout(&t->timers) : 0);
    return self;
}

static VALUE be_wakeup(VALUE self)
{
    struct rt_thread *t = rt_thread_from_backend(self);
    t->parked = 0;
    t->ops->wakeup(t->be);
    return self;
}

static VALUE be_stats(VALUE self)
{
    struct rt_thread *t = rt_thread_from_backend(self);
    VALUE h = rb_hash_new();
    rb_hash_aset(h, ID2SYM(rb_intern("runqueue_size")), SIZET2NUM(rt_runqueue_len(&t->runqueue)));
    rb_hash_aset(h, ID2SYM(rb_intern("switch_count")), ULONG2NUM(t->switch_count));
    rb_hash_aset(h, ID2SYM(rb_intern("poll_count")), ULONG2NUM(t->poll_count));
    rb_hash_aset(h, ID2SYM(rb_intern("pending_timers")), SIZET2NUM(t->timers.len));
    rb_hash_aset(h, ID2SYM(rb_intern("pending_ops")), LONG2NUM(t->pending_ops));
    return h;
}

/*
 * In a forked child only the forking fiber goes on: the parent's epoll set or
 * ring is shared with it, so the child gets a fresh backend, an empty run
 * queue and timer heap, and the forking fiber as its main fiber.
 */
static VALUE be_post_fork(VALUE self)
{
    struct rt_thread *t = rt_thread_from_backend(self);
    struct rt_runqueue_entry e;
    VALUE current = rb_fiber_current();

    if (t->be)
        t->ops->destroy(t->be);
    t->be = NULL;
    int rc = rt_backend_start(t);
    if (rc < 0)
        rb_syserr_fail(-rc, "Polyphony backend after fork");
    while (rt_runqueue_shift(&t->runqueue, &e) || rt_runqueue_shift(&t->parked_queue, &e)) {
        struct rt_fiber *f = rt_fiber_get_if_any(e.fiber);
        if (f)
            f->scheduled = 0;
    }
    rt_timers_free(&t->timers);
    rt_timers_init(&t->timers);
    rt_fdwait_forget_all();
    t->lock_owner = Qnil;
    t->thread = rb_thread_current();

    struct rt_fiber *old_main = rt_fiber_get(t->main_fiber);
    struct rt_fiber *f = rt_fiber_get(current);
    old_main->is_main = 0;
    rt_fiber_forget_tree(f);
    f->is_main = 1;
    t->main_fiber = t->current = current;
    t->tid = (pid_t)syscall(SYS_gettid);
    if (t->running)
        t->running = f;
    return self;
}

static VALUE be_set_idle_proc(VALUE self, VALUE proc)
{
    rt_thread_from_backend(self)->idle_proc = proc;
    return proc;
}

static VALUE be_set_idle_gc_period(VALUE self, VALUE period)
{
    struct rt_thread *t = rt_thread_from_backend(self);
    t->idle_gc_period = NUM2DBL(period);
    t->last_idle_gc = rt_timers_now(&t->timers);
    return period;
}

/*
 * One backend per thread: Backend.new gives the calling thread's, and
 * Thread#backend= accepts only that one, so that programs (and Polyphony's
 * tests) that make and install a backend run on the thread's own.
 */
static VALUE be_s_new(int argc, VALUE *argv, VALUE klass)
{
    (void)argc; (void)argv; (void)klass;
    return rt_thread_current()->self;
}

static VALUE be_finalize(VALUE self)
{
    return self;
}

static VALUE th_set_backend(VALUE self, VALUE backend)
{
    struct rt_thread *t = rt_thread_of(self, 1);
    if (backend != t->self)
        rb_raise(rb_eArgError, "a thread runs on its own backend only");
    return backend;
}

static VALUE th_s_backend(VALUE klass)
{
    (void)klass;
    return rt_thread_current()->self;
}

static VALUE be_alloc_refused(VALUE klass)
{
    (void)klass;
    rb_raise(rb_eTypeError, "Polyphony::Backend is created per thread: use Thread#backend");
    return Qnil;
}

static VALUE pp_backend(VALUE self)
{
    (void)self;
    return ID2SYM(rb_intern(rt_thread_current()->ops->name));
}

void rt_thread_state_init(VALUE mPolyphony)
{
    id_state = rb_intern("__polyphony_backend__");
    cBackend = rb_define_class_under(mPolyphony, "Backend", rb_cObject);
    rb_define_alloc_func(cBackend, be_alloc_refused);
    rb_define_singleton_method(cBackend, "new", be_s_new, -1);
    rb_define_method(cBackend, "finalize", be_finalize, 0);
    rb_define_method(cBackend, "idle_proc=", be_set_idle_proc, 1);
    rb_define_method(cBackend, "idle_gc_period=", be_set_idle_gc_period, 1);
    rb_define_method(rb_cThread, "backend=", th_set_backend, 1);
    rb_define_singleton_method(rb_cThread, "backend", th_s_backend, 0);
    rb_define_method(cBackend, "kind", be_kind, 0);
    rb_define_method(cBackend, "poll", be_poll, 1);
    rb_define_method(cBackend, "wakeup", be_wakeup, 0);
    rb_define_method(cBackend, "stats", be_stats, 0);
    rb_define_method(cBackend, "post_fork", be_post_fork, 0);
    rb_define_method(rb_cThread, "backend", th_backend, 0);
    rb_define_method(rb_cThread, "__rt_thread_end__", th_rt_thread_end, 0);
    rb_define_method(rb_cThread, "__rt_started__?", th_rt_started_p, 0);
    rb_define_singleton_method(mPolyphony, "backend", pp_backend, 0);
}
