/* proto_msg.c — life of a struct pt_msg in memory: initialising, freeing
 * (through the catalog's field tables), the small setters and array pushes
 * that let callers build messages without hand-filling allocations, and the
 * ready-made HELLO and ERROR messages of the handshake. */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto_catalog.h"

void pt_msg_init(struct pt_msg *m, enum pt_msg_type type, uint32_t id)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->id = id;
}

void pt_msg_free(struct pt_msg *m)
{
    if (!m)
        return;
    const struct pt_proto_msgdesc *d = pt_proto_msgdesc(m->type);
    if (d && d->payload)
        pt_proto_rec_free(d->payload, &m->u);
    memset(m, 0, sizeof *m);
}

int pt_proto_set_strn(char **dst, const char *s, size_t len)
{
    char *copy = NULL;
    if (s) {
        copy = malloc(len + 1);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    free(*dst);
    *dst = copy;
    return 0;
}

int pt_proto_set_str(char **dst, const char *s)
{
    return pt_proto_set_strn(dst, s, s ? strlen(s) : 0);
}

/* Grow an array by one zeroed element of size elem; NULL on overflow or
 * out of memory (the array is then unchanged). The array grows
 * geometrically, so building a reply of n fibers costs O(n), not n
 * reallocations; the block's usable size says how many elements fit, so an
 * array allocated elsewhere at its exact size (the decoder's) is grown the
 * same way. */
static void *array_push(void **v, size_t *n, size_t elem)
{
    if (*n >= SIZE_MAX / elem / 2 - 1)
        return NULL;
    char *grown = *v;
    if (!grown || malloc_usable_size(grown) < (*n + 1) * elem) {
        size_t cap = *n < 4 ? 4 : *n * 2;
        grown = realloc(*v, cap * elem);
        if (!grown)
            return NULL;
        *v = grown;
    }
    memset(grown + *n * elem, 0, elem);
    return grown + (*n)++ * elem;
}

int pt_proto_strv_push(char ***v, size_t *n, const char *s)
{
    char *copy = NULL;
    if (pt_proto_set_str(&copy, s ? s : "") < 0)
        return -ENOMEM;
    void *arr = *v;
    char **slot = array_push(&arr, n, sizeof(char *));
    *v = arr;
    if (!slot) {
        free(copy);
        return -ENOMEM;
    }
    *slot = copy;
    return 0;
}

struct pt_proto_fiber *pt_proto_fibers_push(struct pt_proto_fiber **v, size_t *n)
{
    void *arr = *v;
    struct pt_proto_fiber *f = array_push(&arr, n, sizeof **v);
    *v = arr;
    if (f) {
        f->wait_fd = -1;
        f->wait_timeout = -1;
    }
    return f;
}

struct pt_proto_frame *pt_proto_frames_push(struct pt_proto_frame **v, size_t *n)
{
    void *arr = *v;
    struct pt_proto_frame *f = array_push(&arr, n, sizeof **v);
    *v = arr;
    return f;
}

struct pt_proto_bp *pt_proto_bps_push(struct pt_proto_bp **v, size_t *n)
{
    void *arr = *v;
    struct pt_proto_bp *b = array_push(&arr, n, sizeof **v);
    *v = arr;
    return b;
}

struct pt_proto_var *pt_proto_vars_push(struct pt_proto_var **v, size_t *n)
{
    void *arr = *v;
    struct pt_proto_var *e = array_push(&arr, n, sizeof **v);
    *v = arr;
    return e;
}

struct pt_proto_watch *pt_proto_watches_push(struct pt_proto_watch **v, size_t *n)
{
    void *arr = *v;
    struct pt_proto_watch *w = array_push(&arr, n, sizeof **v);
    *v = arr;
    return w;
}

struct pt_proto_thread *pt_proto_threads_push(struct pt_proto_thread **v, size_t *n)
{
    void *arr = *v;
    struct pt_proto_thread *t = array_push(&arr, n, sizeof **v);
    *v = arr;
    return t;
}

struct pt_proto_thread_stats *pt_proto_thread_stats_push(struct pt_proto_thread_stats **v, size_t *n)
{
    void *arr = *v;
    struct pt_proto_thread_stats *e = array_push(&arr, n, sizeof **v);
    *v = arr;
    return e;
}

struct pt_proto_dump_fiber *pt_proto_dump_push(struct pt_proto_dump_fiber **v,
                                               size_t *n)
{
    void *arr = *v;
    struct pt_proto_dump_fiber *d = array_push(&arr, n, sizeof **v);
    *v = arr;
    if (d) {
        d->info.wait_fd = -1;
        d->info.wait_timeout = -1;
    }
    return d;
}

int pt_proto_make_error(struct pt_msg *m, uint32_t id, int code,
                        const char *fmt, ...)
{
    pt_msg_free(m);
    pt_msg_init(m, PT_REP_ERROR, id);
    m->u.error.code = code;
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    int len = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (len < 0) {
        pt_msg_free(m);
        return -ENOMEM;
    }
    m->u.error.message = text;
    return 0;
}

int pt_proto_make_hello(struct pt_msg *m, int64_t pid, const char *ruby_version,
                        const char *backend, const char *program,
                        const char *const *argv, size_t argc, bool attached)
{
    pt_msg_init(m, PT_MSG_HELLO, 0);
    struct pt_proto_hello *h = &m->u.hello;
    h->version = PT_PROTO_VERSION;
    h->pid = pid;
    h->attached = attached;
    if (pt_proto_set_str(&h->ruby_version, ruby_version ? ruby_version : "") < 0 ||
        pt_proto_set_str(&h->backend, backend ? backend : "") < 0 ||
        pt_proto_set_str(&h->program, program ? program : "") < 0)
        goto nomem;
    for (size_t i = 0; i < argc; i++)
        if (pt_proto_strv_push(&h->argv, &h->argc, argv ? argv[i] : "") < 0)
            goto nomem;
    return 0;
nomem:
    pt_msg_free(m);
    return -ENOMEM;
}

int pt_proto_check_hello(const struct pt_msg *peer, struct pt_msg *reply)
{
    if (!peer || peer->type != PT_MSG_HELLO)
        return PT_PROTO_E_BADMSG;
    if (peer->u.hello.version == PT_PROTO_VERSION)
        return 0;
    if (reply)
        pt_msg_init(reply, PT_MSG_NONE, 0);  /* may be uninitialised memory */
    if (reply &&
        pt_proto_make_error(reply, 0, PT_PROTO_ERR_VERSION,
                            "protocol version mismatch: peer speaks version %u, "
                            "this side speaks version %u",
                            (unsigned)peer->u.hello.version,
                            (unsigned)PT_PROTO_VERSION) < 0)
        return -ENOMEM;
    return PT_PROTO_E_VERSION;
}
