/*
 * io_close.c — IO#close: first the fibers waiting in ops on the IO's fd get
 * an IOError and let go of it (fd_waiters.c), then the fd is closed, through
 * the backend's close op when it has one (io_uring: IORING_OP_CLOSE), so
 * closing is an op like the others, with its op events. Ruby still does everything else of a close (flushing, marking
 * the IO closed): the IO is told not to close its fd itself (autoclose =
 * false), then the fd is closed by the backend. Standard streams, popen'd
 * IOs and duplex IOs keep Ruby's own close, and so does everything on a
 * backend without a close op (libev). Whatever the close path, the
 * thread's backend forgets what it remembers about the fd (fd_forget), and
 * so it does when IO#reopen makes the fd name another file.
 */
#include <ruby/io.h>
#include "surface.h"

static ID id_autoclose_set, id_autoclose_p, id_close_io;
static VALUE mUnhooked;

/* The backend of thread t forgets io's fd (backend.h, fd_forget). */
static void forget_io(struct rt_thread *t, VALUE io)
{
    rb_io_t *fptr = RFILE(io)->fptr;

    if (fptr && fptr->fd >= 0 && rt_ops(t)->fd_forget)
        rt_ops(t)->fd_forget(t->be, fptr->fd);
}

/* IO#reopen: the fd goes on naming another file (a dup2 over it). */
static VALUE reopen_forget(int argc, VALUE *argv, VALUE io)
{
    struct rt_thread *t = rt_thread_of(rb_thread_current(), 0);
    VALUE result = rb_call_super(argc, argv);

    if (t && t->be)
        forget_io(t, io);
    return result;
}

static VALUE ring_close(VALUE io)
{
    struct rt_thread *t;
    rb_io_t *fptr = RFILE(io)->fptr;
    int fd, rc;

    /* Fibers waiting on the fd (or the write half's) let go of it first. */
    if (fptr && fptr->fd >= 0) {
        if (fptr->tied_io_for_writing) {
            rb_io_t *wfptr = RFILE(fptr->tied_io_for_writing)->fptr;
            if (wfptr && wfptr->fd >= 0)
                rt_fdwait_close(wfptr->fd);
        }
        rt_fdwait_close(fptr->fd);
        fptr = RFILE(io)->fptr; /* closing may have switched fibers */
    }
    /*
     * A popen'd IO's close waits for the child: where Ruby calls no fiber
     * scheduler it would block the thread, so it closes in a helper fiber
     * (polyphony/unhooked.rb), where Ruby calls process_wait.
     */
    if (fptr && fptr->fd >= 0 && fptr->pid && rt_unhooked())
        return rb_funcall(mUnhooked, id_close_io, 1, io);
    t = rt_thread_of(rb_thread_current(), 0);
    if (t && t->be && fptr && fptr->fd >= 0) {
        if (fptr->tied_io_for_writing)
            forget_io(t, fptr->tied_io_for_writing);
        forget_io(t, io);
    }

    /* A thread that never used the runtime gets no backend for a close. */
    if (!t || !t->be || !rt_ops(t)->close || !fptr || fptr->fd <= 2 || fptr->pid ||
        fptr->tied_io_for_writing || !RTEST(rb_funcall(io, id_autoclose_p, 0)))
        return rb_call_super(0, NULL);
    fd = fptr->fd;
    rb_funcall(io, id_autoclose_set, 1, Qfalse);
    rb_call_super(0, NULL);
    rc = rt_ops(t)->close(t->be, fd);
    if (rc < 0)
        rb_syserr_fail(-rc, "close");
    return Qnil;
}

void rt_io_close_init(VALUE mPolyphony)
{
    VALUE mRingClose = rb_define_module_under(mPolyphony, "BackendClose");

    id_autoclose_set = rb_intern("autoclose=");
    id_autoclose_p = rb_intern("autoclose?");
    id_close_io = rb_intern("close_io");
    mUnhooked = rb_define_module_under(mPolyphony, "Unhooked");
    rb_define_method(mRingClose, "close", ring_close, 0);
    rb_define_method(mRingClose, "reopen", reopen_forget, -1);
    rb_prepend_module(rb_cIO, mRingClose);
}
