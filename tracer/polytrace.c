/*
 * polytrace.c — entry point of the tracer extension (polytrace_ext.so).
 */
#include <ruby.h>

void Init_polytrace_ext(void)
{
    rb_define_module("PolyTrace");
}
