/*
 * catch.c — exception stops: `catch CLASS` (SET name "catch").
 *
 * The controller names exception classes by constant path; an exception
 * raised in the program whose class is, or inherits from, a named class
 * stops it with reason "exception". Names are compared with the names of
 * the exception class's ancestors at raise time, so a class defined after
 * the catch was set works. The :raise TracePoint is enabled only while at
 * least one catch is set. Exceptions the runtime uses for control flow
 * (Polyphony::BaseException and its subclasses: MoveOn, Cancel, Terminate,
 * Restart ...) and StopIteration itself stop only when the user named one
 * of their own classes, not through Exception or StandardError.
 *
 * A raise in the runtime's own Ruby files stops too (an EOFError out of the
 * runtime's IO#readpartial is the program's EOFError), shown at the
 * program's frame; the runtime re-raising the exception it just stopped for
 * does not stop again. Raises in the tracer's files never stop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tracer.h"

#define PT_CATCH_MAX 64
#define PT_CATCH_NAME_MAX 256

static char names[PT_CATCH_MAX][PT_CATCH_NAME_MAX];
static int count;
static VALUE raise_tp = Qnil;
static VALUE last_stopped = Qnil;   /* the exception the last catch stop was for */

void pt_catch_mark(void)
{
    rb_gc_mark(raise_tp);
    rb_gc_mark(last_stopped);
}

static int find(const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

/* A name the runtime's control-flow exceptions can be caught by. */
static int is_internal_name(const char *name)
{
    return strcmp(name, "StopIteration") == 0 || strncmp(name, "Polyphony::", 11) == 0;
}

/* Names of the classes among klass's ancestors, innermost first. */
static VALUE class_names(VALUE klass)
{
    VALUE anc = rb_mod_ancestors(klass), out = rb_ary_new();
    long i;

    for (i = 0; i < RARRAY_LEN(anc); i++) {
        VALUE mod = RARRAY_AREF(anc, i), name;
        if (!RB_TYPE_P(mod, T_CLASS))
            continue;
        name = rb_class_name(mod);
        if (RB_TYPE_P(name, T_STRING))
            rb_ary_push(out, name);
    }
    return out;
}

/* Whether exc is_a? a caught class. The runtime's control-flow exceptions
 * (Polyphony::BaseException and below) and StopIteration itself (not its
 * subclasses: ClosedQueueError is a real error) count only for a catch that
 * names one of their own classes. */
static int caught(VALUE exc)
{
    VALUE names_v = class_names(rb_obj_class(exc));
    long i, n = RARRAY_LEN(names_v);
    int internal = 0;

    for (i = 0; i < n; i++) {
        VALUE str = RARRAY_AREF(names_v, i);
        const char *s = StringValueCStr(str);
        if (strcmp(s, "Polyphony::BaseException") == 0 || (i == 0 && strcmp(s, "StopIteration") == 0))
            internal = 1;
    }
    for (i = 0; i < n; i++) {
        VALUE str = RARRAY_AREF(names_v, i);
        const char *s = StringValueCStr(str);
        if (find(s) >= 0 && (!internal || is_internal_name(s)))
            return 1;
    }
    RB_GC_GUARD(names_v);
    return 0;
}

static void on_raise(VALUE tpval, void *data)
{
    rb_trace_arg_t *ta = rb_tracearg_from_tracepoint(tpval);
    VALUE exc, path;
    char *text;

    (void)data;
    if (pt_tr.serving || pt_tr.fd < 0 || count == 0)
        return;
    path = rb_tracearg_path(ta);
    if (pt_tr_is_own_path(path))
        return;
    exc = rb_tracearg_raised_exception(ta);
    if (exc == last_stopped && pt_tr_is_hidden_path(path))
        return;     /* the runtime passing it on */
    if (!rb_obj_is_kind_of(exc, rb_eException) || !caught(exc))
        return;
    last_stopped = exc;
    text = pt_tr_exc_message(exc);
    pt_stop_exception("exception", text);
    free(text);
}

static void update_hook(void)
{
    if (NIL_P(raise_tp))
        raise_tp = rb_tracepoint_new(0, RUBY_EVENT_RAISE, on_raise, NULL);
    if (count > 0 && !RTEST(rb_tracepoint_enabled_p(raise_tp)))
        rb_tracepoint_enable(raise_tp);
    else if (count == 0 && RTEST(rb_tracepoint_enabled_p(raise_tp)))
        rb_tracepoint_disable(raise_tp);
}

/* A constant path: Name(::Name)*, each starting with an upper-case letter. */
static int valid_name(const char *s)
{
    size_t len = strlen(s);

    if (len == 0 || len >= PT_CATCH_NAME_MAX)
        return 0;
    for (;;) {
        if (*s < 'A' || *s > 'Z')
            return 0;
        while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
               (*s >= '0' && *s <= '9') || *s == '_')
            s++;
        if (*s == '\0')
            return 1;
        if (s[0] != ':' || s[1] != ':')
            return 0;
        s += 2;
    }
}

int pt_catch_set(const char *value)
{
    if (strcmp(value, "off") == 0) {
        count = 0;
        update_hook();
        return 0;
    }
    if (strncmp(value, "off ", 4) == 0) {
        value += 4;
        if (value[0] == ':' && value[1] == ':')
            value += 2;
        int i = find(value);
        if (i < 0)
            return -ENOENT;
        memmove(names[i], names[i + 1], (size_t)(count - i - 1) * sizeof names[0]);
        count--;
        update_hook();
        return 0;
    }
    if (value[0] == ':' && value[1] == ':')
        value += 2;
    if (!valid_name(value))
        return -EINVAL;
    if (find(value) >= 0)
        return 0;
    if (count == PT_CATCH_MAX)
        return -ENOSPC;
    strcpy(names[count++], value);
    update_hook();
    return 0;
}

void pt_catch_clear_all(void)
{
    count = 0;
    last_stopped = Qnil;
    if (!NIL_P(raise_tp) && RTEST(rb_tracepoint_enabled_p(raise_tp)))
        rb_tracepoint_disable(raise_tp);
}
