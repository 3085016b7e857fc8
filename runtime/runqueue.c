/*
 * runqueue.c — the run queue (see runqueue.h): a ring buffer of
 * (fiber, fiber state, value) entries that doubles when full.
 */
#include <errno.h>
#include <stdlib.h>
#include "runqueue.h"

void rt_runqueue_init(struct rt_runqueue *q)
{
    q->entries = NULL;
    q->capa = q->head = q->len = 0;
}

void rt_runqueue_free(struct rt_runqueue *q)
{
    free(q->entries);
    rt_runqueue_init(q);
}

static struct rt_runqueue_entry *slot(struct rt_runqueue *q, size_t i)
{
    return rt_runqueue_at(q, i);
}

static int grow(struct rt_runqueue *q)
{
    size_t capa = q->capa ? q->capa * 2 : 64;
    struct rt_runqueue_entry *e = malloc(capa * sizeof(*e));

    if (!e)
        return -ENOMEM;
    for (size_t i = 0; i < q->len; i++)
        e[i] = *slot(q, i);
    free(q->entries);
    q->entries = e;
    q->capa = capa;
    q->head = 0;
    return 0;
}

int rt_runqueue_push(struct rt_runqueue *q, VALUE fiber, struct rt_fiber *state, VALUE value)
{
    if (q->len == q->capa && grow(q) < 0)
        return -ENOMEM;
    struct rt_runqueue_entry *e = slot(q, q->len);
    e->fiber = fiber;
    e->state = state;
    e->value = value;
    q->len++;
    return 0;
}

int rt_runqueue_unshift(struct rt_runqueue *q, VALUE fiber, struct rt_fiber *state, VALUE value)
{
    if (q->len == q->capa && grow(q) < 0)
        return -ENOMEM;
    q->head = (q->head + q->capa - 1) & (q->capa - 1);
    q->entries[q->head].fiber = fiber;
    q->entries[q->head].state = state;
    q->entries[q->head].value = value;
    q->len++;
    return 0;
}

int rt_runqueue_shift(struct rt_runqueue *q, struct rt_runqueue_entry *out)
{
    if (!q->len)
        return 0;
    *out = *slot(q, 0);
    q->head = (q->head + 1) & (q->capa - 1);
    q->len--;
    return 1;
}

struct rt_runqueue_entry *rt_runqueue_find(struct rt_runqueue *q, VALUE fiber)
{
    for (size_t i = 0; i < q->len; i++) {
        struct rt_runqueue_entry *e = slot(q, i);
        if (e->fiber == fiber)
            return e;
    }
    return NULL;
}

int rt_runqueue_take(struct rt_runqueue *q, VALUE fiber, struct rt_runqueue_entry *out)
{
    for (size_t i = 0; i < q->len; i++) {
        if (slot(q, i)->fiber != fiber)
            continue;
        *out = *slot(q, i);
        /* Close the gap, keeping everyone else's order. */
        for (size_t j = i; j + 1 < q->len; j++)
            *slot(q, j) = *slot(q, j + 1);
        q->len--;
        return 1;
    }
    return 0;
}

void rt_runqueue_mark(struct rt_runqueue *q)
{
    for (size_t i = 0; i < q->len; i++) {
        rb_gc_mark_movable(slot(q, i)->fiber);
        rb_gc_mark_movable(slot(q, i)->value);
    }
}

void rt_runqueue_compact(struct rt_runqueue *q)
{
    for (size_t i = 0; i < q->len; i++) {
        slot(q, i)->fiber = rb_gc_location(slot(q, i)->fiber);
        slot(q, i)->value = rb_gc_location(slot(q, i)->value);
    }
}
