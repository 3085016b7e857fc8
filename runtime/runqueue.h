/*
 * runqueue.h — a thread's run queue: fibers waiting for their turn, each with
 * the value it will be resumed with, in FIFO order. A growable ring buffer;
 * finding one fiber's entry is linear, which only the fiber lock and
 * rescheduling an already scheduled fiber need.
 */
#ifndef RT_RUNQUEUE_H
#define RT_RUNQUEUE_H

#include <stddef.h>
#include <ruby.h>

struct rt_fiber;

struct rt_runqueue_entry {
    VALUE fiber;
    /*
     * fiber's runtime state, so that the scheduler need not look it up again
     * (a hash lookup) when it picks the entry. Never stale: the queue marks
     * the fiber, which keeps its state object alive, and the struct itself
     * does not move under compaction (only the wrapping object does).
     */
    struct rt_fiber *state;
    VALUE value;
};

struct rt_runqueue {
    struct rt_runqueue_entry *entries;
    size_t capa;     /* a power of two, or 0 */
    size_t head;     /* index of the first entry */
    size_t len;
};

void rt_runqueue_init(struct rt_runqueue *q);
void rt_runqueue_free(struct rt_runqueue *q);
/* 0 or -ENOMEM. */
int rt_runqueue_push(struct rt_runqueue *q, VALUE fiber, struct rt_fiber *state, VALUE value);
int rt_runqueue_unshift(struct rt_runqueue *q, VALUE fiber, struct rt_fiber *state, VALUE value);
/* 1 and the first entry, or 0 when empty. */
int rt_runqueue_shift(struct rt_runqueue *q, struct rt_runqueue_entry *out);
/* The entry of `fiber`, or NULL. */
struct rt_runqueue_entry *rt_runqueue_find(struct rt_runqueue *q, VALUE fiber);
/* Removes `fiber`'s first entry into *out; 1 if found, else 0. */
int rt_runqueue_take(struct rt_runqueue *q, VALUE fiber, struct rt_runqueue_entry *out);
/* The i-th entry from the front (i < len). */
static inline struct rt_runqueue_entry *rt_runqueue_at(struct rt_runqueue *q, size_t i)
{
    return &q->entries[(q->head + i) & (q->capa - 1)];
}
/*
 * A snooze's two steps in one, for a queue that is not empty: takes the
 * first entry into *out and appends (fiber, state, value). The length does
 * not change, so the queue never grows (a full queue's new last slot is
 * the first one, already taken).
 */
static inline void rt_runqueue_rotate(struct rt_runqueue *q, VALUE fiber, struct rt_fiber *state,
                                      VALUE value, struct rt_runqueue_entry *out)
{
    struct rt_runqueue_entry *last;

    *out = q->entries[q->head];
    last = rt_runqueue_at(q, q->len);
    last->fiber = fiber;
    last->state = state;
    last->value = value;
    q->head = (q->head + 1) & (q->capa - 1);
}
void rt_runqueue_mark(struct rt_runqueue *q);
void rt_runqueue_compact(struct rt_runqueue *q);

static inline size_t rt_runqueue_len(const struct rt_runqueue *q) { return q->len; }

#endif /* RT_RUNQUEUE_H */
