/*
 * compat_splice.c — Backend#splice and Backend#tee (Polyphony 1.6): moving
 * bytes between file descriptors in the kernel with splice(2) / tee(2),
 * at least one end being a pipe. The calls are made non-blocking; when one
 * would block, the calling fiber waits with the backend's wait_io for the
 * side that is not ready, so only that fiber waits. Works the same on both
 * backends. Bytes already in the source IO's Ruby read buffer are not seen
 * by the kernel: callers splice from IOs they have not read with gets & co.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* splice, tee */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <ruby/io.h>
#include "rt_internal.h"
#include "compat.h"

enum splice_kind { SPLICE_OP, TEE_OP };

static int io_fd(VALUE io, int for_write)
{
    rb_io_t *fptr;
    io = rb_io_get_io(io);
    if (for_write)
        io = rb_io_get_write_io(io);
    GetOpenFile(io, fptr);
    return fptr->fd;
}

static void set_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK))
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Waits for whichever side made the call fail with EAGAIN. */
static void wait_for_side(struct rt_thread *t, int src, int dest)
{
    struct pollfd p = { .fd = src, .events = POLLIN };
    if (poll(&p, 1, 0) == 0)
        rt_ops(t)->wait_io(t->be, src, RT_IO_READ);
    else
        rt_ops(t)->wait_io(t->be, dest, RT_IO_WRITE);
}

/* One splice/tee of up to len bytes: the count, 0 at EOF. Raises on error. */
static long move_once(struct rt_thread *t, enum splice_kind kind, int src, int dest, size_t len)
{
    for (;;) {
        ssize_t n = kind == SPLICE_OP
            ? splice(src, NULL, dest, NULL, len, SPLICE_F_NONBLOCK | SPLICE_F_MOVE)
            : tee(src, dest, len, SPLICE_F_NONBLOCK);
        if (n >= 0)
            return (long)n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            rb_sys_fail(kind == SPLICE_OP ? "splice" : "tee");
        wait_for_side(t, src, dest);
    }
}

/*
 * maxlen >= 0: one call, at most maxlen bytes, returns the count (0 at EOF).
 * maxlen < 0: repeats with chunks of -maxlen bytes until EOF, returns the
 * total (Polyphony's splice-to-EOF form). tee makes one call either way.
 */
static VALUE do_move(enum splice_kind kind, VALUE src, VALUE dest, VALUE vmaxlen)
{
    struct rt_thread *t = rt_thread_current();
    long maxlen = NUM2LONG(vmaxlen);
    int in = io_fd(src, 0), out = io_fd(dest, 1);

    set_nonblock(in);
    set_nonblock(out);
    if (kind == TEE_OP && maxlen < 0)
        maxlen = -maxlen; /* tee does not consume: there is no "to EOF" */
    if (maxlen >= 0)
        return LONG2NUM(maxlen ? move_once(t, kind, in, out, (size_t)maxlen) : 0);
    long total = 0;
    for (;;) {
        long n = move_once(t, kind, in, out, (size_t)-maxlen);
        if (n == 0)
            return LONG2NUM(total);
        total += n;
    }
}

static VALUE be_splice(VALUE self, VALUE src, VALUE dest, VALUE maxlen)
{
    (void)self;
    return do_move(SPLICE_OP, src, dest, maxlen);
}

static VALUE be_tee(VALUE self, VALUE src, VALUE dest, VALUE maxlen)
{
    (void)self;
    return do_move(TEE_OP, src, dest, maxlen);
}

void rt_compat_splice_init(VALUE mPolyphony)
{
    VALUE cBackend = rb_const_get(mPolyphony, rb_intern("Backend"));
    rb_define_method(cBackend, "splice", be_splice, 3);
    rb_define_method(cBackend, "tee", be_tee, 3);
}
