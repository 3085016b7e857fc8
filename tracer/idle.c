/*
 * idle.c — what the tracer hooks while no controller is connected: as
 * little as the program's diagnostics allow.
 *
 * On connect: the :script_compiled TracePoint (line breakpoints target the
 * files it sees) and the stepper's and step lock's runtime hooks. On
 * disconnect they go again, and the tracer lets go of the files' instruction
 * sequences (and, without the runtime, of the fibers it numbered), so a
 * detached program pays for nothing the debugger needs only while attached.
 * What stays on: fibers.c's runtime hook (fiber numbers for the always-on
 * diagnostics, diag.c, which name fibers as the debugger does) and, in a
 * program started with the tracer, :script_compiled until the runtime is
 * loaded, so that the runtime's table is fetched as soon as it exists. A
 * tracer brought in by `attach` (injected.c) fetches it at boot. Files
 * loaded while no controller was connected are found on the heap when a
 * breakpoint names them (heap.c).
 */
#include "tracer.h"

static int connected;
static int injected;
static int step_hooks;      /* the stepper's and step lock's runtime hooks */

static VALUE compiled_tp(void)
{
    ID id = rb_intern("COMPILED");

    return rb_const_defined_at(pt_tr.mod, id) ? rb_const_get_at(pt_tr.mod, id) : Qnil;
}

static void update_compiled(void)
{
    VALUE tp = compiled_tp();
    int want = connected || (!pt_tr.rt && !injected);

    if (NIL_P(tp) || want == RTEST(rb_tracepoint_enabled_p(tp)))
        return;
    if (want)
        rb_tracepoint_enable(tp);
    else
        rb_tracepoint_disable(tp);
}

/*
 * Runtime hooks run in the order added: the stepper names an ending fiber
 * before fibers.c forgets its id, and re-targets the step lock before
 * steplock.c sees the end. fibers.c's hook is always there, so it is put
 * back behind the stepper's.
 */
static void runtime_hooks(int want)
{
    if (!pt_tr.rt || want == step_hooks)
        return;
    if (want) {
        pt_fib_runtime_hook(0);
        pt_step_runtime_hook(1);
        pt_fib_runtime_hook(1);
        pt_steplock_runtime_hook(1);
    } else {
        pt_step_runtime_hook(0);
        pt_steplock_runtime_hook(0);
    }
    step_hooks = want;
}

void pt_idle_boot(void)
{
    update_compiled();
}

void pt_idle_leave(void)
{
    connected = 1;
    update_compiled();
    runtime_hooks(1);
}

void pt_idle_enter(void)
{
    connected = 0;
    update_compiled();
    runtime_hooks(0);
    pt_bp_forget_files();
    if (!pt_tr.serving)
        pt_fib_forget_all();
}

void pt_idle_runtime_loaded(void)
{
    pt_fib_runtime_hook(1);
    runtime_hooks(connected);
    update_compiled();
}

void pt_idle_injected(void)
{
    injected = 1;
    update_compiled();
}
