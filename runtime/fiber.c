/*
 * fiber.c — fibers as the runtime sees them: the per-fiber state kept beside
 * each Ruby Fiber (parent and children, tag, mailbox, result, what it waits
 * on), spinning a child, running its block, and what happens when it ends:
 * its children are terminated and awaited, those awaiting it are resumed
 * with its result, and an uncaught exception nobody awaits goes to the
 * parent. Also the Fiber methods built on that (state, await, raise, stop,
 * terminate, restart, ...).
 */
#include <stdlib.h>
#include <stdint.h>
#include <ruby/debug.h>
#include "rt_internal.h"

VALUE rt_cFiber;
static ID id_rt_fiber, id_call, id_value, id_orig_alive, id_source_fiber, id_monitors,
    id_supervise_child;
static VALUE cFiberState;
static VALUE sym_running, sym_runnable, sym_waiting, sym_dead, sym_main;

static void fs_mark(void *p)
{
    struct rt_fiber *f = p;
    rb_gc_mark_movable(f->fiber);
    rb_gc_mark_movable(f->owner);
    if (f->parent)
        rb_gc_mark_movable(f->parent->self);
    for (struct rt_fiber *c = f->first_child; c; c = c->next_sibling)
        rb_gc_mark_movable(c->self);
    rb_gc_mark_movable(f->block);
    rb_gc_mark_movable(f->tag);
    rb_gc_mark_movable(f->result);
    rb_gc_mark_movable(f->mailbox);
    rb_gc_mark_movable(f->awaiters);
    rb_gc_mark_movable(f->when_done);
    rb_gc_mark_movable(f->watchers);
    rb_gc_mark_movable(f->file);
    rb_gc_mark_movable(f->label);
    rb_gc_mark_movable(f->wait_on);
    rb_gc_mark_movable(f->wait_context);
    rb_gc_mark_movable(f->spin_site);
    rb_gc_mark_movable(f->last_site);
}

static void fs_compact(void *p)
{
    struct rt_fiber *f = p;
    f->fiber = rb_gc_location(f->fiber);
    f->self = rb_gc_location(f->self);
    f->owner = rb_gc_location(f->owner);
    f->block = rb_gc_location(f->block);
    f->tag = rb_gc_location(f->tag);
    f->result = rb_gc_location(f->result);
    f->mailbox = rb_gc_location(f->mailbox);
    f->awaiters = rb_gc_location(f->awaiters);
    f->when_done = rb_gc_location(f->when_done);
    f->watchers = rb_gc_location(f->watchers);
    f->file = rb_gc_location(f->file);
    f->label = rb_gc_location(f->label);
    f->wait_on = rb_gc_location(f->wait_on);
    f->wait_context = rb_gc_location(f->wait_context);
    f->spin_site = rb_gc_location(f->spin_site);
    f->last_site = rb_gc_location(f->last_site);
}

/*
 * Only ever freed together with everything that points at it (a parent
 * marks its children, a child its parent), so it touches nobody else.
 */
static void fs_free(void *p)
{
    rt_fdwait_unlink(p); /* only linked while waiting; a dropped fiber may be */
    xfree(p);
}

static size_t fs_size(const void *p)
{
    (void)p;
    return sizeof(struct rt_fiber);
}

static const rb_data_type_t fs_type = {
    "Polyphony::FiberState",
    { fs_mark, fs_free, fs_size, fs_compact, { 0 } },
    NULL, NULL, RUBY_TYPED_FREE_IMMEDIATELY
};

static struct rt_fiber *fs_new(VALUE *obj)
{
    struct rt_fiber *f;
    *obj = TypedData_Make_Struct(cFiberState, struct rt_fiber, &fs_type, f);
    f->self = *obj;
    f->fiber = f->owner = f->block = f->tag = f->result = Qnil;
    f->mailbox = f->awaiters = f->when_done = f->watchers = f->file = f->label = Qnil;
    f->wait_on = f->wait_context = Qnil;
    f->spin_site = f->last_site = Qnil;
    f->wait_fd = -1;
    f->fdw_fd = -1;
    return f;
}

struct rt_fiber *rt_fiber_get_if_any(VALUE fiber)
{
    VALUE obj = rb_attr_get(fiber, id_rt_fiber);
    return obj == Qnil ? NULL : RTYPEDDATA_DATA(obj);
}

struct rt_fiber *rt_fiber_get(VALUE fiber)
{
    struct rt_fiber *f = rt_fiber_get_if_any(fiber);
    VALUE obj;

    if (f)
        return f;
    /* A fiber the runtime did not spin (a thread's main fiber, Fiber.new). */
    f = fs_new(&obj);
    f->fiber = fiber;
    rb_ivar_set(fiber, id_rt_fiber, obj);
    f->t = rt_thread_current();
    f->owner = f->t->self;
    return f;
}

static int is_exception(VALUE v)
{
    return rb_obj_is_kind_of(v, rb_eException) == Qtrue;
}

enum rt_fiber_state rt_fiber_state_of(VALUE fiber)
{
    struct rt_fiber *f = rt_fiber_get_if_any(fiber);
    if (!f) {
        if (fiber == rb_fiber_current())
            return RT_FIBER_RUNNING;
        return rb_fiber_alive_p(fiber) == Qtrue ? RT_FIBER_WAITING : RT_FIBER_DEAD;
    }
    if (f->dead)
        return RT_FIBER_DEAD;
    if (f->t && rt_thread_running_fiber(f->t) == fiber)
        return RT_FIBER_RUNNING;
    if (f->scheduled)
        return RT_FIBER_RUNNABLE;
    return RT_FIBER_WAITING;
}

/* --- the tree -------------------------------------------------------------- */

static void link_child(struct rt_fiber *parent, struct rt_fiber *child)
{
    child->parent = parent;
    child->prev_sibling = parent->last_child;
    child->next_sibling = NULL;
    if (parent->last_child)
        parent->last_child->next_sibling = child;
    else
        parent->first_child = child;
    parent->last_child = child;
}

static void unlink_child(struct rt_fiber *child)
{
    struct rt_fiber *parent = child->parent;
    if (!parent)
        return;
    if (child->prev_sibling)
        child->prev_sibling->next_sibling = child->next_sibling;
    else if (parent->first_child == child)
        parent->first_child = child->next_sibling;
    else
        return; /* not linked */
    if (child->next_sibling)
        child->next_sibling->prev_sibling = child->prev_sibling;
    else
        parent->last_child = child->prev_sibling;
    child->prev_sibling = child->next_sibling = NULL;
}

void rt_fiber_forget_tree(struct rt_fiber *f)
{
    unlink_child(f);
    f->parent = NULL;
    while (f->first_child) {
        struct rt_fiber *c = f->first_child;
        unlink_child(c);
        c->parent = NULL;
    }
    f->wait_op = NULL;
    f->scheduled = 0;
    f->awaiting_children = 0;
}

static void visit(struct rt_fiber *f, rt_fiber_visit_fn fn, void *data)
{
    fn(f->fiber, data);
    for (struct rt_fiber *c = f->first_child; c; c = c->next_sibling)
        visit(c, fn, data);
}

void rt_fiber_each(struct rt_thread *t, rt_fiber_visit_fn fn, void *data)
{
    struct rt_fiber *root = rt_fiber_get_if_any(t->main_fiber);
    if (root)
        visit(root, fn, data);
}

/* --- running a spun fiber -------------------------------------------------- */

struct run_args {
    struct rt_fiber *f;
    VALUE value;
};

static VALUE run_block(VALUE arg)
{
    struct run_args *a = (struct run_args *)arg;
    if (is_exception(a->value))
        rb_exc_raise(a->value); /* stopped before it started */
    return rb_proc_call_with_block(a->f->block, 1, &a->value, Qnil);
}

static VALUE call_when_done(VALUE arg)
{
    VALUE *pair = (VALUE *)arg;
    return rb_funcall(pair[0], id_call, 1, pair[1]);
}

static void terminate_children(struct rt_fiber *f)
{
    for (struct rt_fiber *c = f->first_child; c; c = c->next_sibling)
        rt_sched_schedule(c->fiber, rt_exception_new(rt_eTerminate, Qnil), 0);
}

static void children_unwind(void *arg)
{
    ((struct rt_fiber *)arg)->awaiting_children = 0;
}

/* Waits until f has no children left; returns an exception one raised, or Qnil. */
static VALUE await_children(struct rt_fiber *f)
{
    VALUE failure = Qnil;
    while (f->first_child) {
        f->awaiting_children = 1;
        VALUE v = rt_sched_await_unwind(f->t, "await", -1, children_unwind, f);
        f->awaiting_children = 0;
        if (is_exception(v) && !rb_obj_is_kind_of(v, rt_eTerminate) &&
            !rb_obj_is_kind_of(v, rt_eMoveOn) && failure == Qnil)
            failure = v;
    }
    return failure;
}

/*
 * Does `watcher` take f's end itself: a when_done registered for it
 * (supervise, Fiber.select) or a monitor (Fiber#monitor)? An uncaught
 * exception then does not go up to it as parent, as in Polyphony, where a
 * parent that monitors its child (await, supervise, select) is not also
 * raised in. Anyone else's awaiting or watching does not stop the parent
 * from getting the exception.
 */
static int watched_by(struct rt_fiber *f, VALUE watcher)
{
    VALUE monitors = rb_attr_get(f->fiber, id_monitors);

    if (f->watchers != Qnil && rb_ary_includes(f->watchers, watcher) == Qtrue)
        return 1;
    return RB_TYPE_P(monitors, T_HASH) && rb_hash_lookup2(monitors, watcher, Qundef) != Qundef;
}

/*
 * The end of a fiber: children first, then its awaiters and when_done
 * procs are told, and an uncaught exception goes up to the parent unless
 * the parent is one of those watching (see watched_by).
 */
static void finalize(struct rt_fiber *f, VALUE result, int uncaught)
{
    struct rt_thread *t = f->t;
    struct rt_fiber *parent = f->parent;
    int parent_watches = 0;

    if (f->first_child) {
        terminate_children(f);
        VALUE failure = await_children(f);
        if (failure != Qnil && !uncaught) {
            result = failure;
            uncaught = 1;
        }
    }
    f->dead = 1;
    f->result = result;
    f->mailbox = Qnil;
    if (t->lock_owner == f->fiber)
        t->lock_owner = Qnil;
    rt_emit(RT_EV_FIBER_TERMINATE, f->fiber, result, NULL, -1, 0, 0);
    unlink_child(f);

    if (parent && watched_by(f, parent->fiber))
        parent_watches = 1;
    f->watchers = Qnil;
    /*
     * when_done first (monitors, supervisors, Fiber.await/select of several):
     * they were most often there before a plain await, and in Polyphony,
     * where all are monitors, the earlier one is told first.
     */
    if (f->when_done != Qnil) {
        VALUE list = f->when_done;
        f->when_done = Qnil;
        for (long i = 0; i < RARRAY_LEN(list); i++) {
            VALUE pair[2] = { RARRAY_AREF(list, i), result };
            int state = 0;
            rb_protect(call_when_done, (VALUE)pair, &state);
            if (state)
                rb_set_errinfo(Qnil);
        }
    }
    if (f->awaiters != Qnil) {
        VALUE list = f->awaiters;
        f->awaiters = Qnil;
        for (long i = 0; i < RARRAY_LEN(list); i++) {
            rt_sched_schedule(RARRAY_AREF(list, i), result, 0);
            if (parent && RARRAY_AREF(list, i) == parent->fiber)
                parent_watches = 1;
        }
    }
    /* First in line, as in Polyphony: the parent learns of it before others run. */
    if (uncaught && parent && !parent->dead && !parent_watches)
        rt_sched_schedule(parent->fiber, result, 1);
    if (parent && parent->awaiting_children && !parent->first_child)
        rt_sched_schedule(parent->fiber, Qnil, 0);
}

static VALUE fiber_body(RB_BLOCK_CALL_FUNC_ARGLIST(first, data))
{
    struct rt_fiber *f = RTYPEDDATA_DATA(data);
    struct run_args args = { f, first };
    VALUE result;
    int uncaught = 0;

    for (;;) {
        int state = 0;
        result = rb_protect(run_block, (VALUE)&args, &state);
        if (!state)
            break;
        VALUE err = rb_errinfo();
        rb_set_errinfo(Qnil);
        if (!is_exception(err)) {
            result = Qnil; /* throw out of the fiber, or a thread kill */
            break;
        }
        if (rb_obj_is_kind_of(err, rt_eRestart)) {
            args.value = rb_ivar_get(err, id_value);
            continue;
        }
        if (rb_obj_is_kind_of(err, rt_eMoveOn) || rb_obj_is_kind_of(err, rt_eTerminate)) {
            result = rb_ivar_get(err, id_value);
        } else {
            result = err;
            uncaught = 1;
            if (!OBJ_FROZEN(err) && rb_attr_get(err, id_source_fiber) == Qnil)
                rb_ivar_set(err, id_source_fiber, f->fiber);
        }
        break;
    }
    finalize(f, result, uncaught);
    /*
     * The fiber never returns (Ruby would resume the thread's root fiber):
     * it switches away for good. With nothing to run, the loop's wait goes
     * on in the main fiber when that waits (scheduler.c, hand_loop_to_main);
     * else it runs here, and an interrupt that lands here goes to the main
     * fiber.
     */
    for (;;) {
        VALUE v = rt_sched_switch_or_idle(f->t);
        /* Nothing left to run or wait for: the main fiber wakes up. */
        if (v == Qundef)
            v = Qnil;
        if (is_exception(v) || v == Qnil)
            rt_sched_schedule(f->t->main_fiber, v, 1);
    }
    RB_GC_GUARD(data);
    return Qnil;
}

/*
 * Spun fibers are non-blocking (Fiber.new(blocking: false)), so that Ruby
 * calls the thread's Fiber::Scheduler from them (fiber_scheduler.c):
 * rb_fiber_new would make a blocking one, which Ruby never does.
 */
static VALUE kw_nonblocking;   /* { blocking: false }, frozen */
static ID id_new;

static VALUE new_nonblocking_fiber(VALUE state)
{
    VALUE body = rb_proc_new(fiber_body, state);

    return rb_funcall_with_block_kw(rt_cFiber, id_new, 1, &kw_nonblocking, body, RB_PASS_KEYWORDS);
}

VALUE rt_fiber_spin(VALUE parent_fiber, VALUE tag, VALUE block)
{
    struct rt_thread *t = rt_thread_current();
    struct rt_fiber *parent = rt_fiber_get(parent_fiber);
    struct rt_fiber *f;
    VALUE obj, fiber;

    if (block == Qnil)
        rb_raise(rb_eArgError, "spin needs a block");
    f = fs_new(&obj);
    f->t = t;
    f->owner = t->self;
    f->block = block;
    f->tag = tag;
    f->is_spun = 1;
    /* The spinner's frames: where this fiber came from (spin_site.c). */
    f->spin_site = parent->last_site = rt_spin_site_record(parent->last_site);
    fiber = new_nonblocking_fiber(obj);
    f->fiber = fiber;
    rb_ivar_set(fiber, id_rt_fiber, obj);
    link_child(parent, f);
    rt_emit(RT_EV_FIBER_SPIN, fiber, parent_fiber, NULL, -1, 0, 0);
    rt_sched_schedule(fiber, Qnil, 0);
    /* A supervising parent watches every new child (fiber_supervise.rb). */
    if (RB_UNLIKELY(parent->supervising))
        rb_funcall(parent_fiber, id_supervise_child, 1, fiber);
    return fiber;
}

/* --- Ruby ------------------------------------------------------------------ */

static VALUE k_spin(int argc, VALUE *argv, VALUE self)
{
    VALUE tag;
    (void)self;
    rb_scan_args(argc, argv, "01", &tag);
    return rt_fiber_spin(rb_fiber_current(), tag, rb_block_proc());
}

static VALUE f_spin(int argc, VALUE *argv, VALUE self)
{
    VALUE tag;
    rb_scan_args(argc, argv, "01", &tag);
    return rt_fiber_spin(self, tag, rb_block_proc());
}

static VALUE f_state(VALUE self)
{
    switch (rt_fiber_state_of(self)) {
    case RT_FIBER_RUNNING: return sym_running;
    case RT_FIBER_RUNNABLE: return sym_runnable;
    case RT_FIBER_WAITING: return sym_waiting;
    default: return sym_dead;
    }
}

static VALUE f_alive_p(VALUE self)
{
    struct rt_fiber *f = rt_fiber_get_if_any(self);
    if (f && f->is_spun)
        return f->dead ? Qfalse : Qtrue;
    return rb_funcall(self, id_orig_alive, 0);
}

static VALUE f_parent(VALUE self)
{
    struct rt_fiber *f = rt_fiber_get(self);
    return f->parent ? f->parent->fiber : Qnil;
}

static VALUE f_children(VALUE self)
{
    struct rt_fiber *f = rt_fiber_get(self);
    VALUE list = rb_ary_new();
    for (struct rt_fiber *c = f->first_child; c; c = c->next_sibling)
        rb_ary_push(list, c->fiber);
    return list;
}

static VALUE f_tag(VALUE self) { return rt_fiber_get(self)->tag; }

static VALUE f_set_tag(VALUE self, VALUE tag)
{
    rt_fiber_get(self)->tag = tag;
    return tag;
}

static VALUE f_main_p(VALUE self) { return rt_fiber_get(self)->is_main ? Qtrue : Qnil; }
static VALUE f_result(VALUE self) { return rt_fiber_get(self)->result; }

static VALUE f_thread(VALUE self)
{
    struct rt_fiber *f = rt_fiber_get(self);
    return f->t ? f->t->thread : Qnil;
}

static VALUE f_location(VALUE self)
{
    struct rt_fiber *f = rt_fiber_get(self);
    VALUE file = f->file, label = f->label;
    int line = f->line;
    /* A helper that spins on its caller's behalf says where; else the site. */
    if (file == Qnil && rt_spin_site_place(f->spin_site, &file, &line, &label) < 0)
        file = Qnil;
    if (file == Qnil)
        return rb_str_new_cstr(f->is_main ? "(root)" : "(unknown)");
    if (label == Qnil)
        return rb_sprintf("%"PRIsVALUE":%d", file, line);
    return rb_sprintf("%"PRIsVALUE":%d:in `%"PRIsVALUE"'", file, line, label);
}

static VALUE f_schedule(int argc, VALUE *argv, VALUE self)
{
    VALUE value;
    rb_scan_args(argc, argv, "01", &value);
    rt_sched_schedule(self, value, 0);
    return self;
}

static VALUE schedule_exception(VALUE self, VALUE klass, VALUE value)
{
    struct rt_fiber *f = rt_fiber_get(self);
    if (f->dead)
        return self;
    rt_sched_schedule(self, rt_exception_new(klass, value), 0);
    return self;
}

static VALUE f_interrupt(int argc, VALUE *argv, VALUE self)
{
    VALUE value;
    rb_scan_args(argc, argv, "01", &value);
    return schedule_exception(self, rt_eMoveOn, value);
}

static VALUE f_terminate(int argc, VALUE *argv, VALUE self)
{
    (void)argc; (void)argv; /* Polyphony's `graceful` flag: always immediate here */
    return schedule_exception(self, rt_eTerminate, Qnil);
}

static VALUE f_cancel(int argc, VALUE *argv, VALUE self)
{
    VALUE value;
    rb_scan_args(argc, argv, "01", &value);
    return schedule_exception(self, rt_eCancel, value);
}

static VALUE f_restart(int argc, VALUE *argv, VALUE self)
{
    VALUE value;
    struct rt_fiber *f = rt_fiber_get(self);
    rb_scan_args(argc, argv, "01", &value);
    if (!f->is_spun)
        rb_raise(rb_eRuntimeError, "only a spun fiber can be restarted");
    if (f->dead) {
        /* A new fiber in its place, under the same parent; value is its first. */
        VALUE parent = f->parent && !f->parent->dead ? f->parent->fiber : rb_fiber_current();
        VALUE fresh = rt_fiber_spin(parent, f->tag, f->block);
        if (value != Qnil)
            rt_sched_schedule(fresh, value, 0);
        return fresh;
    }
    schedule_exception(self, rt_eRestart, value);
    return self;
}

static VALUE f_raise(int argc, VALUE *argv, VALUE self)
{
    VALUE exc;
    if (argc == 0)
        exc = rb_exc_new_cstr(rb_eRuntimeError, "unhandled exception");
    else
        exc = rb_make_exception(argc, argv);
    if (!rt_fiber_get(self)->dead)
        rt_sched_schedule(self, exc, 0);
    return self;
}

/*
 * interject { }: the block runs in the fiber where it waits (or at its next
 * snooze), then the fiber goes on waiting (scheduler.c); an exception from
 * the block is raised there. Polyphony 1.6's experimental API.
 */
static VALUE f_interject(VALUE self)
{
    VALUE block = rb_block_proc();
    if (!rt_fiber_get(self)->dead)
        rt_sched_schedule(self, rt_exception_new(rt_eInterjection, block), 0);
    return self;
}

/* A fiber in #await, taken off the awaited fiber's list however it stops waiting. */
struct awaiter {
    struct rt_fiber *f;
    VALUE me;
};

static void awaiter_unwind(void *arg)
{
    struct awaiter *aw = arg;
    if (aw->f->awaiters != Qnil)
        rb_ary_delete(aw->f->awaiters, aw->me);
}

static VALUE f_await(VALUE self)
{
    struct rt_fiber *f = rt_fiber_get(self);
    VALUE me = rb_fiber_current(), v;

    if (f->dead) {
        if (is_exception(f->result))
            rb_exc_raise(f->result);
        return f->result;
    }
    if (self == me)
        rb_raise(rb_eRuntimeError, "a fiber cannot await itself");
    if (f->awaiters == Qnil)
        f->awaiters = rb_ary_new();
    rb_ary_push(f->awaiters, me);
    /* Polyphony's await returns nil when nothing could ever end the fiber. */
    struct awaiter aw = { f, me };
    rt_sched_current_state(f->t, me)->wait_on = self;
    v = rt_sched_await_or_idle_unwind(f->t, "await", -1, awaiter_unwind, &aw);
    awaiter_unwind(&aw);
    if (is_exception(v))
        rb_exc_raise(v);
    return v;
}

/*
 * when_done(watcher = nil) { |result| }: the block runs when the fiber ends.
 * A watcher fiber given takes the end itself: when it is the parent, an
 * uncaught exception is not also raised in it.
 */
static VALUE f_when_done(int argc, VALUE *argv, VALUE self)
{
    struct rt_fiber *f = rt_fiber_get(self);
    VALUE block = rb_block_proc();
    VALUE watcher;

    rb_scan_args(argc, argv, "01", &watcher);
    if (watcher != Qnil && !f->dead) {
        if (f->watchers == Qnil)
            f->watchers = rb_ary_new();
        rb_ary_push(f->watchers, watcher);
    }
    if (f->dead) {
        rb_funcall(block, id_call, 1, f->result);
        return self;
    }
    if (f->when_done == Qnil)
        f->when_done = rb_ary_new();
    rb_ary_push(f->when_done, block);
    return self;
}

static VALUE f_terminate_all_children(VALUE self)
{
    terminate_children(rt_fiber_get(self));
    return self;
}

static VALUE f_shutdown_all_children(VALUE self)
{
    f_terminate_all_children(self);
    rb_funcall(self, rb_intern("await_all_children"), 0);
    return self;
}

/* Moves the fiber under another parent (Polyphony's attach_to). */
static VALUE f_attach_to(VALUE self, VALUE parent_fiber)
{
    struct rt_fiber *f = rt_fiber_get(self), *p = rt_fiber_get(parent_fiber);
    if (f->is_main || f->dead)
        rb_raise(rb_eRuntimeError, "only a live spun fiber can be moved");
    for (struct rt_fiber *a = p; a; a = a->parent)
        if (a == f)
            rb_raise(rb_eArgError, "a fiber cannot be attached under itself");
    if (p != f->parent)
        f->moved = 1;   /* its spin site is no longer its parent's frames */
    unlink_child(f);
    link_child(p, f);
    if (RB_UNLIKELY(p->supervising))
        rb_funcall(parent_fiber, id_supervise_child, 1, self);
    return self;
}

/* Moves the fiber under the thread's main fiber (Polyphony's detach). */
static VALUE f_detach(VALUE self)
{
    struct rt_fiber *f = rt_fiber_get(self);
    return f_attach_to(self, f->t->main_fiber);
}

/*
 * Where the fiber reports it was spun, for Ruby helpers that spin on their
 * caller's behalf (spin_loop, after): a Thread::Backtrace::Location.
 */
static VALUE f_set_spin_location(VALUE self, VALUE loc)
{
    struct rt_fiber *f = rt_fiber_get(self);
    f->file = rb_funcall(loc, rb_intern("path"), 0);
    f->line = NUM2INT(rb_funcall(loc, rb_intern("lineno"), 0));
    f->label = rb_funcall(loc, rb_intern("label"), 0);
    return loc;
}

/* Fiber#__supervising__=: set while the fiber runs Fiber#supervise. */
static VALUE f_set_supervising(VALUE self, VALUE on)
{
    rt_fiber_get(self)->supervising = RTEST(on);
    return on;
}

static VALUE f_inspect(VALUE self)
{
    VALUE tag = rt_fiber_get(self)->tag;
    VALUE id = rb_obj_id(self);
    if (tag == Qnil)
        return rb_sprintf("#<Fiber:%"PRIsVALUE" %"PRIsVALUE" (%"PRIsVALUE")>", id,
                          f_location(self), f_state(self));
    return rb_sprintf("#<Fiber %"PRIsVALUE":%"PRIsVALUE" %"PRIsVALUE" (%"PRIsVALUE")>", tag, id,
                      f_location(self), f_state(self));
}

void rt_fiber_init(VALUE mPolyphony)
{
    rt_cFiber = rb_const_get(rb_cObject, rb_intern("Fiber"));
    id_rt_fiber = rb_intern("__polyphony_fiber__");
    id_new = rb_intern("new");
    kw_nonblocking = rb_hash_new();
    rb_hash_aset(kw_nonblocking, ID2SYM(rb_intern("blocking")), Qfalse);
    rb_obj_freeze(kw_nonblocking);
    rb_gc_register_mark_object(kw_nonblocking);
    id_call = rb_intern("call");
    id_value = rb_intern("@value");
    id_orig_alive = rb_intern("__polyphony_orig_alive?");
    id_source_fiber = rb_intern("@source_fiber");
    id_monitors = rb_intern("@__monitors__");
    id_supervise_child = rb_intern("__supervise_child__");
    rb_define_attr(rb_eException, "source_fiber", 1, 0);
    sym_running = ID2SYM(rb_intern("running"));
    sym_runnable = ID2SYM(rb_intern("runnable"));
    sym_waiting = ID2SYM(rb_intern("waiting"));
    sym_dead = ID2SYM(rb_intern("dead"));
    sym_main = ID2SYM(rb_intern("main"));

    cFiberState = rb_define_class_under(mPolyphony, "FiberState", rb_cObject);
    rb_undef_alloc_func(cFiberState);

    rb_define_method(rb_mKernel, "spin", k_spin, -1);
    rb_define_method(rt_cFiber, "spin", f_spin, -1);
    rb_define_method(rt_cFiber, "state", f_state, 0);
    rb_define_alias(rt_cFiber, "__polyphony_orig_alive?", "alive?");
    rb_define_method(rt_cFiber, "alive?", f_alive_p, 0);
    rb_define_method(rt_cFiber, "running?", f_alive_p, 0);
    rb_define_method(rt_cFiber, "parent", f_parent, 0);
    rb_define_method(rt_cFiber, "children", f_children, 0);
    rb_define_method(rt_cFiber, "tag", f_tag, 0);
    rb_define_method(rt_cFiber, "tag=", f_set_tag, 1);
    rb_define_method(rt_cFiber, "main?", f_main_p, 0);
    rb_define_method(rt_cFiber, "result", f_result, 0);
    rb_define_method(rt_cFiber, "thread", f_thread, 0);
    rb_define_method(rt_cFiber, "location", f_location, 0);
    rb_define_method(rt_cFiber, "schedule", f_schedule, -1);
    rb_define_method(rt_cFiber, "interrupt", f_interrupt, -1);
    rb_define_method(rt_cFiber, "stop", f_interrupt, -1);
    rb_define_method(rt_cFiber, "kill", f_interrupt, -1);
    rb_define_method(rt_cFiber, "move_on", f_interrupt, -1);
    rb_define_method(rt_cFiber, "terminate", f_terminate, -1);
    rb_define_method(rt_cFiber, "cancel", f_cancel, -1);
    rb_define_method(rt_cFiber, "cancel!", f_cancel, -1);
    rb_define_method(rt_cFiber, "restart", f_restart, -1);
    rb_define_method(rt_cFiber, "reset", f_restart, -1);
    rb_define_method(rt_cFiber, "raise", f_raise, -1);
    rb_define_method(rt_cFiber, "await", f_await, 0);
    rb_define_method(rt_cFiber, "join", f_await, 0);
    rb_define_method(rt_cFiber, "value", f_await, 0);
    rb_define_method(rt_cFiber, "interject", f_interject, 0);
    rb_define_method(rt_cFiber, "__supervising__=", f_set_supervising, 1);
    rb_define_method(rt_cFiber, "when_done", f_when_done, -1);
    rb_define_method(rt_cFiber, "terminate_all_children", f_terminate_all_children, 0);
    rb_define_method(rt_cFiber, "shutdown_all_children", f_shutdown_all_children, 0);
    rb_define_method(rt_cFiber, "attach_to", f_attach_to, 1);
    rb_define_method(rt_cFiber, "detach", f_detach, 0);
    rb_define_method(rt_cFiber, "__spin_location__=", f_set_spin_location, 1);
    rb_define_method(rt_cFiber, "inspect", f_inspect, 0);
    rb_define_method(rt_cFiber, "to_s", f_inspect, 0);
    (void)sym_main;
}
