/*
 * idle.c — the tracer hooks into the program only while a controller is
 * connected. On connect: the :script_compiled TracePoint (line breakpoints
 * target the files it sees) and the runtime hooks (fiber spin and
 * terminate, op events, the step lock). On disconnect they go again, and
 * the tracer lets go of the program's objects it held (fibers it had
 * numbered, the files' instruction sequences), so a detached program pays
 * for nothing but a SIGURG handler, whether it was started with the tracer
 * or had it brought in by `attach`. Files loaded while no controller was
 * connected are found on the heap when a breakpoint names them (heap.c).
 */
#include "tracer.h"

static int on;

static VALUE compiled_tp(void)
{
    ID id = rb_intern("COMPILED");

    return rb_const_defined_at(pt_tr.mod, id) ? rb_const_get_at(pt_tr.mod, id) : Qnil;
}

/* Runtime hooks follow the connection (the runtime may come late: pt_tr_rt). */
static void runtime_hooks(int want)
{
    static int added;

    if (!pt_tr.rt || want == added)
        return;
    /* Hooks run in the order added: the stepper names an ending fiber
     * before fibers.c forgets its id, and re-targets the step lock before
     * steplock.c sees the end. */
    pt_step_runtime_hook(want);
    pt_fib_runtime_hook(want);
    pt_steplock_runtime_hook(want);
    added = want;
}

void pt_idle_leave(void)
{
    VALUE tp = compiled_tp();

    on = 1;
    if (!NIL_P(tp) && !RTEST(rb_tracepoint_enabled_p(tp)))
        rb_tracepoint_enable(tp);
    runtime_hooks(1);
}

void pt_idle_enter(void)
{
    VALUE tp = compiled_tp();

    on = 0;
    if (!NIL_P(tp) && RTEST(rb_tracepoint_enabled_p(tp)))
        rb_tracepoint_disable(tp);
    runtime_hooks(0);
    pt_bp_forget_files();
    if (!pt_tr.serving)
        pt_fib_forget_all();
}

void pt_idle_runtime_loaded(void)
{
    runtime_hooks(on);
}
