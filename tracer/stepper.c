/*
 * stepper.c — step, skip and up (and the entry stop): the global line hook.
 *
 * The global line TracePoint is enabled only while a step is in progress
 * (or until the entry stop); otherwise the program runs without it. A step
 * follows one fiber: line events of other fibers are ignored (they still
 * stop at breakpoints, whose targeted hooks run after this one and cancel
 * the step). Frame depth comes from rb_profile_frames on the current fiber's
 * own stack, so it is right across fiber switches.
 *
 * up (finish) waits for the selected frame's own return: a :return /
 * :b_return hook (:c_return for a C frame), enabled only while an up is in
 * progress, stops when the stepped fiber returns from a frame at that
 * depth, with the value it returns. A block invocation is a frame of its
 * own, so up in a block of `loop` or `each` stops at the end of that
 * iteration. A line of the fiber in a shallower frame stops too (the frame
 * was left without a return event).
 *
 * If the stepped fiber ends before the step completes, the tracer says so
 * at once (an OUTPUT: "fiber 3 (ann) finished => 45") and the step follows
 * its parent: the stop comes at the parent's next line, or, when the parent
 * is waiting (or gone), at the next line any fiber runs, and the stop says
 * why it landed there.
 *
 * The entry stop does not use the global hook: in Ruby 3.1, enabling a
 * global line hook rewrites every instruction sequence to its trace_
 * variant and disabling it does not rewrite them back, so even a hook that
 * lived only until the first line would slow the whole run down
 * (docs/benchmarks.md). It waits instead for the main script's instruction
 * sequence to be compiled and hooks that one alone, once. Scripts with no
 * file to match ("-e", "-") keep the global hook.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tracer.h"

#define PT_STEP_MAX_FRAMES 8192

static VALUE line_tp = Qnil;
static VALUE return_tp = Qnil;          /* up: :return and :b_return */
static VALUE c_return_tp = Qnil;        /* up from a C frame: :c_return */
static VALUE entry_tp = Qnil;
static int entry_armed;
static unsigned long global_enables;    /* PolyTrace.__global_line_enables */
static enum pt_step_mode mode;
static VALUE step_fiber = Qnil;
static int step_depth;
static VALUE frame_buf[PT_STEP_MAX_FRAMES];

/* The stepped fiber ended: the step now follows its parent (step_fiber),
 * or any fiber when it has none left (step_fiber nil). */
static int after_end;
static uint64_t ended_id;               /* the fiber that ended */

static int watching;                    /* watchpoints set: the line hook stays on */

#define PT_STEP_VALUE_MAX 512           /* how much of a value's inspect is shown */

/* The event the line hook last stopped at: the targeted breakpoint hooks of
 * the same event run after ours and must not stop a second time. */
static rb_trace_arg_t *consumed_ta;
static VALUE consumed_fiber = Qnil;
static int consumed_line;
static rb_event_flag_t consumed_event;

void pt_step_mark(void)
{
    rb_gc_mark(line_tp);
    rb_gc_mark(return_tp);
    rb_gc_mark(c_return_tp);
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

void pt_step_consume(rb_trace_arg_t *ta, VALUE fiber)
{
    consumed_ta = ta;
    consumed_fiber = fiber;
    consumed_line = NUM2INT(rb_tracearg_lineno(ta));
    consumed_event = RUBY_EVENT_LINE;
}

/* "3 (ann)" for fiber 3 tagged ann, into buf. */
static void fiber_name(VALUE fiber, uint64_t id, char *buf, size_t len)
{
    const struct rt_api *rt = pt_tr.rt;
    VALUE tag = rt && !NIL_P(fiber) ? rt->fiber_tag(fiber) : Qnil, err;

    if (!NIL_P(tag))
        tag = pt_tr_protect_call(rb_obj_as_string, tag, &err);
    if (RB_TYPE_P(tag, T_STRING))
        snprintf(buf, len, "%llu (%.*s)", (unsigned long long)id, (int)RSTRING_LEN(tag), RSTRING_PTR(tag));
    else
        snprintf(buf, len, "%llu", (unsigned long long)id);
}

/*
 * After the stepped fiber ended: the line of `fiber` stops when it is the
 * parent's, or when the parent cannot run next (it waits, or is gone): then
 * note says why the stop is here. 0: not this line (the parent is runnable
 * and will run soon).
 */
static int stop_after_end(VALUE fiber, char *note, size_t len)
{
    const struct rt_api *rt = pt_tr.rt;
    char parent[96], here[96];
    struct rt_wait_info wi = { NULL, -1, -1 };

    fiber_name(fiber, pt_fib_id(fiber), here, sizeof here);
    if (NIL_P(step_fiber) || pt_fib_dead(step_fiber)) {
        snprintf(note, len, "fiber %llu ended and has no parent left: fiber %s ran next",
                 (unsigned long long)ended_id, here);
        return 1;
    }
    fiber_name(step_fiber, pt_fib_id(step_fiber), parent, sizeof parent);
    if (fiber == step_fiber) {
        snprintf(note, len, "fiber %llu ended: back in its parent", (unsigned long long)ended_id);
        return 1;
    }
    if (rt && rt->fiber_state(step_fiber) != RT_FIBER_WAITING)
        return 0;
    if (rt)
        rt->fiber_wait_info(step_fiber, &wi);
    snprintf(note, len, "fiber %llu ended and its parent, fiber %s, waits%s%s: fiber %s ran next",
             (unsigned long long)ended_id, parent, wi.op ? " on " : "", wi.op ? wi.op : "", here);
    return 1;
}

static void on_line(VALUE tpval, void *data)
{
    rb_trace_arg_t *ta = rb_tracearg_from_tracepoint(tpval);
    VALUE path, fiber;
    const char *reason = "step";
    char note[512];
    int d;

    (void)data;
    note[0] = '\0';
    if (pt_tr.serving || pt_tr.fd < 0 || (mode == PT_STEP_NONE && !watching))
        return;
    path = rb_tracearg_path(ta);
    if (pt_tr_is_hidden_path(path))
        return;
    fiber = rb_fiber_current();
    /* Watchpoints first: a change stops here whatever a step waits for. */
    if (watching && pt_wp_line(ta, fiber))
        return;
    switch (mode) {
    case PT_STEP_NONE:
        return;
    case PT_STEP_ENTRY:
        if (!is_script(path))
            return;
        reason = "entry";
        break;
    case PT_STEP_PAUSE:
        reason = "pause";
        break;
    default:
        if (after_end) {
            if (!stop_after_end(fiber, note, sizeof note))
                return;
            break;
        }
        if (fiber != step_fiber) {
            if (!pt_fib_dead(step_fiber))
                return;
            break;      /* the stepped fiber is gone unseen: stop anywhere */
        }
        if (mode == PT_STEP_STEP)
            break;
        d = pt_step_depth(NULL);
        /* up: normally the return hook stops first; a shallower line means
         * the frame was left without one. */
        if (mode == PT_STEP_SKIP ? d > step_depth : d >= step_depth)
            return;
        break;
    }
    pt_step_consume(ta, fiber);
    pt_stop_ex(reason, 0, NULL, NULL, note[0] ? note : NULL);
}

/* A value as the stop shows it: its inspect, cut to PT_STEP_VALUE_MAX. */
static char *value_text(VALUE v)
{
    VALUE err, s = pt_tr_protect_call(rb_inspect, v, &err);
    char *out = NULL;

    if (!RB_TYPE_P(s, T_STRING))
        return strdup("(inspect raised)");
    if (RSTRING_LEN(s) > PT_STEP_VALUE_MAX) {
        if (asprintf(&out, "%.*s...", PT_STEP_VALUE_MAX, RSTRING_PTR(s)) < 0)
            out = NULL;
    } else {
        out = strndup(RSTRING_PTR(s), RSTRING_LEN(s));
    }
    return out;
}

/* up: the stepped fiber returns from a frame; the selected one? */
static void on_return(VALUE tpval, void *data)
{
    rb_trace_arg_t *ta = rb_tracearg_from_tracepoint(tpval);
    rb_event_flag_t ev = rb_tracearg_event_flag(ta);
    VALUE fiber = rb_fiber_current(), err = rb_errinfo();
    char *value;
    int d;

    (void)data;
    if (pt_tr.serving || pt_tr.fd < 0 || mode != PT_STEP_UP || after_end || fiber != step_fiber)
        return;
    /* A C method's frame is already gone when :c_return is told. */
    d = pt_step_depth(NULL) + (ev == RUBY_EVENT_C_RETURN ? 1 : 0);
    if (d != step_depth)
        return;
    if (!NIL_P(err) && rb_obj_is_kind_of(err, rb_eException)) {
        char *text = pt_tr_exc_message(err);
        value = NULL;
        if (text && asprintf(&value, "(left by %s)", text) < 0)
            value = NULL;
        free(text);
    } else {
        value = value_text(rb_tracearg_return_value(ta));
    }
    pt_stop_ex("return", 0, NULL, value ? value : "?", NULL);
    free(value);
}

/*
 * The stepped fiber ends (a runtime hook, in the ending fiber): say so now,
 * and let the step follow its parent. Its lock, if it held one, is gone
 * already (the runtime drops a dead holder's); the parent takes it.
 */
static void fiber_ended(VALUE fiber, VALUE result)
{
    const struct rt_api *rt = pt_tr.rt;
    VALUE parent = rt->fiber_parent(fiber);
    char name[96], *text;

    fiber_name(fiber, pt_fib_id(fiber), name, sizeof name);
    if (rb_obj_is_kind_of(result, rb_eException)) {
        char *msg = pt_tr_exc_message(result);
        pt_tr_output("fiber %s ended with %s\n", name, msg ? msg : "an exception");
        free(msg);
    } else {
        text = value_text(result);
        pt_tr_output("fiber %s finished => %s\n", name, text ? text : "?");
        free(text);
    }
    ended_id = pt_fib_id(fiber);
    after_end = 1;
    mode = PT_STEP_STEP;
    pt_steplock_stop();
    if (NIL_P(parent) || pt_fib_dead(parent)) {
        step_fiber = Qnil;
        return;
    }
    step_fiber = parent;
    if (pt_tr.lockmode == PT_TR_LOCK_STEP) {
        if (!NIL_P(pt_steplock_start(rb_thread_current(), parent)))
            rt->fiber_lock(rb_thread_current(), parent);
    } else if (pt_tr.lockmode == PT_TR_LOCK_ON) {
        rt->fiber_lock(rb_thread_current(), parent);
    }
}

static void on_runtime_event(const struct rt_event *ev, void *data)
{
    (void)data;
    if (ev->kind != RT_EV_FIBER_TERMINATE || pt_tr.serving || pt_tr.fd < 0 ||
        mode < PT_STEP_STEP || after_end || ev->fiber != step_fiber)
        return;
    fiber_ended(ev->fiber, ev->other);
}

void pt_step_runtime_hook(int on)
{
    if (on)
        pt_tr.rt->hook_add(on_runtime_event, NULL);
    else
        pt_tr.rt->hook_remove(on_runtime_event, NULL);
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
    pt_step_consume(rb_tracearg_from_tracepoint(tpval), rb_fiber_current());
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
        pt_step_start(PT_STEP_ENTRY, Qnil, 0, 0);
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
        pt_step_start(PT_STEP_ENTRY, Qnil, 0, 0);  /* stop all the same, at a cost */
}

void pt_step_init(void)
{
    if (NIL_P(line_tp))
        line_tp = rb_tracepoint_new(0, RUBY_EVENT_LINE, on_line, NULL);
    if (NIL_P(return_tp))
        return_tp = rb_tracepoint_new(0, RUBY_EVENT_RETURN | RUBY_EVENT_B_RETURN, on_return, NULL);
    if (NIL_P(c_return_tp))
        c_return_tp = rb_tracepoint_new(0, RUBY_EVENT_C_RETURN, on_return, NULL);
}

static void set_enabled(VALUE tp, int on)
{
    if (on && !RTEST(rb_tracepoint_enabled_p(tp)))
        rb_tracepoint_enable(tp);
    else if (!on && RTEST(rb_tracepoint_enabled_p(tp)))
        rb_tracepoint_disable(tp);
}

void pt_step_start(enum pt_step_mode m, VALUE fiber, int user_depth, int c_frame)
{
    mode = m;
    step_fiber = fiber;
    step_depth = user_depth;
    after_end = 0;
    if (!RTEST(rb_tracepoint_enabled_p(line_tp))) {
        global_enables++;
        rb_tracepoint_enable(line_tp);
    }
    set_enabled(return_tp, m == PT_STEP_UP && !c_frame);
    set_enabled(c_return_tp, m == PT_STEP_UP && c_frame);
}

/* PolyTrace.__global_line_enables: how often the global line hook was
 * turned on, for the tests that it stays off unless the user steps. */
VALUE pt_step_global_enables(VALUE self)
{
    (void)self;
    return ULONG2NUM(global_enables);
}

/* Watchpoints need every line looked at (watchpoint.c). */
void pt_step_watching(int on)
{
    watching = on;
    if (NIL_P(line_tp))
        return;
    if (on && !RTEST(rb_tracepoint_enabled_p(line_tp))) {
        global_enables++;
        rb_tracepoint_enable(line_tp);
    } else if (!on && mode == PT_STEP_NONE) {
        set_enabled(line_tp, 0);
    }
}

enum pt_step_mode pt_step_mode_now(VALUE *fiber)
{
    *fiber = step_fiber;
    return mode;
}

void pt_step_cancel(void)
{
    mode = PT_STEP_NONE;
    step_fiber = Qnil;
    after_end = 0;
    pt_steplock_stop();
    if (!NIL_P(line_tp) && !watching)
        set_enabled(line_tp, 0);
    if (!NIL_P(return_tp))
        set_enabled(return_tp, 0);
    if (!NIL_P(c_return_tp))
        set_enabled(c_return_tp, 0);
}

int pt_step_active(void)
{
    return mode != PT_STEP_NONE;
}
