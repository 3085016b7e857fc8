/* proto_encode.c — struct pt_msg -> msgpack bytes. A message is one map:
 * "type", then "id" for requests and replies, then the payload's fields in
 * catalog order. Records nest as maps, arrays as msgpack arrays. The encoder
 * refuses what a peer would reject (unknown type, missing id, over-size). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "proto_catalog.h"

/* msgpack_pack_* return -1 only when the sbuffer cannot grow. */
#define PACKED(call) ((call) == 0 ? 0 : -ENOMEM)

static int pack_str(msgpack_packer *pk, const char *s, size_t len)
{
    if (len > UINT32_MAX)
        return -EINVAL;
    if (msgpack_pack_str(pk, len) != 0)
        return -ENOMEM;
    return len ? PACKED(msgpack_pack_str_body(pk, s, len)) : 0;
}

int pt_proto_pack_cstr(msgpack_packer *pk, const char *s)
{
    return s ? pack_str(pk, s, strlen(s)) : pack_str(pk, "", 0);
}

static int pack_rec(msgpack_packer *pk, const struct pt_proto_rec *rec,
                    const void *p);

static int pack_value(msgpack_packer *pk, const struct pt_proto_field *f,
                      const char *base)
{
    const void *at = base + f->off;
    switch (f->kind) {
    case PT_FK_U32:  return PACKED(msgpack_pack_uint32(pk, *(const uint32_t *)at));
    case PT_FK_U64:  return PACKED(msgpack_pack_uint64(pk, *(const uint64_t *)at));
    case PT_FK_I32:  return PACKED(msgpack_pack_int32(pk, *(const int32_t *)at));
    case PT_FK_I64:  return PACKED(msgpack_pack_int64(pk, *(const int64_t *)at));
    case PT_FK_DBL:  return PACKED(msgpack_pack_double(pk, *(const double *)at));
    case PT_FK_BOOL:
        return PACKED(*(const bool *)at ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
    case PT_FK_STR:
        return pt_proto_pack_cstr(pk, *(char *const *)at);
    case PT_FK_NSTR: {
        const char *s = *(char *const *)at;
        return s ? pt_proto_pack_cstr(pk, s) : PACKED(msgpack_pack_nil(pk));
    }
    case PT_FK_TEXT: {
        const char *s = *(char *const *)at;
        size_t len = *(const size_t *)(base + f->count_off);
        if (!s && len)
            return -EINVAL;
        if (s && !len)
            len = strlen(s);
        return pack_str(pk, s, len);
    }
    case PT_FK_STRV: {
        char *const *v = *(char **const *)at;
        size_t n = *(const size_t *)(base + f->count_off);
        if ((!v && n) || n > UINT32_MAX)
            return -EINVAL;
        if (msgpack_pack_array(pk, n) != 0)
            return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
            int rc = pt_proto_pack_cstr(pk, v[i]);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    case PT_FK_REC:
        return pack_rec(pk, f->rec, at);
    case PT_FK_RECV: {
        const char *v = *(const char *const *)at;
        size_t n = *(const size_t *)(base + f->count_off);
        if ((!v && n) || n > UINT32_MAX)
            return -EINVAL;
        if (msgpack_pack_array(pk, n) != 0)
            return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
            int rc = pack_rec(pk, f->rec, v + i * f->rec->size);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    }
    return -EINVAL;
}

static int pack_fields(msgpack_packer *pk, const struct pt_proto_rec *rec,
                       const void *p)
{
    for (size_t i = 0; i < rec->nfields; i++) {
        int rc = pt_proto_pack_cstr(pk, rec->fields[i].key);
        if (rc == 0)
            rc = pack_value(pk, &rec->fields[i], p);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int pack_rec(msgpack_packer *pk, const struct pt_proto_rec *rec,
                    const void *p)
{
    if (msgpack_pack_map(pk, rec->nfields) != 0)
        return -ENOMEM;
    return pack_fields(pk, rec, p);
}

static int pack_msg(msgpack_packer *pk, const struct pt_msg *m,
                    const struct pt_proto_msgdesc *d, bool with_id)
{
    size_t n = 1 + (with_id ? 1 : 0) + (d->payload ? d->payload->nfields : 0);
    if (msgpack_pack_map(pk, n) != 0)
        return -ENOMEM;
    int rc = pt_proto_pack_cstr(pk, "type");
    if (rc == 0)
        rc = PACKED(msgpack_pack_uint32(pk, (uint32_t)m->type));
    if (rc == 0 && with_id) {
        rc = pt_proto_pack_cstr(pk, "id");
        if (rc == 0)
            rc = PACKED(msgpack_pack_uint32(pk, m->id));
    }
    if (rc == 0 && d->payload)
        rc = pack_fields(pk, d->payload, &m->u);
    return rc;
}

int pt_msg_encode(const struct pt_msg *m, msgpack_sbuffer *out)
{
    if (!m || !out)
        return -EINVAL;
    const struct pt_proto_msgdesc *d = pt_proto_msgdesc(m->type);
    if (!d)
        return -EINVAL;
    bool with_id = d->kind == PT_KIND_REQUEST || d->kind == PT_KIND_REPLY;
    if (with_id && m->id == 0 && m->type != PT_REP_ERROR)
        return -EINVAL;

    size_t start = out->size;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    int rc = pack_msg(&pk, m, d, with_id);
    if (rc == 0 && out->size - start > PT_PROTO_MAX_MSG)
        rc = -EMSGSIZE;
    if (rc < 0)
        out->size = start;   /* leave the buffer as it was */
    return rc;
}

int pt_msg_encode_alloc(const struct pt_msg *m, char **buf, size_t *len)
{
    if (!buf || !len)
        return -EINVAL;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int rc = pt_msg_encode(m, &sb);
    if (rc < 0) {
        msgpack_sbuffer_destroy(&sb);
        return rc;
    }
    *len = sb.size;
    *buf = msgpack_sbuffer_release(&sb);
    if (!*buf) {
        /* An empty sbuffer has no data pointer; never happens for a map. */
        *buf = malloc(1);
        if (!*buf)
            return -ENOMEM;
    }
    return 0;
}
