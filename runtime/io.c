/* io.c — placeholder, filled in next. */
#include "rt_internal.h"
void rt_io_init(VALUE mPolyphony) { (void)mPolyphony; }
