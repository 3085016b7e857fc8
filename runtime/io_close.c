/*
 * io_close.c — IO#close through the backend's close op when it has one
 * (io_uring: IORING_OP_CLOSE), so closing is an op like the others, with its
 * op events. Ruby still does everything else of a close (flushing, marking
 * the IO closed): the IO is told not to close its fd itself (autoclose =
 * false), then the fd is closed by the backend. Standard streams, popen'd
 * IOs and duplex IOs keep Ruby's own close, and so does everything on a
 * backend without a close op (libev).
 */
#include <ruby/io.h>
#include "surface.h"

static ID id_autoclose_set, id_autoclose_p;

static VALUE ring_close(VALUE io)
{
    struct rt_thread *t = rt_thread_of(rb_thread_current(), 0);
    rb_io_t *fptr = RFILE(io)->fptr;
    int fd, rc;

    /* A thread that never used the runtime gets no backend for a close. */
    if (!t || !t->be || !t->ops->close || !fptr || fptr->fd <= 2 || fptr->pid ||
        fptr->tied_io_for_writing || !RTEST(rb_funcall(io, id_autoclose_p, 0)))
        return rb_call_super(0, NULL);
    fd = fptr->fd;
    rb_funcall(io, id_autoclose_set, 1, Qfalse);
    rb_call_super(0, NULL);
    rc = t->ops->close(t->be, fd);
    if (rc < 0)
        rb_syserr_fail(-rc, "close");
    return Qnil;
}

void rt_io_close_init(VALUE mPolyphony)
{
    VALUE mRingClose = rb_define_module_under(mPolyphony, "BackendClose");

    id_autoclose_set = rb_intern("autoclose=");
    id_autoclose_p = rb_intern("autoclose?");
    rb_define_method(mRingClose, "close", ring_close, 0);
    rb_prepend_module(rb_cIO, mRingClose);
}
