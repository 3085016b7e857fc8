/* process.c — placeholder, filled in next. */
#include "rt_internal.h"
void rt_process_init(VALUE mPolyphony) { (void)mPolyphony; }
