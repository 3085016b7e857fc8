/*
 * surface.c — registers the I/O surface and sync primitives of Polyphony 1.6
 * (Queue, Event, the tight loops, socket extensions) with one call from
 * Init_polyphony_ext, so the runtime's entry point needs a single line.
 */
#include "surface.h"

void rt_surface_init(VALUE mPolyphony)
{
    rt_queue_init(mPolyphony);
    rt_event_init(mPolyphony);
    rt_receive_loop_init(mPolyphony);
    rt_backend_choice_init(mPolyphony);
    rt_io_loops_init(mPolyphony);
    rt_uring_init(mPolyphony);
    rt_io_close_init(mPolyphony);
}
