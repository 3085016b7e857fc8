/*
 * vars.c — the values a stopped program holds, for an editor's variables
 * view (VARS and SETVAR): a frame's locals (self first), self's instance
 * variables, the globals, one expression's value, and the children of an
 * object named by an earlier reply — array elements and hash pairs by
 * index, struct members and instance variables by name — a page at a time.
 *
 * An object handed out with children gets a ref (its index in `handles`
 * plus one), the same ref for the same object during one stop; refs are
 * forgotten when the program resumes (pt_vars_reset). Everything that runs
 * the program's code (#inspect, a hash's keys, an assignment) runs
 * protected: an exception becomes the value's text or an ERROR reply.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tracer.h"

static VALUE handles = Qnil;    /* Array: the object of ref i + 1 */
static VALUE handle_of = Qnil;  /* identity Hash: object -> ref */

void pt_vars_mark(void)
{
    rb_gc_mark(handles);
    rb_gc_mark(handle_of);
}

void pt_vars_reset(void)
{
    handles = handle_of = Qnil;
}

static uint64_t handle(VALUE obj)
{
    VALUE ref;

    if (NIL_P(handles)) {
        handles = rb_ary_new();
        handle_of = rb_hash_new();
        rb_funcall(handle_of, rb_intern("compare_by_identity"), 0);
    }
    ref = rb_hash_lookup2(handle_of, obj, Qnil);
    if (!NIL_P(ref))
        return NUM2ULL(ref);
    rb_ary_push(handles, obj);
    rb_hash_aset(handle_of, obj, ULL2NUM((unsigned long long)RARRAY_LEN(handles)));
    return (uint64_t)RARRAY_LEN(handles);
}

static int unhandle(uint64_t ref, VALUE *obj)
{
    if (NIL_P(handles) || ref == 0 || ref > (uint64_t)RARRAY_LEN(handles))
        return -ENOENT;
    *obj = RARRAY_AREF(handles, (long)(ref - 1));
    return 0;
}

/* ---- calling the program's methods, protected ---------------------------- */

static VALUE do_send(VALUE args)
{
    VALUE recv = RARRAY_AREF(args, 0);
    ID mid = SYM2ID(RARRAY_AREF(args, 1));

    return rb_funcallv(recv, mid, (int)RARRAY_LEN(args) - 2, RARRAY_CONST_PTR(args) + 2);
}

/* recv.meth(*argv), protected: *err is the exception or Qnil. */
static VALUE send_protected(VALUE recv, const char *meth, int argc, const VALUE *argv, VALUE *err)
{
    VALUE args = rb_ary_new_capa(argc + 2), v;
    int i;

    rb_ary_push(args, recv);
    rb_ary_push(args, ID2SYM(rb_intern(meth)));
    for (i = 0; i < argc; i++)
        rb_ary_push(args, argv[i]);
    v = pt_tr_protect_call(do_send, args, err);
    RB_GC_GUARD(args);
    return v;
}

/* A malloc'd copy of s, cut at max bytes (on a character boundary) + "...". */
static char *cut(const char *s, size_t len, size_t max)
{
    size_t n = len;
    char *out;

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    out = malloc(n + 4);
    if (!out)
        return NULL;
    memcpy(out, s, n);
    if (n < len)
        memcpy(out + n, "...", 3), n += 3;
    out[n] = '\0';
    return out;
}

static char *text_of(VALUE str, size_t max)
{
    return cut(RSTRING_PTR(str), (size_t)RSTRING_LEN(str), max);
}

/* v.inspect, or "#<Class: message>" when that raised. */
static char *inspect_text(VALUE v)
{
    VALUE err, s = send_protected(v, "inspect", 0, NULL, &err);
    char *msg, *out;

    if (NIL_P(err) && RB_TYPE_P(s, T_STRING))
        return text_of(s, PT_PROTO_VAR_VALUE_MAX);
    msg = NIL_P(err) ? strdup("TypeError: #inspect did not return a String") : pt_tr_exc_message(err);
    if (!msg)
        return NULL;
    out = malloc(strlen(msg) + 4);
    if (out)
        sprintf(out, "#<%s>", msg);
    free(msg);
    return out;
}

static VALUE class_name(VALUE v)
{
    return rb_class_name(rb_obj_class(v));
}

/* How many children the variables view shows under v. */
static void children_count(VALUE v, uint32_t *named, uint32_t *indexed)
{
    *named = *indexed = 0;
    if (RB_SPECIAL_CONST_P(v) || RB_FLOAT_TYPE_P(v))
        return;
    switch (BUILTIN_TYPE(v)) {
    case T_ARRAY:
        *indexed = (uint32_t)RARRAY_LEN(v);
        return;
    case T_HASH:
        *indexed = (uint32_t)RHASH_SIZE(v);
        return;
    case T_STRUCT:
        *named = (uint32_t)RARRAY_LEN(rb_struct_members(v));
        return;
    case T_STRING: case T_SYMBOL: case T_BIGNUM: case T_RATIONAL: case T_COMPLEX:
        return;
    default:
        *named = (uint32_t)rb_ivar_count(v);
    }
}

/* Fills var for value v named name; 0 or -ENOMEM. */
static int describe(struct pt_proto_var *var, const char *name, size_t name_len, VALUE v)
{
    VALUE err, cname = pt_tr_protect_call(class_name, v, &err);

    var->name = cut(name, name_len, PT_PROTO_VAR_VALUE_MAX);
    var->value = inspect_text(v);
    var->type = RB_TYPE_P(cname, T_STRING) ? text_of(cname, 256) : strdup("");
    if (!var->name || !var->value || !var->type)
        return -ENOMEM;
    children_count(v, &var->named, &var->indexed);
    if (var->named || var->indexed)
        var->ref = handle(v);
    return 0;
}

static int push(struct pt_msg *m, const char *name, VALUE v)
{
    struct pt_proto_var *var = pt_proto_vars_push(&m->u.vars_rep.vars, &m->u.vars_rep.nvars);

    return var ? describe(var, name, strlen(name), v) : -ENOMEM;
}

static int push_str(struct pt_msg *m, VALUE name, VALUE v)
{
    struct pt_proto_var *var = pt_proto_vars_push(&m->u.vars_rep.vars, &m->u.vars_rep.nvars);

    return var ? describe(var, RSTRING_PTR(name), (size_t)RSTRING_LEN(name), v) : -ENOMEM;
}

/* ---- one page of a list -------------------------------------------------- */

struct page {
    long first, end;    /* [first, end) of the list */
};

static struct page page_of(long total, uint32_t start, uint32_t count)
{
    struct page p = { start, total };

    if (p.first > total)
        p.first = total;
    if (count && p.first + (long)count < total)
        p.end = p.first + (long)count;
    return p;
}

/* Names (Symbols) and a way to get each one's value from owner. */
typedef VALUE (*value_fn)(VALUE owner, VALUE name, VALUE *err);

static VALUE local_value(VALUE binding, VALUE name, VALUE *err)
{
    return send_protected(binding, "local_variable_get", 1, &name, err);
}

static VALUE ivar_value(VALUE obj, VALUE name, VALUE *err)
{
    *err = Qnil;
    return rb_ivar_get(obj, SYM2ID(name));
}

static VALUE global_value(VALUE unused, VALUE name, VALUE *err)
{
    (void)unused;
    *err = Qnil;
    return rb_gv_get(rb_id2name(SYM2ID(name)));
}

static VALUE member_value(VALUE st, VALUE name, VALUE *err)
{
    return send_protected(st, "[]", 1, &name, err);
}

/* The names, each with its value (or "#<error>" when getting it raised),
 * names[first, end) into m; self (when not Qundef) counts as the first. */
static int named_page(struct pt_msg *m, VALUE names, VALUE owner, value_fn get, VALUE self,
                      uint32_t start, uint32_t count)
{
    long extra = self == Qundef ? 0 : 1, i;
    struct page p = page_of(RARRAY_LEN(names) + extra, start, count);
    int r = 0;

    m->u.vars_rep.total = (uint64_t)(RARRAY_LEN(names) + extra);
    for (i = p.first; i < p.end && r == 0; i++) {
        VALUE err = Qnil, name, v;

        if (extra && i == 0) {
            r = push(m, "self", self);
            continue;
        }
        name = RARRAY_AREF(names, i - extra);
        v = get(owner, name, &err);
        if (!NIL_P(err))
            v = err;
        r = push_str(m, rb_sym2str(name), v);
    }
    return r;
}

static VALUE names_of(VALUE obj, const char *meth, VALUE *err)
{
    VALUE names = send_protected(obj, meth, 0, NULL, err);

    if (NIL_P(*err) && !RB_TYPE_P(names, T_ARRAY))
        return rb_ary_new();
    return names;
}

static int array_page(struct pt_msg *m, VALUE ary, uint32_t start, uint32_t count)
{
    struct page p = page_of(RARRAY_LEN(ary), start, count);
    char name[32];
    long i;
    int r = 0;

    m->u.vars_rep.total = (uint64_t)RARRAY_LEN(ary);
    for (i = p.first; i < p.end && r == 0 && i < RARRAY_LEN(ary); i++) {
        snprintf(name, sizeof name, "[%ld]", i);
        r = push(m, name, RARRAY_AREF(ary, i));
    }
    return r;
}

/* Hash pairs by index: named by the key's #inspect. */
static int hash_page(struct pt_msg *m, VALUE hash, uint32_t start, uint32_t count, VALUE *err)
{
    VALUE keys = send_protected(hash, "keys", 0, NULL, err);
    struct page p;
    long i;
    int r = 0;

    if (!NIL_P(*err) || !RB_TYPE_P(keys, T_ARRAY))
        return NIL_P(*err) ? 0 : -EINVAL;
    p = page_of(RARRAY_LEN(keys), start, count);
    m->u.vars_rep.total = (uint64_t)RARRAY_LEN(keys);
    for (i = p.first; i < p.end && r == 0; i++) {
        VALUE key = RARRAY_AREF(keys, i), kerr;
        VALUE ktext = send_protected(key, "inspect", 0, NULL, &kerr);
        struct pt_proto_var *var;

        if (!RB_TYPE_P(ktext, T_STRING))
            ktext = rb_str_new_cstr("?");
        var = pt_proto_vars_push(&m->u.vars_rep.vars, &m->u.vars_rep.nvars);
        r = var ? describe(var, RSTRING_PTR(ktext), (size_t)RSTRING_LEN(ktext),
                           rb_hash_lookup(hash, key))
                : -ENOMEM;
    }
    RB_GC_GUARD(keys);
    return r;
}

static int children_page(struct pt_msg *m, VALUE obj, uint32_t start, uint32_t count, VALUE *err)
{
    *err = Qnil;
    if (!RB_SPECIAL_CONST_P(obj) && BUILTIN_TYPE(obj) == T_ARRAY)
        return array_page(m, obj, start, count);
    if (!RB_SPECIAL_CONST_P(obj) && BUILTIN_TYPE(obj) == T_HASH)
        return hash_page(m, obj, start, count, err);
    if (!RB_SPECIAL_CONST_P(obj) && BUILTIN_TYPE(obj) == T_STRUCT)
        return named_page(m, rb_struct_members(obj), obj, member_value, Qundef, start, count);
    return named_page(m, rb_obj_instance_variables(obj), obj, ivar_value, Qundef, start, count);
}

/* ---- requests ------------------------------------------------------------ */

static VALUE receiver_of(VALUE binding, VALUE *err)
{
    return send_protected(binding, "receiver", 0, NULL, err);
}

/* The globals worth showing: every one but $= (reading it only warns). */
static VALUE global_names(void)
{
    VALUE all = rb_f_global_variables(), out = rb_ary_new_capa(RARRAY_LEN(all));
    long i;

    for (i = 0; i < RARRAY_LEN(all); i++)
        if (strcmp(rb_id2name(SYM2ID(RARRAY_AREF(all, i))), "$=") != 0)
            rb_ary_push(out, RARRAY_AREF(all, i));
    return out;
}

/* Fills m (a VARS reply) for req; <0 with *why set for an ERROR. */
static int fill_vars(const struct pt_proto_req_vars *req, VALUE binding, struct pt_msg *m,
                     const char **why, VALUE *err)
{
    const char *scope = req->scope;
    VALUE obj;

    *err = Qnil;
    if (!*scope) {
        if (unhandle(req->ref, &obj) < 0) {
            *why = "no such variables reference (references last until the program resumes)";
            return -ENOENT;
        }
        return children_page(m, obj, req->start, req->count, err);
    }
    if (!strcmp(scope, "locals")) {
        VALUE names = names_of(binding, "local_variables", err), self;

        if (!NIL_P(*err))
            return -EINVAL;
        self = receiver_of(binding, err);
        if (!NIL_P(*err))
            return -EINVAL;
        return named_page(m, names, binding, local_value, self, req->start, req->count);
    }
    if (!strcmp(scope, "ivars")) {
        obj = receiver_of(binding, err);
        if (!NIL_P(*err))
            return -EINVAL;
        return named_page(m, rb_obj_instance_variables(obj), obj, ivar_value, Qundef,
                          req->start, req->count);
    }
    if (!strcmp(scope, "globals"))
        return named_page(m, global_names(), Qnil, global_value, Qundef, req->start, req->count);
    if (!strcmp(scope, "eval")) {
        obj = pt_eval_value(binding, req->expr ? req->expr : "", err);
        if (!NIL_P(*err))
            return -EINVAL;
        m->u.vars_rep.total = 1;
        return push(m, req->expr ? req->expr : "", obj);
    }
    *why = "scope is locals, ivars, globals, eval, or empty with a ref";
    return -EINVAL;
}

/* The binding of a request's frame; Qnil with an ERROR sent. */
static VALUE frame_binding(uint32_t id, uint64_t fiber, uint32_t frame, VALUE stopped)
{
    const char *why = NULL;
    VALUE b;

    if (fiber && pt_fib_lookup(fiber) != stopped) {
        pt_tr_send_error(id, PT_PROTO_ERR_EVAL,
                         "fiber %llu is not the stopped fiber: only the stopped fiber's frames can be looked into",
                         (unsigned long long)fiber);
        return Qnil;
    }
    b = pt_stop_binding(frame, &why);
    if (NIL_P(b))
        pt_tr_send_error(id, PT_PROTO_ERR_EVAL, "frame %u: %s", frame, why);
    return b;
}

static int send_failure(uint32_t id, int r, const char *why, VALUE err)
{
    char *msg;

    if (!NIL_P(err)) {
        msg = pt_tr_exc_message(err);
        r = pt_tr_send_error(id, PT_PROTO_ERR_EVAL, "%s", msg ? msg : "an exception");
        free(msg);
        return r;
    }
    if (r == -ENOMEM)
        return pt_tr_send_error(id, PT_PROTO_ERR_INTERNAL, "out of memory");
    return pt_tr_send_error(id, PT_PROTO_ERR_BAD_REQUEST, "%s", why ? why : "bad request");
}

int pt_vars_reply(const struct pt_msg *req, VALUE stopped)
{
    const struct pt_proto_req_vars *v = &req->u.vars;
    const char *why = NULL;
    struct pt_msg m;
    VALUE err = Qnil, b = Qnil;
    int r;

    /* A ref names its object whatever the frame; scopes need the frame. */
    if (*v->scope && NIL_P(b = frame_binding(req->id, v->fiber, v->frame, stopped)))
        return 0;
    pt_msg_init(&m, PT_REP_VARS, req->id);
    r = fill_vars(v, b, &m, &why, &err);
    if (r < 0) {
        pt_msg_free(&m);
        return send_failure(req->id, r, why, err);
    }
    return pt_tr_send(&m);
}

/* ---- assignment ---------------------------------------------------------- */

/* Hash key whose #inspect is name, or Qundef. */
static VALUE key_named(VALUE hash, const char *name, VALUE *err)
{
    VALUE keys = send_protected(hash, "keys", 0, NULL, err);
    long i;

    for (i = 0; NIL_P(*err) && RB_TYPE_P(keys, T_ARRAY) && i < RARRAY_LEN(keys); i++) {
        VALUE kerr, text = send_protected(RARRAY_AREF(keys, i), "inspect", 0, NULL, &kerr);
        if (RB_TYPE_P(text, T_STRING) && strcmp(StringValueCStr(text), name) == 0)
            return RARRAY_AREF(keys, i);
    }
    return Qundef;
}

/* obj's child name = value; 0, or <0 with *why / *err. */
static int assign_child(VALUE obj, const char *name, VALUE value, const char **why, VALUE *err)
{
    VALUE args[2];

    *err = Qnil;
    if (!RB_SPECIAL_CONST_P(obj) && BUILTIN_TYPE(obj) == T_ARRAY) {
        char *end;
        long i = name[0] == '[' ? strtol(name + 1, &end, 10) : -1;
        if (i < 0 || *end != ']') {
            *why = "an array element is named [INDEX]";
            return -EINVAL;
        }
        args[0] = LONG2NUM(i);
    } else if (!RB_SPECIAL_CONST_P(obj) && BUILTIN_TYPE(obj) == T_HASH) {
        args[0] = key_named(obj, name, err);
        if (!NIL_P(*err))
            return -EINVAL;
        if (args[0] == Qundef) {
            *why = "no such key (name it as the variables view shows it)";
            return -ENOENT;
        }
    } else if (!RB_SPECIAL_CONST_P(obj) && BUILTIN_TYPE(obj) == T_STRUCT) {
        args[0] = ID2SYM(rb_intern(name));
    } else {
        args[0] = ID2SYM(rb_intern(name));
        args[1] = value;
        send_protected(obj, "instance_variable_set", 2, args, err);
        return NIL_P(*err) ? 0 : -EINVAL;
    }
    args[1] = value;
    send_protected(obj, "[]=", 2, args, err);
    return NIL_P(*err) ? 0 : -EINVAL;
}

static VALUE do_gv_set(VALUE args)
{
    VALUE name = RARRAY_AREF(args, 0);

    return rb_gv_set(StringValueCStr(name), RARRAY_AREF(args, 1));
}

int pt_vars_set_reply(const struct pt_msg *req, VALUE stopped)
{
    const struct pt_proto_req_setvar *s = &req->u.setvar;
    const char *why = NULL;
    struct pt_msg m;
    VALUE b, value, err = Qnil, obj, args[2];
    int r = 0;

    if (NIL_P(b = frame_binding(req->id, s->fiber, s->frame, stopped)))
        return 0;
    value = pt_eval_value(b, s->expr, &err);
    if (!NIL_P(err))
        return send_failure(req->id, -EINVAL, NULL, err);
    args[0] = ID2SYM(rb_intern(s->name));
    args[1] = value;
    if (!*s->scope) {
        if (unhandle(s->ref, &obj) < 0) {
            why = "no such variables reference (references last until the program resumes)";
            r = -ENOENT;
        } else {
            r = assign_child(obj, s->name, value, &why, &err);
        }
    } else if (!strcmp(s->scope, "locals")) {
        if (!strcmp(s->name, "self")) {
            why = "self cannot be assigned";
            r = -EINVAL;
        } else {
            send_protected(b, "local_variable_set", 2, args, &err);
        }
    } else if (!strcmp(s->scope, "ivars")) {
        obj = receiver_of(b, &err);
        if (NIL_P(err))
            send_protected(obj, "instance_variable_set", 2, args, &err);
    } else if (!strcmp(s->scope, "globals")) {
        VALUE pair = rb_ary_new_from_args(2, rb_str_new_cstr(s->name), value);
        pt_tr_protect_call(do_gv_set, pair, &err);
    } else {
        why = "scope is locals, ivars, globals, or empty with a ref";
        r = -EINVAL;
    }
    if (r < 0 || !NIL_P(err))
        return send_failure(req->id, r < 0 ? r : -EINVAL, why, err);
    pt_msg_init(&m, PT_REP_VARS, req->id);
    m.u.vars_rep.total = 1;
    if ((r = push(&m, s->name, value)) < 0) {
        pt_msg_free(&m);
        return send_failure(req->id, r, NULL, Qnil);
    }
    return pt_tr_send(&m);
}
