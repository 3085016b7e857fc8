/*
 * heap.c — what a tracer that arrived late finds on Ruby's heap: the
 * instruction sequences of files loaded before it (a line breakpoint needs
 * the sequence holding its line) and, without the runtime, the program's
 * fibers. One walk of the object space per question, never a hook.
 *
 * Ruby 3.1 exports the functions below without declaring them in its
 * headers; the instruction-sequence test (T_IMEMO of kind imemo_iseq, the
 * kind in the bits above FL_USHIFT) is Ruby 3.1's layout, and the walk is
 * compiled only for 3.1.
 */
#include <stdlib.h>
#include "tracer.h"
#include <ruby/version.h>
#include <ruby/st.h>

#if RUBY_API_VERSION_MAJOR == 3 && RUBY_API_VERSION_MINOR == 1
#define PT_HEAP_WALK 1
typedef struct rb_iseq_struct pt_raw_iseq;
void rb_objspace_each_objects(int (*cb)(void *, void *, size_t, void *), void *data);
VALUE rb_iseqw_new(const pt_raw_iseq *iseq);
const pt_raw_iseq *rb_iseqw_to_iseq(VALUE iseqw);
VALUE rb_iseq_realpath(const pt_raw_iseq *iseq);
#define IMEMO_ISEQ 7
#define IMEMO_MASK 0x0f
#endif

struct found {
    VALUE *v;
    size_t n, cap;
    int want_fibers;
};

static void push(struct found *f, VALUE v)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 256;
        VALUE *nv = realloc(f->v, cap * sizeof *nv);
        if (!nv)
            return;
        f->v = nv;
        f->cap = cap;
    }
    f->v[f->n++] = v;
}

#ifdef PT_HEAP_WALK
/* No Ruby allocation in here: the walk only records addresses. */
static int each_area(void *start, void *end, size_t stride, void *data)
{
    struct found *f = data;

    for (VALUE v = (VALUE)start; v != (VALUE)end; v += stride) {
        VALUE flags = RBASIC(v)->flags;
        if (!flags)
            continue;
        if (f->want_fibers) {
            if (RB_BUILTIN_TYPE(v) == T_DATA && RTYPEDDATA_P(v) && rb_obj_is_fiber(v))
                push(f, v);
        } else if (RB_BUILTIN_TYPE(v) == T_IMEMO &&
                   ((flags >> FL_USHIFT) & IMEMO_MASK) == IMEMO_ISEQ) {
            push(f, v);
        }
    }
    return 0;
}
#endif

/* Walks the heap with GC off (what we found must not move or go). */
static int walk(struct found *f)
{
#ifdef PT_HEAP_WALK
    rb_objspace_each_objects(each_area, f);
    return 0;
#else
    (void)f;
    return -1;
#endif
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = pt_fib_id(*(const VALUE *)a), y = pt_fib_id(*(const VALUE *)b);
    return x < y ? -1 : x > y;
}

int pt_heap_each_fiber(void (*fn)(VALUE fiber, void *data), void *data)
{
    struct found f = { .want_fibers = 1 };
    VALUE was_disabled = rb_gc_disable();
    int r = walk(&f);

    /* Number the live ones in heap order, list them by id. */
    size_t live = 0;
    for (size_t i = 0; i < f.n; i++)
        if (!pt_fib_dead(f.v[i]))
            f.v[live++] = f.v[i];
    f.n = live;
    for (size_t i = 0; i < f.n; i++)
        pt_fib_id(f.v[i]);
    if (f.n)
        qsort(f.v, f.n, sizeof *f.v, by_id);
    for (size_t i = 0; i < f.n; i++)
        fn(f.v[i], data);
    if (!RTEST(was_disabled))
        rb_gc_enable();
    free(f.v);
    return r;
}

#ifdef PT_HEAP_WALK
static VALUE note_child(RB_BLOCK_CALL_FUNC_ARGLIST(child, set))
{
    st_insert((st_table *)set, (st_data_t)rb_iseqw_to_iseq(child), 0);
    return Qnil;
}
#endif

VALUE pt_heap_file_iseqs(int (*match)(VALUE realpath, void *arg), void *arg)
{
    VALUE out = rb_ary_new();
#ifdef PT_HEAP_WALK
    struct found f = { 0 };
    VALUE was_disabled = rb_gc_disable();
    st_table *children = st_init_numtable();
    VALUE mine = rb_ary_new();

    walk(&f);
    for (size_t i = 0; i < f.n; i++) {
        VALUE real = rb_iseq_realpath((const pt_raw_iseq *)f.v[i]);
        if (RB_TYPE_P(real, T_STRING) && match(real, arg))
            rb_ary_push(mine, rb_iseqw_new((const pt_raw_iseq *)f.v[i]));
    }
    /* Roots: the sequences no other one of the file holds as a child. */
    for (long i = 0; i < RARRAY_LEN(mine); i++)
        rb_block_call(RARRAY_AREF(mine, i), rb_intern("each_child"), 0, NULL, note_child,
                      (VALUE)children);
    for (long i = 0; i < RARRAY_LEN(mine); i++) {
        VALUE w = RARRAY_AREF(mine, i);
        if (!st_lookup(children, (st_data_t)rb_iseqw_to_iseq(w), NULL))
            rb_ary_push(out, w);
    }
    st_free_table(children);
    free(f.v);
    if (!RTEST(was_disabled))
        rb_gc_enable();
#else
    (void)match;
    (void)arg;
#endif
    return out;
}
