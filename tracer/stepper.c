/*
 * stepper.c — step, skip and up (and the entry stop): the global line hook.
 *
 * The global line TracePoint is enabled only while a step is in progress
 * (or until the entry stop); otherwise the program runs without it. A step
 * follows one fiber: line events of other fibers are ignored (they still
 * stop at breakpoints, whose targeted hooks run after this one and cancel
 * the step). Frame depth comes from rb_profile_frames on the current fiber's
 * own stack, so it is right across fiber switches. If the stepped fiber
 * ends before the step completes, the next line of any fiber stops.
 *
 * The entry stop does not use the global hook: in Ruby 3.1, enabling a
 * global line hook rewrites every instruction sequence to its trace_
 * variant and disabling it does not rewrite them back, so even a hook that
 * lived only until the first line would slow the whole run down
 * (docs/benchmarks.md). It waits instead for the main script's instruction
 * sequence to be compiled and hooks that one alone, once. Scripts with no
 * file to match ("-e", "-") keep the global hook.
 */
#include "tracer.h"

#define PT_STEP_MAX_FRAMES 8192

static VALUE line_tp = Qnil;
static VALUE entry_tp = Qnil;
static int entry_armed;
static unsigned long global_enables;    /* PolyTrace.__global_line_enables */
static enum pt_step_mode mode;
static VALUE step_fiber = Qnil;
static int step_depth;
static VALUE frame_buf[PT_STEP_MAX_FRAMES];

/* The event the line hook last stopped at: the targeted breakpoint hooks of
 * the same event run after ours and must not stop a second time. */
static rb_trace_arg_t *consumed_ta;
static VALUE consumed_fiber = Qnil;
static int consumed_line;
static rb_event_flag_t consumed_event;

void pt_step_mark(void)
{
    rb_gc_mark(line_tp);
    rb_gc_mark(entry_tp);
    rb_gc_mark(step_fiber);
    rb_gc_mark(consumed_fiber);
}

int pt_step_depth(int *hidden)
{
    int i, n = rb_profile_frames(0, PT_STEP_MAX_FRAMES, frame_buf, NULL);

    if (hidden) {
        for (i = 0, *hidden = 0; i < n; i++) {
            VALUE path = rb_profile_frame_path(frame_buf[i]);
            if (!NIL_P(path) && !pt_tr_is_own_path(path))
                break;
            (*hidden)++;
        }
        if (*hidden == n)
            *hidden = 0;
    }
    return n;
}

int pt_step_consumed(rb_trace_arg_t *ta)
{
    int same = ta == consumed_ta && consumed_fiber == rb_fiber_current() &&
               consumed_event == rb_tracearg_event_flag(ta) &&
               consumed_line == NUM2INT(rb_tracearg_lineno(ta));

    consumed_ta = NULL;
    consumed_fiber = Qnil;
    return same;
}

static int is_script(VALUE path)
{
    return RB_TYPE_P(path, T_STRING) &&
           (rb_str_equal(path, pt_tr.script) == Qtrue ||
            (!NIL_P(pt_tr.script_real) && rb_str_equal(path, pt_tr.script_real) == Qtrue));
}

static void consume(rb_trace_arg_t *ta, VALUE fiber)
{
    consumed_ta = ta;
    consumed_fiber = fiber;
    consumed_line = NUM2INT(rb_tracearg_lineno(ta));
    consumed_event = RUBY_EVENT_LINE;
}

static void on_line(VALUE tpval, void *data)
{
    rb_trace_arg_t *ta = rb_tracearg_from_tracepoint(tpval);
    VALUE path, fiber;
    const char *reason = "step";
    int d;

    (void)data;
    if (pt_tr.serving || pt_tr.fd < 0 || mode == PT_STEP_NONE)
        return;
    path = rb_tracearg_path(ta);
    if (pt_tr_is_hidden_path(path))
        return;
    fiber = rb_fiber_current();
    switch (mode) {
    case PT_STEP_ENTRY:
        if (!is_script(path))
            return;
        reason = "entry";
        break;
    case PT_STEP_PAUSE:
        reason = "pause";
        break;
    default:
        if (fiber != step_fiber) {
            if (!pt_fib_dead(step_fiber))
                return;
            break;      /* the stepped fiber is gone: stop anywhere */
        }
        if (mode == PT_STEP_STEP)
            break;
        d = pt_step_depth(NULL);
        if (mode == PT_STEP_SKIP ? d > step_depth : d >= step_depth)
            return;
        break;
    }
    consume(ta, fiber);
    pt_stop(reason, 0);
}

/* The first line of the main script: the entry stop, then never again. */
static void on_entry_line(VALUE tpval, void *data)
{
    (void)data;
    if (pt_tr.serving)
        return;
    rb_tracepoint_disable(tpval);
    if (pt_tr.fd < 0)
        return;
    consume(rb_tracearg_from_tracepoint(tpval), rb_fiber_current());
    pt_stop("entry", 0);
}

static VALUE enable_for_target(VALUE arg)
{
    VALUE kw = rb_hash_new();

    rb_hash_aset(kw, ID2SYM(rb_intern("target")), rb_ary_entry(arg, 1));
    return rb_funcallv_kw(rb_ary_entry(arg, 0), rb_intern("enable"), 1, &kw, RB_PASS_KEYWORDS);
}

void pt_step_arm_entry(void)
{
    const char *script = StringValueCStr(pt_tr.script);

    if (strcmp(script, "-e") == 0 || strcmp(script, "-") == 0)
        pt_step_start(PT_STEP_ENTRY, Qnil, 0);
    else
        entry_armed = 1;
}

void pt_step_script_compiled(VALUE iseq, VALUE path)
{
    VALUE err;

    if (!entry_armed || !is_script(path))
        return;
    entry_armed = 0;
    entry_tp = rb_tracepoint_new(0, RUBY_EVENT_LINE, on_entry_line, NULL);
    pt_tr_protect_call(enable_for_target, rb_ary_new_from_args(2, entry_tp, iseq), &err);
    if (!NIL_P(err))
        pt_step_start(PT_STEP_ENTRY, Qnil, 0);  /* stop all the same, at a cost */
}

void pt_step_init(void)
{
    if (NIL_P(line_tp))
        line_tp = rb_tracepoint_new(0, RUBY_EVENT_LINE, on_line, NULL);
}

void pt_step_start(enum pt_step_mode m, VALUE fiber, int user_depth)
{
    mode = m;
    step_fiber = fiber;
    step_depth = user_depth;
    if (!RTEST(rb_tracepoint_enabled_p(line_tp))) {
        global_enables++;
        rb_tracepoint_enable(line_tp);
    }
}

/* PolyTrace.__global_line_enables: how often the global line hook was
 * turned on, for the tests that it stays off unless the user steps. */
VALUE pt_step_global_enables(VALUE self)
{
    (void)self;
    return ULONG2NUM(global_enables);
}

void pt_step_cancel(void)
{
    mode = PT_STEP_NONE;
    step_fiber = Qnil;
    pt_steplock_stop();
    if (!NIL_P(line_tp) && RTEST(rb_tracepoint_enabled_p(line_tp)))
        rb_tracepoint_disable(line_tp);
}

int pt_step_active(void)
{
    return mode != PT_STEP_NONE;
}
