/*
 * compat_orig.c — Ruby's own IO methods kept under Polyphony's orig_* names
 * (IO#orig_write, IO#orig_read, IO.orig_popen ...), and Kernel#orig_sleep.
 * Polyphony's programs and tests use them to bypass the fiber-aware
 * versions, e.g. writing trace output with STDOUT.orig_write, or blocking a
 * whole thread with orig_sleep. The aliases are made before io.c and
 * timeout.c replace the methods, so they name Ruby's implementations.
 */
#include "rt_internal.h"
#include "compat.h"

static void alias_if_defined(VALUE klass, const char *name)
{
    ID id = rb_intern(name);

    if (rb_method_boundp(klass, id, 0))
        rb_alias(klass, rb_intern_str(rb_sprintf("orig_%s", name)), id);
}

void rt_compat_orig_init(VALUE mPolyphony)
{
    static const char *const instance[] = {
        "read", "readpartial", "write", "gets", "getc", "getbyte", "puts",
        "print", "printf", "putc", "readline", "readlines", "each_line",
        "read_nonblock", "write_nonblock", "wait_readable", "wait_writable",
        "eof?"
    };
    static const char *const singleton[] = {
        "popen", "read", "write", "readlines", "foreach", "binread"
    };
    VALUE meta = rb_singleton_class(rb_cIO);

    (void)mPolyphony;
    for (size_t i = 0; i < sizeof instance / sizeof *instance; i++)
        alias_if_defined(rb_cIO, instance[i]);
    for (size_t i = 0; i < sizeof singleton / sizeof *singleton; i++)
        alias_if_defined(meta, singleton[i]);
    alias_if_defined(rb_mKernel, "sleep");
}
