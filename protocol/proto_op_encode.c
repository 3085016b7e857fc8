/* proto_op_encode.c — the OP event's encoder for a stream of them: the same
 * bytes as pt_msg_encode, most of them copied from the encoded start of an
 * earlier event with the same phase and op (pt_proto.h, pt_op_encode).
 *
 * An OP event is the map {type, phase, op, fiber, fd, len, result} in the
 * catalog's order. Everything up to the fiber's value depends on phase and op
 * only: that "head" is packed once per pair into the encoder's table; each
 * event then appends the head and packs its four numbers behind it. */
#include <errno.h>
#include <string.h>
#include "proto_catalog.h"

/* msgpack-c writing into a fixed array: -1 when it is full. */
struct fixed {
    char *p;
    size_t len, cap;
};

static int fixed_write(void *data, const char *buf, size_t len)
{
    struct fixed *f = data;

    if (f->cap - f->len < len)
        return -1;
    memcpy(f->p + f->len, buf, len);
    f->len += len;
    return 0;
}

/* s as a msgpack string, noting where its text lies in f. */
static int pack_str_at(msgpack_packer *pk, struct fixed *f, const char *s, size_t *at, size_t *len)
{
    *len = strlen(s);
    if (msgpack_pack_str(pk, *len) != 0)
        return -1;
    *at = f->len;
    return *len ? msgpack_pack_str_body(pk, s, *len) : 0;
}

static int same(const struct pt_op_enc_head *h, size_t off, size_t len, const char *s)
{
    return memcmp(h->bytes + off, s, len) == 0 && s[len] == '\0';
}

static int build_head(struct pt_op_encoder *enc, unsigned i, const char *phase, const char *op)
{
    struct pt_op_enc_head *h = &enc->head[i];
    struct fixed f = { h->bytes, 0, sizeof h->bytes };
    const struct pt_proto_msgdesc *d = pt_proto_msgdesc(PT_EV_OP);
    msgpack_packer pk;

    h->len = 0;
    msgpack_packer_init(&pk, &f, fixed_write);
    if (msgpack_pack_map(&pk, 1 + d->payload->nfields) != 0 ||
        pt_proto_pack_cstr(&pk, "type") != 0 || msgpack_pack_uint32(&pk, PT_EV_OP) != 0 ||
        pt_proto_pack_cstr(&pk, "phase") != 0 ||
        pack_str_at(&pk, &f, phase, &h->phase_at, &h->phase_len) != 0 ||
        pt_proto_pack_cstr(&pk, "op") != 0 || pack_str_at(&pk, &f, op, &h->op_at, &h->op_len) != 0 ||
        pt_proto_pack_cstr(&pk, "fiber") != 0)
        return -1;      /* too long to keep */
    h->phase = phase;
    h->op = op;
    h->len = f.len;
    return 0;
}

/* The head for (phase, op): one remembered, else newly packed; NULL when
 * the strings are too long to keep one. */
static const struct pt_op_enc_head *find_head(struct pt_op_encoder *enc, const char *phase,
                                              const char *op)
{
    unsigned i;

    for (i = 0; i < PT_OP_ENC_HEADS; i++) {
        const struct pt_op_enc_head *h = &enc->head[i];
        if (h->len && h->op == op && h->phase == phase &&
            same(h, h->phase_at, h->phase_len, phase) && same(h, h->op_at, h->op_len, op))
            return h;
    }
    i = enc->next;
    enc->next = (enc->next + 1) % PT_OP_ENC_HEADS;
    return build_head(enc, i, phase, op) == 0 ? &enc->head[i] : NULL;
}

int pt_op_encode(struct pt_op_encoder *enc, const struct pt_proto_ev_op *op, msgpack_sbuffer *out)
{
    const char *phase, *name;
    const struct pt_op_enc_head *h;
    char tail[64];
    struct fixed f = { tail, 0, sizeof tail };
    msgpack_packer pk;
    size_t start;

    if (!enc || !op || !out)
        return -EINVAL;
    phase = op->phase ? op->phase : "";
    name = op->op ? op->op : "";
    h = find_head(enc, phase, name);
    if (!h) {
        struct pt_msg m;
        pt_msg_init(&m, PT_EV_OP, 0);
        m.u.op = *op;
        return pt_msg_encode(&m, out);      /* borrowed strings: not freed */
    }
    /* Packed first, so that a failure leaves out as it was. */
    msgpack_packer_init(&pk, &f, fixed_write);
    if (msgpack_pack_uint64(&pk, op->fiber) != 0 ||
        pt_proto_pack_cstr(&pk, "fd") != 0 || msgpack_pack_int32(&pk, op->fd) != 0 ||
        pt_proto_pack_cstr(&pk, "len") != 0 || msgpack_pack_int64(&pk, op->len) != 0 ||
        pt_proto_pack_cstr(&pk, "result") != 0 || msgpack_pack_int64(&pk, op->result) != 0)
        return -EINVAL;     /* cannot happen: tail holds the longest */
    start = out->size;
    if (msgpack_sbuffer_write(out, h->bytes, h->len) != 0 ||
        msgpack_sbuffer_write(out, tail, f.len) != 0) {
        out->size = start;
        return -ENOMEM;
    }
    return 0;
}
