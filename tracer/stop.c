/*
 * stop.c — the stop and its command loop.
 *
 * A stop (entry, breakpoint, step done, pause, attach, Kernel#breakpoint)
 * takes the runtime's fiber lock on the current fiber, suspends the event
 * loop, snapshots the stopped fiber's frames and bindings, sends STOPPED and
 * then serves the controller's requests with blocking socket I/O on this
 * thread (holding the GVL, so nothing else in the program moves) until a
 * resume command, a detach or the controller's disappearance. Nothing here
 * enters the runtime's scheduler, and our own hooks ignore events while
 * pt_tr.serving is set.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tracer.h"

/* The stopped fiber's frames, innermost first, the tracer's own hidden. */
static VALUE stop_locs = Qnil;      /* Array of Thread::Backtrace::Location */
static VALUE stop_bindings = Qnil;  /* Array of Binding, or nil for C frames */
static VALUE stop_labels = Qnil;    /* Array: "Counter#bump" or nil (plain label) */
static VALUE stop_fiber = Qnil;
static VALUE selected = Qnil;       /* SWITCH target; nil: the stopped fiber */
static int stop_depth;              /* user depth of frame 0, for skip/up */
static long stop_shown;             /* the frame STOPPED shows: the innermost
                                       outside the runtime and the tracer */
static const struct rt_api *stop_rt; /* the runtime as this stop found it */
static int stop_loop_running;       /* the loop is resumed for a trap handler */
static const char *stop_exception;  /* "Class: message" of a catch stop */
static const char *stop_value;      /* a return stop: the value returned */
static const char *stop_note;       /* why the stop is here, when not plain */
static char ended_note[160];        /* stop_note of a stop in a fiber that ended */
static uint32_t stop_watch_id;      /* a watch stop: the watchpoint ... */
static const char *stop_old_value;  /* ... and its value before */
static int stop_returning;          /* frame 0 is returning (reason "return") */
/* Frame 0 as a stop learns it without the snapshot (take_top): STOPPED
 * needs no more, and a step that asks nothing else allocates nothing. */
static VALUE top_path = Qnil;       /* String, or Qnil: the snapshot has frame 0 */
static int32_t top_line;
static char *top_label;             /* qualified, as qualify_labels makes it */
static int snapped;                 /* stop_locs, stop_bindings, stop_labels taken */

static void label_cache_mark(void);

void pt_stop_mark(void)
{
    rb_gc_mark(stop_locs);
    rb_gc_mark(stop_bindings);
    rb_gc_mark(stop_labels);
    rb_gc_mark(stop_fiber);
    rb_gc_mark(selected);
    rb_gc_mark(top_path);
    label_cache_mark();
}

static VALUE loc_path(VALUE loc)
{
    return rb_funcall(loc, rb_intern("path"), 0);
}

/* Snapshot of the current fiber's frames; leading tracer and C frames (our
 * trap block, Kernel#breakpoint, the call the program was interrupted in)
 * are left out, so that frame 0 is where the program is. Frames in the
 * runtime's Ruby files stay, numbered, but hidden (see frame_hidden). */
static VALUE collect(const rb_debug_inspector_t *dc, void *data)
{
    VALUE locs = rb_debug_inspector_backtrace_locations(dc), err;
    long i, n = RARRAY_LEN(locs), skip = 0;

    (void)data;
    while (skip < n) {
        VALUE path = pt_tr_protect_call(loc_path, RARRAY_AREF(locs, skip), &err);
        if (pt_tr_is_own_path(path) || NIL_P(rb_debug_inspector_frame_iseq_get(dc, skip)))
            skip++;
        else
            break;
    }
    if (skip == n)
        skip = 0;
    stop_locs = rb_ary_new_capa(n - skip);
    stop_bindings = rb_ary_new_capa(n - skip);
    for (i = skip; i < n; i++) {
        rb_ary_push(stop_locs, RARRAY_AREF(locs, i));
        rb_ary_push(stop_bindings, rb_debug_inspector_frame_binding_get(dc, i));
    }
    return Qnil;
}

/*
 * Qualified method names ("Counter#bump", "block in Counter.make") for the
 * snapshot's frames. A Thread::Backtrace::Location knows only "bump"; the
 * profile frames of the same (current) stack know the method's owner. Both
 * list the frames innermost first, so each location is matched with the
 * next profile frame of the same path, line and label.
 */
#define PT_STOP_LABEL_FRAMES 4096
static VALUE label_buf[PT_STOP_LABEL_FRAMES];
static int label_lines[PT_STOP_LABEL_FRAMES];

static VALUE loc_label(VALUE loc)
{
    return rb_funcall(loc, rb_intern("label"), 0);
}

static VALUE loc_lineno(VALUE loc)
{
    return rb_funcall(loc, rb_intern("lineno"), 0);
}

/* Where a block's label ("block in bump", "block (2 levels) in bump")
 * names its method: the offset of "bump", or -1 for any other label. */
static long block_owner_at(VALUE label)
{
    const char *s = RSTRING_PTR(label), *in;
    long len = RSTRING_LEN(label);

    if (len < 6 || memcmp(s, "block ", 6) != 0 || !(in = memmem(s, (size_t)len, " in ", 4)))
        return -1;
    return in + 4 - s;
}

/* Whether label, from offset at on, is text. */
static int label_tail_is(VALUE label, long at, VALUE text)
{
    return RSTRING_LEN(label) - at == RSTRING_LEN(text) &&
           memcmp(RSTRING_PTR(label) + at, RSTRING_PTR(text), (size_t)RSTRING_LEN(text)) == 0;
}

/* A block's profile frame knows no owner: "block in bump" becomes "block in
 * Counter#bump" from the nearest outer frame of the method it is in. */
static void qualify_blocks(void)
{
    long i, k, at, n = RARRAY_LEN(stop_locs);

    for (i = 0; i < n; i++) {
        VALUE err, label = pt_tr_protect_call(loc_label, RARRAY_AREF(stop_locs, i), &err);

        if (!NIL_P(RARRAY_AREF(stop_labels, i)) || !RB_TYPE_P(label, T_STRING) ||
            (at = block_owner_at(label)) < 0)
            continue;
        for (k = i + 1; k < n; k++) {
            VALUE outer = pt_tr_protect_call(loc_label, RARRAY_AREF(stop_locs, k), &err);
            VALUE full = RARRAY_AREF(stop_labels, k);
            if (RB_TYPE_P(outer, T_STRING) && RB_TYPE_P(full, T_STRING) && label_tail_is(label, at, outer)) {
                rb_ary_store(stop_labels, i, rb_sprintf("%.*s%"PRIsVALUE, (int)at, RSTRING_PTR(label), full));
                break;
            }
        }
        RB_GC_GUARD(label);
    }
}

static void qualify_labels(void)
{
    int n = rb_profile_frames(0, PT_STOP_LABEL_FRAMES, label_buf, label_lines), j = 0;
    long i;

    stop_labels = rb_ary_new_capa(RARRAY_LEN(stop_locs));
    for (i = 0; i < RARRAY_LEN(stop_locs); i++) {
        VALUE loc = RARRAY_AREF(stop_locs, i), err, full = Qnil;
        VALUE path = pt_tr_protect_call(loc_path, loc, &err);
        VALUE label = pt_tr_protect_call(loc_label, loc, &err);
        VALUE lineno = pt_tr_protect_call(loc_lineno, loc, &err);
        int k;

        for (k = j; RB_TYPE_P(path, T_STRING) && RB_TYPE_P(label, T_STRING) && FIXNUM_P(lineno) &&
                    k < n; k++) {
            VALUE ppath = rb_profile_frame_path(label_buf[k]);
            VALUE plabel = rb_profile_frame_label(label_buf[k]);
            if (label_lines[k] == FIX2INT(lineno) && RB_TYPE_P(ppath, T_STRING) &&
                RB_TYPE_P(plabel, T_STRING) && rb_str_equal(ppath, path) == Qtrue &&
                rb_str_equal(plabel, label) == Qtrue) {
                full = rb_profile_frame_full_label(label_buf[k]);
                j = k + 1;
                break;
            }
        }
        rb_ary_push(stop_labels, RB_TYPE_P(full, T_STRING) ? full : Qnil);
    }
    memset(label_buf, 0, sizeof label_buf);
    qualify_blocks();
}

/* The stopped fiber's frames, bindings and labels, taken once per stop: at
 * the stop when STOPPED needs them, else before the first request that
 * does (dispatch). Either way the stack is what it was at the stop, with
 * only the tracer's C functions above it, and collect leaves those out. */
static void snapshot(void)
{
    if (snapped || NIL_P(stop_fiber) || rb_fiber_current() != stop_fiber)
        return;
    snapped = 1;
    rb_debug_inspector_open(collect, NULL);
    qualify_labels();
}

/*
 * Qualified labels of method frames by profile frame (a method entry or an
 * iseq), so that stepping through the same methods again makes no new
 * Strings (rb_profile_frame_full_label makes two or three each time). The
 * frames are marked (pt_stop_mark): none is freed and its address given to
 * another while it is here. An anonymous class's label ("#<Class:0x...>")
 * is not kept: the class may get a name.
 */
#define PT_STOP_LABEL_CACHE 256
static struct { VALUE frame; char *label; } label_cache[PT_STOP_LABEL_CACHE];

static void label_cache_mark(void)
{
    for (size_t i = 0; i < PT_STOP_LABEL_CACHE; i++)
        if (label_cache[i].label)
            rb_gc_mark(label_cache[i].frame);
}

/* The profile frame's full label, malloc'd; NULL when it has none. */
static char *full_label_of(VALUE frame)
{
    size_t slot = (size_t)(frame / sizeof(VALUE)) % PT_STOP_LABEL_CACHE;
    VALUE full;
    char *text;

    if (label_cache[slot].label && label_cache[slot].frame == frame)
        return strdup(label_cache[slot].label);
    full = rb_profile_frame_full_label(frame);
    if (!RB_TYPE_P(full, T_STRING) || !(text = strndup(RSTRING_PTR(full), RSTRING_LEN(full))))
        return NULL;
    if (!strstr(text, "#<")) {
        char *keep = strdup(text);
        if (keep) {
            free(label_cache[slot].label);
            label_cache[slot].frame = frame;
            label_cache[slot].label = keep;
        }
    }
    return text;
}

static VALUE top_location(VALUE unused)
{
    (void)unused;
    return rb_funcall(rb_mKernel, rb_intern("caller_locations"), 2, INT2FIX(0), INT2FIX(1));
}

/* Frame 0's label as qualify_labels makes it, frame i of the profile
 * frames in label_buf: "Counter#bump", "block in Counter#bump", "<main>".
 * A profile frame of a method's block is the method's own, so for a frame
 * in a method the label is the innermost Thread::Backtrace::Location's
 * (three objects, where the snapshot makes dozens), which must be this
 * frame. Malloc'd; NULL when unsure (the snapshot will say). */
static char *top_qualified(int i, VALUE path, VALUE label)
{
    VALUE err, locs, loc, own, lpath;
    char *full, *out = NULL;
    long at;

    if (NIL_P(rb_profile_frame_method_name(label_buf[i])))
        return full_label_of(label_buf[i]);
    locs = pt_tr_protect_call(top_location, Qnil, &err);
    if (!RB_TYPE_P(locs, T_ARRAY) || RARRAY_LEN(locs) != 1)
        return NULL;
    loc = RARRAY_AREF(locs, 0);
    own = pt_tr_protect_call(loc_label, loc, &err);
    lpath = pt_tr_protect_call(loc_path, loc, &err);
    if (!RB_TYPE_P(own, T_STRING) || !RB_TYPE_P(lpath, T_STRING) || rb_str_equal(lpath, path) != Qtrue ||
        pt_tr_protect_call(loc_lineno, loc, &err) != INT2FIX(label_lines[i]))
        return NULL;
    if (rb_str_equal(own, label) == Qtrue)
        return full_label_of(label_buf[i]);
    /* "block in bump" (or "block (2 levels) in bump") of method bump. */
    if ((at = block_owner_at(own)) < 0 || !label_tail_is(own, at, label) ||
        !(full = full_label_of(label_buf[i])))
        return NULL;
    if (asprintf(&out, "%.*s%s", (int)at, RSTRING_PTR(own), full) < 0)
        out = NULL;
    free(full);
    RB_GC_GUARD(locs);
    return out;
}

/*
 * Frame 0 without the snapshot: the innermost Ruby frame outside the
 * tracer's files, read off the profile frames, which allocate nothing.
 * (The debug inspector would make a Binding, and move the locals to the
 * heap, for every frame, and Thread::Backtrace::Location objects: a
 * stepped program would collect garbage every hundred steps.) 0 when found
 * and it is the frame STOPPED shows; -1 when the stop needs the snapshot:
 * frame 0 is in the runtime's files (STOPPED shows the first frame outside
 * them, which may be a C method's, and profile frames have no C frames),
 * or the stack is not one we know.
 */
static int take_top(int show_top)
{
    int n = rb_profile_frames(0, PT_STOP_LABEL_FRAMES, label_buf, label_lines), i, r = -1;
    VALUE path = Qnil, label;

    for (i = 0; i < n; i++) {
        path = rb_profile_frame_path(label_buf[i]);
        if (RB_TYPE_P(path, T_STRING) && !pt_tr_is_own_path(path))
            break;
    }
    if (i < n && (show_top || !pt_tr_is_hidden_path(path)) &&
        RB_TYPE_P(label = rb_profile_frame_label(label_buf[i]), T_STRING) &&
        (top_label = top_qualified(i, path, label))) {
        top_path = path;
        top_line = label_lines[i];
        r = 0;
    }
    memset(label_buf, 0, sizeof label_buf);
    return r;
}

/* Is frame i of the snapshot in the runtime's or the tracer's files? A C
 * frame's path is its caller's, so a C method the runtime calls is hidden
 * with it, and one the program calls is not. */
static int frame_hidden(long i)
{
    VALUE err, path;

    if (NIL_P(stop_locs) || i >= RARRAY_LEN(stop_locs))
        return 0;
    path = pt_tr_protect_call(loc_path, RARRAY_AREF(stop_locs, i), &err);
    return pt_tr_is_hidden_path(path);
}

/* The innermost frame outside the runtime and the tracer (0 when none is). */
static long first_shown(void)
{
    long i, n = NIL_P(stop_locs) ? 0 : RARRAY_LEN(stop_locs);

    for (i = 0; i < n; i++)
        if (!frame_hidden(i))
            return i;
    return 0;
}

/* Frame i's location, with its qualified method name when known. */
static int frame_location(long i, char **file, int32_t *line, char **label)
{
    VALUE loc = NIL_P(stop_locs) || i >= RARRAY_LEN(stop_locs) ? Qnil : RARRAY_AREF(stop_locs, i);
    VALUE full = NIL_P(stop_labels) || i >= RARRAY_LEN(stop_labels) ? Qnil
               : RARRAY_AREF(stop_labels, i);
    int r = pt_fib_location(loc, file, line, label);

    if (r == 0 && RB_TYPE_P(full, T_STRING))
        r = pt_proto_set_strn(label, RSTRING_PTR(full), RSTRING_LEN(full));
    return r;
}

void pt_stop_frames_of_current(struct pt_proto_frame **v, size_t *n, uint32_t limit)
{
    long i;

    snapshot();
    if (NIL_P(stop_locs) || rb_fiber_current() != stop_fiber)
        return;
    for (i = 0; i < RARRAY_LEN(stop_locs) && (!limit || (uint32_t)i < limit); i++) {
        struct pt_proto_frame *f = pt_proto_frames_push(v, n);

        if (!f || frame_location(i, &f->file, &f->line, &f->label) < 0)
            return;
        f->index = (uint32_t)i;
        f->hidden = frame_hidden(i);
    }
}

int pt_stop_location(char **file, int32_t *line, char **label)
{
    if (NIL_P(top_path))
        return frame_location(stop_shown, file, line, label);
    *line = top_line;
    if (pt_proto_set_strn(file, RSTRING_PTR(top_path), RSTRING_LEN(top_path)) < 0 ||
        pt_proto_set_str(label, top_label) < 0)
        return -ENOMEM;
    return 0;
}

long pt_stop_frame_count(void)
{
    snapshot();
    return NIL_P(stop_locs) ? 0 : RARRAY_LEN(stop_locs);
}

VALUE pt_stop_binding(uint32_t frame, const char **why)
{
    VALUE b;

    snapshot();
    if (NIL_P(stop_bindings) || (long)frame >= RARRAY_LEN(stop_bindings)) {
        *why = "not one of the fiber's own frames (those below them, in the backtrace, are its "
               "spinners' at the spin, kept for showing only)";
        return Qnil;
    }
    b = RARRAY_AREF(stop_bindings, frame);
    if (NIL_P(b))
        *why = "frame is a C method: nothing to evaluate in";
    return b;
}

/* ---- requests ------------------------------------------------------------ */

/* SERVE_ON: next request; RESUME: run on as asked; GONE: the controller
 * went away; GIVE_WAY: a signal or interrupt the program must handle and
 * cannot while stopped here — run on (the controller is told; it may
 * pause again). Stopping again by itself is not safe: Ruby may be in the
 * middle of turning that very signal into an exception. ENDING: a
 * request's Ruby code met a signal's exception, an exit or Thread#kill
 * (pt_tr.ending): it leaves the stop like on_signal's exceptions. */
enum outcome { SERVE_ON, RESUME, GONE, GIVE_WAY, ENDING };

static int send_ok(uint32_t id)
{
    struct pt_msg m;

    pt_msg_init(&m, PT_REP_OK, id);
    return pt_tr_send(&m);
}

/* Fiber named by a request: 0 = the stopped one. */
static VALUE fiber_arg(uint64_t id)
{
    return id == 0 ? stop_fiber : pt_fib_lookup(id);
}

static void send_no_fiber(uint32_t id, uint64_t fiber)
{
    pt_tr_send_error(id, PT_PROTO_ERR_NO_FIBER, "no fiber %llu", (unsigned long long)fiber);
}

/* A request the decoder threw out whole (recoverable): say why. */
static void send_rejected(const struct pt_msg *req, int r)
{
    pt_tr_send_error(req->id, r == PT_PROTO_E_BADMSG ? PT_PROTO_ERR_BAD_REQUEST
                                                    : PT_PROTO_ERR_UNKNOWN_TYPE,
                     "%s", pt_proto_strerror(r));
}

/* A source file to list: regular files only (a FIFO would block the
 * stopped program on open, a device would never end); NULL with errno. */
static FILE *open_source(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), e;
    FILE *f;

    if (fd < 0)
        return NULL;
    e = fstat(fd, &st) < 0 ? errno : !S_ISREG(st.st_mode) ? EINVAL : 0;
    if (e) {
        close(fd);
        errno = e;
        return NULL;
    }
    if (!(f = fdopen(fd, "r"))) {
        e = errno;
        close(fd);
        errno = e;
    }
    return f;
}

/* The most bytes of source one LINES reply carries (well under the
 * protocol's message limit, whatever the file's lines are like). */
#define PT_STOP_SOURCE_MAX (4u * 1024u * 1024u)

static int reply_source(const struct pt_msg *req)
{
    const struct pt_proto_req_source *s = &req->u.source;
    int32_t first = s->first < 1 ? 1 : s->first, last = s->last, lineno = 0;
    struct pt_msg m;
    VALUE code = Qnil;          /* code_only: the lines with code */
    long k = 0;
    char *line = NULL;
    size_t cap = 0, total = 0;
    ssize_t len;
    FILE *f;

    if (last < first || last - first > 100000)
        return pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_REQUEST, "bad line range %d-%d",
                                (int)s->first, (int)s->last);
    f = open_source(s->file);
    if (!f && errno == ENOENT) {
        /* A relative path the program no longer resolves (it chdir'ed):
         * the loaded file it names. */
        VALUE real = pt_bp_loaded_path(s->file);
        if (!NIL_P(real))
            f = open_source(StringValueCStr(real));
        if (!f)
            errno = ENOENT;
    }
    if (!f)
        return pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_LOCATION, "cannot read %s: %s",
                                s->file, errno == EINVAL ? "not a regular file" : strerror(errno));
    if (s->code_only) {
        code = pt_bp_code_lines(s->file);
        if (NIL_P(code)) {
            fclose(f);
            return pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_LOCATION,
                                    "%s is not loaded yet: its lines with code are not known", s->file);
        }
    }
    pt_msg_init(&m, PT_REP_LINES, req->id);
    pt_proto_set_str(&m.u.lines.file, s->file);
    m.u.lines.first = first;
    while ((len = getline(&line, &cap, f)) >= 0) {
        if (++lineno < first)
            continue;
        if (lineno > last)
            break;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        /* code_only: the lines (sorted) where no code starts are "". */
        while (!NIL_P(code) && k < RARRAY_LEN(code) && NUM2LONG(RARRAY_AREF(code, k)) < lineno)
            k++;
        if (!NIL_P(code) && (k == RARRAY_LEN(code) || NUM2LONG(RARRAY_AREF(code, k)) != lineno))
            line[len = 0] = '\0';
        if ((total += (size_t)len) > PT_STOP_SOURCE_MAX ||
            pt_proto_strv_push(&m.u.lines.lines, &m.u.lines.nlines, line) < 0)
            break;
    }
    RB_GC_GUARD(code);
    free(line);
    fclose(f);
    return pt_tr_send(&m);
}

/* The longest value text a VALUE reply carries, whatever the limit: the
 * rest of a message fits in what is left of PT_PROTO_MAX_MSG. */
#define PT_STOP_VALUE_MAX (PT_PROTO_MAX_MSG - 65536u)

/* Where text (len bytes) is cut for a limit (0: none but the protocol's):
 * at most limit bytes, not inside a UTF-8 character. */
static size_t cut_at(const char *text, size_t len, uint32_t limit)
{
    size_t cut;

    if (!limit || limit > PT_STOP_VALUE_MAX)
        limit = PT_STOP_VALUE_MAX;
    cut = limit;

    if (!limit || len <= limit)
        return len;
    while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

/* EVAL: the value's #inspect, cut to the request's limit (the reply says
 * how long it was), so a huge value costs neither the socket nor the
 * terminal. */
static int reply_eval(const struct pt_msg *req)
{
    const struct pt_proto_req_eval *e = &req->u.eval;
    const struct rt_api *rt = stop_rt;
    const char *why = NULL;
    char *text = NULL;
    struct pt_msg m;
    int is_error = 0, r;
    size_t len, cut;
    VALUE b;

    if (e->fiber && fiber_arg(e->fiber) != stop_fiber)
        return pt_tr_send_error(req->id, PT_PROTO_ERR_EVAL,
                                "cannot evaluate in fiber %llu: only the stopped fiber's frames can be evaluated",
                                (unsigned long long)e->fiber);
    b = pt_stop_binding(e->frame, &why);
    if (NIL_P(b))
        return pt_tr_send_error(req->id, PT_PROTO_ERR_EVAL, "frame %u: %s", e->frame, why);
    /* The expression may wait (sleep, I/O) through the runtime: let the
     * loop run meanwhile; the fiber lock still keeps other fibers out. */
    if (rt)
        rt->loop_resume(rb_thread_current());
    r = pt_eval(b, e->expr, &text, &is_error);
    if (rt)     /* the same table: the expression may load the runtime */
        rt->loop_suspend(rb_thread_current());
    if (r < 0)
        return pt_tr_send_error(req->id, PT_PROTO_ERR_INTERNAL, "evaluation failed: %s", strerror(-r));
    len = strlen(text);
    cut = cut_at(text, len, e->limit);
    if (is_error) {
        if (cut < len)
            r = pt_tr_send_error(req->id, PT_PROTO_ERR_EVAL, "%.*s ... (%zu bytes in all)",
                                 (int)cut, text, len);
        else
            r = pt_tr_send_error(req->id, PT_PROTO_ERR_EVAL, "%s", text);
        free(text);
        return r;
    }
    pt_msg_init(&m, PT_REP_VALUE, req->id);
    m.u.value.text = text;
    m.u.value.text_len = cut;
    if (cut < len) {
        text[cut] = '\0';
        m.u.value.full_len = len;
    }
    return pt_tr_send(&m);
}

/* Evaluates expr in a frame of the stopped fiber with the loop running (it
 * may wait), as EVAL does. Qnil and *err on an exception. */
static VALUE eval_in_frame(uint32_t frame, const char *expr, VALUE *err, const char **why)
{
    const struct rt_api *rt = stop_rt;
    VALUE b = pt_stop_binding(frame, why), v;

    *err = Qnil;
    if (NIL_P(b))
        return Qundef;
    if (rt)
        rt->loop_resume(rb_thread_current());
    v = pt_eval_value(b, expr, err);
    if (rt)
        rt->loop_suspend(rb_thread_current());
    return v;
}

/* SWITCH with an expression: the fiber it gives (a local holding one,
 * Fiber.current.children.first ...). Qnil after an ERROR reply. */
static VALUE switch_expr(const struct pt_msg *req)
{
    const char *why = NULL;
    VALUE err, v = eval_in_frame(req->u.fiber.frame, req->u.fiber.expr, &err, &why);
    char *msg;

    if (v == Qundef) {
        pt_tr_send_error(req->id, PT_PROTO_ERR_EVAL, "frame %u: %s", req->u.fiber.frame, why);
        return Qnil;
    }
    if (!NIL_P(err)) {
        msg = pt_tr_exc_message(err);
        pt_tr_send_error(req->id, PT_PROTO_ERR_EVAL, "%s", msg ? msg : "the expression raised");
        free(msg);
        return Qnil;
    }
    if (!RTEST(rb_obj_is_fiber(v))) {
        pt_tr_send_error(req->id, PT_PROTO_ERR_NO_FIBER, "%s is %s, not a fiber", req->u.fiber.expr,
                         rb_obj_classname(v));
        return Qnil;
    }
    if (pt_fib_dead(v)) {
        pt_tr_send_error(req->id, PT_PROTO_ERR_NO_FIBER, "%s is fiber %llu, which has ended",
                         req->u.fiber.expr, (unsigned long long)pt_fib_id(v));
        return Qnil;
    }
    return v;
}

/* WATCH: from now on every line checks EXPR, made in the frame's binding
 * (the loop runs meanwhile, as for EVAL). */
static void reply_watch(const struct pt_msg *req)
{
    const struct rt_api *rt = stop_rt;
    const char *why = NULL;
    char *error = NULL;
    struct pt_msg m;
    VALUE b = pt_stop_binding(req->u.watch.frame, &why);
    int r;

    if (!req->u.watch.expr || !*req->u.watch.expr) {
        pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_REQUEST, "watch needs an expression");
        return;
    }
    if (NIL_P(b)) {
        pt_tr_send_error(req->id, PT_PROTO_ERR_EVAL, "frame %u: %s", req->u.watch.frame, why);
        return;
    }
    pt_msg_init(&m, PT_REP_WATCHES, req->id);
    struct pt_proto_watch *w = pt_proto_watches_push(&m.u.watches.watches, &m.u.watches.nwatches);
    if (!w) {
        pt_tr_send_error(req->id, PT_PROTO_ERR_INTERNAL, "watch: out of memory");
        return;
    }
    if (rt)
        rt->loop_resume(rb_thread_current());
    r = pt_wp_add(b, req->u.watch.expr, w, &error);
    if (rt)
        rt->loop_suspend(rb_thread_current());
    if (r < 0) {
        pt_msg_free(&m);
        pt_tr_send_error(req->id, r == -ENOSPC ? PT_PROTO_ERR_BAD_REQUEST : PT_PROTO_ERR_EVAL, "%s",
                         error ? error : "watch: out of memory");
        free(error);
        return;
    }
    pt_tr_send(&m);
}

/* RUNQUEUE: the run queue of the named fiber's thread, in order. */
static void reply_runqueue(const struct pt_msg *req)
{
    VALUE fiber = fiber_arg(req->u.fiber.fiber);
    struct pt_msg m;
    int r;

    if (NIL_P(fiber)) {
        send_no_fiber(req->id, req->u.fiber.fiber);
        return;
    }
    pt_msg_init(&m, PT_REP_FIBERS, req->id);
    if ((r = pt_fib_runqueue(pt_threads_of_fiber(fiber), &m)) < 0) {
        pt_msg_free(&m);
        pt_tr_send_error(req->id, r == -ENOTSUP ? PT_PROTO_ERR_BAD_REQUEST : PT_PROTO_ERR_INTERNAL,
                         r == -ENOTSUP ? "the runtime does not show its run queue" : "runqueue: %s",
                         strerror(-r));
        return;
    }
    pt_tr_send(&m);
}

/* VARS / SETVAR: the program's code runs (#inspect, assignments); as for
 * EVAL, the loop runs meanwhile and the fiber lock keeps other fibers out. */
static void reply_vars(const struct pt_msg *req)
{
    const struct rt_api *rt = stop_rt;

    if (rt)
        rt->loop_resume(rb_thread_current());
    if (req->type == PT_REQ_VARS)
        pt_vars_reply(req, stop_fiber);
    else
        pt_vars_set_reply(req, stop_fiber);
    if (rt)
        rt->loop_suspend(rb_thread_current());
}

static int reply_catch(const struct pt_msg *req)
{
    int r = pt_catch_set(req->u.set.value);

    if (r == -ENOENT)
        return pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_SETTING, "%s is not caught",
                                req->u.set.value + 4);
    if (r == -ENOSPC)
        return pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_SETTING, "too many catches");
    if (r < 0)
        return pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_SETTING,
                                "catch takes a class name (Name or Mod::Name), not %s",
                                req->u.set.value);
    return send_ok(req->id);
}

static int reply_set(const struct pt_msg *req)
{
    const char *name = req->u.set.name, *value = req->u.set.value;

    if (strcmp(name, "catch") == 0)
        return reply_catch(req);
    if (strcmp(name, "hog") == 0) {
        char why[256];
        if (pt_diag_set_hog(value, why, sizeof why) < 0)
            return pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_SETTING, "%s", why);
        return send_ok(req->id);
    }
    if (strcmp(name, "follow-fork") == 0) {
        if (pt_tr.peer_remote)
            return pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_SETTING,
                                    "forked children are not followed over TCP");
        if (pt_fork_parse(value, &pt_tr.follow) < 0)
            return pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_SETTING,
                                    "follow-fork is all, parent or child, not %s", value);
        return send_ok(req->id);
    }
    if (strcmp(name, "fiberlock") != 0)
        return pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_SETTING, "unknown setting %s", name);
    if (strcmp(value, "on") == 0)
        pt_tr.lockmode = PT_TR_LOCK_ON;
    else if (strcmp(value, "off") == 0)
        pt_tr.lockmode = PT_TR_LOCK_OFF;
    else if (strcmp(value, "step") == 0)
        pt_tr.lockmode = PT_TR_LOCK_STEP;
    else
        return pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_SETTING,
                                "fiberlock is on, off or step, not %s", value);
    return send_ok(req->id);
}

static int reply_stats(const struct pt_msg *req)
{
    struct pt_msg m;
    char err[256];

    pt_msg_init(&m, PT_REP_STATS, req->id);
    if (pt_stats_reply(&req->u.stats_req, &m, err, sizeof err) < 0) {
        pt_msg_free(&m);
        return pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_REQUEST, "%s", err);
    }
    return pt_tr_send(&m);
}

static int reply_fiber_info(uint32_t id, VALUE fiber)
{
    struct pt_msg m;

    pt_msg_init(&m, PT_REP_FIBER_INFO, id);
    pt_fib_fill(fiber, &m.u.fiber_info.fiber);
    return pt_tr_send(&m);
}

/* A C method's frame (no binding): up waits for its :c_return. */
static int frame_is_c(uint32_t frame)
{
    snapshot();
    return !NIL_P(stop_bindings) && (long)frame < RARRAY_LEN(stop_bindings) &&
           NIL_P(RARRAY_AREF(stop_bindings, frame));
}

/* Resume: who holds the fiber lock from now on (Qnil: nobody). */
static VALUE lock_holder;

static enum outcome resume_step(const struct pt_msg *req)
{
    enum pt_step_mode mode = req->type == PT_REQ_STEP ? PT_STEP_STEP
                           : req->type == PT_REQ_SKIP ? PT_STEP_SKIP : PT_STEP_UP;
    VALUE fiber = req->u.fiber.fiber ? pt_fib_lookup(req->u.fiber.fiber)
                : !NIL_P(selected) ? selected : stop_fiber;
    uint32_t frame = req->u.fiber.frame;

    if (NIL_P(fiber)) {
        send_no_fiber(req->id, req->u.fiber.fiber);
        return SERVE_ON;
    }
    /* Another fiber is not in a frame we know: stop at its next line. */
    if (fiber != stop_fiber) {
        mode = PT_STEP_STEP;
        frame = 0;
    } else if (frame > 0 && (long)frame >= pt_stop_frame_count()) {
        pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_REQUEST,
                         "frame %u is not one of the fiber's own: steps count from those", frame);
        return SERVE_ON;
    }
    /* Stopped at a return, frame 0 is done: up finishes its caller. */
    if (mode == PT_STEP_UP && stop_returning && frame == 0 && pt_stop_frame_count() > 1)
        frame = 1;
    if (send_ok(req->id) < 0)
        return GONE;
    /* skip and up count from the selected frame: frame N is N calls out. */
    pt_step_start(mode, fiber, stop_depth - (int)frame,
                  mode == PT_STEP_UP && frame_is_c(frame));
    /* "step": the fiber runs whenever it can, the others while it waits
     * (steplock.c); "on": only the fiber, even if it waits on the others. */
    if (pt_tr.lockmode == PT_TR_LOCK_ON)
        lock_holder = fiber;
    else if (pt_tr.lockmode == PT_TR_LOCK_STEP)
        lock_holder = pt_steplock_start(pt_threads_of_fiber(fiber), fiber);
    else
        lock_holder = Qnil;
    return RESUME;
}

/* Requests that never look at the stopped fiber's frames (a STEP or SKIP
 * of frame 0 needs only the depth the stop found). */
static int frames_unused(const struct pt_msg *req)
{
    switch (req->type) {
    case PT_REQ_STEP:
    case PT_REQ_SKIP:
        return req->u.fiber.frame == 0;
    case PT_REQ_CONTINUE: case PT_REQ_PAUSE: case PT_REQ_SOURCE: case PT_REQ_BREAK:
    case PT_REQ_DELETE: case PT_REQ_BREAKPOINTS: case PT_REQ_TRACE_OPS: case PT_REQ_SET:
    case PT_REQ_STATS: case PT_REQ_WATCHES: case PT_REQ_UNWATCH: case PT_REQ_FIBERS:
    case PT_REQ_RUNQUEUE: case PT_REQ_DETACH: case PT_REQ_KILL:
        return 1;
    default:
        return 0;
    }
}

static enum outcome dispatch(const struct pt_msg *req)
{
    struct pt_msg m;
    VALUE fiber;
    int r;

    /* Before any of the program's code runs for the request (an EVAL's,
     * an #inspect), which would put its frames above the stopped ones. */
    if (pt_tr.serving && !frames_unused(req))
        snapshot();
    switch (req->type) {
    case PT_REQ_CONTINUE:
        if (send_ok(req->id) < 0)
            return GONE;
        lock_holder = pt_tr.lockmode == PT_TR_LOCK_ON
                    ? (!NIL_P(selected) ? selected : stop_fiber) : Qnil;
        return RESUME;
    case PT_REQ_STEP:
    case PT_REQ_SKIP:
    case PT_REQ_UP:
        return resume_step(req);
    case PT_REQ_PAUSE:
        send_ok(req->id);
        return SERVE_ON;
    case PT_REQ_SWITCH:
        if (req->u.fiber.expr && *req->u.fiber.expr)
            fiber = switch_expr(req);
        else if (NIL_P(fiber = fiber_arg(req->u.fiber.fiber)))
            send_no_fiber(req->id, req->u.fiber.fiber);
        if (NIL_P(fiber))
            return SERVE_ON;
        selected = fiber == stop_fiber ? Qnil : fiber;
        reply_fiber_info(req->id, fiber);
        return SERVE_ON;
    case PT_REQ_RUNQUEUE:
        reply_runqueue(req);
        return SERVE_ON;
    case PT_REQ_WATCH:
        reply_watch(req);
        return SERVE_ON;
    case PT_REQ_UNWATCH:
        if (pt_wp_delete(req->u.watch.watch) < 0)
            pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_REQUEST, "no watch %u", req->u.watch.watch);
        else
            send_ok(req->id);
        return SERVE_ON;
    case PT_REQ_WATCHES:
        pt_msg_init(&m, PT_REP_WATCHES, req->id);
        if (pt_wp_list(&m) < 0) {
            pt_msg_free(&m);
            pt_tr_send_error(req->id, PT_PROTO_ERR_INTERNAL, "watches: out of memory");
        } else {
            pt_tr_send(&m);
        }
        return SERVE_ON;
    case PT_REQ_FIBERS:
        pt_msg_init(&m, PT_REP_FIBERS, req->id);
        if ((r = pt_fib_list(req->u.fibers_req.limit, &m)) < 0) {
            pt_msg_free(&m);
            pt_tr_send_error(req->id, PT_PROTO_ERR_INTERNAL, "fibers: %s", strerror(-r));
            return SERVE_ON;
        }
        pt_tr_send(&m);
        return SERVE_ON;
    case PT_REQ_BACKTRACE:
        fiber = fiber_arg(req->u.backtrace.fiber);
        if (NIL_P(fiber)) {
            send_no_fiber(req->id, req->u.backtrace.fiber);
            return SERVE_ON;
        }
        pt_msg_init(&m, PT_REP_FRAMES, req->id);
        m.u.frames.fiber = pt_fib_id(fiber);
        pt_fib_frames(fiber, req->u.backtrace.limit, &m.u.frames.frames, &m.u.frames.nframes);
        pt_tr_send(&m);
        return SERVE_ON;
    case PT_REQ_EVAL:
        reply_eval(req);
        return SERVE_ON;
    case PT_REQ_SOURCE:
        reply_source(req);
        return SERVE_ON;
    case PT_REQ_VARS:
    case PT_REQ_SETVAR:
        reply_vars(req);
        return SERVE_ON;
    case PT_REQ_BREAK:
        pt_msg_init(&m, PT_REP_BREAKPOINT, req->id);
        if (pt_bp_add(&req->u.brk, &m, req->id) == 0)
            pt_tr_send(&m);
        else
            pt_msg_free(&m);    /* pt_bp_add sent the ERROR */
        return SERVE_ON;
    case PT_REQ_DELETE:
        if (pt_bp_delete(req->u.del.bp) < 0)
            pt_tr_send_error(req->id, PT_PROTO_ERR_NO_BREAKPOINT, "no breakpoint %u", req->u.del.bp);
        else
            send_ok(req->id);
        return SERVE_ON;
    case PT_REQ_BREAKPOINTS:
        pt_msg_init(&m, PT_REP_BREAKPOINTS, req->id);
        pt_bp_list(&m);
        pt_tr_send(&m);
        return SERVE_ON;
    case PT_REQ_TRACE_OPS:
        pt_tr.trace_ops = req->u.trace_ops.on;
        pt_tr.trace_ops_fiber = req->u.trace_ops.fiber;
        send_ok(req->id);
        return SERVE_ON;
    case PT_REQ_SET:
        reply_set(req);
        return SERVE_ON;
    case PT_REQ_STATS:
        reply_stats(req);
        return SERVE_ON;
    case PT_REQ_DUMP:
        pt_msg_init(&m, PT_REP_DUMP, req->id);
        pt_fib_dump(&m);
        pt_tr_send(&m);
        return SERVE_ON;
    case PT_REQ_DETACH:
        pt_listen_attached(0);  /* before the OK: the next may attach at once */
        send_ok(req->id);
        return GONE;
    case PT_REQ_KILL:
        send_ok(req->id);
        kill(getpid(), SIGKILL);
        return GONE;
    default:
        pt_tr_send_error(req->id, PT_PROTO_ERR_BAD_REQUEST, "%s is not a request",
                         pt_msg_type_name(req->type));
        return SERVE_ON;
    }
}

/*
 * Something waits for Ruby while we are stopped: a signal (SIGTERM, SIGINT,
 * a trap) or an interrupt (Thread#raise, Thread#kill). Ruby gets to run it
 * here, with the loop running as for EVAL so a trap handler may wait. If it
 * raises, the exception leaves the stop (pt_stop's ensure resumes the
 * program) and goes on from the stopped line, as it would have without the
 * debugger. If Ruby cannot run it here — traps are held while a trap
 * handler runs (an attach or pause stop is one), and only the main thread
 * runs them — the stop gives way: the program runs on and handles it.
 */
static enum outcome on_signal(void)
{
    VALUE thread = rb_thread_current();
    struct pt_wait w;

    if (stop_rt) {
        stop_rt->loop_resume(thread);
        stop_loop_running = 1;
    }
    rb_thread_check_ints();
    if (stop_rt) {
        stop_rt->loop_suspend(thread);
        stop_loop_running = 0;
    }
    pt_wait_init(&w, PT_WAIT_HELD);
    return pt_wait_pending(&w) ? GIVE_WAY : SERVE_ON;
}

/* One request off the socket, answered. */
static enum outcome serve_one(void)
{
    struct pt_wait w;
    struct pt_proto_waiter waiter;
    struct pt_msg req;
    enum outcome o;
    int r;

    pt_wait_init(&w, PT_WAIT_HELD);
    waiter = pt_wait_waiter(&w);
    memset(&req, 0, sizeof req);
    r = pt_proto_recv_w(pt_tr.fd, pt_tr.dec, &req, -1, &waiter);
    if (r == -EINTR)
        return on_signal();
    if (r == PT_PROTO_E_BADMSG || r == PT_PROTO_E_UNKNOWN_TYPE) {
        send_rejected(&req, r);
        pt_msg_free(&req);
        return SERVE_ON;
    }
    if (r <= 0) {
        /* Closed, dead, or out of sync: say so if we can, then let go. */
        if (r < 0 && r != -ECONNRESET && r != -EPIPE && r != PT_PROTO_E_TRUNCATED)
            pt_tr_send_error(0, PT_PROTO_ERR_BAD_REQUEST, "%s; closing", pt_proto_strerror(r));
        pt_msg_free(&req);
        return GONE;
    }
    o = dispatch(&req);
    pt_msg_free(&req);
    /* A request's Ruby code met a signal or an exit (pt_tr_protect_call). */
    return NIL_P(pt_tr.ending) || o == GONE ? o : ENDING;
}

/* Requests answered while the program runs, as while it is stopped. */
static int answers_running(enum pt_msg_type type)
{
    return type == PT_REQ_BREAK || type == PT_REQ_DELETE || type == PT_REQ_BREAKPOINTS ||
           type == PT_REQ_TRACE_OPS || type == PT_REQ_SET;
}

/*
 * While the program runs, one request that the watcher noticed. PAUSE
 * stops right here; DETACH and a lost controller disconnect; breakpoints
 * and settings are answered; anything else needs a stopped program.
 */
void pt_stop_serve_running(void)
{
    struct pt_msg req;
    int r;

    if (pt_tr.fd < 0 || pt_tr.serving)
        return;
    memset(&req, 0, sizeof req);
    r = pt_proto_recv(pt_tr.fd, pt_tr.dec, &req, 0);
    if (r == -ETIMEDOUT) {          /* nothing there after all */
        pt_watch_arm();
        return;
    }
    if (r == PT_PROTO_E_BADMSG || r == PT_PROTO_E_UNKNOWN_TYPE) {
        send_rejected(&req, r);
    } else if (r <= 0) {
        pt_msg_free(&req);
        pt_tr_disconnect();
        return;
    } else if (req.type == PT_REQ_PAUSE) {
        send_ok(req.id);
        pt_msg_free(&req);
        pt_stop("pause", 0);
        return;
    } else if (req.type == PT_REQ_DETACH) {
        pt_listen_attached(0);
        send_ok(req.id);
        pt_msg_free(&req);
        pt_tr_disconnect();
        return;
    } else if (req.type == PT_REQ_KILL) {
        send_ok(req.id);
        kill(getpid(), SIGKILL);
    } else if (req.type == PT_REQ_STATS) {
        reply_stats(&req);
    } else if (answers_running(req.type)) {
        /* Breakpoints and settings, for a controller that debugs several
         * processes and sets them in all, stopped or not. */
        pt_tr.answering = 1;
        dispatch(&req);
        pt_tr.answering = 0;
    } else {
        pt_tr_send_error(req.id, PT_PROTO_ERR_NOT_STOPPED, "the program is running; pause it first");
    }
    pt_msg_free(&req);
    /* More may be buffered already. */
    if (pt_tr.fd >= 0 && pt_proto_decoder_buffered(pt_tr.dec) > 0)
        pt_stop_serve_running();
    else
        pt_watch_arm();
}

/* ---- the stop ------------------------------------------------------------ */

/* A stop for a caught exception: STOPPED carries its "Class: message". */
void pt_stop_exception(const char *reason, const char *exception)
{
    pt_stop_ex(reason, 0, exception, NULL, NULL);
}

void pt_stop_watch(uint32_t id, const char *old_value, const char *new_value, const char *note)
{
    stop_watch_id = id;
    stop_old_value = old_value;
    pt_stop_ex("watch", 0, NULL, new_value, note);
    stop_watch_id = 0;
    stop_old_value = NULL;
}

VALUE pt_stop_fiber(void)
{
    return pt_tr.serving ? stop_fiber : Qnil;
}

VALUE pt_stop_selected(void)
{
    return !pt_tr.serving ? Qnil : !NIL_P(selected) ? selected : stop_fiber;
}

void pt_stop_ex(const char *reason, uint32_t bp, const char *exception, const char *value,
                const char *note)
{
    stop_exception = exception;
    stop_value = value;
    stop_note = note;
    stop_returning = strcmp(reason, "return") == 0;
    pt_stop(reason, bp);
    stop_exception = stop_value = stop_note = stop_old_value = NULL;
    stop_watch_id = 0;
    stop_returning = 0;
}

static int send_stopped(const char *reason, uint32_t bp, VALUE fiber)
{
    struct pt_msg m;
    const struct rt_api *rt = pt_tr.rt;

    pt_msg_init(&m, PT_EV_STOPPED, 0);
    pt_proto_set_str(&m.u.stopped.reason, reason);
    m.u.stopped.fiber = pt_fib_id(fiber);
    m.u.stopped.thread = pt_fib_thread_id(rb_thread_current());
    m.u.stopped.bp = bp;
    if (rt) {
        VALUE tag = rt->fiber_tag(fiber), err;
        if (SYMBOL_P(tag))
            tag = rb_sym2str(tag);      /* the Symbol's own: nothing allocated */
        else if (!NIL_P(tag))
            tag = pt_tr_protect_call(rb_obj_as_string, tag, &err);
        if (RB_TYPE_P(tag, T_STRING))
            pt_proto_set_strn(&m.u.stopped.tag, RSTRING_PTR(tag), RSTRING_LEN(tag));
    }
    if (stop_exception)
        pt_proto_set_str(&m.u.stopped.exception, stop_exception);
    if (stop_value)
        pt_proto_set_str(&m.u.stopped.value, stop_value);
    if (stop_note)
        pt_proto_set_str(&m.u.stopped.note, stop_note);
    if (stop_watch_id) {
        m.u.stopped.watch = stop_watch_id;
        pt_proto_set_str(&m.u.stopped.old_value, stop_old_value);
    }
    m.u.stopped.frame = (uint32_t)stop_shown;
    pt_stop_location(&m.u.stopped.file, &m.u.stopped.line, &m.u.stopped.method);
    return pt_tr_send(&m);
}

struct stop_run {
    const char *reason;
    uint32_t bp;
    VALUE thread;
    VALUE fiber;
    enum outcome o;
};

static VALUE stop_serve(VALUE arg)
{
    struct stop_run *run = (struct stop_run *)arg;

    if (send_stopped(run->reason, run->bp, run->fiber) < 0)
        run->o = GONE;
    while (run->o == SERVE_ON)
        run->o = serve_one();
    if (run->o == ENDING) {
        run->o = SERVE_ON;      /* leaving by an exception, as on_signal's */
        pt_tr_reraise_ending();
    }
    return Qnil;
}

/* Leaving the stop, however: a resume, the controller gone, a signal given
 * way to, or an exception raised by what Ruby ran at the stop (then the
 * outcome is still SERVE_ON, and the exception goes on after this). */
static VALUE stop_finish(VALUE arg)
{
    struct stop_run *run = (struct stop_run *)arg;
    const struct rt_api *rt = stop_rt;
    VALUE err = rb_errinfo();
    struct pt_msg m;

    if (run->o == SERVE_ON && rb_obj_is_kind_of(err, rb_eException)) {
        char *text = pt_tr_exc_message(err);
        pt_tr_output("polytrace: %s while stopped; the program runs on\n", text ? text : "an exception");
        free(text);
    } else if (run->o == SERVE_ON) {
        pt_tr_output("polytrace: the thread was killed while stopped\n");
    } else if (run->o == GIVE_WAY) {
        pt_tr_output("polytrace: the program got a signal while stopped; it runs on to handle it\n");
    }
    if (run->o == GONE) {
        pt_tr_disconnect();
        lock_holder = Qnil;
    } else {
        if (run->o != RESUME)
            lock_holder = Qnil;
        pt_msg_init(&m, PT_EV_RUNNING, 0);
        if (pt_tr_send(&m) < 0) {
            pt_tr_disconnect();
            lock_holder = Qnil;
        }
    }
    stop_locs = stop_bindings = stop_labels = stop_fiber = selected = top_path = Qnil;
    free(top_label);
    top_label = NULL;
    snapped = 0;
    stop_shown = 0;
    /* pt_stop_ex's too: an exception leaving the stop skips its reset. */
    stop_exception = stop_value = stop_note = stop_old_value = NULL;
    stop_watch_id = 0;
    stop_returning = 0;
    pt_vars_reset();
    if (rt) {
        /* The other threads first: a step may lock a fiber of one of them. */
        VALUE lock_thread = NIL_P(lock_holder) ? run->thread : pt_threads_of_fiber(lock_holder);
        pt_threads_release();
        if (NIL_P(lock_holder) || lock_thread != run->thread)
            rt->fiber_unlock(run->thread);
        if (!NIL_P(lock_holder) && (lock_holder != run->fiber || lock_thread != run->thread))
            rt->fiber_lock(lock_thread, lock_holder);
        if (!stop_loop_running)
            rt->loop_resume(run->thread);
    }
    stop_loop_running = 0;
    lock_holder = Qnil;
    pt_tr.serving = 0;
    if (pt_tr.fd >= 0)
        pt_watch_arm();
    else
        pt_fib_forget_all();    /* detached while stopped: let the fibers go */
    return Qnil;
}

void pt_stop(const char *reason, uint32_t bp)
{
    const struct rt_api *rt = pt_tr_rt();
    struct stop_run run = { .reason = reason, .bp = bp, .thread = rb_thread_current(),
                            .fiber = rb_fiber_current(), .o = SERVE_ON };
    int hidden = 0, depth, show_top;

    /* A watching controller (polytrace top) never has the program stopped. */
    if (!pt_tr_connected() || pt_tr.serving || pt_tr.observing)
        return;
    pt_tr.serving = 1;
    pt_watch_disarm();
    pt_step_cancel();
    if (rt) {
        rt->fiber_lock(run.thread, run.fiber);
        rt->loop_suspend(run.thread);
        pt_threads_hold(run.thread);    /* every other thread's loop too */
    }
    stop_fiber = run.fiber;
    if (!stop_note && rt && pt_fib_dead(run.fiber)) {
        /* What the runtime runs after a fiber's end, where it could not
         * hand that to a live fiber (runtime/scheduler.c). */
        snprintf(ended_note, sizeof ended_note,
                 "fiber %llu has finished: stopped in what runs after its end (its watchers' "
                 "callbacks, or the event loop's wait)", (unsigned long long)pt_fib_id(run.fiber));
        stop_note = ended_note;
    }
    stop_rt = rt;
    stop_loop_running = 0;
    selected = Qnil;
    lock_holder = Qnil;
    depth = pt_step_depth(&hidden);
    stop_depth = depth - hidden;
    /* A breakpoint the user set in the runtime's files shows itself, and so
     * does the return of a frame the user selected there. */
    show_top = strcmp(reason, "breakpoint") == 0 || stop_returning;
    snapped = 0;
    if (take_top(show_top) == 0) {
        stop_shown = 0;
    } else {
        snapshot();
        stop_shown = show_top ? 0 : first_shown();
    }
    rb_ensure(stop_serve, (VALUE)&run, stop_finish, (VALUE)&run);
}
