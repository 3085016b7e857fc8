/*
 * watchpoint.c — `watch EXPR`: stop in the fiber that changed EXPR's value,
 * at the line after the change.
 *
 * A watch is a Proc made from EXPR in the binding of the frame it was set
 * in (so `total` is that frame's local, `@count` that self's), with the
 * last value seen and its #hash (a mutated Array is the same object, but
 * its hash changes). While any watch is set the stepper's global line hook
 * stays on and asks here at every line of every fiber (pt_wp_line):
 * each watch's Proc is called and its value compared. A change seen at a
 * line of the fiber that ran the previous line stops there (the line after
 * the change). A change seen after a switch to another fiber was made by
 * the fiber that ran the previous line, before it switched away: the stop
 * waits for that fiber's next line. Lines of the runtime's and the
 * tracer's own files are not looked at (a change made there is seen at the
 * fiber's next line of the program). An expression that raises (or whose
 * value's #hash raises) counts as unchanged; a value whose #== raises is
 * compared by its #hash alone. A signal's exception or an exit met
 * while the watch's code runs goes on from that line into the program, as
 * it would have without the debugger. This costs every line a Proc call
 * per watch: `make bench` measures it (docs/benchmarks.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tracer.h"

#define PT_WATCH_MAX 32
#define PT_WATCH_VALUE_MAX 512

struct watch {
    uint32_t id;
    char *expr;
    VALUE proc;
    VALUE last;         /* the value last seen */
    VALUE last_hash;    /* its #hash then */
    char *last_text;    /* its inspect then (the object may be mutated since) */
    uint64_t hits;
};

static struct watch watches[PT_WATCH_MAX];
static int nwatches;
static uint32_t next_id = 1;
static VALUE last_fiber = Qnil;     /* the fiber of the last line looked at */

/* A change seen after a switch: stop at pending_fiber's next line. */
static VALUE pending_fiber = Qnil;
static uint32_t pending_id;
static char *pending_old, *pending_new;

void pt_wp_mark(void)
{
    for (int i = 0; i < nwatches; i++) {
        rb_gc_mark(watches[i].proc);
        rb_gc_mark(watches[i].last);
        rb_gc_mark(watches[i].last_hash);
    }
    rb_gc_mark(last_fiber);
    rb_gc_mark(pending_fiber);
}

int pt_wp_active(void)
{
    return nwatches > 0;
}

static VALUE call_proc(VALUE proc)
{
    return rb_proc_call_with_block(proc, 0, NULL, Qnil);
}

/* A watch's value now and its #hash, by one protected call. */
struct probe {
    VALUE proc;
    VALUE value, hash;
};

static VALUE do_probe(VALUE arg)
{
    struct probe *p = (struct probe *)arg;

    p->value = call_proc(p->proc);
    /* nil, true, false, a Symbol, a small Integer: itself */
    p->hash = SPECIAL_CONST_P(p->value) ? p->value : rb_funcall(p->value, rb_intern("hash"), 0);
    return Qnil;
}

/* Its value now (and *hash); Qundef when the expression or #hash raises
 * (*err the exception). */
static VALUE value_now(const struct watch *w, VALUE *hash, VALUE *err)
{
    struct probe p = { w->proc, Qundef, Qnil };

    pt_tr_protect_call(do_probe, (VALUE)&p, err);
    if (!NIL_P(*err))
        return Qundef;
    *hash = p.hash;
    return p.value;
}

static VALUE do_equal(VALUE arg)
{
    VALUE *v = (VALUE *)arg;

    return rb_equal(v[0], v[1]);
}

/* a == b, or -1 when #== raises. */
static int equal(VALUE a, VALUE b)
{
    VALUE args[2] = { a, b }, err, eq = pt_tr_protect_call(do_equal, (VALUE)args, &err);

    return NIL_P(err) ? eq == Qtrue : -1;
}

/* v (with its hash) is what w saw last: the same #hash and, unless its #==
 * raises, #== too. */
static int unchanged(const struct watch *w, VALUE v, VALUE hash)
{
    int same_hash;

    if (v == w->last && hash == w->last_hash)
        return 1;               /* the same object, the same (small) hash */
    same_hash = equal(hash, w->last_hash);

    if (same_hash < 0)
        same_hash = hash == w->last_hash;
    return same_hash && equal(v, w->last) != 0;
}

static char *inspect_cut(VALUE v)
{
    VALUE err, s = v == Qundef ? Qnil : pt_tr_protect_call(rb_inspect, v, &err);
    char *out = NULL;

    if (!RB_TYPE_P(s, T_STRING))
        return strdup(v == Qundef ? "(raised)" : "(inspect raised)");
    if (RSTRING_LEN(s) <= PT_WATCH_VALUE_MAX)
        return strndup(RSTRING_PTR(s), RSTRING_LEN(s));
    if (asprintf(&out, "%.*s...", PT_WATCH_VALUE_MAX, RSTRING_PTR(s)) < 0)
        return NULL;
    return out;
}

static VALUE make_proc(VALUE arg)
{
    VALUE binding = rb_ary_entry(arg, 0), src = rb_ary_entry(arg, 1);

    return rb_funcall(binding, rb_intern("eval"), 3, src, rb_str_new_cstr("(polytrace watch)"),
                      INT2FIX(1));
}

int pt_wp_add(VALUE binding, const char *expr, struct pt_proto_watch *out, char **error)
{
    struct watch *w;
    VALUE err, src, proc, hash = Qnil, v;

    *error = NULL;
    if (nwatches == PT_WATCH_MAX) {
        *error = strdup("too many watches");
        return -ENOSPC;
    }
    /* A Proc over the frame: its locals stay reachable after it returns. */
    src = rb_sprintf("::Kernel.proc { (%s\n) }", expr);
    proc = pt_tr_protect_call(make_proc, rb_ary_new_from_args(2, binding, src), &err);
    if (NIL_P(err) && !rb_obj_is_proc(proc))
        err = rb_exc_new_cstr(rb_eTypeError, "not an expression");
    if (!NIL_P(err)) {
        *error = pt_tr_exc_message(err);
        return -EINVAL;
    }
    w = &watches[nwatches];
    w->proc = proc;
    if ((v = value_now(w, &hash, &err)) == Qundef) {
        *error = pt_tr_exc_message(err);
        w->proc = Qnil;
        return -EINVAL;
    }
    w->id = next_id++;
    w->expr = strdup(expr);
    w->last = v;
    w->last_hash = hash;
    w->last_text = inspect_cut(v);
    w->hits = 0;
    nwatches++;
    pt_step_watching(1);
    out->id = w->id;
    out->expr = strdup(expr);
    out->value = inspect_cut(v);
    return out->expr && out->value ? 0 : -ENOMEM;
}

static void drop(int i)
{
    free(watches[i].expr);
    free(watches[i].last_text);
    memmove(&watches[i], &watches[i + 1], (size_t)(nwatches - i - 1) * sizeof watches[0]);
    nwatches--;
    memset(&watches[nwatches], 0, sizeof watches[0]);
    watches[nwatches].proc = watches[nwatches].last = watches[nwatches].last_hash = Qnil;
}

static void clear_pending(void)
{
    pending_fiber = Qnil;
    free(pending_old);
    free(pending_new);
    pending_old = pending_new = NULL;
}

int pt_wp_delete(uint32_t id)
{
    int found = 0;

    for (int i = nwatches - 1; i >= 0; i--) {
        if (id == 0 || watches[i].id == id) {
            if (watches[i].id == pending_id)
                clear_pending();
            drop(i);
            found = 1;
        }
    }
    if (nwatches == 0) {
        last_fiber = Qnil;
        pt_step_watching(0);
    }
    return found || id == 0 ? 0 : -ENOENT;
}

void pt_wp_clear_all(void)
{
    pt_wp_delete(0);
    clear_pending();
}

int pt_wp_list(struct pt_msg *reply)
{
    for (int i = 0; i < nwatches; i++) {
        struct pt_proto_watch *d = pt_proto_watches_push(&reply->u.watches.watches,
                                                         &reply->u.watches.nwatches);
        if (!d)
            return -ENOMEM;
        d->id = watches[i].id;
        d->expr = strdup(watches[i].expr);
        d->value = strdup(watches[i].last_text ? watches[i].last_text : "?");
        d->hits = watches[i].hits;
        if (!d->expr || !d->value)
            return -ENOMEM;
    }
    return 0;
}

VALUE pt_wp_list_ruby(void)
{
    VALUE out = rb_ary_new();

    for (int i = 0; i < nwatches; i++) {
        VALUE h = rb_hash_new();
        rb_hash_aset(h, ID2SYM(rb_intern("id")), UINT2NUM(watches[i].id));
        rb_hash_aset(h, ID2SYM(rb_intern("expr")), rb_str_new_cstr(watches[i].expr));
        rb_hash_aset(h, ID2SYM(rb_intern("value")), watches[i].last);
        rb_hash_aset(h, ID2SYM(rb_intern("hits")), ULL2NUM(watches[i].hits));
        rb_ary_push(out, h);
    }
    return out;
}

static void stop_for(uint32_t id, char *old_text, char *new_text, const char *note)
{
    pt_stop_watch(id, old_text, new_text, note);
    free(old_text);
    free(new_text);
}

int pt_wp_line(rb_trace_arg_t *ta, VALUE fiber)
{
    VALUE previous = last_fiber;

    last_fiber = fiber;
    if (!NIL_P(pending_fiber) && (fiber == pending_fiber || pt_fib_dead(pending_fiber))) {
        char note[160];
        char *o = pending_old, *n = pending_new;
        snprintf(note, sizeof note, "fiber %llu changed it%s", (unsigned long long)pt_fib_id(pending_fiber),
                 fiber == pending_fiber ? " and switched away: its next line"
                                        : " and has ended since: the next line of any fiber");
        pending_fiber = Qnil;
        pending_old = pending_new = NULL;
        pt_step_consume(ta, fiber);
        stop_for(pending_id, o, n, note);
        return 1;
    }
    for (int i = 0; i < nwatches; i++) {
        struct watch *w = &watches[i];
        VALUE err, hash = Qnil, v = value_now(w, &hash, &err);
        if (v == Qundef || unchanged(w, v, hash))
            continue;
        char *o = w->last_text, *n = inspect_cut(v);
        w->last = v;
        w->last_hash = hash;
        w->last_text = n ? strdup(n) : NULL;
        w->hits++;
        if (!NIL_P(previous) && previous != fiber && !pt_fib_dead(previous)) {
            /* Changed by the fiber before the switch: its next line. One
             * such at a time; another is counted, not stopped for. */
            if (NIL_P(pending_fiber)) {
                pending_fiber = previous;
                pending_id = w->id;
                pending_old = o;
                pending_new = n;
            } else {
                free(o);
                free(n);
            }
            continue;
        }
        pt_step_consume(ta, fiber);
        stop_for(w->id, o, n, NULL);
        return 1;
    }
    /* A signal's exception or an exit the watches' code met goes on here. */
    pt_tr_reraise_ending();
    return 0;
}
