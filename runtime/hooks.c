/*
 * hooks.c — event hooks for the tracer (rt_api.h): a registry of C callbacks
 * told about fiber spin/schedule/switch/block/unblock/terminate and I/O op
 * submit/complete. rt_emit (rt_internal.h) costs a branch while none is
 * registered. A per-thread flag keeps hooks from re-entering, so a hook may
 * itself do I/O through the runtime; a hook that raises is contained.
 *
 * Ruby callers get the same events through Polyphony::Trace.start { |event| }
 * (a Hash per event) and Backend#trace_proc = proc { |kind, fiber, other| }.
 */
#include <errno.h>
#include <string.h>
#include "rt_internal.h"

#define RT_MAX_HOOKS 16

struct hook {
    rt_hook_fn fn;
    void *data;
};

static struct hook hooks[RT_MAX_HOOKS];
static int hook_count;
int rt_hooks_active;
static _Thread_local int in_hook;

static VALUE ruby_tracers;  /* Array of procs given to Polyphony::Trace.start */
static ID id_call;
static VALUE kind_syms[RT_EV_COUNT];
static VALUE sym_kind, sym_fiber, sym_other, sym_op, sym_fd, sym_len, sym_result;

int rt_hook_add(rt_hook_fn fn, void *data)
{
    if (!fn)
        return -EINVAL;
    if (hook_count == RT_MAX_HOOKS)
        return -ENOSPC;
    hooks[hook_count].fn = fn;
    hooks[hook_count].data = data;
    rt_hooks_active = ++hook_count;
    return 0;
}

int rt_hook_remove(rt_hook_fn fn, void *data)
{
    for (int i = 0; i < hook_count; i++) {
        if (hooks[i].fn != fn || hooks[i].data != data)
            continue;
        for (int j = i; j + 1 < hook_count; j++)
            hooks[j] = hooks[j + 1];
        rt_hooks_active = --hook_count;
        return 0;
    }
    return -ENOENT;
}

struct call {
    const struct hook *hook;
    const struct rt_event *ev;
};

static VALUE call_hook(VALUE arg)
{
    struct call *c = (struct call *)arg;
    c->hook->fn(c->ev, c->hook->data);
    return Qnil;
}

void rt_hooks_dispatch(const struct rt_event *ev)
{
    if (in_hook)
        return;
    in_hook = 1;
    /* A copy: a hook may remove itself (or others) while it runs. */
    struct hook current[RT_MAX_HOOKS];
    int n = hook_count;
    for (int i = 0; i < n; i++)
        current[i] = hooks[i];
    VALUE saved_err = rb_errinfo();
    for (int i = 0; i < n; i++) {
        struct call c = { &current[i], ev };
        int state = 0;
        rb_protect(call_hook, (VALUE)&c, &state);
        if (state)
            rb_set_errinfo(saved_err);
    }
    in_hook = 0;
}

/* --- diagnostics hooks (one client: the tracer) ------------------------------ */

static struct rt_diag_hooks diag;
static int diag_present;

const struct rt_diag_hooks *rt_diag_hooks(void)
{
    return diag_present ? &diag : NULL;
}

int rt_diag_set(const struct rt_diag_hooks *hooks)
{
    if (hooks)
        diag = *hooks;
    else
        memset(&diag, 0, sizeof diag);
    diag_present = hooks != NULL;
    return 0;
}

/* --- Ruby: Polyphony::Trace and Backend#trace_proc -------------------------- */

static VALUE event_hash(const struct rt_event *ev)
{
    VALUE h = rb_hash_new();
    rb_hash_aset(h, sym_kind, kind_syms[ev->kind]);
    rb_hash_aset(h, sym_fiber, ev->fiber);
    rb_hash_aset(h, sym_other, ev->other);
    rb_hash_aset(h, sym_op, ev->op ? ID2SYM(rb_intern(ev->op)) : Qnil);
    rb_hash_aset(h, sym_fd, INT2NUM(ev->fd));
    rb_hash_aset(h, sym_len, LONG2NUM(ev->len));
    rb_hash_aset(h, sym_result, LONG2NUM(ev->result));
    return h;
}

static void ruby_hook(const struct rt_event *ev, void *data)
{
    (void)data;
    if (RARRAY_LEN(ruby_tracers)) {
        VALUE h = event_hash(ev);
        VALUE list = rb_ary_dup(ruby_tracers);
        for (long i = 0; i < RARRAY_LEN(list); i++)
            rb_funcall(RARRAY_AREF(list, i), id_call, 1, h);
    }
    struct rt_thread *t = rt_thread_of(rb_thread_current(), 0);
    if (t && t->trace_proc != Qnil) {
        VALUE other = ev->other;
        if (ev->kind == RT_EV_OP_SUBMIT || ev->kind == RT_EV_OP_COMPLETE || ev->kind == RT_EV_FIBER_BLOCK)
            other = ev->op ? ID2SYM(rb_intern(ev->op)) : Qnil;
        rb_funcall(t->trace_proc, id_call, 3, kind_syms[ev->kind], ev->fiber, other);
    }
}

static int ruby_hook_users;

static void ruby_hook_use(int delta)
{
    int before = ruby_hook_users;
    ruby_hook_users += delta;
    if (before == 0 && ruby_hook_users > 0)
        rt_hook_add(ruby_hook, NULL);
    else if (before > 0 && ruby_hook_users == 0)
        rt_hook_remove(ruby_hook, NULL);
}

static VALUE tr_start(int argc, VALUE *argv, VALUE self)
{
    VALUE callable;
    (void)self;
    rb_scan_args(argc, argv, "01&", NULL, &callable);
    if (argc == 1)
        callable = argv[0];
    if (callable == Qnil)
        rb_raise(rb_eArgError, "Polyphony::Trace.start needs a block or a callable");
    rb_ary_push(ruby_tracers, callable);
    ruby_hook_use(1);
    return callable;
}

static VALUE tr_stop(int argc, VALUE *argv, VALUE self)
{
    VALUE callable;
    (void)self;
    rb_scan_args(argc, argv, "01", &callable);
    long before = RARRAY_LEN(ruby_tracers);
    if (callable == Qnil)
        rb_ary_clear(ruby_tracers);
    else
        rb_ary_delete(ruby_tracers, callable);
    ruby_hook_use((int)(RARRAY_LEN(ruby_tracers) - before));
    return Qnil;
}

static VALUE tr_active_p(VALUE self)
{
    (void)self;
    return rt_hooks_active ? Qtrue : Qfalse;
}

static VALUE be_set_trace_proc(VALUE self, VALUE proc)
{
    struct rt_thread *t = rt_thread_from_backend(self);
    if (t->trace_proc == Qnil && proc != Qnil)
        ruby_hook_use(1);
    else if (t->trace_proc != Qnil && proc == Qnil)
        ruby_hook_use(-1);
    t->trace_proc = proc;
    return proc;
}

static VALUE be_trace_proc(VALUE self)
{
    return rt_thread_from_backend(self)->trace_proc;
}

void rt_hooks_init(VALUE mPolyphony)
{
    static const char *names[RT_EV_COUNT] = {
        "spin", "schedule", "switch", "block", "unblock", "terminate", "op_submit", "op_complete"
    };
    id_call = rb_intern("call");
    for (int i = 0; i < RT_EV_COUNT; i++)
        kind_syms[i] = ID2SYM(rb_intern(names[i]));
    sym_kind = ID2SYM(rb_intern("kind"));
    sym_fiber = ID2SYM(rb_intern("fiber"));
    sym_other = ID2SYM(rb_intern("other"));
    sym_op = ID2SYM(rb_intern("op"));
    sym_fd = ID2SYM(rb_intern("fd"));
    sym_len = ID2SYM(rb_intern("len"));
    sym_result = ID2SYM(rb_intern("result"));
    ruby_tracers = rb_ary_new();
    rb_gc_register_mark_object(ruby_tracers);

    VALUE mTrace = rb_define_module_under(mPolyphony, "Trace");
    rb_define_singleton_method(mTrace, "start", tr_start, -1);
    rb_define_singleton_method(mTrace, "stop", tr_stop, -1);
    rb_define_singleton_method(mTrace, "active?", tr_active_p, 0);
    VALUE cBackend = rb_const_get(mPolyphony, rb_intern("Backend"));
    rb_define_method(cBackend, "trace_proc=", be_set_trace_proc, 1);
    rb_define_method(cBackend, "trace_proc", be_trace_proc, 0);
}
