/*
 * eval.c — evaluating an expression in a frame's binding.
 *
 * Used by EVAL (print) and by breakpoint conditions. The expression runs
 * protected: an exception in it becomes "Class: message" for the caller and
 * harms nothing in the program. The result is shown with #inspect, itself
 * protected (an inspect that raises is reported the same way).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tracer.h"

static VALUE do_eval(VALUE arg)
{
    VALUE binding = rb_ary_entry(arg, 0), expr = rb_ary_entry(arg, 1);

    return rb_funcall(binding, rb_intern("eval"), 3, expr, rb_str_new_cstr("(polytrace)"), INT2FIX(1));
}

static VALUE do_inspect(VALUE v)
{
    return rb_inspect(v);
}

/* Value of expr in binding, protected; *err set to the exception if any. */
VALUE pt_eval_value(VALUE binding, const char *expr, VALUE *err)
{
    VALUE arg = rb_ary_new_from_args(2, binding, rb_utf8_str_new_cstr(expr));
    VALUE v = pt_tr_protect_call(do_eval, arg, err);

    RB_GC_GUARD(arg);
    return v;
}

int pt_eval(VALUE binding, const char *expr, char **text, int *is_error)
{
    VALUE err, v = pt_eval_value(binding, expr, &err), s;

    *is_error = 0;
    if (NIL_P(err)) {
        s = pt_tr_protect_call(do_inspect, v, &err);
        if (NIL_P(err) && RB_TYPE_P(s, T_STRING)) {
            *text = malloc(RSTRING_LEN(s) + 1);
            if (!*text)
                return -ENOMEM;
            memcpy(*text, RSTRING_PTR(s), RSTRING_LEN(s));
            (*text)[RSTRING_LEN(s)] = '\0';
            return 0;
        }
    }
    *is_error = 1;
    *text = NIL_P(err) ? strdup("TypeError: #inspect did not return a String")
                       : pt_tr_exc_message(err);
    return *text ? 0 : -ENOMEM;
}
