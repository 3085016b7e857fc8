/*
 * urg.c — SIGURG, the tracer's doorbell, and who answers it.
 *
 * Anyone of our user may send SIGURG: `polytrace attach`, a second
 * controller by mistake, a monitoring script, a stray kill. Most of them
 * need nothing from the program itself, so SIGURG is first seen by a small
 * C handler installed over Ruby's: it tells the attach listener (listener.c,
 * one byte in a pipe, so a burst is one pending listen) and returns. Only
 * when the tracer itself wants the main thread (the watcher saw a request,
 * the listener has a controller ready, a stop gave way to a signal and
 * wants to stop again) does the handler pass the signal on to Ruby's
 * handler, which runs polytrace.rb's trap and so PolyTrace.__interrupt on
 * the main thread, busy or idle in the event loop. Stray SIGURGs never
 * reach Ruby, and so never stop, slow or wake the program.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include "tracer.h"

static struct sigaction ruby_action;    /* the trap Ruby installed for SIGURG */
static atomic_int want_main;

static void pass_on(int sig, siginfo_t *info, void *uctx)
{
    if (ruby_action.sa_flags & SA_SIGINFO)
        ruby_action.sa_sigaction(sig, info, uctx);
    else if (ruby_action.sa_handler != SIG_IGN && ruby_action.sa_handler != SIG_DFL)
        ruby_action.sa_handler(sig);
}

static void on_urg(int sig, siginfo_t *info, void *uctx)
{
    int saved = errno;
    int to_ruby = atomic_exchange(&want_main, 0);

    if (pt_listen_running())
        pt_listen_poke_signal();
    else
        to_ruby = 1;    /* the listener starts from Ruby (first use, or after fork) */
    if (to_ruby)
        pass_on(sig, info, uctx);
    errno = saved;
}

/* PolyTrace.__urg_gate: called by polytrace.rb right after trap('URG'). */
VALUE pt_urg_gate(VALUE self)
{
    struct sigaction ours;

    (void)self;
    if (sigaction(SIGURG, NULL, &ruby_action) != 0)
        rb_sys_fail("sigaction");
    if ((ruby_action.sa_flags & SA_SIGINFO) ? ruby_action.sa_sigaction == NULL
        : (ruby_action.sa_handler == SIG_IGN || ruby_action.sa_handler == SIG_DFL))
        return Qfalse;     /* no trap to pass on to: leave it */
    pt_listen_init();
    memset(&ours, 0, sizeof ours);
    ours.sa_sigaction = on_urg;
    ours.sa_mask = ruby_action.sa_mask;
    ours.sa_flags = (ruby_action.sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
    if (sigaction(SIGURG, &ours, NULL) != 0)
        rb_sys_fail("sigaction");
    return Qtrue;
}

void pt_urg_kick_main(void)
{
    atomic_store(&want_main, 1);
    kill(getpid(), SIGURG);
}
