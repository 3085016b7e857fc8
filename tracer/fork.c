/*
 * fork.c — what a fork does to the debugger: following forked children.
 *
 * polytrace.rb hooks Process._fork, which Ruby 3.1 calls for every fork
 * made from Ruby (Kernel#fork, Process.fork, IO.popen("-"), and so the
 * runtime's Polyphony.fork), and calls PolyTrace.__forked with its result
 * in both processes. The controller's follow-fork setting decides, as it
 * was when the fork happened:
 *
 *   all    the parent says FORKED and goes on; the child, a copy of the
 *          parent's tracer with its breakpoints, catches and settings,
 *          opens its attach socket and waits (at most PT_FORK_WAIT_MS, or
 *          POLYTRACE_FORK_WAIT; the GVL let go) until the controller has
 *          reached it, then runs on
 *          under it. So no line of the child runs before its breakpoints
 *          can stop it.
 *   child  the same, and the parent lets go of the controller right after
 *          FORKED, as after a detach.
 *   parent the parent says FORKED; the child lets go of the debugger at
 *          once and runs free.
 *   none   (a controller that follows nothing, or none connected) the
 *          child runs free and nobody is told.
 *
 * A fork made while the program is stopped (an expression evaluated by
 * `print`) is never followed. The child's side of the connection it
 * inherited was closed by pthread_atfork (polytrace.c) before any Ruby ran;
 * pt_fork_child notes there what the parent was doing at the fork.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tracer.h"

/* How long a followed child waits for the controller (POLYTRACE_FORK_WAIT). */
static int wait_ms = PT_FORK_WAIT_MS;

/* The parent's state at the fork, noted in the child by pt_fork_child. */
static int child_connected;
static enum pt_tr_follow child_follow;
static int child_launched;

static const char *const names[] = {
    [PT_TR_FOLLOW_NONE] = "none",
    [PT_TR_FOLLOW_ALL] = "all",
    [PT_TR_FOLLOW_PARENT] = "parent",
    [PT_TR_FOLLOW_CHILD] = "child",
};

int pt_fork_parse(const char *word, enum pt_tr_follow *out)
{
    for (size_t i = PT_TR_FOLLOW_ALL; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(word, names[i]) == 0) {
            *out = (enum pt_tr_follow)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *pt_fork_name(enum pt_tr_follow f)
{
    return (size_t)f < sizeof names / sizeof names[0] ? names[f] : "none";
}

void pt_fork_child(void)
{
    child_connected = pt_tr.fd >= 0 && pt_tr.fd_pid == getppid();
    child_follow = child_connected && !pt_tr.serving ? pt_tr.follow : PT_TR_FOLLOW_NONE;
    child_launched = pt_tr.launched;
}

/* ---- the parent ------------------------------------------------------------ */

static void parent_side(pid_t child)
{
    struct pt_msg m;

    if (!pt_tr_connected() || pt_tr.serving ||
        pt_tr.follow == PT_TR_FOLLOW_NONE)
        return;
    pt_msg_init(&m, PT_EV_FORKED, 0);
    m.u.forked.pid = child;
    if (pt_proto_set_str(&m.u.forked.follow, pt_fork_name(pt_tr.follow)) < 0) {
        pt_msg_free(&m);
        return;
    }
    if (pt_tr_send(&m) == 0 && pt_tr.follow == PT_TR_FOLLOW_CHILD)
        pt_tr_disconnect();
}

/* ---- the child ------------------------------------------------------------- */

struct wait_ctl {
    int r;
};

/* Waits for the controller to reach us through the attach socket. */
static VALUE wait_controller(VALUE arg)
{
    struct wait_ctl *wc = (struct wait_ctl *)arg;
    int64_t deadline = pt_proto_now_ms() + wait_ms;
    struct pt_wait w;

    pt_wait_init(&w, PT_WAIT_FREE);
    wc->r = -ETIMEDOUT;
    for (;;) {
        if (pt_attach_adopt_ready() == 0) {
            wc->r = 0;
            return Qnil;
        }
        if (pt_proto_now_ms() >= deadline)
            return Qnil;
        pt_wait_fd(&w, pt_listen_ready_fd(), POLLIN, deadline);
    }
}

static VALUE wait_done(VALUE arg)
{
    struct wait_ctl *wc = (struct wait_ctl *)arg;

    pt_tr.adopt_waiting = 0;
    if (wc->r != 0)
        pt_listen_window(0);
    return Qnil;
}

static int await_controller(void)
{
    struct wait_ctl wc = { .r = -EINTR };
    int r;

    if ((r = pt_listen_start()) < 0)
        return r;
    pt_listen_window(wait_ms);
    pt_tr.adopt_waiting = 1;
    rb_ensure(wait_controller, (VALUE)&wc, wait_done, (VALUE)&wc);
    return wc.r;
}

static void child_side(void)
{
    const struct rt_api *rt = pt_tr.rt;
    enum pt_tr_follow follow = child_follow;
    int connected = child_connected, r;

    child_follow = PT_TR_FOLLOW_NONE;
    child_connected = 0;
    pt_tr.main_thread = rb_thread_main();
    /* The parent's watchdog thread did not come along. */
    pt_diag_after_fork();
    /* Whatever the parent was stepping is its own; a fiber lock held for
     * a fiber the child does not run would keep the child from running. */
    pt_step_cancel();
    if (rt && rt->fiber_lock_owner(pt_tr.main_thread) != Qnil)
        rt->fiber_unlock(pt_tr.main_thread);
    if (!connected)
        return;
    if (follow == PT_TR_FOLLOW_NONE || follow == PT_TR_FOLLOW_PARENT) {
        /* As after a detach: no breakpoint left to cost the child anything. */
        pt_tr_disconnect();
        return;
    }
    r = await_controller();
    if (r < 0) {
        fprintf(stderr, "polytrace: forked process %d: the debugger did not take it on (%s); "
                "it runs without the debugger\n", (int)getpid(), pt_proto_strerror(r));
        pt_tr_disconnect();
        return;
    }
    pt_tr.launched = child_launched;
    pt_watch_arm();
}

/* PolyTrace.__forked(pid): from the Process._fork hook, in both processes. */
static VALUE tr_forked(VALUE self, VALUE pid)
{
    (void)self;
    if (NUM2LONG(pid) > 0)
        parent_side((pid_t)NUM2LONG(pid));
    else if (NUM2LONG(pid) == 0)
        child_side();
    return Qnil;
}

void pt_fork_init(VALUE mod)
{
    const char *env = getenv("POLYTRACE_FORK_WAIT");
    uint64_t ns;

    if (env && *env) {
        if (pt_diag_parse_duration(env, &ns) == 0)
            wait_ms = (int)(ns / 1000000u);
        else
            fprintf(stderr, "polytrace: POLYTRACE_FORK_WAIT=%s is not a duration from 1ms to 1h "
                    "(500ms, 10s); a forked child waits %d s\n", env, PT_FORK_WAIT_MS / 1000);
    }
    rb_define_singleton_method(mod, "__forked", tr_forked, 1);
}
