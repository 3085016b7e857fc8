/*
 * compat.h — init functions of the Polyphony 1.6 compatibility files
 * (compat_*.c), called from Init_polyphony_ext in polyphony.c.
 */
#ifndef RT_COMPAT_H
#define RT_COMPAT_H

#include <ruby.h>

/* Must run before rt_io_init: keeps Ruby's own IO methods as orig_*. */
void rt_compat_orig_init(VALUE mPolyphony);
/* Backend#splice, #tee (Linux splice(2)/tee(2) waiting in the fiber). */
void rt_compat_splice_init(VALUE mPolyphony);

#endif
