/*
 * surface.h — entry points of the I/O surface and sync primitives:
 * Polyphony::Queue, Event, ThreadPool's C half, the tight I/O loops and the
 * socket extensions. rt_surface_init, called once from Init_polyphony_ext,
 * initialises them all.
 */
#ifndef RT_SURFACE_H
#define RT_SURFACE_H

#include "rt_internal.h"

void rt_surface_init(VALUE mPolyphony);
void rt_queue_init(VALUE mPolyphony);
void rt_event_init(VALUE mPolyphony);
void rt_receive_loop_init(VALUE mPolyphony);
void rt_backend_choice_init(VALUE mPolyphony);
void rt_io_loops_init(VALUE mPolyphony);
void rt_uring_init(VALUE mPolyphony);
void rt_io_close_init(VALUE mPolyphony);

/*
 * Creates t's backend (t->ops, t->be): the one asked for, falling back to
 * libev when io_uring is refused (saying so once on stderr). 0 or -errno.
 */
int rt_backend_start(struct rt_thread *t);

/* Runs a loop body; a StopIteration inside ends it with the exception's result. */
VALUE rt_loop_run(VALUE (*body)(VALUE), VALUE arg);

#endif /* RT_SURFACE_H */
