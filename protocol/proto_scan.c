/* proto_scan.c — the bounded header scanner (see proto_scan.h).
 *
 * Why: msgpack_unpacker allocates a container's claimed element count as soon
 * as it parses the header, so a 5-byte array32 claiming 4 billion elements
 * would cost gigabytes. Here every claim is checked against what could still
 * fit in the message size limit (each element takes at least one byte), the
 * nesting depth is bounded, and the total object count is bounded (each costs
 * msgpack-c a msgpack_object), all before msgpack-c sees the message. The
 * scan is resumable, so a large message arriving in pieces is walked once. */
#include "proto_scan.h"

void pt_proto_scan_init(struct pt_proto_scan *s, size_t max_msg,
                        unsigned max_depth)
{
    s->max_msg = max_msg;
    s->max_depth = max_depth;
    /* A legitimate message spends well over 4 bytes per object on average;
     * this bounds msgpack-c's object memory to a few times max_msg. */
    s->max_items = max_msg / 4 + 16;
    pt_proto_scan_reset(s);
}

void pt_proto_scan_reset(struct pt_proto_scan *s)
{
    s->pos = 0;
    s->depth = 1;
    s->items = 0;
    s->left[0] = 1;
}

static uint64_t be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* One header at p (avail bytes from p). Sets *hdr (header bytes), *body
 * (payload bytes that follow), *count (elements if a container, else 0) and
 * *container. 0: done; 1: header incomplete; PT_PROTO_E_MALFORMED. */
static int header(const uint8_t *p, size_t avail, size_t *hdr, uint64_t *body,
                  uint64_t *count, int *container)
{
    uint8_t b = p[0];
    *hdr = 1;
    *body = 0;
    *count = 0;
    *container = 0;
    unsigned lenbytes = 0, extra = 0; /* length field size, ext type byte */
    int kind = 0;                     /* 0 scalar, 1 str/bin/ext, 2 array, 3 map */

    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 0;
    if (b <= 0x8f) {
        *container = 1;
        *count = 2u * (b & 0x0f);
        return 0;
    }
    if (b <= 0x9f) {
        *container = 1;
        *count = b & 0x0f;
        return 0;
    }
    if (b <= 0xbf) {
        *body = b & 0x1f;
        return 0;
    }
    switch (b) {
    case 0xc4: lenbytes = 1; kind = 1; break;              /* bin 8/16/32 */
    case 0xc5: lenbytes = 2; kind = 1; break;
    case 0xc6: lenbytes = 4; kind = 1; break;
    case 0xc7: lenbytes = 1; extra = 1; kind = 1; break;   /* ext 8/16/32 */
    case 0xc8: lenbytes = 2; extra = 1; kind = 1; break;
    case 0xc9: lenbytes = 4; extra = 1; kind = 1; break;
    case 0xca: *hdr = 5; return 0;                         /* float 32/64 */
    case 0xcb: *hdr = 9; return 0;
    case 0xcc: case 0xd0: *hdr = 2; return 0;              /* (u)int 8..64 */
    case 0xcd: case 0xd1: *hdr = 3; return 0;
    case 0xce: case 0xd2: *hdr = 5; return 0;
    case 0xcf: case 0xd3: *hdr = 9; return 0;
    case 0xd4: *hdr = 2; *body = 1; return 0;              /* fixext 1..16 */
    case 0xd5: *hdr = 2; *body = 2; return 0;
    case 0xd6: *hdr = 2; *body = 4; return 0;
    case 0xd7: *hdr = 2; *body = 8; return 0;
    case 0xd8: *hdr = 2; *body = 16; return 0;
    case 0xd9: lenbytes = 1; kind = 1; break;              /* str 8/16/32 */
    case 0xda: lenbytes = 2; kind = 1; break;
    case 0xdb: lenbytes = 4; kind = 1; break;
    case 0xdc: lenbytes = 2; kind = 2; break;              /* array 16/32 */
    case 0xdd: lenbytes = 4; kind = 2; break;
    case 0xde: lenbytes = 2; kind = 3; break;              /* map 16/32 */
    case 0xdf: lenbytes = 4; kind = 3; break;
    default:   return PT_PROTO_E_MALFORMED;                /* 0xc1 */
    }
    *hdr = 1 + lenbytes + extra;
    if (avail < 1 + lenbytes)
        return 1;
    uint64_t n = be(p + 1, lenbytes);
    if (kind == 1) {
        *body = n;
    } else {
        *container = 1;
        *count = kind == 3 ? 2 * n : n;
    }
    return 0;
}

int pt_proto_scan_step(struct pt_proto_scan *s, const uint8_t *msg, size_t avail)
{
    while (s->depth > 0) {
        if (s->left[s->depth - 1] == 0) {
            s->depth--;
            continue;
        }
        if (s->pos >= s->max_msg)
            return PT_PROTO_E_TOOBIG;
        if (s->pos >= avail)
            return 0;
        size_t hdr;
        uint64_t body, count;
        int container;
        int rc = header(msg + s->pos, avail - s->pos, &hdr, &body, &count,
                        &container);
        if (rc < 0)
            return rc;
        size_t room = s->max_msg - s->pos;  /* bytes this message may still use */
        if (hdr > room || body > room - hdr)
            return PT_PROTO_E_TOOBIG;
        /* every element of a container takes at least one more byte */
        if (container && count > room - hdr)
            return PT_PROTO_E_TOOBIG;
        if (rc == 1 || hdr + body > avail - s->pos)
            return 0;
        if (++s->items > s->max_items)
            return PT_PROTO_E_TOOBIG;
        s->left[s->depth - 1]--;
        s->pos += hdr + (size_t)body;
        if (container) {
            /* depth - 1 containers are open; this one is number depth */
            if (s->depth > s->max_depth)
                return PT_PROTO_E_TOODEEP;
            s->left[s->depth++] = count;
        }
    }
    return 1;
}
