/*
 * breakpoint.c — line and method breakpoints on targeted TracePoints.
 *
 * No global hook: a line breakpoint is a :line TracePoint enabled with
 * target: (the file's top instruction sequence, which covers every method
 * and block in it) and target_line:, so code elsewhere pays nothing. The
 * top sequences are collected from load time by a :script_compiled
 * TracePoint (polytrace.rb calls PolyTrace.__compiled), which also resolves
 * breakpoints set before their file was loaded. A method breakpoint is a
 * :call TracePoint with target: the method; one on a method not defined yet
 * stays pending and is retried at each class body's end (a :end hook on
 * only while such breakpoints exist), at each compiled file and, for top
 * level methods, when Object.method_added says so (polytrace.rb).
 *
 * A breakpoint deleted while the program is stopped (or by a request
 * answered while it runs, from a trap that may run inside a hook too) is
 * not disabled there and then: the stop is inside a hook (the step's line hook, up's return
 * hook) for an event of an instruction sequence, and Ruby 3.1 reads that
 * sequence's list of targeted hooks before calling the global ones and
 * again after; disabling the last targeted TracePoint frees that list under
 * it. So a breakpoint deleted then is retired: it stops at nothing from now
 * on, and its TracePoint disables itself the next time it fires (from its
 * own hook, which Ruby allows), or stays enabled, harmless, if it never does.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tracer.h"

struct pt_bp {
    struct pt_proto_bp info;
    char hit_op;                /* 0: every hit; '=', '>', 'g' (>=), '<', 'l' (<=), '%' */
    uint64_t hit_n;
    VALUE tp;                   /* enabled TracePoint; Qnil while pending */
    VALUE key;                  /* line bp: real path of the file, or as given */
    int retired;                /* deleted while stopped; on the retired list */
    struct pt_bp *next;
};

static struct pt_bp *bps;
static struct pt_bp *retired;   /* deleted, their TracePoints still enabled */
static uint32_t next_id = 1;
static VALUE files = Qnil;      /* real path -> Array of top iseqs */
static VALUE end_tp = Qnil;     /* retries pending method breakpoints */

void pt_bp_mark(void)
{
    struct pt_bp *b;

    rb_gc_mark(files);
    rb_gc_mark(end_tp);
    for (b = bps; b; b = b->next) {
        rb_gc_mark(b->tp);
        rb_gc_mark(b->key);
    }
    for (b = retired; b; b = b->next)
        rb_gc_mark(b->tp);
}

/* A retired breakpoint's TracePoint fired: disable it from its own hook. */
static void retire_now(struct pt_bp *bp, VALUE tpval)
{
    struct pt_bp **p = &retired;

    rb_tracepoint_disable(tpval);
    while (*p && *p != bp)
        p = &(*p)->next;
    if (*p)
        *p = bp->next;
    free(bp);
}

/* ---- hits ---------------------------------------------------------------- */

/* "N", "== N", ">= N", "> N", "<= N", "< N", "% N" into op and n. */
static int parse_hit(const char *s, char *op, uint64_t *n)
{
    static const struct { const char *text; char op; } ops[] = {
        { "==", '=' }, { ">=", 'g' }, { "<=", 'l' }, { ">", '>' }, { "<", '<' }, { "%", '%' },
    };
    char *end;
    size_t i;

    while (*s == ' ')
        s++;
    *op = '=';
    for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t len = strlen(ops[i].text);
        if (strncmp(s, ops[i].text, len) == 0) {
            *op = ops[i].op;
            s += len;
            break;
        }
    }
    while (*s == ' ')
        s++;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    *n = strtoull(s, &end, 10);
    while (*end == ' ')
        end++;
    if (errno || *end || (*op == '%' && *n == 0))
        return -EINVAL;
    return 0;
}

static int hit_matches(const struct pt_bp *bp)
{
    uint64_t h = bp->info.hits, n = bp->hit_n;

    switch (bp->hit_op) {
    case '=': return h == n;
    case 'g': return h >= n;
    case '>': return h > n;
    case 'l': return h <= n;
    case '<': return h < n;
    case '%': return h % n == 0;
    default: return 1;
    }
}

static VALUE as_string(VALUE v)
{
    return rb_obj_as_string(v);
}

/* A logpoint's text: each {expr} replaced by its value's to_s ("\{" is a
 * brace), or by <Class: message> when that raised. */
static VALUE log_text(const char *tmpl, VALUE binding)
{
    VALUE out = rb_utf8_str_new_cstr("");
    const char *p = tmpl;

    while (*p) {
        if (p[0] == '\\' && (p[1] == '{' || p[1] == '}')) {
            rb_str_cat(out, p + 1, 1);
            p += 2;
        } else if (*p == '{') {
            const char *q = p + 1;
            int depth = 1;
            while (*q && depth) {
                depth += *q == '{' ? 1 : *q == '}' ? -1 : 0;
                q += depth ? 1 : 0;
            }
            if (!*q) {                  /* unclosed: the rest as it is */
                rb_str_cat_cstr(out, p);
                break;
            }
            VALUE expr = rb_str_new(p + 1, q - p - 1), err, v, s = Qnil;
            v = pt_eval_value(binding, StringValueCStr(expr), &err);
            if (NIL_P(err))
                s = pt_tr_protect_call(as_string, v, &err);
            if (NIL_P(err) && RB_TYPE_P(s, T_STRING)) {
                rb_str_append(out, s);
            } else {
                char *msg = NIL_P(err) ? NULL : pt_tr_exc_message(err);
                rb_str_catf(out, "<%s>", msg ? msg : "error");
                free(msg);
            }
            p = q + 1;
        } else {
            rb_str_cat(out, p, 1);
            p++;
        }
    }
    return out;
}

static void hit_checked(VALUE tpval, struct pt_bp *bp)
{
    rb_trace_arg_t *ta = rb_tracearg_from_tracepoint(tpval);

    if (bp->retired) {
        retire_now(bp, tpval);
        return;
    }
    if (pt_tr.serving || pt_tr.fd < 0)
        return;
    if (pt_step_consumed(ta))
        return;
    if (bp->info.fiber && pt_fib_id(rb_fiber_current()) != bp->info.fiber)
        return;
    if (bp->info.cond) {
        VALUE err, v = pt_eval_value(rb_tracearg_binding(ta), bp->info.cond, &err);

        if (!NIL_P(pt_tr.ending))
            return;     /* a signal came meanwhile: it goes first */
        if (!NIL_P(err)) {
            char *msg = pt_tr_exc_message(err);
            pt_tr_output("polytrace: breakpoint %u: condition `%s' raised %s\n",
                         bp->info.id, bp->info.cond, msg ? msg : "an exception");
            free(msg);
        } else if (!RTEST(v)) {
            return;
        }
    }
    bp->info.hits++;
    if (!hit_matches(bp))
        return;
    if (bp->info.log) {
        VALUE text = log_text(bp->info.log, rb_tracearg_binding(ta));
        pt_tr_output("%.*s\n", (int)RSTRING_LEN(text), RSTRING_PTR(text));
        return;
    }
    pt_stop("breakpoint", bp->info.id);
}

/* A breakpoint's hook. What its condition or logpoint ran may have met a
 * signal's exception or an exit, which must not end at the tracer: it
 * goes on from this line, as it would have without the debugger. */
static void hit(VALUE tpval, void *data)
{
    hit_checked(tpval, data);
    pt_tr_reraise_ending();
}

/* ---- enabling ------------------------------------------------------------ */

static VALUE do_enable(VALUE arg)
{
    VALUE tp = rb_ary_entry(arg, 0), kw = rb_ary_entry(arg, 1);

    return rb_funcallv_kw(tp, rb_intern("enable"), 1, &kw, RB_PASS_KEYWORDS);
}

/* Enable a new TracePoint for bp on target; 0, or the exception's text. */
static char *enable_on(struct pt_bp *bp, VALUE target)
{
    rb_event_flag_t ev = bp->info.method ? RUBY_EVENT_CALL : RUBY_EVENT_LINE;
    VALUE tp = rb_tracepoint_new(0, ev, hit, bp), kw = rb_hash_new(), err;

    rb_hash_aset(kw, ID2SYM(rb_intern("target")), target);
    if (!bp->info.method)
        rb_hash_aset(kw, ID2SYM(rb_intern("target_line")), INT2NUM(bp->info.line));
    pt_tr_protect_call(do_enable, rb_ary_new_from_args(2, tp, kw), &err);
    if (!NIL_P(err))
        return pt_tr_exc_message(err);
    bp->tp = tp;
    bp->info.pending = false;
    return NULL;
}

static VALUE real_key(const char *file)
{
    char real[PATH_MAX];

    return rb_str_new_cstr(realpath(file, real) ? real : file);
}

/* real ends with "/" + tail */
static int path_has_tail(VALUE real, const char *tail)
{
    size_t n = strlen(tail);
    long rl = RSTRING_LEN(real);

    return (long)n < rl && memcmp(RSTRING_PTR(real) + rl - n, tail, n) == 0 &&
           RSTRING_PTR(real)[rl - n - 1] == '/';
}

static int file_matches(const struct pt_bp *bp, VALUE real)
{
    if (rb_str_equal(bp->key, real) == Qtrue)
        return 1;
    /* "lib/foo.rb" set before the file existed: match its tail. */
    return bp->info.file[0] != '/' && path_has_tail(real, bp->info.file);
}

static VALUE code_lines(VALUE iseqs)
{
    return rb_funcall(pt_tr.mod, rb_intern("__code_lines"), 1, iseqs);
}

/* Lines in the file at path, -1 when it cannot be read. */
static long count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = 0;
    int c, last = '\n';

    if (!f)
        return -1;
    while ((c = getc(f)) != EOF) {
        if (c == '\n')
            n++;
        last = c;
    }
    fclose(f);
    return last == '\n' ? n : n + 1;
}

/*
 * Why a line breakpoint fits no code of its loaded file, in words, with
 * the nearest line that has code (the later one of two as near): "line
 * 99999 is past the end of app.rb (11 lines); the nearest line with code
 * is 10". NULL when the line has code after all (the enable failed for
 * another reason).
 */
static char *no_code_message(const struct pt_bp *bp, VALUE real, VALUE iseqs)
{
    VALUE err, lines = pt_tr_protect_call(code_lines, iseqs, &err);
    long i, best = -1, line = bp->info.line, n = count_lines(StringValueCStr(real));
    char *msg = NULL;

    if (!RB_TYPE_P(lines, T_ARRAY))
        return NULL;
    for (i = 0; i < RARRAY_LEN(lines); i++) {
        long l = NUM2LONG(RARRAY_AREF(lines, i));
        if (l == line)
            return NULL;
        if (best < 0 || labs(l - line) <= labs(best - line))
            best = l;
    }
    if (best < 0 && asprintf(&msg, "%s has no line with code", bp->info.file) < 0)
        return NULL;
    if (best < 0)
        return msg;
    if (n >= 0 && line > n) {
        if (asprintf(&msg, "line %ld is past the end of %s (%ld lines); the nearest line with code is %ld",
                     line, bp->info.file, n, best) < 0)
            return NULL;
    } else if (asprintf(&msg, "line %ld of %s has no code; the nearest line with code is %ld",
                        line, bp->info.file, best) < 0) {
        return NULL;
    }
    return msg;
}

struct line_try {
    struct pt_bp *bp;
    int matched;
    char *error;
};

static int try_file(VALUE real, VALUE iseqs, VALUE arg)
{
    struct line_try *t = (struct line_try *)arg;
    char *words;
    long i;

    if (!file_matches(t->bp, real))
        return ST_CONTINUE;
    t->matched = 1;
    for (i = 0; i < RARRAY_LEN(iseqs); i++) {
        free(t->error);
        t->error = enable_on(t->bp, RARRAY_AREF(iseqs, i));
        if (!t->error)
            return ST_STOP;
    }
    if ((words = no_code_message(t->bp, real, iseqs))) {
        free(t->error);
        t->error = words;
    }
    return ST_CONTINUE;
}

static int heap_match(VALUE real, void *arg)
{
    return file_matches(arg, real);
}

/*
 * A file loaded before the tracer (it was brought in late, or required
 * after the file) has no top sequence in files; the heap still holds the
 * sequences of its methods and blocks (and the top of a script still
 * running). Those found are kept in files for the next breakpoint.
 */
static void try_heap(struct line_try *t)
{
    VALUE roots = pt_heap_file_iseqs(heap_match, t->bp);

    for (long i = 0; i < RARRAY_LEN(roots); i++) {
        VALUE iseq = RARRAY_AREF(roots, i);
        VALUE path = rb_funcall(iseq, rb_intern("absolute_path"), 0), real, list;

        if (!RB_TYPE_P(path, T_STRING))
            continue;
        real = real_key(StringValueCStr(path));
        list = rb_hash_aref(files, real);
        if (NIL_P(list)) {
            list = rb_ary_new();
            rb_hash_aset(files, real, list);
        }
        if (!RTEST(rb_ary_includes(list, iseq)))
            rb_ary_push(list, iseq);
        t->matched = 1;
        if (!t->bp->info.pending)
            continue;
        free(t->error);
        t->error = enable_on(t->bp, iseq);
    }
    if (t->matched && t->bp->info.pending) {
        /* The same words as for a file we saw compiled: where code is. */
        VALUE path = rb_funcall(RARRAY_AREF(roots, 0), rb_intern("absolute_path"), 0);
        char *words = RB_TYPE_P(path, T_STRING) ?
                      no_code_message(t->bp, real_key(StringValueCStr(path)), roots) : NULL;
        if (words) {
            free(t->error);
            t->error = words;
        }
    }
}

static VALUE resolve(VALUE arg)
{
    return rb_path2class(StringValueCStr(arg));
}

/* Method breakpoint: the Method / UnboundMethod, or Qnil (not defined yet). */
static VALUE find_method(const char *spec, char **error)
{
    const char *hash = strrchr(spec, '#'), *dot = strrchr(spec, '.'), *sep = hash ? hash : dot;
    VALUE klass, err, m, name;
    ID mid;

    *error = NULL;
    if (!sep || sep == spec || !sep[1]) {
        *error = strdup("expected Class#method or Class.method");
        return Qnil;
    }
    klass = pt_tr_protect_call(resolve, rb_str_new(spec, sep - spec), &err);
    if (!NIL_P(err))
        return Qnil;
    mid = rb_intern(sep + 1);
    name = ID2SYM(mid);
    if (hash) {
        if (!RB_TYPE_P(klass, T_CLASS) && !RB_TYPE_P(klass, T_MODULE))
            return Qnil;
        if (!rb_method_boundp(klass, mid, 0) &&
            !RTEST(rb_funcall(klass, rb_intern("private_method_defined?"), 1, name)))
            return Qnil;
        m = rb_funcall(klass, rb_intern("instance_method"), 1, name);
    } else {
        if (!rb_respond_to(klass, mid) &&
            !RTEST(rb_funcall(rb_singleton_class(klass), rb_intern("private_method_defined?"), 1, name)))
            return Qnil;
        m = rb_funcall(klass, rb_intern("method"), 1, name);
    }
    return m;
}

static void end_hook(VALUE tpval, void *data);

static void update_end_hook(void)
{
    struct pt_bp *b;
    int want = 0;

    for (b = bps; b; b = b->next)
        want |= b->info.method && b->info.pending;
    if (want && NIL_P(end_tp))
        end_tp = rb_tracepoint_new(0, RUBY_EVENT_END, end_hook, NULL);
    if (!NIL_P(end_tp) && want != RTEST(rb_tracepoint_enabled_p(end_tp))) {
        if (want)
            rb_tracepoint_enable(end_tp);
        else
            rb_tracepoint_disable(end_tp);
    }
}

static void retry_methods(void)
{
    struct pt_bp *b;

    for (b = bps; b; b = b->next) {
        char *error = NULL;
        VALUE m;

        if (!b->info.method || !b->info.pending)
            continue;
        m = find_method(b->info.method, &error);
        if (!NIL_P(m))
            error = enable_on(b, m);
        if (error) {
            pt_tr_output("polytrace: breakpoint %u (%s): %s\n", b->info.id, b->info.method, error);
            free(error);
        }
    }
    update_end_hook();
}

static void end_hook(VALUE tpval, void *data)
{
    (void)tpval;
    (void)data;
    if (!pt_tr.serving)
        retry_methods();
}

/* PolyTrace.__method_added: a method was defined on Object. */
VALUE pt_bp_method_added(VALUE self)
{
    (void)self;
    if (!pt_tr.serving && !NIL_P(end_tp) && RTEST(rb_tracepoint_enabled_p(end_tp)))
        retry_methods();
    return Qnil;
}

/* PolyTrace.__compiled(iseq), from polytrace.rb's :script_compiled hook. */
VALUE pt_bp_compiled(VALUE self, VALUE iseq)
{
    VALUE path = rb_funcall(iseq, rb_intern("absolute_path"), 0), real, list;
    struct pt_bp *b;

    (void)self;
    if (!RB_TYPE_P(path, T_STRING))
        return Qnil;
    pt_tr_rt();
    pt_step_script_compiled(iseq, path);
    real = real_key(StringValueCStr(path));
    list = rb_hash_aref(files, real);
    if (NIL_P(list)) {
        list = rb_ary_new();
        rb_hash_aset(files, real, list);
    }
    rb_ary_push(list, iseq);
    for (b = bps; b; b = b->next) {
        if (b->info.method || !b->info.pending || !file_matches(b, real))
            continue;
        char *error = enable_on(b, iseq), *words;
        if (error && (words = no_code_message(b, real, list))) {
            free(error);
            error = words;
        }
        if (error) {
            pt_tr_output("polytrace: breakpoint %u at %s:%d: %s\n", b->info.id, b->info.file,
                         (int)b->info.line, error);
            free(error);
        }
    }
    retry_methods();
    return Qnil;
}

struct find_file {
    const char *file;
    VALUE found;
};

static int find_tail(VALUE real, VALUE iseqs, VALUE arg)
{
    struct find_file *f = (struct find_file *)arg;

    (void)iseqs;
    if (path_has_tail(real, f->file)) {
        f->found = real;
        return ST_STOP;
    }
    return ST_CONTINUE;
}

VALUE pt_bp_code_lines(const char *file)
{
    VALUE iseqs = NIL_P(files) ? Qnil : rb_hash_lookup(files, real_key(file)), err, lines;

    if (NIL_P(iseqs)) {
        VALUE real = pt_bp_loaded_path(file);
        if (!NIL_P(real))
            iseqs = rb_hash_lookup(files, real);
    }
    if (NIL_P(iseqs))
        return Qnil;
    lines = pt_tr_protect_call(code_lines, iseqs, &err);
    return RB_TYPE_P(lines, T_ARRAY) ? lines : Qnil;
}

VALUE pt_bp_loaded_path(const char *file)
{
    struct find_file f = { file, Qnil };

    if (file[0] != '/' && !NIL_P(files))
        rb_hash_foreach(files, find_tail, (VALUE)&f);
    return f.found;
}

/* ---- requests ------------------------------------------------------------ */

static int copy_info(struct pt_proto_bp *dst, const struct pt_proto_bp *src)
{
    *dst = *src;
    dst->file = dst->method = dst->cond = dst->hit_cond = dst->log = NULL;
    if (pt_proto_set_str(&dst->file, src->file) < 0 ||
        pt_proto_set_str(&dst->method, src->method) < 0 ||
        pt_proto_set_str(&dst->cond, src->cond) < 0 ||
        pt_proto_set_str(&dst->hit_cond, src->hit_cond) < 0 ||
        pt_proto_set_str(&dst->log, src->log) < 0)
        return -ENOMEM;
    return 0;
}

static void link_last(struct pt_bp *b)
{
    struct pt_bp **p = &bps;

    while (*p)
        p = &(*p)->next;
    *p = b;
}

static void unlink_bp(struct pt_bp *b)
{
    struct pt_bp **p = &bps;

    while (*p && *p != b)
        p = &(*p)->next;
    if (*p)
        *p = b->next;
}

static void free_bp(struct pt_bp *b)
{
    free(b->info.file);
    free(b->info.method);
    free(b->info.cond);
    free(b->info.hit_cond);
    free(b->info.log);
    memset(&b->info, 0, sizeof b->info);
    b->key = Qnil;
    if (!NIL_P(b->tp) && (pt_tr.serving || pt_tr.answering)) {
        /* Stopped inside a hook: see the top of this file. */
        b->retired = 1;
        b->next = retired;
        retired = b;
        return;
    }
    if (!NIL_P(b->tp))
        rb_tracepoint_disable(b->tp);
    free(b);
}

static struct pt_bp *find_bp(uint32_t id)
{
    struct pt_bp *b;

    for (b = bps; b; b = b->next)
        if (b->info.id == id)
            return b;
    return NULL;
}

int pt_bp_add(const struct pt_proto_req_break *req, struct pt_msg *reply, uint32_t id)
{
    struct pt_bp *b = calloc(1, sizeof *b);
    char *error = NULL;
    int code = PT_PROTO_ERR_BAD_LOCATION;

    if (!b)
        return pt_tr_send_error(id, PT_PROTO_ERR_INTERNAL, "out of memory"), -ENOMEM;
    b->tp = Qnil;
    b->key = Qnil;
    link_last(b);   /* marked from here on: b->key and b->tp stay alive */
    b->info.pending = true;
    b->info.fiber = req->fiber;
    b->info.line = req->method ? 0 : req->line;
    if (pt_proto_set_str(&b->info.cond, req->cond && *req->cond ? req->cond : NULL) < 0 ||
        pt_proto_set_str(&b->info.method, req->method) < 0 ||
        pt_proto_set_str(&b->info.file, req->method ? NULL : req->file) < 0 ||
        pt_proto_set_str(&b->info.hit_cond, req->hit_cond && *req->hit_cond ? req->hit_cond : NULL) < 0 ||
        pt_proto_set_str(&b->info.log, req->log && *req->log ? req->log : NULL) < 0) {
        error = strdup("out of memory");
        code = PT_PROTO_ERR_INTERNAL;
    } else if (b->info.hit_cond && parse_hit(b->info.hit_cond, &b->hit_op, &b->hit_n) < 0) {
        if (asprintf(&error, "hit condition '%s': give N, == N, >= N, > N, <= N, < N or %% N",
                     b->info.hit_cond) < 0)
            error = strdup("bad hit condition");
        code = PT_PROTO_ERR_BAD_REQUEST;
    } else if (req->method) {
        VALUE m = find_method(req->method, &error);
        if (!NIL_P(m))
            error = enable_on(b, m);
    } else if (!req->file || !*req->file || req->line <= 0) {
        error = strdup("a breakpoint needs FILE:LINE or Class#method");
        code = PT_PROTO_ERR_BAD_REQUEST;
    } else {
        struct line_try t = { .bp = b };
        b->key = real_key(req->file);
        rb_hash_foreach(files, try_file, (VALUE)&t);
        if (!t.matched)
            try_heap(&t);
        error = t.error;
        if (!t.matched || !b->info.pending) {
            free(error);
            error = NULL;
        }
    }
    if (!error && req->bp && find_bp(req->bp)) {
        if (asprintf(&error, "breakpoint %u exists already", req->bp) < 0)
            error = strdup("the breakpoint's number is taken");
        code = PT_PROTO_ERR_BAD_REQUEST;
    }
    if (error) {
        pt_tr_send_error(id, code, "%s", error);
        free(error);
        unlink_bp(b);
        free_bp(b);
        return -EINVAL;
    }
    /* The controller's number, the same in every process it debugs. */
    b->info.id = req->bp ? req->bp : next_id;
    if (b->info.id >= next_id)
        next_id = b->info.id + 1;
    update_end_hook();
    if (copy_info(&reply->u.bp.bp, &b->info) < 0) {
        pt_tr_send_error(id, PT_PROTO_ERR_INTERNAL, "breakpoint %u set, but out of memory to say so",
                         b->info.id);
        return -ENOMEM;
    }
    return 0;
}

int pt_bp_delete(uint32_t id)
{
    struct pt_bp *b;

    for (b = bps; b; b = b->next) {
        if (b->info.id == id) {
            unlink_bp(b);
            free_bp(b);
            update_end_hook();
            return 0;
        }
    }
    return -ENOENT;
}

int pt_bp_list(struct pt_msg *reply)
{
    struct pt_bp *b;
    int r;

    for (b = bps; b; b = b->next) {     /* in the order they were set */
        struct pt_proto_bp *d = pt_proto_bps_push(&reply->u.bps.bps, &reply->u.bps.nbps);
        if (!d)
            return -ENOMEM;
        if ((r = copy_info(d, &b->info)) < 0)
            return r;
    }
    return 0;
}

void pt_bp_clear_all(void)
{
    while (bps) {
        struct pt_bp *b = bps;
        bps = b->next;
        free_bp(b);
    }
    update_end_hook();
}

void pt_bp_forget_files(void)
{
    if (!NIL_P(files))
        rb_hash_clear(files);
}

void pt_bp_init(void)
{
    if (NIL_P(files))
        files = rb_hash_new();
}
