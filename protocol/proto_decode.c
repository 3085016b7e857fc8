/* proto_decode.c — a parsed msgpack object -> struct pt_msg, checked against
 * the catalog: the top level must be a map with a known "type", requests and
 * replies need a nonzero uint32 "id", every non-nullable field must be present
 * with the right type; unknown keys are ignored. Also pt_msg_decode(), the
 * one-shot decoder for a buffer holding exactly one message. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "proto_catalog.h"
#include "proto_decode.h"
#include "proto_scan.h"

static const msgpack_object *map_get(const msgpack_object *map, const char *key)
{
    size_t klen = strlen(key);
    const msgpack_object_map *m = &map->via.map;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            memcmp(k->via.str.ptr, key, klen) == 0)
            return &m->ptr[i].val;
    }
    return NULL;
}

static bool as_u64(const msgpack_object *o, uint64_t max, uint64_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
        return false;
    *out = o->via.u64;
    return true;
}

static bool as_i64(const msgpack_object *o, int64_t min, int64_t max, int64_t *out)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= (uint64_t)max) {
        *out = (int64_t)o->via.u64;
        return true;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && o->via.i64 >= min) {
        *out = o->via.i64;
        return true;
    }
    return false;
}

/* Copy a str or bin object into a fresh NUL-terminated string. */
static int copy_str(const msgpack_object *o, char **out, size_t *len)
{
    const char *p;
    size_t n;
    if (o->type == MSGPACK_OBJECT_STR) {
        p = o->via.str.ptr;
        n = o->via.str.size;
    } else if (o->type == MSGPACK_OBJECT_BIN) {
        p = o->via.bin.ptr;
        n = o->via.bin.size;
    } else {
        return PT_PROTO_E_BADMSG;
    }
    char *s = malloc(n + 1);
    if (!s)
        return -ENOMEM;
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    *out = s;
    if (len)
        *len = n;
    return 0;
}

static int decode_rec(const struct pt_proto_rec *rec, const msgpack_object *map,
                      void *p, bool lenient);

static int decode_value(const struct pt_proto_field *f, const msgpack_object *o,
                        char *base)
{
    void *at = base + f->off;
    uint64_t u;
    int64_t i;
    switch (f->kind) {
    case PT_FK_U32:
        if (!as_u64(o, UINT32_MAX, &u))
            return PT_PROTO_E_BADMSG;
        *(uint32_t *)at = (uint32_t)u;
        return 0;
    case PT_FK_U64:
        if (!as_u64(o, UINT64_MAX, &u))
            return PT_PROTO_E_BADMSG;
        *(uint64_t *)at = u;
        return 0;
    case PT_FK_I32:
        if (!as_i64(o, INT32_MIN, INT32_MAX, &i))
            return PT_PROTO_E_BADMSG;
        *(int32_t *)at = (int32_t)i;
        return 0;
    case PT_FK_I64:
        if (!as_i64(o, INT64_MIN, INT64_MAX, &i))
            return PT_PROTO_E_BADMSG;
        *(int64_t *)at = i;
        return 0;
    case PT_FK_DBL:
        if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
            *(double *)at = o->via.f64;
        else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            *(double *)at = (double)o->via.u64;
        else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            *(double *)at = (double)o->via.i64;
        else
            return PT_PROTO_E_BADMSG;
        return 0;
    case PT_FK_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return PT_PROTO_E_BADMSG;
        *(bool *)at = o->via.boolean;
        return 0;
    case PT_FK_NSTR:
        if (o->type == MSGPACK_OBJECT_NIL)
            return 0;
        /* fall through */
    case PT_FK_STR:
        return copy_str(o, (char **)at, NULL);
    case PT_FK_TEXT:
        return copy_str(o, (char **)at, (size_t *)(base + f->count_off));
    case PT_FK_STRV: {
        if (o->type != MSGPACK_OBJECT_ARRAY)
            return PT_PROTO_E_BADMSG;
        uint32_t n = o->via.array.size;
        if (n == 0)
            return 0;
        for (uint32_t k = 0; k < n; k++)
            if (o->via.array.ptr[k].type != MSGPACK_OBJECT_STR &&
                o->via.array.ptr[k].type != MSGPACK_OBJECT_BIN)
                return PT_PROTO_E_BADMSG;
        char **v = calloc(n, sizeof *v);
        if (!v)
            return -ENOMEM;
        *(char ***)at = v;
        for (uint32_t k = 0; k < n; k++) {
            int rc = copy_str(&o->via.array.ptr[k], &v[k], NULL);
            if (rc < 0)
                return rc;            /* caller frees: count covers v[k] */
            *(size_t *)(base + f->count_off) = k + 1;
        }
        return 0;
    }
    case PT_FK_REC:
        if (o->type != MSGPACK_OBJECT_MAP)
            return PT_PROTO_E_BADMSG;
        return decode_rec(f->rec, o, at, false);
    case PT_FK_RECV: {
        if (o->type != MSGPACK_OBJECT_ARRAY)
            return PT_PROTO_E_BADMSG;
        uint32_t n = o->via.array.size;
        if (n == 0)
            return 0;
        /* Grow by doubling rather than allocating n records at once: n is
         * bounded only by the message size, and a long array of tiny invalid
         * maps must fail at its first element, not after a huge calloc. */
        size_t cap = 0, size = f->rec->size;
        for (uint32_t k = 0; k < n; k++) {
            if (o->via.array.ptr[k].type != MSGPACK_OBJECT_MAP)
                return PT_PROTO_E_BADMSG;
            char *v = *(char **)at;
            if (k == cap) {
                size_t ncap = cap ? cap * 2 : 4;
                if (ncap > n)
                    ncap = n;
                char *grown = realloc(v, ncap * size);
                if (!grown)
                    return -ENOMEM;
                *(char **)at = v = grown;
                cap = ncap;
            }
            memset(v + (size_t)k * size, 0, size);
            *(size_t *)(base + f->count_off) = k + 1;
            int rc = decode_rec(f->rec, &o->via.array.ptr[k],
                                v + (size_t)k * size, false);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    }
    return PT_PROTO_E_BADMSG;
}

/* Fill the record at p from map. On error the record may be partly filled;
 * the caller frees it with pt_proto_rec_free. lenient: skip missing or bad
 * fields instead of failing (a HELLO of another version). */
static int decode_rec(const struct pt_proto_rec *rec, const msgpack_object *map,
                      void *p, bool lenient)
{
    for (size_t k = 0; k < rec->nfields; k++) {
        const struct pt_proto_field *f = &rec->fields[k];
        const msgpack_object *v = map_get(map, f->key);
        int rc;
        if (!v)
            rc = f->kind == PT_FK_NSTR || f->optional ? 0 : PT_PROTO_E_BADMSG;
        else
            rc = decode_value(f, v, p);
        if (rc == -ENOMEM)
            return rc;
        if (rc < 0 && !lenient)
            return rc;
        if (rc < 0 && (f->kind == PT_FK_STRV || f->kind == PT_FK_STR)) {
            /* drop a half-decoded field; a required string becomes "" */
            const struct pt_proto_rec one = { rec->size, f, 1 };
            pt_proto_rec_free(&one, p);
            *(char **)((char *)p + f->off) = NULL;
            if (f->kind == PT_FK_STRV)
                *(size_t *)((char *)p + f->count_off) = 0;
        }
        if (f->kind == PT_FK_STR && !*(char **)((char *)p + f->off) &&
            pt_proto_set_str((char **)((char *)p + f->off), "") < 0)
            return -ENOMEM;
    }
    return 0;
}

int pt_proto_msg_from_object(const msgpack_object *obj, struct pt_msg *out)
{
    memset(out, 0, sizeof *out);
    if (obj->type != MSGPACK_OBJECT_MAP)
        return PT_PROTO_E_BADMSG;

    uint64_t id = 0, type = 0;
    const msgpack_object *o = map_get(obj, "id");
    if (o && !as_u64(o, UINT32_MAX, &id))
        return PT_PROTO_E_BADMSG;
    out->id = (uint32_t)id;          /* kept on error so a reply can name it */

    o = map_get(obj, "type");
    if (!o || !as_u64(o, UINT32_MAX, &type))
        return PT_PROTO_E_BADMSG;
    const struct pt_proto_msgdesc *d = pt_proto_msgdesc((enum pt_msg_type)type);
    if (!d)
        return PT_PROTO_E_UNKNOWN_TYPE;

    if (d->kind == PT_KIND_REQUEST || d->kind == PT_KIND_REPLY) {
        if (id == 0 && d->type != PT_REP_ERROR)
            return PT_PROTO_E_BADMSG;
    } else {
        out->id = 0;                 /* HELLO and events carry no id */
    }

    bool lenient = false;
    if (d->type == PT_MSG_HELLO) {
        o = map_get(obj, "version");
        if (!o || !as_u64(o, UINT32_MAX, &id))
            return PT_PROTO_E_BADMSG;
        lenient = id != PT_PROTO_VERSION;
    }

    out->type = d->type;
    int rc = d->payload ? decode_rec(d->payload, obj, &out->u, lenient) : 0;
    if (rc < 0) {
        uint32_t keep = out->id;
        pt_msg_free(out);
        out->id = keep;
    }
    return rc;
}

int pt_msg_decode(const void *buf, size_t len, struct pt_msg *out)
{
    memset(out, 0, sizeof *out);
    if (!buf && len)
        return -EINVAL;
    struct pt_proto_scan scan;
    pt_proto_scan_init(&scan, PT_PROTO_MAX_MSG, PT_PROTO_MAX_DEPTH);
    int rc = pt_proto_scan_step(&scan, buf, len);
    if (rc == 0)
        return PT_PROTO_E_TRUNCATED;
    if (rc < 0)
        return rc;
    if (scan.pos != len)
        return PT_PROTO_E_MALFORMED;

    msgpack_unpacked res;
    msgpack_unpacked_init(&res);
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(&res, buf, len, &off);
    if (ur == MSGPACK_UNPACK_SUCCESS)
        rc = pt_proto_msg_from_object(&res.data, out);
    else
        rc = ur == MSGPACK_UNPACK_NOMEM_ERROR ? -ENOMEM : PT_PROTO_E_MALFORMED;
    msgpack_unpacked_destroy(&res);
    return rc;
}
