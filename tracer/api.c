/*
 * api.c — the tracer's own Ruby API, for the program and for `print` at
 * the prompt: PolyTrace.state (what the debugger is doing), .current_fiber
 * (the fiber the debugger looks at), .call_stack (a fiber's frames as
 * strings, the async part included), .fiber_lock and .fiber_lock= (who runs
 * while stepping, as `set fiberlock`).
 */
#include <stdlib.h>
#include <string.h>
#include "tracer.h"

static VALUE sym(const char *name)
{
    return ID2SYM(rb_intern(name));
}

static const char *lock_name(enum pt_tr_lockmode m)
{
    return m == PT_TR_LOCK_ON ? "on" : m == PT_TR_LOCK_OFF ? "off" : "step";
}

static const char *step_name(enum pt_step_mode m)
{
    switch (m) {
    case PT_STEP_STEP: return "step";
    case PT_STEP_SKIP: return "skip";
    case PT_STEP_UP: return "up";
    case PT_STEP_PAUSE: return "pause";
    case PT_STEP_ENTRY: return "entry";
    default: return "none";
    }
}

static VALUE str_or_nil(const char *s)
{
    return s ? rb_str_new_cstr(s) : Qnil;
}

static VALUE breakpoints(void)
{
    struct pt_msg m;
    VALUE out = rb_ary_new();

    pt_msg_init(&m, PT_REP_BREAKPOINTS, 1);
    if (pt_bp_list(&m) == 0) {
        for (size_t i = 0; i < m.u.bps.nbps; i++) {
            const struct pt_proto_bp *b = &m.u.bps.bps[i];
            VALUE h = rb_hash_new();
            rb_hash_aset(h, sym("id"), UINT2NUM(b->id));
            rb_hash_aset(h, sym("file"), str_or_nil(b->file));
            rb_hash_aset(h, sym("line"), b->line ? INT2NUM(b->line) : Qnil);
            rb_hash_aset(h, sym("method"), str_or_nil(b->method));
            rb_hash_aset(h, sym("condition"), str_or_nil(b->cond));
            rb_hash_aset(h, sym("fiber"), b->fiber ? pt_fib_lookup(b->fiber) : Qnil);
            rb_hash_aset(h, sym("hits"), ULL2NUM(b->hits));
            rb_hash_aset(h, sym("pending"), b->pending ? Qtrue : Qfalse);
            rb_ary_push(out, h);
        }
    }
    pt_msg_free(&m);
    return out;
}

/* The fiber the debugger looks at: while stopped the selected one (or the
 * stopped one); while running the caller's. */
static VALUE current_fiber(void)
{
    VALUE f = pt_stop_selected();

    return NIL_P(f) ? rb_fiber_current() : f;
}

/* PolyTrace.state */
static VALUE api_state(VALUE self)
{
    VALUE h = rb_hash_new(), stepped = Qnil;
    enum pt_step_mode mode = pt_step_mode_now(&stepped);

    (void)self;
    rb_hash_aset(h, sym("connected"), pt_tr.fd >= 0 ? Qtrue : Qfalse);
    rb_hash_aset(h, sym("stopped"), pt_tr.serving ? Qtrue : Qfalse);
    rb_hash_aset(h, sym("stopped_fiber"), pt_tr.serving ? pt_stop_fiber() : Qnil);
    rb_hash_aset(h, sym("selected_fiber"), pt_tr.serving ? current_fiber() : Qnil);
    rb_hash_aset(h, sym("step"), sym(step_name(mode)));
    rb_hash_aset(h, sym("stepped_fiber"), stepped);
    rb_hash_aset(h, sym("fiber_lock"), sym(lock_name(pt_tr.lockmode)));
    rb_hash_aset(h, sym("breakpoints"), breakpoints());
    rb_hash_aset(h, sym("watches"), pt_wp_list_ruby());
    return h;
}

/* PolyTrace.current_fiber */
static VALUE api_current_fiber(VALUE self)
{
    (void)self;
    return current_fiber();
}

static VALUE frame_string(const struct pt_proto_frame *f)
{
    return rb_sprintf("%s:%d:in `%s'", f->file ? f->file : "", (int)f->line,
                      f->label ? f->label : "");
}

/* "-- spun by fiber 2 (acceptor) at app.rb:30 --" before the frames fiber 2
 * had at the spin; the place is the segment's first frame not hidden. */
static VALUE separator(const struct pt_proto_frame *fr, size_t n, size_t i)
{
    size_t at = i;
    for (size_t k = i; k < n && fr[k].spun_by == fr[i].spun_by; k++) {
        if (!fr[k].hidden) {
            at = k;
            break;
        }
    }
    if (fr[i].spun_by_tag)
        return rb_sprintf("-- spun by fiber %llu (%s) at %s:%d --", (unsigned long long)fr[i].spun_by,
                          fr[i].spun_by_tag, fr[at].file ? fr[at].file : "", (int)fr[at].line);
    return rb_sprintf("-- spun by fiber %llu at %s:%d --", (unsigned long long)fr[i].spun_by,
                      fr[at].file ? fr[at].file : "", (int)fr[at].line);
}

static VALUE caller_locations(VALUE unused)
{
    (void)unused;
    /* 1: without PolyTrace.call_stack's own (C) frame */
    return rb_funcall(rb_mKernel, rb_intern("caller_locations"), 1, INT2FIX(1));
}

/*
 * The calling fiber's own frames while the program runs (no stop snapshot):
 * from caller_locations, this method's own and the tracer's left out.
 */
static int live_frames(struct pt_proto_frame **v, size_t *n)
{
    VALUE err, locs = pt_tr_protect_call(caller_locations, Qnil, &err);
    long i;
    int r;

    for (i = 0; RB_TYPE_P(locs, T_ARRAY) && i < RARRAY_LEN(locs); i++) {
        struct pt_proto_frame *f = pt_proto_frames_push(v, n);
        if (!f)
            return -1;
        f->index = (uint32_t)(*n - 1);
        if ((r = pt_fib_location(RARRAY_AREF(locs, i), &f->file, &f->line, &f->label)) < 0)
            return r;
        f->hidden = pt_tr_is_hidden_path(rb_str_new_cstr(f->file ? f->file : ""));
    }
    return 0;
}

/* PolyTrace.call_stack(fiber = PolyTrace.current_fiber) */
static VALUE api_call_stack(int argc, VALUE *argv, VALUE self)
{
    struct pt_proto_frame *fr = NULL;
    size_t n = 0;
    VALUE fiber, out = rb_ary_new();

    (void)self;
    rb_scan_args(argc, argv, "01", &fiber);
    if (NIL_P(fiber))
        fiber = current_fiber();
    if (!RTEST(rb_obj_is_fiber(fiber)))
        rb_raise(rb_eTypeError, "PolyTrace.call_stack takes a Fiber, not %s", rb_obj_classname(fiber));
    if (pt_fib_dead(fiber))
        return out;
    if (fiber == rb_fiber_current() && !pt_tr.serving) {
        live_frames(&fr, &n);
        pt_fib_async_frames(fiber, 0, &fr, &n);
    } else {
        pt_fib_frames(fiber, 0, &fr, &n);
    }
    for (size_t i = 0; i < n; i++) {
        if (fr[i].spun_by && (i == 0 || fr[i - 1].spun_by != fr[i].spun_by))
            rb_ary_push(out, separator(fr, n, i));
        if (!fr[i].hidden)
            rb_ary_push(out, frame_string(&fr[i]));
    }
    for (size_t i = 0; i < n; i++) {
        free(fr[i].file);
        free(fr[i].label);
        free(fr[i].spun_by_tag);
    }
    free(fr);
    return out;
}

/* PolyTrace.fiber_lock */
static VALUE api_fiber_lock(VALUE self)
{
    (void)self;
    return sym(lock_name(pt_tr.lockmode));
}

/* PolyTrace.fiber_lock = true (:on), false (:off), :step */
static VALUE api_set_fiber_lock(VALUE self, VALUE mode)
{
    (void)self;
    if (mode == Qtrue || mode == sym("on"))
        pt_tr.lockmode = PT_TR_LOCK_ON;
    else if (mode == Qfalse || mode == sym("off"))
        pt_tr.lockmode = PT_TR_LOCK_OFF;
    else if (mode == sym("step"))
        pt_tr.lockmode = PT_TR_LOCK_STEP;
    else
        rb_raise(rb_eArgError, "fiber_lock is true (:on), false (:off) or :step, not %" PRIsVALUE,
                 rb_inspect(mode));
    return mode;
}

void pt_api_init(VALUE mod)
{
    rb_define_singleton_method(mod, "state", api_state, 0);
    rb_define_singleton_method(mod, "current_fiber", api_current_fiber, 0);
    rb_define_singleton_method(mod, "call_stack", api_call_stack, -1);
    rb_define_singleton_method(mod, "fiber_lock", api_fiber_lock, 0);
    rb_define_singleton_method(mod, "fiber_lock=", api_set_fiber_lock, 1);
}
