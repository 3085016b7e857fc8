/*
 * fibers.c — fiber ids and fiber introspection for the tracer.
 *
 * The main fiber of the main thread is 1; other fibers get the next number
 * the first time the tracer sees them (the runtime's spin hook, a walk of
 * the runtime's fibers, or a stop in them). Ids are never reused. Here too:
 * the runtime hook (spin / terminate / op events), the FIBERS listing, a
 * fiber's frames and the DUMP of every fiber.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tracer.h"
#include <ruby/st.h>

static st_table *by_fiber;      /* fiber VALUE -> id */
static st_table *by_id;         /* id -> fiber VALUE */
static uint64_t next_id = 1;
static st_table *threads;       /* thread VALUE -> id (the main thread is 1) */
static VALUE listing_thread = Qnil; /* the thread a listing walks, else nil */
/* A fiber that ended on its own stack keeps its id until another fiber runs:
 * what the runtime runs after its end (its watchers' callbacks, or the
 * loop's wait when there is nobody to hand that to) runs there, and a stop
 * made there names it by the number the user knew it by. */
static VALUE ending = Qnil;
static uint64_t next_thread = 2;

void pt_fib_mark(void)
{
    rb_gc_mark(listing_thread);
    rb_gc_mark(ending);
    /* Marking pins the fibers, so the tables' keys never move. */
    if (by_id)
        rb_mark_tbl(by_id);
    if (threads)
        rb_mark_set(threads);
}

uint64_t pt_fib_id(VALUE fiber)
{
    st_data_t v;
    uint64_t id;

    if (NIL_P(fiber))
        return 0;
    if (st_lookup(by_fiber, (st_data_t)fiber, &v))
        return (uint64_t)v;
    id = next_id++;
    st_insert(by_fiber, (st_data_t)fiber, (st_data_t)id);
    st_insert(by_id, (st_data_t)id, (st_data_t)fiber);
    return id;
}

/* The runtime may finish a fiber without its Ruby block returning: ask it. */
int pt_fib_dead(VALUE fiber)
{
    if (!RTEST(rb_fiber_alive_p(fiber)))
        return 1;
    return pt_tr.rt && pt_tr.rt->fiber_state(fiber) == RT_FIBER_DEAD;
}

VALUE pt_fib_lookup(uint64_t id)
{
    st_data_t v;

    if (!st_lookup(by_id, (st_data_t)id, &v) ||
        (pt_fib_dead((VALUE)v) && (VALUE)v != pt_stop_fiber()))
        return Qnil;
    return (VALUE)v;
}

void pt_fib_forget(VALUE fiber)
{
    st_data_t key = (st_data_t)fiber, id;

    if (st_delete(by_fiber, &key, &id))
        st_delete(by_id, &id, NULL);
}

/* Threads are numbered like fibers: the main thread 1, then in order seen. */
uint64_t pt_fib_thread_id(VALUE thread)
{
    st_data_t v;

    if (thread == pt_tr.main_thread)
        return 1;
    if (!st_lookup(threads, (st_data_t)thread, &v)) {
        v = (st_data_t)next_thread++;
        st_insert(threads, (st_data_t)thread, v);
    }
    return (uint64_t)v;
}

/* ---- runtime events ------------------------------------------------------ */

/*
 * Queued OP events go out when they are old, and when the loop is about to
 * wait (tracer.h). A runtime without on_next_wait is taken to be about to
 * wait when the fiber giving up the CPU (blocking or ending) leaves
 * nothing runnable on its thread.
 */
static void ops_tick(int may_wait)
{
    struct rt_thread_info info;

    if (!pt_tr_ops_queued() || !pt_tr.trace_ops || pt_tr.fd < 0 || pt_tr.serving)
        return;
    if (may_wait)
        may_wait = !RT_API_HAS(pt_tr.rt, on_next_wait) &&
                   (!RT_API_HAS(pt_tr.rt, thread_info) ||
                    pt_tr.rt->thread_info(rb_thread_current(), &info) < 0 || info.runnable == 0);
    pt_tr_ops_tick(may_wait);
}

static void on_runtime_event(const struct rt_event *ev, void *data)
{
    struct pt_proto_ev_op op;

    (void)data;
    if (RB_UNLIKELY(!NIL_P(ending)) && ending != rb_fiber_current()) {
        pt_fib_forget(ending);
        ending = Qnil;
    }
    switch (ev->kind) {
    case RT_EV_FIBER_SPIN:
        pt_fib_id(ev->other);
        pt_fib_id(ev->fiber);
        return;
    case RT_EV_FIBER_TERMINATE:
        if (ev->fiber == rb_fiber_current())
            ending = ev->fiber;
        else
            pt_fib_forget(ev->fiber);
        ops_tick(1);
        return;
    case RT_EV_FIBER_BLOCK:
        ops_tick(1);
        return;
    case RT_EV_OP_SUBMIT:
    case RT_EV_OP_COMPLETE:
        break;
    default:
        ops_tick(0);
        return;
    }
    /* Never send while stopped: the stop loop owns the conversation. */
    if (!pt_tr.trace_ops || pt_tr.fd < 0 || pt_tr.serving)
        return;
    if (pt_tr.trace_ops_fiber && pt_fib_id(ev->fiber) != pt_tr.trace_ops_fiber)
        return;
    /* Its strings are borrowed (static names), only encoded. */
    op.phase = (char *)(ev->kind == RT_EV_OP_SUBMIT ? "submit" : "complete");
    op.op = (char *)(ev->op ? ev->op : "?");
    op.fiber = pt_fib_id(ev->fiber);
    op.fd = ev->fd;
    op.len = ev->len;
    op.result = ev->result;
    pt_tr_send_op(&op);
}

void pt_fib_runtime_hook(int on)
{
    if (on)
        pt_tr.rt->hook_add(on_runtime_event, NULL);
    else
        pt_tr.rt->hook_remove(on_runtime_event, NULL);
}

static int drop_unless_main(st_data_t key, st_data_t val, st_data_t arg)
{
    (void)val;
    (void)arg;
    return (uint64_t)key == 1 ? ST_CONTINUE : ST_DELETE;
}

/* Detached, without the runtime: ids already given stay unused (never
 * reused), the fibers are no longer held; the main fiber keeps 1. */
void pt_fib_forget_all(void)
{
    st_data_t main = 0;

    /* With the runtime its terminate hook keeps the tables to live fibers,
     * and the diagnostics name fibers by these numbers. */
    if (!by_id || pt_tr.rt)
        return;
    ending = Qnil;
    st_lookup(by_id, 1, &main);
    st_foreach(by_id, drop_unless_main, 0);
    st_clear(by_fiber);
    if (main)
        st_insert(by_fiber, main, 1);
    st_clear(threads);
}

void pt_fib_init(void)
{
    if (by_fiber)
        return;
    by_fiber = st_init_numtable();
    by_id = st_init_numtable();
    threads = st_init_numtable();
    /* The main fiber is 1. Brought in by `attach`, the tracer boots on a
     * thread of its own: then 1 goes to the first fiber of the main thread
     * it sees (the one running when the program first stops). */
    if (rb_thread_current() == rb_thread_main())
        pt_fib_id(rb_fiber_current());
}

/* ---- describing fibers --------------------------------------------------- */

static VALUE loc_path(VALUE loc)
{
    return rb_funcall(loc, rb_intern("path"), 0);
}

static int loc_hidden(VALUE loc)
{
    VALUE err, path = pt_tr_protect_call(loc_path, loc, &err);

    return pt_tr_is_hidden_path(path);
}

/*
 * Where a fiber is, as `fibers` shows it: its innermost frame outside the
 * runtime's and the tracer's files (the innermost of all when every frame
 * is theirs). Most fibers wait in a C method called from the program's own
 * code, so the first few frames nearly always tell; deeper ones are fetched
 * only when those are all hidden.
 */
static VALUE top_location(VALUE fiber)
{
    static const long batch[] = { 4, 0 };   /* 0: every frame */
    VALUE locs = Qnil;
    size_t b;
    long i;

    for (b = 0; b < sizeof batch / sizeof batch[0]; b++) {
        locs = batch[b] ? rb_funcall(fiber, rb_intern("backtrace_locations"), 2, INT2FIX(0),
                                     LONG2FIX(batch[b]))
                        : rb_funcall(fiber, rb_intern("backtrace_locations"), 0);
        if (!RB_TYPE_P(locs, T_ARRAY))
            return Qnil;
        for (i = 0; i < RARRAY_LEN(locs); i++)
            if (!loc_hidden(RARRAY_AREF(locs, i)))
                return RARRAY_AREF(locs, i);
        if (batch[b] && RARRAY_LEN(locs) < batch[b])
            break;      /* that was all of them */
    }
    return RB_TYPE_P(locs, T_ARRAY) && RARRAY_LEN(locs) > 0 ? RARRAY_AREF(locs, 0) : Qnil;
}

static VALUE to_s(VALUE v)
{
    return rb_obj_as_string(v);
}

static int set_ruby_str(char **dst, VALUE v)
{
    if (!RB_TYPE_P(v, T_STRING))
        return pt_proto_set_str(dst, NULL);
    return pt_proto_set_strn(dst, RSTRING_PTR(v), RSTRING_LEN(v));
}

/* Fills file/line/method of one frame from a Thread::Backtrace::Location. */
int pt_fib_location(VALUE loc, char **file, int32_t *line, char **label)
{
    VALUE path, lineno, lab;

    if (NIL_P(loc))
        return pt_proto_set_str(file, "");
    path = rb_funcall(loc, rb_intern("path"), 0);
    lineno = rb_funcall(loc, rb_intern("lineno"), 0);
    lab = rb_funcall(loc, rb_intern("label"), 0);
    *line = FIXNUM_P(lineno) ? FIX2INT(lineno) : 0;
    if (set_ruby_str(file, RB_TYPE_P(path, T_STRING) ? path : rb_str_new_cstr("")) < 0 ||
        set_ruby_str(label, lab) < 0)
        return -ENOMEM;
    return 0;
}

static const char *state_name(VALUE fiber)
{
    const struct rt_api *rt = pt_tr.rt;
    struct rt_wait_info wi = { NULL, -1, -1 };

    if (fiber == rb_fiber_current())
        return pt_fib_dead(fiber) ? "ending" : "running";
    if (pt_fib_dead(fiber))
        return "dead";
    if (!rt)
        return "waiting";
    switch (rt->fiber_state(fiber)) {
    case RT_FIBER_RUNNING:
        /* Another thread's current fiber: it runs only if it is not in a
         * wait (then it is the one polling that thread's loop). */
        return rt->fiber_wait_info(fiber, &wi) == 0 && wi.op ? "waiting" : "running";
    case RT_FIBER_RUNNABLE: return "runnable";
    case RT_FIBER_WAITING: return "waiting";
    default: return "dead";
    }
}

/* ns per counter tick during a listing (asked once per listing), else 0. */
static double listing_scale;

void pt_fib_fill_stats(VALUE fiber, double ns_per_tick, struct pt_proto_fiber *out)
{
    const struct rt_api *rt = pt_tr.rt;
    struct rt_fiber_counters c;

    if (!rt || !RT_API_HAS(rt, fiber_counters) ||
        rt->fiber_counters(fiber, ns_per_tick, &c) < 0)
        return;
    out->has_stats = true;
    out->cpu_ns = c.run_ns;
    out->runs = c.runs;
    out->longest_ns = c.longest_ns;
    out->wait_ns = c.wait_ns;
    out->ops = c.ops;
    out->ops_in_flight = c.ops_in_flight;
}

/* A listing's scheduled values: fiber -> the value it will be resumed
 * with, for the fibers on the run queues (filled from each_scheduled). */
static st_table *scheduled;

static void note_scheduled(VALUE fiber, VALUE value, void *data)
{
    (void)data;
    st_insert(scheduled, (st_data_t)fiber, (st_data_t)value);
}

#define PT_FIB_VALUE_MAX 128    /* how much of a scheduled value's inspect */

struct find_scheduled {
    VALUE fiber;
    VALUE value;
    int found;
};

static void find_one(VALUE fiber, VALUE value, void *data)
{
    struct find_scheduled *f = data;
    if (fiber == f->fiber && !f->found) {
        f->value = value;
        f->found = 1;
    }
}

static int fill_value(VALUE fiber, struct pt_proto_fiber *out)
{
    const struct rt_api *rt = pt_tr.rt;
    st_data_t v;
    VALUE err, s;

    if (!scheduled) {
        /* One fiber (SWITCH): look through its thread's queue. */
        struct find_scheduled f = { fiber, Qnil, 0 };
        if (!rt || !RT_API_HAS(rt, each_scheduled) || rt->fiber_state(fiber) != RT_FIBER_RUNNABLE)
            return 0;
        rt->each_scheduled(pt_threads_of_fiber(fiber), find_one, &f);
        if (!f.found)
            return 0;
        v = (st_data_t)f.value;
    } else if (!st_lookup(scheduled, (st_data_t)fiber, &v)) {
        return 0;
    }
    s = pt_tr_protect_call(rb_inspect, (VALUE)v, &err);
    if (!RB_TYPE_P(s, T_STRING))
        return pt_proto_set_str(&out->value, "(inspect raised)");
    if (RSTRING_LEN(s) <= PT_FIB_VALUE_MAX)
        return pt_proto_set_strn(&out->value, RSTRING_PTR(s), RSTRING_LEN(s));
    s = rb_sprintf("%.*s...", PT_FIB_VALUE_MAX, RSTRING_PTR(s));
    return pt_proto_set_strn(&out->value, RSTRING_PTR(s), RSTRING_LEN(s));
}

int pt_fib_fill(VALUE fiber, struct pt_proto_fiber *out)
{
    const struct rt_api *rt = pt_tr.rt;
    VALUE err, loc = Qnil;
    int r;

    out->id = pt_fib_id(fiber);
    out->thread = pt_fib_thread_id(NIL_P(listing_thread) ? pt_threads_of_fiber(fiber) : listing_thread);
    if ((r = fill_value(fiber, out)) < 0)
        return r;
    out->wait_fd = -1;
    out->wait_timeout = -1;
    if ((r = pt_proto_set_str(&out->state, state_name(fiber))) < 0)
        return r;
    if (rt) {
        struct rt_wait_info wi = { NULL, -1, -1 };
        VALUE tag = rt->fiber_tag(fiber), parent = rt->fiber_parent(fiber);

        if (!NIL_P(parent))
            out->parent = pt_fib_id(parent);
        if (!NIL_P(tag) && (r = set_ruby_str(&out->tag, pt_tr_protect_call(to_s, tag, &err))) < 0)
            return r;
        if (rt->fiber_wait_info(fiber, &wi) == 0 && wi.op) {
            if ((r = pt_proto_set_str(&out->wait_op, wi.op)) < 0)
                return r;
            out->wait_fd = wi.fd;
            out->wait_timeout = wi.timeout;
        }
        if (RT_API_HAS(rt, clock_scale))
            pt_fib_fill_stats(fiber, listing_scale ? listing_scale : rt->clock_scale(), out);
    }
    if (fiber == rb_fiber_current())
        return pt_stop_location(&out->file, &out->line, &out->method);
    if (RTEST(rb_fiber_alive_p(fiber)))
        loc = pt_tr_protect_call(top_location, fiber, &err);
    return pt_fib_location(loc, &out->file, &out->line, &out->method);
}

/* ---- listing ------------------------------------------------------------- */

struct list_ctx {
    uint32_t limit;
    uint64_t total;
    uint64_t thread_fibers;     /* live fibers of the thread being walked */
    struct pt_msg *reply;
    int dump;
    int err;
    int saw_stopped;            /* the stopped fiber was listed */
};

static void visit(VALUE fiber, void *data)
{
    struct list_ctx *c = data;
    struct pt_proto_fiber *f;
    int r;

    if (fiber == pt_stop_fiber())
        c->saw_stopped = 1;
    else if (pt_fib_dead(fiber))
        return;
    c->total++;
    c->thread_fibers++;
    if (c->err || (c->limit && c->total > c->limit))
        return;
    if (c->dump) {
        struct pt_proto_dump_fiber *d = pt_proto_dump_push(&c->reply->u.dump.fibers,
                                                           &c->reply->u.dump.nfibers);
        if (!d) {
            c->err = -ENOMEM;
            return;
        }
        d->info.wait_fd = -1;
        d->info.wait_timeout = -1;
        if ((r = pt_fib_fill(fiber, &d->info)) < 0 ||
            (r = pt_fib_frames(fiber, 0, &d->frames, &d->nframes)) < 0)
            c->err = r;
        return;
    }
    f = pt_proto_fibers_push(&c->reply->u.fibers.fibers, &c->reply->u.fibers.nfibers);
    if (!f) {
        c->err = -ENOMEM;
        return;
    }
    if ((r = pt_fib_fill(fiber, f)) < 0)
        c->err = r;
}

static int each_known(st_data_t key, st_data_t val, st_data_t arg)
{
    (void)key;
    visit((VALUE)val, (void *)arg);
    return ST_CONTINUE;
}

static double scale_now(void)
{
    const struct rt_api *rt = pt_tr.rt;

    if (!rt || !RT_API_HAS(rt, clock_scale))
        return 0;
    return rt->clock_scale();
}

/*
 * Every live fiber, thread by thread (the main thread first), parents
 * before children; with threads, every thread described too, fibers or
 * not. Runnable fibers carry the value they are scheduled with.
 */
static int walk(struct list_ctx *c, struct pt_proto_thread **threads, size_t *nthreads)
{
    const struct rt_api *rt = pt_tr.rt;
    VALUE list, stopped = rb_thread_current();
    long i;

    if (!rt) {
        if (pt_heap_each_fiber(visit, c) < 0) {
            /* No heap walk on this Ruby: the fibers we have seen stop. */
            st_table *copy = st_copy(by_id);
            st_foreach(copy, each_known, (st_data_t)c);
            st_free_table(copy);
        }
        return c->err;
    }
    list = pt_threads_list();
    scheduled = st_init_numtable();
    for (i = 0; RT_API_HAS(rt, each_scheduled) && i < RARRAY_LEN(list); i++)
        rt->each_scheduled(RARRAY_AREF(list, i), note_scheduled, NULL);
    for (i = 0; i < RARRAY_LEN(list) && !c->err; i++) {
        VALUE thread = RARRAY_AREF(list, i);
        struct pt_proto_thread *t;

        c->thread_fibers = 0;
        listing_thread = thread;
        rt->each_fiber(thread, visit, c);
        /* Stopped in a fiber that has ended (see `ending`): listed too,
         * though the runtime's tree no longer holds it. */
        if (thread == stopped && !c->saw_stopped && !NIL_P(pt_stop_fiber()))
            visit(pt_stop_fiber(), c);
        listing_thread = Qnil;
        if (!threads)
            continue;
        if (!(t = pt_proto_threads_push(threads, nthreads)))
            c->err = -ENOMEM;
        else if (pt_threads_describe(thread, stopped, c->thread_fibers, t) < 0)
            c->err = -ENOMEM;
    }
    st_free_table(scheduled);
    scheduled = NULL;
    RB_GC_GUARD(list);
    return c->err;
}

int pt_fib_list(uint32_t limit, struct pt_msg *reply)
{
    struct list_ctx c = { .limit = limit, .reply = reply };
    int r;

    listing_scale = scale_now();
    r = walk(&c, &reply->u.fibers.threads, &reply->u.fibers.nthreads);
    listing_scale = 0;
    reply->u.fibers.total = c.total;
    return r;
}

int pt_fib_dump(struct pt_msg *reply)
{
    struct list_ctx c = { .reply = reply, .dump = 1 };
    int r;

    listing_scale = scale_now();
    r = walk(&c, &reply->u.dump.threads, &reply->u.dump.nthreads);
    listing_scale = 0;
    return r;
}

struct queue_ctx {
    struct pt_msg *reply;
    VALUE thread;
    int err;
};

static void queued(VALUE fiber, VALUE value, void *data)
{
    struct queue_ctx *q = data;
    struct pt_proto_fiber *f;
    int r;

    (void)value;
    if (q->err)
        return;
    q->reply->u.fibers.total++;
    if (!(f = pt_proto_fibers_push(&q->reply->u.fibers.fibers, &q->reply->u.fibers.nfibers))) {
        q->err = -ENOMEM;
        return;
    }
    if ((r = pt_fib_fill(fiber, f)) < 0)
        q->err = r;
}

/* RUNQUEUE: the thread's run queue in order, each with its value. */
int pt_fib_runqueue(VALUE thread, struct pt_msg *reply)
{
    const struct rt_api *rt = pt_tr.rt;
    struct queue_ctx q = { reply, thread, 0 };

    if (!rt || !RT_API_HAS(rt, each_scheduled))
        return -ENOTSUP;
    scheduled = st_init_numtable();
    rt->each_scheduled(thread, note_scheduled, NULL);
    listing_thread = thread;
    rt->each_scheduled(thread, queued, &q);
    listing_thread = Qnil;
    st_free_table(scheduled);
    scheduled = NULL;
    return q.err;
}

/* ---- frames -------------------------------------------------------------- */

static VALUE all_locations(VALUE fiber)
{
    return rb_funcall(fiber, rb_intern("backtrace_locations"), 0);
}

/* How many generations of spinners an async backtrace goes through. */
#define PT_FIB_ASYNC_LEVELS 64

/*
 * One frame recorded at a spin, as a frame of the async backtrace. A C
 * method's frame has no line of its own: like Ruby's backtraces, it shows
 * where its caller is (the next frame out with a line).
 */
static int async_frame(struct pt_proto_frame *f, const VALUE *frames, const int *lines, int i,
                       int k)
{
    VALUE path = rb_profile_frame_path(frames[i]), label = rb_profile_frame_full_label(frames[i]);
    int j, line = lines[i];

    for (j = i; line <= 0 && j + 1 < k; j++) {
        if (lines[j + 1] > 0) {
            path = rb_profile_frame_path(frames[j + 1]);
            line = lines[j + 1];
        }
    }
    f->line = line;
    f->hidden = pt_tr_is_hidden_path(path);
    if (set_ruby_str(&f->file, RB_TYPE_P(path, T_STRING) ? path : rb_str_new_cstr("")) < 0 ||
        set_ruby_str(&f->label, label) < 0)
        return -ENOMEM;
    return 0;
}

/*
 * Below a fiber's own frames, the frames its spinner had when it spun it,
 * then that fiber's spinner's at its spin, and so on up to a fiber nobody
 * spun (the thread's main fiber): an async backtrace. A fiber moved under
 * another parent since its spin ends the chain (its parent is not the one
 * whose frames were recorded).
 */
int pt_fib_async_frames(VALUE fiber, uint32_t limit, struct pt_proto_frame **v, size_t *n)
{
    const struct rt_api *rt = pt_tr.rt;
    uint32_t index = (uint32_t)*n;
    int level, r;

    if (!rt || !RT_API_HAS(rt, fiber_spin_frames))
        return 0;
    for (level = 0; level < PT_FIB_ASYNC_LEVELS; level++) {
        const VALUE *frames;
        const int *lines;
        int moved = 0, k = rt->fiber_spin_frames(fiber, &frames, &lines, &moved), i;
        VALUE parent = rt->fiber_parent(fiber), tag, err;
        uint64_t pid;

        if (k <= 0 || NIL_P(parent) || moved)
            return 0;
        pid = pt_fib_id(parent);
        tag = rt->fiber_tag(parent);
        if (!NIL_P(tag))
            tag = pt_tr_protect_call(to_s, tag, &err);
        for (i = 0; i < k; i++) {
            struct pt_proto_frame *f;

            if (limit && index >= limit)
                return 0;
            if (!(f = pt_proto_frames_push(v, n)))
                return -ENOMEM;
            f->index = index++;
            f->spun_by = pid;
            if ((r = async_frame(f, frames, lines, i, k)) < 0 ||
                (RB_TYPE_P(tag, T_STRING) && (r = set_ruby_str(&f->spun_by_tag, tag)) < 0))
                return r;
        }
        fiber = parent;
    }
    return 0;
}

int pt_fib_frames(VALUE fiber, uint32_t limit, struct pt_proto_frame **v, size_t *n)
{
    VALUE err, locs;
    long i;
    int r;

    if (fiber == rb_fiber_current()) {
        pt_stop_frames_of_current(v, n, limit);
        return pt_fib_async_frames(fiber, limit, v, n);
    }
    locs = pt_tr_protect_call(all_locations, fiber, &err);
    if (!RB_TYPE_P(locs, T_ARRAY))
        return 0;
    for (i = 0; i < RARRAY_LEN(locs) && (!limit || (uint32_t)i < limit); i++) {
        struct pt_proto_frame *f = pt_proto_frames_push(v, n);

        if (!f)
            return -ENOMEM;
        f->index = (uint32_t)i;
        f->hidden = loc_hidden(RARRAY_AREF(locs, i));
        if ((r = pt_fib_location(RARRAY_AREF(locs, i), &f->file, &f->line, &f->label)) < 0)
            return r;
    }
    return pt_fib_async_frames(fiber, limit, v, n);
}
