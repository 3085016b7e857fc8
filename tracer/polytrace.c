/*
 * polytrace.c — entry point of the tracer extension (polytrace_ext.so).
 *
 * Defines module PolyTrace and the few methods tracer/lib/polytrace.rb calls
 * to boot the tracer: it fetches the runtime's C table when the runtime is
 * loaded, connects to a launching controller (POLYTRACE_SOCKET) or waits
 * for one over TCP (POLYTRACE_LISTEN, remote.c), arranges
 * the entry stop and the EXITED event, and keeps every Ruby object the
 * tracer holds alive through one TypedData object. Small helpers shared by
 * the other files live here too.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tracer.h"

struct pt_tr pt_tr = { .fd = -1, .lockmode = PT_TR_LOCK_STEP };

/* ---- the one object that keeps the tracer's Ruby values alive ---------- */

/* Every VALUE the tracer keeps is marked (and so pinned) from here; nothing
 * moves under compaction, so compact has nothing to update. */
static void state_mark(void *p)
{
    (void)p;
    rb_gc_mark(pt_tr.script);
    rb_gc_mark(pt_tr.script_real);
    rb_gc_mark(pt_tr.main_thread);
    rb_gc_mark(pt_tr.ending);
    pt_tr_ops_mark();
    pt_fib_mark();
    pt_bp_mark();
    pt_step_mark();
    pt_steplock_mark();
    pt_catch_mark();
    pt_stop_mark();
    pt_threads_mark();
    pt_wp_mark();
    pt_vars_mark();
    pt_diag_mark();
}

static void state_free(void *p) { (void)p; }
static size_t state_size(const void *p) { (void)p; return sizeof pt_tr; }
static void state_compact(void *p) { (void)p; }

static const rb_data_type_t state_type = {
    .wrap_struct_name = "PolyTrace::State",
    .function = { .dmark = state_mark, .dfree = state_free,
                  .dsize = state_size, .dcompact = state_compact },
    .flags = RUBY_TYPED_FREE_IMMEDIATELY,
};

/* ---- helpers shared by the tracer's files ------------------------------- */

/*
 * Is path dir/NAME.rb or inside dir/NAME/ (or, with any_suffix, any file of
 * dir whose name starts with NAME)? The tracer's files are polytrace*.rb
 * beside polytrace.rb; the runtime's are polyphony.rb and everything under polyphony/.
 * Other files in the same directory (an installed site_ruby) are not ours.
 */
static int path_in(VALUE path, const char *dir, size_t dir_len, const char *name, int any_suffix)
{
    size_t name_len = strlen(name);
    const char *p, *rest;

    if (!RB_TYPE_P(path, T_STRING) || dir_len == 0 ||
        (size_t)RSTRING_LEN(path) <= dir_len + 1 + name_len)
        return 0;
    p = RSTRING_PTR(path);
    if (memcmp(p, dir, dir_len) != 0 || p[dir_len] != '/' ||
        memcmp(p + dir_len + 1, name, name_len) != 0)
        return 0;
    rest = p + dir_len + 1 + name_len;
    if (any_suffix)
        return memchr(rest, '/', RSTRING_LEN(path) - (rest - p)) == NULL;
    return *rest == '/' || strcmp(rest, ".rb") == 0;
}

int pt_tr_is_own_path(VALUE path)
{
    return path_in(path, pt_tr.libdir, pt_tr.libdir_len, "polytrace", 1);
}

int pt_tr_is_hidden_path(VALUE path)
{
    /* "<internal:kernel>" and the like: Ruby's own methods written in Ruby
     * (Kernel#loop, Float#positive?), as good as C methods to a user. */
    static const char internal[] = "<internal:";

    if (RB_TYPE_P(path, T_STRING) && (size_t)RSTRING_LEN(path) > sizeof internal - 1 &&
        memcmp(RSTRING_PTR(path), internal, sizeof internal - 1) == 0)
        return 1;
    return pt_tr_is_own_path(path) || path_in(path, pt_tr.rtdir, pt_tr.rtdir_len, "polyphony", 0);
}

static VALUE resolve_runtime(VALUE unused)
{
    (void)unused;
    return rb_funcall(rb_gv_get("$LOAD_PATH"), rb_intern("resolve_feature_path"), 1,
                      rb_str_new_cstr("polyphony"));
}

/* Where the runtime's Ruby files are: beside the polyphony.rb Ruby loads. */
static void find_runtime_dir(void)
{
    VALUE err, found = pt_tr_protect_call(resolve_runtime, Qnil, &err), path;
    const char *slash;

    if (!RB_TYPE_P(found, T_ARRAY) || RARRAY_LEN(found) != 2)
        return;
    path = RARRAY_AREF(found, 1);
    if (!RB_TYPE_P(path, T_STRING))
        return;
    slash = memrchr(RSTRING_PTR(path), '/', RSTRING_LEN(path));
    if (!slash || (size_t)(slash - RSTRING_PTR(path)) >= sizeof pt_tr.rtdir)
        return;
    memcpy(pt_tr.rtdir, RSTRING_PTR(path), slash - RSTRING_PTR(path));
    pt_tr.rtdir[slash - RSTRING_PTR(path)] = '\0';
    pt_tr.rtdir_len = slash - RSTRING_PTR(path);
}

/* Ruby's tag for Thread#kill's unwinding (TAG_FATAL in its vm_core.h). */
#define PT_RUBY_TAG_FATAL 8

/*
 * Ruby code the tracer runs (an expression, an #inspect, a condition) is
 * where the program's interrupts are handled too: a signal's exception
 * (SignalException, Interrupt), an exit from a trap handler (SystemExit),
 * Thread#kill. Those are not the code's failure and must not end at the
 * tracer: they are kept in pt_tr.ending, reported like any other error
 * here, and raised again at the next safe point (pt_tr_reraise_ending).
 */
VALUE pt_tr_protect_call(VALUE (*fn)(VALUE), VALUE arg, VALUE *err)
{
    int state = 0;
    VALUE v = rb_protect(fn, arg, &state);

    *err = Qnil;
    if (state) {
        *err = rb_errinfo();
        rb_set_errinfo(Qnil);
        if (state == PT_RUBY_TAG_FATAL) {
            pt_tr.ending = Qtrue;
            *err = rb_exc_new_cstr(rb_eRuntimeError, "the thread was killed");
        } else if (rb_obj_is_kind_of(*err, rb_eSignal) || rb_obj_is_kind_of(*err, rb_eSystemExit)) {
            pt_tr.ending = *err;
        }
        if (NIL_P(*err) || !rb_obj_is_kind_of(*err, rb_eException))
            *err = rb_exc_new_cstr(rb_eRuntimeError, "non-local exit");
        return Qnil;
    }
    return v;
}

void pt_tr_reraise_ending(void)
{
    VALUE e = pt_tr.ending;

    if (NIL_P(e))
        return;
    pt_tr.ending = Qnil;
    if (e == Qtrue)
        rb_thread_kill(rb_thread_current());
    rb_exc_raise(e);
}

static VALUE exc_message(VALUE exc)
{
    return rb_funcall(exc, rb_intern("message"), 0);
}

char *pt_tr_exc_message(VALUE exc)
{
    VALUE err, msg = pt_tr_protect_call(exc_message, exc, &err);
    const char *cls = rb_obj_classname(exc);
    char *out = NULL;

    if (!RB_TYPE_P(msg, T_STRING))
        msg = rb_str_new_cstr("(message raised)");
    if (asprintf(&out, "%s: %.*s", cls ? cls : "Exception",
                 (int)RSTRING_LEN(msg), RSTRING_PTR(msg)) < 0)
        return NULL;
    return out;
}

VALUE pt_tr_str_or_nil(VALUE v)
{
    return RB_TYPE_P(v, T_STRING) ? v : Qnil;
}

/* ---- exit ---------------------------------------------------------------- */

static VALUE flush_io(VALUE io)
{
    return rb_funcall(io, rb_intern("flush"), 0);
}

/*
 * Registered first, so it runs after the program's own at_exit handlers:
 * flush the program's output, then tell the controller how it ends.
 */
static void at_exit_hook(VALUE unused)
{
    VALUE err = rb_gv_get("$!"), ignored;
    struct pt_msg m;
    int status = 0, sig = 0;

    (void)unused;
    if (!pt_tr_connected()) {
        pt_listen_stop();   /* the attach socket goes with the program */
        return;
    }
    if (!NIL_P(err)) {
        if (rb_obj_is_kind_of(err, rb_eSystemExit)) {
            status = NUM2INT(rb_attr_get(err, rb_intern("status")));
        } else if (rb_obj_is_kind_of(err, rb_eSignal)) {
            /* Ruby re-raises the signal once the handlers have run. */
            status = -1;
            sig = NUM2INT(rb_funcall(err, rb_intern("signo"), 0));
        } else {
            status = 1;
        }
    }
    pt_tr_protect_call(flush_io, rb_stdout, &ignored);
    pt_tr_protect_call(flush_io, rb_stderr, &ignored);
    pt_step_cancel();
    pt_msg_init(&m, PT_EV_EXITED, 0);
    m.u.exited.status = status;
    m.u.exited.signal = sig;
    pt_tr_send(&m);
    pt_watch_stop();
    pt_listen_stop();
    close(pt_tr.fd);
    pt_tr.fd = -1;
}

/* ---- boot ---------------------------------------------------------------- */

/*
 * POLYTRACE_STDIO=pipe: our stdout and stderr are pipes the controller reads
 * (a front end without a terminal). Writes go out at once, so the program's
 * output arrives before the stop that follows it; if the controller goes
 * away, pt_tr_disconnect points them at /dev/null rather than at a pipe
 * nobody reads.
 */
static void pipe_stdio(void)
{
    const char *how = getenv("POLYTRACE_STDIO");

    if (!how || strcmp(how, "pipe") != 0)
        return;
    unsetenv("POLYTRACE_STDIO");
    pt_tr.stdio_pipe = 1;
    rb_funcall(rb_stdout, rb_intern("sync="), 1, Qtrue);
    rb_funcall(rb_stderr, rb_intern("sync="), 1, Qtrue);
}

/*
 * PolyTrace.__boot(libdir) — called once by polytrace.rb. Returns true when
 * a launching controller is connected (so polytrace.rb traps SIGINT).
 */
static VALUE tr_boot(VALUE self, VALUE libdir)
{
    const char *sock = getenv("POLYTRACE_SOCKET");
    const char *nonstop = getenv("POLYTRACE_NONSTOP");
    char real[PATH_MAX];

    (void)self;
    StringValue(libdir);
    if ((size_t)RSTRING_LEN(libdir) < sizeof pt_tr.libdir) {
        memcpy(pt_tr.libdir, RSTRING_PTR(libdir), RSTRING_LEN(libdir));
        pt_tr.libdir[RSTRING_LEN(libdir)] = '\0';
        pt_tr.libdir_len = RSTRING_LEN(libdir);
    }
    pt_tr.main_thread = rb_thread_main();
    pt_tr.script = rb_str_dup(rb_gv_get("$0"));
    pt_tr.script_real = Qnil;
    if (realpath(StringValueCStr(pt_tr.script), real))
        pt_tr.script_real = rb_str_new_cstr(real);
    pt_fib_init();
    pt_diag_init();
    pt_tr_rt();
    pt_step_init();
    pt_bp_init();
    rb_set_end_proc(at_exit_hook, Qnil);
    pt_idle_boot();

    if (!sock || !*sock) {
        /* POLYTRACE_LISTEN: a controller over TCP (remote.c); not a
         * launch (the program's terminal is its own: no SIGINT trap). */
        pt_remote_boot();
        return Qfalse;
    }
    sock = strdup(sock);
    /* Child Ruby processes must not connect to our controller too. */
    unsetenv("POLYTRACE_SOCKET");
    if (!sock)
        return Qfalse;
    if (pt_tr_connect(sock) < 0) {
        free((void *)sock);
        return Qfalse;
    }
    free((void *)sock);
    pt_tr.launched = 1;
    pipe_stdio();
    if (!(nonstop && strcmp(nonstop, "1") == 0))
        pt_step_arm_entry();
    else
        pt_watch_arm();
    return Qtrue;
}

/* PolyTrace.connected? */
static VALUE tr_connected_p(VALUE self)
{
    (void)self;
    return pt_tr.fd >= 0 ? Qtrue : Qfalse;
}

/*
 * A forked child inherits the connection but is not the debugged process:
 * it forgets the controller (its copy of the socket is closed; the parent's
 * conversation goes on untouched) before any Ruby runs in it. What comes
 * next (the controller reaches it, or it runs free) is fork.c's, from the
 * Process._fork hook.
 */
static void forget_inherited(void)
{
    pt_tr.pid = getpid();
    pt_fork_child();
    if (pt_tr.fd >= 0)
        close(pt_tr.fd);
    pt_tr.fd = -1;
    pt_tr.launched = 0;
    pt_tr.serving = 0;
    pt_proto_decoder_free(pt_tr.dec);
    pt_tr.dec = NULL;
    pt_tr.peer_pid = 0;
    pt_tr.ending = Qnil;
    pt_watch_forget();
    pt_listen_forget();
}

/* The runtime may be required after the tracer: fetch its table late. */
const struct rt_api *pt_tr_rt(void)
{
    if (!pt_tr.rt) {
        pt_tr.rt = rt_api_fetch();
        if (pt_tr.rt) {
            find_runtime_dir();
            pt_idle_runtime_loaded();
            pt_diag_runtime_loaded();
        }
    }
    return pt_tr.rt;
}

void Init_polytrace_ext(void)
{
    VALUE holder;

    pt_tr.pid = getpid();
    pt_tr.mod = rb_define_module("PolyTrace");
    pt_tr.script = Qnil;
    pt_tr.script_real = Qnil;
    pt_tr.main_thread = Qnil;
    pt_tr.ending = Qnil;
    holder = TypedData_Wrap_Struct(rb_cObject, &state_type, &pt_tr);
    rb_gc_register_mark_object(holder);
    rb_define_singleton_method(pt_tr.mod, "__boot", tr_boot, 1);
    rb_define_singleton_method(pt_tr.mod, "__compiled", pt_bp_compiled, 1);
    rb_define_singleton_method(pt_tr.mod, "__method_added", pt_bp_method_added, 0);
    rb_define_singleton_method(pt_tr.mod, "connected?", tr_connected_p, 0);
    rb_define_singleton_method(pt_tr.mod, "__global_line_enables", pt_step_global_enables, 0);
    pt_attach_init(pt_tr.mod);
    pt_api_init(pt_tr.mod);
    pt_injected_init(pt_tr.mod);
    pt_fork_init(pt_tr.mod);
    pthread_atfork(NULL, NULL, forget_inherited);
}
