/*
 * backend_choice.c — which backend a thread's runtime starts with, and the
 * fallback when the kernel refuses io_uring.
 *
 * Order: Polyphony.use_backend(kind) called on the thread before its runtime
 * started; else POLYPHONY_BACKEND (rt_backend_select); else io_uring. When
 * io_uring cannot be created (seccomp, an old kernel, io_uring_disabled, or
 * POLYPHONY_FORCE_URING_FAIL=1 in tests) the thread runs on libev and the
 * process says so once, in one line on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "surface.h"

/* The Thread's hidden ivar holding the kind asked for (a Symbol). */
static ID id_requested;
static int fallback_said;

static const struct rt_backend_ops *ops_named(const char *name)
{
    if (strcmp(name, "libev") == 0)
        return &rt_backend_libev_ops;
    if (strcmp(name, "io_uring") == 0)
        return &rt_backend_io_uring_ops;
    return NULL;
}

static const struct rt_backend_ops *choose(VALUE thread)
{
    const char *env = getenv("POLYPHONY_BACKEND");
    VALUE requested = id_requested ? rb_attr_get(thread, id_requested) : Qnil;

    if (!NIL_P(requested))
        return ops_named(rb_id2name(SYM2ID(requested)));
    if (!env || !*env)
        return &rt_backend_io_uring_ops;
    return rt_backend_select();
}

int rt_backend_start(struct rt_thread *t)
{
    const struct rt_backend_ops *ops = choose(t->thread);
    int rc = ops->create(t, &t->be);

    if (rc < 0 && ops != &rt_backend_libev_ops) {
        if (!fallback_said) {
            fallback_said = 1;
            fprintf(stderr, "polyphony: %s is not available here (%s); falling back to libev\n",
                    ops->name, strerror(-rc));
        }
        ops = &rt_backend_libev_ops;
        rc = ops->create(t, &t->be);
    }
    if (rc < 0) {
        t->be = NULL;
        return rc;
    }
    t->ops = ops;
    return 0;
}

/*
 * Polyphony.use_backend(kind): the backend (:libev or :io_uring) for the
 * calling thread, whose runtime must not have started yet; typically the
 * first line of a new Thread's block. Returns kind.
 */
static VALUE pp_use_backend(VALUE self, VALUE kind)
{
    const struct rt_backend_ops *ops;
    struct rt_thread *t;

    (void)self;
    ops = ops_named(rb_id2name(SYM2ID(rb_to_symbol(kind))));
    if (!ops)
        rb_raise(rb_eArgError, "unknown backend %" PRIsVALUE " (libev or io_uring)", kind);
    t = rt_thread_of(rb_thread_current(), 0);
    if (t) {
        if (t->ops != ops)
            rb_raise(rb_eRuntimeError, "this thread already runs on %s", t->ops->name);
        return kind;
    }
    rb_ivar_set(rb_thread_current(), id_requested, ID2SYM(rb_intern(ops->name)));
    return kind;
}

void rt_backend_choice_init(VALUE mPolyphony)
{
    id_requested = rb_intern("__polyphony_backend_requested__");
    rb_define_singleton_method(mPolyphony, "use_backend", pp_use_backend, 1);
}
