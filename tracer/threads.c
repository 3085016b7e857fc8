/*
 * threads.c — every Ruby thread while the program is stopped, and threads
 * as FIBERS and DUMP describe them.
 *
 * A stop happens on one thread, which keeps the GVL while it serves the
 * controller, so no other thread runs Ruby code meanwhile. That alone does
 * not stop their clocks: another thread's timer would fire the moment the
 * program goes on, however long it was stopped. So a stop also suspends
 * every other thread's loop (the runtime stops its clock; its backend is
 * left alone, that thread may be inside the backend's poll without the GVL)
 * and holds its fibers with the fiber lock, on the fiber it last ran, so
 * that when the GVL is given up while stopped (an evaluation that waits)
 * no other fiber of it runs. On resume each is released: its previous lock
 * holder back, its loop resumed and woken. A thread blocked in C without
 * the GVL outside the runtime's loop is left alone, and shown as such.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tracer.h"

struct held {
    VALUE thread;
    VALUE previous;     /* its lock holder before the stop, or Qnil */
    VALUE holder;       /* the fiber we locked it to, or Qnil */
};

static struct held *held;
static size_t nheld, capheld;

void pt_threads_mark(void)
{
    for (size_t i = 0; i < nheld; i++) {
        rb_gc_mark(held[i].thread);
        rb_gc_mark(held[i].previous);
        rb_gc_mark(held[i].holder);
    }
}

static const struct rt_api *threads_api(void)
{
    const struct rt_api *rt = pt_tr.rt;

    return rt && RT_API_HAS(rt, thread_info) && RT_API_HAS(rt, each_thread) ? rt : NULL;
}

static VALUE thread_status(VALUE thread)
{
    return rb_funcall(thread, rb_intern("status"), 0);
}

/* Where a thread is (struct pt_proto_thread.where); *info filled when the
 * runtime knows the thread (else info->current is Qnil, *has_rt 0). */
const char *pt_threads_where(VALUE thread, VALUE stopped, struct rt_thread_info *info, int *has_rt)
{
    const struct rt_api *rt = threads_api();
    VALUE err, status;

    info->current = Qnil;
    info->polling = 0;
    info->runnable = 0;
    *has_rt = rt && rt->thread_info(thread, info) == 0;
    if (thread == stopped)
        return "stopped";
    if (*has_rt && info->polling)
        return "loop";
    /* Asked only here: Thread#status makes a new String every time, and
     * every stop asks about its own thread. */
    status = pt_tr_protect_call(thread_status, thread, &err);
    if (RB_TYPE_P(status, T_STRING) && strcmp(StringValueCStr(status), "sleep") == 0)
        return "blocked";
    return *has_rt ? "ruby" : "plain";
}

static void hold_one(VALUE thread, void *data)
{
    const struct rt_api *rt = pt_tr.rt;
    struct rt_thread_info info;
    int has_rt;
    const char *where = pt_threads_where(thread, (VALUE)data, &info, &has_rt);
    struct held *h;

    if (!has_rt || strcmp(where, "stopped") == 0 || strcmp(where, "blocked") == 0)
        return;
    if (nheld == capheld) {
        size_t cap = capheld ? capheld * 2 : 8;
        struct held *v = realloc(held, cap * sizeof *v);
        if (!v)
            return;
        held = v;
        capheld = cap;
    }
    h = &held[nheld++];
    h->thread = thread;
    h->previous = rt->fiber_lock_owner(thread);
    h->holder = Qnil;
    rt->loop_suspend(thread);
    if (!NIL_P(info.current) && rt->fiber_lock(thread, info.current) == 0)
        h->holder = info.current;
}

void pt_threads_hold(VALUE stopped)
{
    const struct rt_api *rt = threads_api();

    if (rt && nheld == 0)
        rt->each_thread(hold_one, (void *)stopped);
}

void pt_threads_release(void)
{
    const struct rt_api *rt = pt_tr.rt;

    for (size_t i = 0; rt && i < nheld; i++) {
        struct held *h = &held[i];
        /* Give the lock back unless someone (a step) has taken it since. */
        if (!NIL_P(h->holder) && rt->fiber_lock_owner(h->thread) == h->holder) {
            if (NIL_P(h->previous) || rt->fiber_lock(h->thread, h->previous) < 0)
                rt->fiber_unlock(h->thread);
        }
        rt->loop_resume(h->thread);
    }
    nheld = 0;
}

/* The thread a fiber runs on (the runtime's Fiber#thread), or the current one. */
static VALUE fiber_thread(VALUE fiber)
{
    return rb_funcall(fiber, rb_intern("thread"), 0);
}

VALUE pt_threads_of_fiber(VALUE fiber)
{
    VALUE err, t;

    if (fiber == rb_fiber_current())
        return rb_thread_current();
    t = pt_tr_protect_call(fiber_thread, fiber, &err);
    return RB_TYPE_P(t, T_DATA) && rb_obj_is_kind_of(t, rb_cThread) ? t : rb_thread_current();
}

static VALUE thread_list(VALUE unused)
{
    (void)unused;
    return rb_funcall(rb_cThread, rb_intern("list"), 0);
}

static VALUE thread_name(VALUE thread)
{
    return rb_funcall(thread, rb_intern("name"), 0);
}

/* Every live Ruby thread, the main one first. */
VALUE pt_threads_list(void)
{
    VALUE err, list = pt_tr_protect_call(thread_list, Qnil, &err), out = rb_ary_new();
    long i;

    rb_ary_push(out, rb_thread_main());
    for (i = 0; RB_TYPE_P(list, T_ARRAY) && i < RARRAY_LEN(list); i++)
        if (RARRAY_AREF(list, i) != rb_thread_main())
            rb_ary_push(out, RARRAY_AREF(list, i));
    return out;
}

static VALUE thread_locations(VALUE thread)
{
    return rb_funcall(thread, rb_intern("backtrace_locations"), 0);
}

static VALUE loc_to_s(VALUE loc)
{
    VALUE path = rb_funcall(loc, rb_intern("path"), 0);
    return pt_tr_is_hidden_path(path) ? Qnil : rb_sprintf("%"PRIsVALUE":%"PRIsVALUE" in %"PRIsVALUE, path,
                                                          rb_funcall(loc, rb_intern("lineno"), 0),
                                                          rb_funcall(loc, rb_intern("label"), 0));
}

/* "file:line in label" of a thread's innermost frame outside the runtime. */
static int thread_at(VALUE thread, char **out)
{
    VALUE err, locs = pt_tr_protect_call(thread_locations, thread, &err), s = Qnil;
    long i;

    for (i = 0; RB_TYPE_P(locs, T_ARRAY) && i < RARRAY_LEN(locs) && NIL_P(s); i++)
        s = pt_tr_protect_call(loc_to_s, RARRAY_AREF(locs, i), &err);
    return RB_TYPE_P(s, T_STRING) ? pt_proto_set_strn(out, RSTRING_PTR(s), RSTRING_LEN(s)) : 0;
}

int pt_threads_describe(VALUE thread, VALUE stopped, uint64_t fibers, struct pt_proto_thread *out)
{
    const struct rt_api *rt = pt_tr.rt;
    struct rt_thread_info info;
    VALUE err, name = pt_tr_protect_call(thread_name, thread, &err);
    VALUE status = pt_tr_protect_call(thread_status, thread, &err);
    int has_rt;
    const char *where = pt_threads_where(thread, stopped, &info, &has_rt);

    out->id = pt_fib_thread_id(thread);
    out->fibers = fibers;
    out->runnable = info.runnable;
    if (RB_TYPE_P(name, T_STRING) &&
        pt_proto_set_strn(&out->name, RSTRING_PTR(name), RSTRING_LEN(name)) < 0)
        return -ENOMEM;
    if (pt_proto_set_str(&out->status, RB_TYPE_P(status, T_STRING) ? StringValueCStr(status)
                                       : NIL_P(status) ? "aborting" : "dead") < 0 ||
        pt_proto_set_str(&out->where, where) < 0 ||
        (has_rt && pt_proto_set_str(&out->backend, rt->backend_name(thread)) < 0))
        return -ENOMEM;
    /* Another thread's fibers are listed with their places; a thread the
     * runtime does not know, or one blocked elsewhere, says where it is. */
    if (thread != stopped && (!has_rt || strcmp(where, "blocked") == 0))
        return thread_at(thread, &out->at);
    return 0;
}
