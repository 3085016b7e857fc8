/*
 * wait.c — how the tracer waits on a Ruby thread without making the
 * program deaf.
 *
 * The tracer waits for a controller's request at a stop, for room to send,
 * for a controller it started. Such a wait must not keep the program from
 * hearing SIGTERM, SIGINT, a signal it traps, Thread#raise or Thread#kill.
 * A wait that keeps the GVL (the program is stopped: its other threads stay
 * put) therefore polls in slices of PT_WAIT_SLICE_MS and, between slices,
 * asks Ruby whether something waits for it: a signal received but not yet
 * handled, or an interrupt for this thread. What to do then is the
 * caller's: a stop runs it or gives way to it (stop.c), a reply being sent
 * gets a short grace and is then given up. A wait that lets the GVL go is
 * an ordinary Ruby blocking call: Ruby runs traps and raises in it as
 * anywhere else, and the caller cleans up with rb_ensure.
 */
#include <errno.h>
#include <poll.h>
#include <ruby/thread.h>
#include "tracer.h"

#define PT_WAIT_SLICE_MS 10

/* Exported by libruby but in no public header (Ruby's Tcl/Tk wrapper uses
 * it): whether a signal arrived that Ruby has not handled yet. */
int rb_thread_check_trap_pending(void);

void pt_wait_init(struct pt_wait *w, enum pt_wait_how how)
{
    w->how = how;
    w->thread = rb_thread_current();
    w->since = -1;
}

int pt_wait_pending(const struct pt_wait *w)
{
    return rb_thread_interrupted(w->thread) || rb_thread_check_trap_pending();
}

struct slice {
    int fd;
    short events;
    int ms;
    int n;
    int err;
    short revents;
};

static void *poll_slice(void *arg)
{
    struct slice *s = arg;
    struct pollfd p = { .fd = s->fd, .events = s->events };

    s->n = poll(&p, 1, s->ms);
    s->err = s->n < 0 ? errno : 0;
    s->revents = p.revents;
    return NULL;
}

int pt_wait_fd(struct pt_wait *w, int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t now = pt_proto_now_ms();
        struct slice s = { .fd = fd, .events = events, .ms = PT_WAIT_SLICE_MS };

        if (w->how == PT_WAIT_HELD || w->how == PT_WAIT_HELD_GRACE) {
            if (pt_wait_pending(w)) {
                if (w->how == PT_WAIT_HELD)
                    return -EINTR;
                if (w->since < 0)
                    w->since = now;
                if (now - w->since >= PT_WAIT_GRACE_MS)
                    return -EINTR;
            }
        }
        if (deadline >= 0) {
            if (now >= deadline)
                return -ETIMEDOUT;
            if (deadline - now < s.ms)
                s.ms = (int)(deadline - now);
        }
        if (w->how == PT_WAIT_FREE)
            rb_thread_call_without_gvl(poll_slice, &s, RUBY_UBF_IO, NULL);
        else
            poll_slice(&s);
        if (s.n > 0)
            return (s.revents & POLLNVAL) ? -EBADF : 0;
        if (s.n < 0 && s.err != EINTR)
            return -s.err;
    }
}

static int waiter_fn(void *ctx, int fd, short events, int64_t deadline)
{
    return pt_wait_fd(ctx, fd, events, deadline);
}

struct pt_proto_waiter pt_wait_waiter(struct pt_wait *w)
{
    return (struct pt_proto_waiter){ .wait = waiter_fn, .ctx = w };
}
