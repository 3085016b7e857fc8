/* check_main.c — entry point of the protocol check suite (build/tests/
 * check_protocol): collects the TCases of the other check_*.c files, plus the
 * message builders they share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check_protocol.h"

const enum pt_msg_type all_types[] = {
    PT_MSG_HELLO,
    PT_REQ_CONTINUE, PT_REQ_STEP, PT_REQ_SKIP, PT_REQ_UP, PT_REQ_PAUSE,
    PT_REQ_SWITCH, PT_REQ_FIBERS, PT_REQ_BACKTRACE, PT_REQ_EVAL, PT_REQ_SOURCE,
    PT_REQ_BREAK, PT_REQ_DELETE, PT_REQ_BREAKPOINTS, PT_REQ_TRACE_OPS,
    PT_REQ_SET, PT_REQ_DETACH, PT_REQ_KILL, PT_REQ_DUMP, PT_REQ_VARS, PT_REQ_SETVAR,
    PT_REQ_RUNQUEUE,
    PT_REQ_STATS, PT_REQ_WATCH, PT_REQ_UNWATCH, PT_REQ_WATCHES,
    PT_REP_OK, PT_REP_ERROR, PT_REP_FIBER_INFO, PT_REP_FIBERS, PT_REP_FRAMES,
    PT_REP_VALUE, PT_REP_LINES, PT_REP_BREAKPOINT, PT_REP_BREAKPOINTS,
    PT_REP_DUMP, PT_REP_VARS, PT_REP_STATS, PT_REP_WATCHES,
    PT_EV_STOPPED, PT_EV_RUNNING, PT_EV_FIBER, PT_EV_OP, PT_EV_OUTPUT,
    PT_EV_EXITED, PT_EV_FORKED,
};
const size_t n_all_types = sizeof all_types / sizeof all_types[0];

static char *str(const char *what, unsigned seed)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s-%u", what, seed);
    char *s = strdup(buf);
    ck_assert_ptr_nonnull(s);
    return s;
}

static void fill_fiber(struct pt_proto_fiber *f, unsigned seed)
{
    f->id = 1000 + seed;
    f->parent = 7 + seed;
    f->tag = str("tag", seed);
    f->state = str("waiting", seed);
    f->file = str("/app/lib.rb", seed);
    f->line = -(int32_t)(40 + seed);      /* negative: exercises int decoding */
    f->method = str("Foo#bar", seed);
    f->wait_op = str("read", seed);
    f->wait_fd = (int32_t)(3 + seed);
    f->wait_timeout = 1.5 + seed;
    f->thread = UINT64_MAX - seed;        /* full 64-bit range */
    f->has_stats = true;
    f->cpu_ns = 123456789 + seed;
    f->runs = UINT64_MAX - 1 - seed;
    f->longest_ns = 50000000 + seed;
    f->wait_ns = 7 + seed;
    f->ops = 4096 + seed;
    f->ops_in_flight = 1;
}

static void fill_threads(struct pt_proto_thread **v, size_t *n, unsigned seed)
{
    for (unsigned i = 0; i < 2; i++) {
        struct pt_proto_thread *t = pt_proto_threads_push(v, n);
        ck_assert_ptr_nonnull(t);
        t->id = 1 + i + seed;
        t->name = i ? str("worker", seed) : NULL;
        t->status = str(i ? "sleep" : "run", seed);
        t->where = str(i ? "blocked" : "stopped", seed);
        t->backend = str("io_uring", seed);
        t->fibers = 100 + seed;
        t->runnable = 3 + seed;
        t->at = i ? str("/app/w.rb:3 in run", seed) : NULL;
    }
}

static void fill_frames(struct pt_proto_frame **v, size_t *n, unsigned seed)
{
    for (unsigned i = 0; i < 3; i++) {
        struct pt_proto_frame *f = pt_proto_frames_push(v, n);
        ck_assert_ptr_nonnull(f);
        f->index = i + 1;
        f->file = str("/app/f.rb", seed + i);
        f->line = (int32_t)(100 + i + seed);
        f->label = str("block in run", seed + i);
        f->hidden = i == 1;
        f->spun_by = i == 2 ? 1 + seed : 0;
        f->spun_by_tag = i == 2 ? str("server", seed) : NULL;
    }
}

static void fill_bp(struct pt_proto_bp *b, unsigned seed)
{
    b->id = 5 + seed;
    b->file = str("/app/bp.rb", seed);
    b->line = (int32_t)(12 + seed);
    b->method = str("Foo.baz", seed);
    b->cond = str("x > 1", seed);
    b->fiber = 3 + seed;
    b->hits = 99 + seed;
    b->pending = true;
    b->hit_cond = str(">= 3", seed);
    b->log = str("x is {x}", seed);
}

void fill_msg(struct pt_msg *m, enum pt_msg_type type, unsigned seed)
{
    pt_msg_init(m, type, pt_msg_kind(type) == PT_KIND_REQUEST ||
                         pt_msg_kind(type) == PT_KIND_REPLY ? 0x10000u + seed : 0);
    switch (type) {
    case PT_MSG_HELLO: {
        const char *argv[] = { "app.rb", "--flag", "", "ünïcode" };
        ck_assert_int_eq(pt_proto_make_hello(m, 4242 + seed, "3.1.2", "io_uring",
                                             "/app/app.rb", argv, 4, true), 0);
        m->u.hello.observe = true;
        m->u.hello.follow_fork = str("child", seed);
        break;
    }
    case PT_REQ_STEP: case PT_REQ_SKIP: case PT_REQ_UP: case PT_REQ_SWITCH: case PT_REQ_RUNQUEUE:
        m->u.fiber.fiber = 77 + seed;
        m->u.fiber.frame = 4 + seed;
        if (type == PT_REQ_SWITCH)
            m->u.fiber.expr = str("workers.first", seed);
        break;
    case PT_REQ_FIBERS:
        m->u.fibers_req.limit = 200 + seed;
        break;
    case PT_REQ_BACKTRACE:
        m->u.backtrace.fiber = 8 + seed;
        m->u.backtrace.limit = 20 + seed;
        break;
    case PT_REQ_EVAL:
        m->u.eval.fiber = 9 + seed;
        m->u.eval.frame = 2 + seed;
        m->u.eval.expr = str("a + b", seed);
        m->u.eval.limit = 4096 + seed;
        break;
    case PT_REQ_SOURCE:
        m->u.source.file = str("/app/src.rb", seed);
        m->u.source.first = (int32_t)(10 + seed);
        m->u.source.last = (int32_t)(20 + seed);
        m->u.source.code_only = true;
        break;
    case PT_REQ_BREAK:
        m->u.brk.file = str("/app/b.rb", seed);
        m->u.brk.line = (int32_t)(33 + seed);
        m->u.brk.method = str("A#b", seed);
        m->u.brk.cond = str("i == 3", seed);
        m->u.brk.fiber = 4 + seed;
        m->u.brk.hit_cond = str("% 2", seed);
        m->u.brk.log = str("at {i}", seed);
        m->u.brk.bp = 9 + seed;
        break;
    case PT_REQ_VARS:
        m->u.vars.fiber = 5 + seed;
        m->u.vars.frame = 2 + seed;
        m->u.vars.scope = str("locals", seed);
        m->u.vars.ref = UINT64_MAX - seed;
        m->u.vars.expr = str("a.b", seed);
        m->u.vars.start = 100 + seed;
        m->u.vars.count = 50 + seed;
        break;
    case PT_REQ_SETVAR:
        m->u.setvar.fiber = 6 + seed;
        m->u.setvar.frame = 1 + seed;
        m->u.setvar.scope = str("ivars", seed);
        m->u.setvar.ref = 7 + seed;
        m->u.setvar.name = str("@x", seed);
        m->u.setvar.expr = str("1 + 2", seed);
        break;
    case PT_REP_VARS:
        m->u.vars_rep.total = 1000 + seed;
        for (unsigned i = 0; i < 3; i++) {
            struct pt_proto_var *v = pt_proto_vars_push(&m->u.vars_rep.vars, &m->u.vars_rep.nvars);
            ck_assert_ptr_nonnull(v);
            v->name = str("counter", seed + i);
            v->value = str("[1, 2]", seed + i);
            v->type = str("Array", seed + i);
            v->ref = 40 + seed + i;
            v->named = 1 + seed;
            v->indexed = UINT32_MAX - seed - i;
        }
        break;
    case PT_REQ_DELETE:
        m->u.del.bp = 6 + seed;
        break;
    case PT_REQ_TRACE_OPS:
        m->u.trace_ops.on = true;
        m->u.trace_ops.fiber = 11 + seed;
        break;
    case PT_REQ_SET:
        m->u.set.name = str("fiberlock", seed);
        m->u.set.value = str("step", seed);
        break;
    case PT_REP_ERROR:
        m->u.error.code = PT_PROTO_ERR_EVAL;
        m->u.error.message = str("NameError: undefined local variable", seed);
        break;
    case PT_REP_FIBER_INFO:
        fill_fiber(&m->u.fiber_info.fiber, seed);
        break;
    case PT_REP_FIBERS:
        m->u.fibers.total = 10000 + seed;
        for (unsigned i = 0; i < 4; i++) {
            struct pt_proto_fiber *f =
                pt_proto_fibers_push(&m->u.fibers.fibers, &m->u.fibers.nfibers);
            ck_assert_ptr_nonnull(f);
            fill_fiber(f, seed + i);
            if (i == 1)
                f->value = str(":go", seed);
        }
        fill_threads(&m->u.fibers.threads, &m->u.fibers.nthreads, seed);
        break;
    case PT_REQ_STATS:
        m->u.stats_req.limit = 40 + seed;
        m->u.stats_req.sort = str("longest", seed);
        m->u.stats_req.filter = str("work", seed);
        break;
    case PT_REP_STATS:
        m->u.stats.total = 10000 + seed;
        m->u.stats.matched = 9000 + seed;
        m->u.stats.uptime = 12.5 + seed;
        for (unsigned i = 0; i < 2; i++) {
            struct pt_proto_thread_stats *t =
                pt_proto_thread_stats_push(&m->u.stats.threads, &m->u.stats.nthreads);
            ck_assert_ptr_nonnull(t);
            t->id = 1 + i;
            t->name = str("main", seed + i);
            t->fibers = 5000 + i;
            t->runnable = 3 + i;
            t->waiting = 4990 + i;
            t->matched = 4500 + i;
            t->cpu_ns = UINT64_MAX - i;
            t->switches = 1234567 + i;
            t->idle_ns = 999 + i;
            t->ops_in_flight = 17 + i;
            t->timers = 2 + i;
        }
        for (unsigned i = 0; i < 3; i++) {
            struct pt_proto_fiber *f =
                pt_proto_fibers_push(&m->u.stats.fibers, &m->u.stats.nfibers);
            ck_assert_ptr_nonnull(f);
            fill_fiber(f, seed + i);
        }
        break;
    case PT_REQ_WATCH: case PT_REQ_UNWATCH:
        m->u.watch.expr = type == PT_REQ_WATCH ? str("$x.size", seed) : NULL;
        m->u.watch.frame = 1 + seed;
        m->u.watch.watch = type == PT_REQ_UNWATCH ? 2 + seed : 0;
        break;
    case PT_REP_WATCHES:
        for (unsigned i = 0; i < 2; i++) {
            struct pt_proto_watch *w = pt_proto_watches_push(&m->u.watches.watches, &m->u.watches.nwatches);
            ck_assert_ptr_nonnull(w);
            w->id = 1 + i + seed;
            w->expr = str("@total", seed + i);
            w->value = i ? NULL : str("[1, 2]", seed);
            w->hits = 7 + seed;
        }
        break;
    case PT_REP_FRAMES:
        m->u.frames.fiber = 12 + seed;
        fill_frames(&m->u.frames.frames, &m->u.frames.nframes, seed);
        break;
    case PT_REP_VALUE:
        /* text with an embedded NUL byte, kept by text_len */
        m->u.value.text = malloc(8);
        ck_assert_ptr_nonnull(m->u.value.text);
        memcpy(m->u.value.text, "a\0b=42!", 8);
        m->u.value.text_len = 7;
        m->u.value.full_len = 5000000 + seed;
        break;
    case PT_REP_LINES:
        m->u.lines.file = str("/app/l.rb", seed);
        m->u.lines.first = (int32_t)(5 + seed);
        ck_assert_int_eq(pt_proto_strv_push(&m->u.lines.lines, &m->u.lines.nlines, "def x"), 0);
        ck_assert_int_eq(pt_proto_strv_push(&m->u.lines.lines, &m->u.lines.nlines, ""), 0);
        ck_assert_int_eq(pt_proto_strv_push(&m->u.lines.lines, &m->u.lines.nlines, "end"), 0);
        break;
    case PT_REP_BREAKPOINT:
        fill_bp(&m->u.bp.bp, seed);
        break;
    case PT_REP_BREAKPOINTS:
        for (unsigned i = 0; i < 3; i++) {
            struct pt_proto_bp *b = pt_proto_bps_push(&m->u.bps.bps, &m->u.bps.nbps);
            ck_assert_ptr_nonnull(b);
            fill_bp(b, seed + i);
        }
        break;
    case PT_REP_DUMP:
        for (unsigned i = 0; i < 3; i++) {
            struct pt_proto_dump_fiber *d =
                pt_proto_dump_push(&m->u.dump.fibers, &m->u.dump.nfibers);
            ck_assert_ptr_nonnull(d);
            fill_fiber(&d->info, seed + i);
            fill_frames(&d->frames, &d->nframes, seed + i);
        }
        fill_threads(&m->u.dump.threads, &m->u.dump.nthreads, seed);
        break;
    case PT_EV_STOPPED:
        m->u.stopped.reason = str("breakpoint", seed);
        m->u.stopped.fiber = 13 + seed;
        m->u.stopped.tag = str("worker", seed);
        m->u.stopped.thread = 2 + seed;
        m->u.stopped.file = str("/app/s.rb", seed);
        m->u.stopped.line = (int32_t)(44 + seed);
        m->u.stopped.method = str("Srv#loop", seed);
        m->u.stopped.bp = 3 + seed;
        m->u.stopped.exception = str("RuntimeError: boom", seed);
        m->u.stopped.frame = 2 + seed;
        m->u.stopped.value = str("[1, 2]", seed);
        m->u.stopped.note = str("fiber 3 ended: back in its parent", seed);
        m->u.stopped.watch = 4 + seed;
        m->u.stopped.old_value = str("41", seed);
        break;
    case PT_EV_FIBER:
        m->u.fiber_event.what = str("spin", seed);
        m->u.fiber_event.fiber = 14 + seed;
        m->u.fiber_event.parent = 1 + seed;
        break;
    case PT_EV_OP:
        m->u.op.phase = str("complete", seed);
        m->u.op.op = str("read", seed);
        m->u.op.fiber = 15 + seed;
        m->u.op.fd = -1;
        m->u.op.len = INT64_MAX - seed;
        m->u.op.result = INT64_MIN + seed;
        break;
    case PT_EV_OUTPUT:
        m->u.output.text = str("fiber 1 (main) ...\n", seed);
        break;
    case PT_EV_EXITED:
        m->u.exited.status = -1;
        m->u.exited.signal = 9 + (int32_t)seed;
        break;
    case PT_EV_FORKED:
        m->u.forked.pid = 4243 + seed;
        m->u.forked.follow = str("all", seed);
        break;
    default:
        break;  /* no payload */
    }
}

char *must_encode(const struct pt_msg *m, size_t *len)
{
    char *buf = NULL;
    int rc = pt_msg_encode_alloc(m, &buf, len);
    ck_assert_msg(rc == 0, "encode %s: %s", pt_msg_type_name(m->type),
                  pt_proto_strerror(rc));
    return buf;
}

int same_msg(const struct pt_msg *a, const struct pt_msg *b)
{
    size_t la, lb;
    char *ea = must_encode(a, &la), *eb = must_encode(b, &lb);
    int same = la == lb && memcmp(ea, eb, la) == 0;
    free(ea);
    free(eb);
    return same;
}

int main(void)
{
    Suite *s = suite_create("protocol");
    suite_add_tcase(s, tc_api());
    suite_add_tcase(s, tc_roundtrip());
    suite_add_tcase(s, tc_errors());
    suite_add_tcase(s, tc_stream());
    suite_add_tcase(s, tc_io());
    suite_add_tcase(s, tc_rendezvous());
    suite_add_tcase(s, tc_remote());
    suite_add_tcase(s, tc_op_encode());
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
