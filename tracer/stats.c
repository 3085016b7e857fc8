/*
 * stats.c — the STATS request behind `polytrace top`: the runtime's
 * counters of every live fiber of every thread, filtered, sorted, and the
 * first `limit` of them described in full (id, tag, state, wait, location,
 * counters), with per-thread totals. Served while the program runs (from
 * the SIGURG trap on the main thread: the program is not stopped, only
 * interrupted for as long as the walk takes) and while it is stopped.
 * 10,000 fibers cost one pass over the runtime's fiber trees and a sort;
 * only the fibers sent back are looked at closely.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tracer.h"

/* At most this many fibers in one reply, whatever the limit asked. */
#define PT_STATS_MAX_FIBERS 2000

enum sort_key { SORT_CPU, SORT_RUNS, SORT_LONGEST, SORT_WAITING, SORT_ID };

struct entry {
    VALUE fiber;
    uint64_t id, thread, key;
};

struct walk {
    const struct rt_api *rt;
    double scale;
    enum sort_key sort;
    const char *filter;
    struct pt_msg *reply;
    struct pt_proto_thread_stats *cur;  /* the thread being walked */
    uint64_t cur_thread;
    struct entry *v;
    size_t n, cap;
    int err;
};

static int parse_sort(const char *s, enum sort_key *out)
{
    static const char *const names[] = { "cpu", "runs", "longest", "waiting", "id" };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum sort_key)i;
            return 0;
        }
    return -EINVAL;
}

static VALUE to_s(VALUE v)
{
    return rb_obj_as_string(v);
}

/* Whether "ID TAG STATE WAIT" of a fiber contains the filter (any case). */
static int matches(struct walk *w, VALUE fiber, uint64_t id, const char *state)
{
    struct rt_wait_info wi = { NULL, -1, -1 };
    char text[512];
    VALUE tag = w->rt->fiber_tag(fiber), err;

    if (!w->filter || !*w->filter)
        return 1;
    if (!NIL_P(tag))
        tag = pt_tr_protect_call(to_s, tag, &err);
    w->rt->fiber_wait_info(fiber, &wi);
    snprintf(text, sizeof text, "%" PRIu64 " %.*s %s %s", id,
             RB_TYPE_P(tag, T_STRING) ? (int)RSTRING_LEN(tag) : 0,
             RB_TYPE_P(tag, T_STRING) ? RSTRING_PTR(tag) : "", state, wi.op ? wi.op : "");
    return strcasestr(text, w->filter) != NULL;
}

static void visit_fiber(VALUE fiber, void *data)
{
    struct walk *w = data;
    struct rt_fiber_counters c;
    const char *state;
    uint64_t id;

    if (w->err || pt_fib_dead(fiber))
        return;
    w->reply->u.stats.total++;
    w->cur->fibers++;
    switch (w->rt->fiber_state(fiber)) {
    case RT_FIBER_RUNNABLE: state = "runnable"; w->cur->runnable++; break;
    case RT_FIBER_WAITING: state = "waiting"; w->cur->waiting++; break;
    case RT_FIBER_RUNNING: state = "running"; break;
    default: state = "dead"; break;
    }
    id = pt_fib_id(fiber);
    if (w->rt->fiber_counters(fiber, w->scale, &c) < 0)
        memset(&c, 0, sizeof c);
    w->cur->cpu_ns += c.run_ns;
    if (!matches(w, fiber, id, state))
        return;
    w->reply->u.stats.matched++;
    w->cur->matched++;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        struct entry *v = realloc(w->v, cap * sizeof *v);
        if (!v) {
            w->err = -ENOMEM;
            return;
        }
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n].fiber = fiber;
    w->v[w->n].id = id;
    w->v[w->n].thread = w->cur_thread;
    w->v[w->n].key = w->sort == SORT_CPU ? c.run_ns : w->sort == SORT_RUNS ? c.runs
                   : w->sort == SORT_LONGEST ? c.longest_ns : w->sort == SORT_WAITING ? c.wait_ns : id;
    w->n++;
}

static VALUE thread_name(VALUE thread)
{
    return rb_funcall(thread, rb_intern("name"), 0);
}

static void visit_thread(VALUE thread, void *data)
{
    struct walk *w = data;
    struct rt_thread_counters tc;
    VALUE name, err;

    if (w->err)
        return;
    w->cur = pt_proto_thread_stats_push(&w->reply->u.stats.threads, &w->reply->u.stats.nthreads);
    if (!w->cur) {
        w->err = -ENOMEM;
        return;
    }
    w->cur_thread = w->cur->id = pt_fib_thread_id(thread);
    name = pt_tr_protect_call(thread_name, thread, &err);
    if (RB_TYPE_P(name, T_STRING))
        pt_proto_set_strn(&w->cur->name, RSTRING_PTR(name), RSTRING_LEN(name));
    else if (thread == rb_thread_main())
        pt_proto_set_str(&w->cur->name, "main");
    if (w->rt->thread_counters(thread, w->scale, &tc) == 0) {
        w->cur->switches = tc.switches;
        w->cur->idle_ns = tc.idle_ns;
        w->cur->ops_in_flight = tc.ops_in_flight;
        w->cur->timers = tc.timers;
    }
    w->rt->each_fiber(thread, visit_fiber, w);
}

static int by_key(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int by_id(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

int pt_stats_reply(const struct pt_proto_req_stats *req, struct pt_msg *reply, char *err,
                   size_t errlen)
{
    const struct rt_api *rt = pt_tr_rt();
    struct walk w;
    size_t limit = req->limit < PT_STATS_MAX_FIBERS ? req->limit : PT_STATS_MAX_FIBERS;

    memset(&w, 0, sizeof w);
    if (parse_sort(req->sort ? req->sort : "cpu", &w.sort) < 0) {
        snprintf(err, errlen, "stats: unknown sort '%s' (cpu, runs, longest, waiting or id)",
                 req->sort);
        return -EINVAL;
    }
    if (!rt || !RT_API_HAS(rt, uptime)) {
        snprintf(err, errlen, "stats: the program does not run on the fiber runtime");
        return -ENOSYS;
    }
    w.rt = rt;
    w.scale = rt->clock_scale();
    w.filter = req->filter;
    w.reply = reply;
    reply->u.stats.uptime = rt->uptime();
    rt->each_thread(visit_thread, &w);
    if (!w.err && w.n)
        qsort(w.v, w.n, sizeof *w.v, w.sort == SORT_ID ? by_id : by_key);
    for (size_t i = 0; !w.err && i < w.n && i < limit; i++) {
        struct pt_proto_fiber *f = pt_proto_fibers_push(&reply->u.stats.fibers,
                                                        &reply->u.stats.nfibers);
        int r;

        if (!f) {
            w.err = -ENOMEM;
            break;
        }
        if ((r = pt_fib_fill(w.v[i].fiber, f)) < 0)
            w.err = r;
        f->thread = w.v[i].thread;
    }
    free(w.v);
    if (w.err)
        snprintf(err, errlen, "stats: %s", strerror(-w.err));
    return w.err;
}
