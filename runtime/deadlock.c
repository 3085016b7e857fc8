/*
 * deadlock.c — noticing that fibers wait for something that can never
 * happen, and saying what: the wait-for graph.
 *
 * The scheduler asks here (rt_deadlock_check) whenever a thread's loop
 * would block with nothing of its own that could wake a fiber: no runnable
 * fiber, no timer, no backend op (I/O, a child process, a timed sleep). If
 * fibers still wait in receive, await, a queue, an event, a mutex ... then
 * only something outside the loop could end the wait: a signal handler on
 * the main thread (a trap installed after `require 'polyphony'`, counted by
 * polyphony/signal_wakers.rb), or another thread (any live thread that is
 * not itself stuck in the same way: it could push to a queue, schedule a
 * fiber, end). A thread with no such hope "parks" in its loop; the main
 * thread, when every other live thread is parked too, declares the
 * deadlock: the tracer's on_deadlock hook may stop the program there
 * (reason "deadlock"); otherwise, or if nothing changed at the stop, the
 * main fiber gets a Polyphony::Deadlock carrying the graph. A parked thread
 * is unparked by anything scheduled from another thread, and every thread
 * that ends wakes the main thread to look again.
 *
 * Waits that return nil when nothing could end them (Polyphony's await and
 * suspend) are a deadlock only when they form a cycle (three fibers
 * awaiting each other); alone they keep Polyphony's behaviour.
 *
 * POLYPHONY_DEADLOCK=0 turns the detection off.
 */
#include <stdlib.h>
#include <string.h>
#include <ruby/thread.h>
#include "rt_internal.h"

VALUE rt_eDeadlock;
static int detection_on = 1;
static unsigned char signal_wakes[65];  /* signal number -> has a waking handler */
static int signal_wakers;               /* how many do */
static VALUE cQueue, cEvent, cMutex, cCondVar;
static VALUE cRubyQueue, cRubyMutex;    /* Thread::Queue (SizedQueue's parent), Thread::Mutex */
static VALUE lib_dir = Qnil;            /* runtime/lib: its frames are not "where" */
static ID id_ending, id_holding_fiber, id_backtrace_locations, id_list;

#define RT_DEADLOCK_LINES 40    /* waiting fibers listed; the rest are counted */

/* ---- the graph ------------------------------------------------------------ */

struct graph {
    VALUE fibers;       /* Array of waiting fibers, in tree order per thread */
    VALUE index;        /* Hash: fiber -> its position in fibers */
    VALUE cycle;        /* Array of fibers forming a cycle, or Qnil */
};

static void collect(VALUE fiber, void *data)
{
    struct graph *g = data;
    struct rt_fiber *f = rt_fiber_get_if_any(fiber);

    if (!f || f->dead || !f->wait_op)
        return;
    rb_hash_aset(g->index, fiber, LONG2NUM(RARRAY_LEN(g->fibers)));
    rb_ary_push(g->fibers, fiber);
}

static void collect_thread(VALUE thread, void *data)
{
    struct rt_thread *t = rt_thread_of(thread, 0);

    if (t && !t->ended)
        rt_fiber_each(t, collect, data);
}

/* What f's wait is on: the Ruby-level context (a mutex ...) first. */
static VALUE waits_on(struct rt_fiber *f)
{
    return f->wait_context != Qnil ? f->wait_context : f->wait_on;
}

static int is_a(VALUE obj, VALUE klass)
{
    return klass && !RB_SPECIAL_CONST_P(obj) && rb_obj_is_kind_of(obj, klass) == Qtrue;
}

/* The fiber f's wait depends on, when it is one fiber (else Qnil). */
static VALUE depends_on(struct rt_fiber *f)
{
    VALUE on = waits_on(f);

    if (is_a(on, rt_cFiber))
        return on;
    if (is_a(on, cMutex)) {
        VALUE holder = rb_attr_get(on, id_holding_fiber);
        return is_a(holder, rt_cFiber) ? holder : Qnil;
    }
    return Qnil;
}

/*
 * Depth-first over the fiber -> fiber edges (await, a mutex's holder, a
 * parent awaiting its children); the first cycle found is kept.
 */
static int dfs(struct graph *g, long i, char *color, long *from)
{
    VALUE fiber = RARRAY_AREF(g->fibers, i);
    struct rt_fiber *f = rt_fiber_get_if_any(fiber);
    VALUE next[64];
    int n = 0;

    color[i] = 1;
    if (f->awaiting_children) {
        for (struct rt_fiber *c = f->first_child; c && n < 64; c = c->next_sibling)
            next[n++] = c->fiber;
    } else if ((next[0] = depends_on(f)) != Qnil) {
        n = 1;
    }
    for (int k = 0; k < n; k++) {
        VALUE j = rb_hash_lookup2(g->index, next[k], Qundef);
        long jj;

        if (j == Qundef)
            continue;
        jj = NUM2LONG(j);
        if (color[jj] == 1) {
            /* A back edge: the cycle is jj ... i, found through from[]. */
            VALUE cycle = rb_ary_new();
            for (long at = i; at != jj && at >= 0; at = from[at])
                rb_ary_unshift(cycle, RARRAY_AREF(g->fibers, at));
            rb_ary_unshift(cycle, RARRAY_AREF(g->fibers, jj));
            rb_ary_push(cycle, RARRAY_AREF(g->fibers, jj));
            g->cycle = cycle;
            return 1;
        }
        if (color[jj] == 0) {
            from[jj] = i;
            if (dfs(g, jj, color, from))
                return 1;
        }
    }
    color[i] = 2;
    return 0;
}

static void build(struct graph *g)
{
    long n;
    char *color;
    long *from;

    g->fibers = rb_ary_new();
    g->index = rb_hash_new();
    g->cycle = Qnil;
    rt_thread_each(collect_thread, g);
    n = RARRAY_LEN(g->fibers);
    color = calloc((size_t)n + 1, 1);
    from = calloc((size_t)n + 1, sizeof *from);
    for (long i = 0; color && from && i < n && g->cycle == Qnil; i++)
        if (color[i] == 0) {
            from[i] = -1;
            dfs(g, i, color, from);
        }
    free(color);
    free(from);
}

/* ---- describing it -------------------------------------------------------- */

static VALUE fiber_name(VALUE fiber)
{
    const struct rt_diag_hooks *h = rt_diag_hooks();
    struct rt_fiber *f = rt_fiber_get_if_any(fiber);
    char buf[256];

    if (h && h->fiber_name && h->fiber_name(fiber, buf, sizeof buf, h->data) == 0)
        return rb_str_new_cstr(buf);
    if (f && f->is_main)
        return rb_str_new_cstr(f->t && f->t->thread == rb_thread_main() ? "the main fiber"
                                                                         : "a thread's main fiber");
    if (f && f->tag != Qnil)
        return rb_sprintf("fiber %"PRIsVALUE, rb_obj_as_string(f->tag));
    if (f && f->file != Qnil)
        return rb_sprintf("fiber spun at %"PRIsVALUE":%d", f->file, f->line);
    return rb_str_new_cstr("a fiber");
}

static int in_lib_dir(VALUE loc)
{
    VALUE path = rb_funcall(loc, rb_intern("path"), 0);
    long n = RB_TYPE_P(lib_dir, T_STRING) ? RSTRING_LEN(lib_dir) : 0;

    return n && RB_TYPE_P(path, T_STRING) && RSTRING_LEN(path) > n &&
           memcmp(RSTRING_PTR(path), RSTRING_PTR(lib_dir), n) == 0 && RSTRING_PTR(path)[n] == '/';
}

/* The fiber's innermost frame outside the runtime's own Ruby files. */
static VALUE top_location(VALUE fiber)
{
    VALUE locs = rb_funcall(fiber, id_backtrace_locations, 2, INT2FIX(0), INT2FIX(16));

    long first = fiber == rb_fiber_current(); /* not backtrace_locations itself */

    if (!RB_TYPE_P(locs, T_ARRAY) || RARRAY_LEN(locs) <= first)
        return Qnil;
    for (long i = first; i < RARRAY_LEN(locs); i++)
        if (!in_lib_dir(RARRAY_AREF(locs, i)))
            return rb_obj_as_string(RARRAY_AREF(locs, i));
    return rb_obj_as_string(RARRAY_AREF(locs, first));
}

/* "app.rb:12" or "app.rb:12:in `meth'": Location#to_s; Qnil if unknown. */
static VALUE location(VALUE fiber)
{
    int state = 0;
    VALUE loc = rb_protect(top_location, fiber, &state);

    if (state) {
        rb_set_errinfo(Qnil);
        return Qnil;
    }
    return RB_TYPE_P(loc, T_STRING) ? loc : Qnil;
}

static void describe_wait(VALUE out, struct rt_fiber *f)
{
    VALUE on = waits_on(f), dep = depends_on(f);
    const char *op = f->wait_op;

    if (f->awaiting_children) {
        int k = 0;
        rb_str_cat_cstr(out, "awaits its children:");
        for (struct rt_fiber *c = f->first_child; c; c = c->next_sibling, k++) {
            if (k == 5) {
                rb_str_cat_cstr(out, " ...");
                break;
            }
            rb_str_catf(out, "%s %"PRIsVALUE, k ? "," : "", fiber_name(c->fiber));
        }
    } else if (is_a(on, rt_cFiber)) {
        rb_str_catf(out, "awaits %"PRIsVALUE, fiber_name(on));
    } else if (is_a(on, cMutex)) {
        if (dep != Qnil)
            rb_str_catf(out, "waits for a Polyphony::Mutex held by %"PRIsVALUE, fiber_name(dep));
        else
            rb_str_cat_cstr(out, "waits for a Polyphony::Mutex");
    } else if (is_a(on, cCondVar)) {
        rb_str_cat_cstr(out, "waits on a Polyphony::ConditionVariable nobody is left to signal");
    } else if (is_a(on, rb_cThread)) {
        rb_str_catf(out, "joins %"PRIsVALUE, rb_inspect(on));
    } else if (is_a(on, cQueue)) {
        rb_str_catf(out, "waits in Polyphony::Queue#%s (%s)", strcmp(op, "push") == 0 ? "push" : "shift",
                    strcmp(op, "push") == 0 ? "full" : "empty");
    } else if (is_a(on, cEvent)) {
        rb_str_cat_cstr(out, "waits on a Polyphony::Event nobody is left to signal");
    } else if (is_a(on, cRubyQueue)) {
        /* Ruby's queues, through the fiber scheduler's block. */
        int empty = RTEST(rb_funcall(on, rb_intern("empty?"), 0));
        rb_str_catf(out, "waits in %s#%s (%s)", rb_obj_classname(on), empty ? "pop" : "push",
                    empty ? "empty, nobody left to push" : "full, nobody left to pop");
    } else if (is_a(on, cRubyMutex)) {
        rb_str_cat_cstr(out, "waits for a Thread::Mutex (its holder waits too)");
    } else if (strcmp(op, "kernel_sleep") == 0) {
        rb_str_cat_cstr(out, "sleeps in ConditionVariable#wait or Mutex#sleep (nobody left to signal)");
    } else if (strcmp(op, "receive") == 0) {
        rb_str_cat_cstr(out, "waits in receive (empty mailbox, nobody left to send)");
    } else if (strcmp(op, "suspend") == 0) {
        rb_str_cat_cstr(out, "is suspended (nobody left to schedule it)");
    } else if (strcmp(op, "sleep") == 0) {
        rb_str_cat_cstr(out, "sleeps forever");
    } else {
        rb_str_catf(out, "waits in %s", op);
    }
}

static VALUE describe(struct graph *g)
{
    VALUE out = rb_str_new_cstr("deadlock: no fiber can ever run again (none is runnable, "
                                "and no I/O, timer, child process, signal handler or other "
                                "thread can wake one)");
    long n = RARRAY_LEN(g->fibers);

    for (long i = 0; i < n && i < RT_DEADLOCK_LINES; i++) {
        VALUE fiber = RARRAY_AREF(g->fibers, i), loc = location(fiber);

        rb_str_catf(out, "\n  %"PRIsVALUE, fiber_name(fiber));
        if (loc != Qnil)
            rb_str_catf(out, " at %"PRIsVALUE, loc);
        rb_str_cat_cstr(out, ": ");
        describe_wait(out, rt_fiber_get_if_any(fiber));
    }
    if (n > RT_DEADLOCK_LINES)
        rb_str_catf(out, "\n  ... and %ld more waiting fibers", n - RT_DEADLOCK_LINES);
    if (g->cycle != Qnil) {
        rb_str_cat_cstr(out, "\n  cycle: ");
        for (long i = 0; i < RARRAY_LEN(g->cycle); i++)
            rb_str_catf(out, "%s%"PRIsVALUE, i ? " -> " : "", fiber_name(RARRAY_AREF(g->cycle, i)));
    }
    return out;
}

/* ---- the threads ---------------------------------------------------------- */

static int is_ending(VALUE thread)
{
    return RTEST(rb_attr_get(thread, id_ending));
}

/* Whether some other live thread could still wake a fiber of t's. */
static int other_thread_may_wake(struct rt_thread *t)
{
    VALUE list = rb_funcall(rb_cThread, id_list, 0);

    for (long i = 0; i < RARRAY_LEN(list); i++) {
        VALUE th = RARRAY_AREF(list, i);
        struct rt_thread *o;

        if (th == t->thread || is_ending(th))
            continue;
        o = rt_thread_of(th, 0);
        if (!o)
            return 1;     /* a thread without the runtime: it might */
        if (o->ended)
            continue;     /* its loop is gone: it wakes no one */
        if (!o->parked || rb_thread_interrupted(th))
            return 1;
    }
    return 0;
}

static void wake_main_to_look(void)
{
    struct rt_thread *m = rt_thread_of(rb_thread_main(), 0);

    if (m && m->parked && !m->ended) {
        m->parked = 0;
        m->ops->wakeup(m->be);
    }
}

void rt_deadlock_thread_ended(VALUE thread)
{
    rb_ivar_set(thread, id_ending, Qtrue);
    if (thread != rb_thread_main())
        wake_main_to_look();
}

/* ---- the check ------------------------------------------------------------ */

/*
 * A fiber in sleep with no argument or Backend#wait_event waits for a
 * signal on purpose (the default SIGINT and SIGTERM end the wait), and so
 * does every fiber waiting on it: the main fiber awaiting a child that
 * sleeps is a program waiting for Ctrl-C, not a deadlock.
 */
static void find_signal_wait(VALUE fiber, void *data)
{
    struct rt_fiber *f = rt_fiber_get_if_any(fiber);

    if (f && !f->dead && f->wait_op &&
        (strcmp(f->wait_op, "sleep") == 0 || strcmp(f->wait_op, "wait_event") == 0))
        *(int *)data = 1;
}

static int waits_for_signal(struct rt_thread *t)
{
    int found = 0;

    rt_fiber_each(t, find_signal_wait, &found);
    return found;
}

int rt_deadlock_check(struct rt_thread *t, int idle_returns, int *stopped)
{
    struct graph g = { Qnil, Qnil, Qnil };
    int counted = t->pending_ops > t->external_ops;
    VALUE text, main_fiber, err;
    const struct rt_diag_hooks *h;
    struct rt_fiber *mf;

    if (!detection_on)
        return 0;
    if (t->thread == rb_thread_main() && (signal_wakers > 0 || waits_for_signal(t)))
        return 0;
    if (!counted) {
        /* Only waits that return nil when idle: a deadlock if they loop. */
        build(&g);
        if (g.cycle == Qnil)
            return 0;
    }
    if (other_thread_may_wake(t)) {
        t->parked = !idle_returns || counted;
        return 0;
    }
    if (t->thread != rb_thread_main()) {
        /* Every other thread is stuck too: the main thread declares it. */
        t->parked = 1;
        wake_main_to_look();
        return 0;
    }
    if (g.fibers == Qnil)
        build(&g);
    text = describe(&g);
    h = rt_diag_hooks();
    if (!*stopped && h && h->on_deadlock) {
        *stopped = 1;
        if (h->on_deadlock(StringValueCStr(text), h->data))
            return 1;   /* look again: the stop may have changed things */
    }
    /*
     * Looking (Thread.list, the graph, the hook) ran Ruby code, and other
     * threads may have run meanwhile and woken a fiber here: look again.
     */
    if (rt_runqueue_len(&t->runqueue) > 0 || t->timers.len > 0 || t->external_ops > 0)
        return 1;
    /* The main fiber gets it wherever it waits (it may be the caller). */
    main_fiber = t->main_fiber;
    mf = rt_fiber_get(main_fiber);
    if (mf->dead)
        return 0;
    err = rb_exc_new_str(rt_eDeadlock, text);
    rt_sched_schedule(main_fiber, err, 1);
    RB_GC_GUARD(g.fibers);
    RB_GC_GUARD(g.index);
    RB_GC_GUARD(g.cycle);
    return 1;
}

/* ---- Ruby ----------------------------------------------------------------- */

/*
 * Polyphony.__waiting_for(obj) { }: the calling fiber's waits inside the
 * block are on obj (a Mutex, a ConditionVariable, a Thread), as the graph
 * should name them.
 */
static VALUE restore_context(VALUE arg)
{
    VALUE *saved = (VALUE *)arg;
    struct rt_fiber *f = rt_fiber_get(saved[0]);

    f->wait_context = saved[1];
    return Qnil;
}

static VALUE pp_waiting_for(VALUE self, VALUE obj)
{
    VALUE fiber = rb_fiber_current();
    struct rt_fiber *f = rt_fiber_get(fiber);
    VALUE saved[2] = { fiber, f->wait_context };

    (void)self;
    f->wait_context = obj;
    return rb_ensure(rb_yield, obj, restore_context, (VALUE)saved);
}

/*
 * Polyphony.__signal_handler_set(signo, wakes): whether signal signo's
 * handler could wake a fiber (a block or a command; not DEFAULT, IGNORE,
 * SYSTEM_DEFAULT, EXIT). Called by the trap wrapper.
 */
static VALUE pp_signal_handler_set(VALUE self, VALUE signo, VALUE wakes)
{
    int sig = NUM2INT(signo);

    (void)self;
    if (sig <= 0 || sig >= (int)sizeof signal_wakes)
        return Qnil;
    if (RTEST(wakes) && !signal_wakes[sig])
        signal_wakers++;
    else if (!RTEST(wakes) && signal_wakes[sig])
        signal_wakers--;
    signal_wakes[sig] = RTEST(wakes) ? 1 : 0;
    return Qnil;
}

static VALUE pp_deadlock_detection_p(VALUE self)
{
    (void)self;
    return detection_on ? Qtrue : Qfalse;
}

static VALUE lookup(VALUE mPolyphony, const char *name)
{
    ID id = rb_intern(name);
    return rb_const_defined_at(mPolyphony, id) ? rb_const_get_at(mPolyphony, id) : 0;
}

/*
 * Polyphony.__deadlock_setup(libdir), from polyphony.rb once the classes
 * defined in Ruby (mutex.rb ...) are loaded: they are looked up, and frames
 * in libdir are not where a fiber waits.
 */
static VALUE pp_deadlock_setup(VALUE self, VALUE dir)
{
    lib_dir = rb_str_new_frozen(StringValue(dir));
    cQueue = lookup(self, "Queue");
    cEvent = lookup(self, "Event");
    cMutex = lookup(self, "Mutex");
    cCondVar = lookup(self, "ConditionVariable");
    cRubyQueue = rb_path2class("Thread::Queue");
    cRubyMutex = rb_path2class("Thread::Mutex");
    return Qnil;
}

void rt_deadlock_init(VALUE mPolyphony)
{
    const char *env = getenv("POLYPHONY_DEADLOCK");

    detection_on = !(env && strcmp(env, "0") == 0);
    id_ending = rb_intern("__polyphony_ending__");
    id_holding_fiber = rb_intern("@holding_fiber");
    id_backtrace_locations = rb_intern("backtrace_locations");
    id_list = rb_intern("list");
    rb_gc_register_address(&cQueue);
    rb_gc_register_address(&cEvent);
    rb_gc_register_address(&cMutex);
    rb_gc_register_address(&cCondVar);
    rb_gc_register_address(&cRubyQueue);
    rb_gc_register_address(&cRubyMutex);
    rb_gc_register_address(&lib_dir);
    rt_eDeadlock = rb_define_class_under(mPolyphony, "Deadlock", rb_eException);
    rb_define_singleton_method(mPolyphony, "__waiting_for", pp_waiting_for, 1);
    rb_define_singleton_method(mPolyphony, "__signal_handler_set", pp_signal_handler_set, 2);
    rb_define_singleton_method(mPolyphony, "__deadlock_setup", pp_deadlock_setup, 1);
    rb_define_singleton_method(mPolyphony, "deadlock_detection?", pp_deadlock_detection_p, 0);
}
