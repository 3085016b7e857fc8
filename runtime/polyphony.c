/*
 * polyphony.c — entry point of the runtime extension (polyphony_ext.so).
 * Init_polyphony_ext defines the Polyphony module and calls each concept's
 * own init function in dependency order.
 */
#include <ruby.h>

void Init_polyphony_ext(void)
{
    rb_define_module("Polyphony");
}
