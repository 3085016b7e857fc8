/* proto_scan.h — internal: the bounded msgpack header scanner that guards the
 * decoder. It walks the buffered bytes of the current message header by
 * header, without allocating, and says "complete (length L)", "need more" or
 * why the message must be refused, so that msgpack-c only ever parses whole
 * messages whose every length claim fits in the limits. */
#ifndef PT_PROTO_SCAN_H
#define PT_PROTO_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include "pt_proto.h"

struct pt_proto_scan {
    size_t   max_msg;     /* bytes per message */
    unsigned max_depth;   /* containers open at once */
    size_t   max_items;   /* msgpack objects per message */
    /* resumable state: where the next header starts, the open containers
     * (left[0] is the virtual root holding one value) and their remaining
     * element counts, and how many objects were seen */
    size_t   pos;
    unsigned depth;
    size_t   items;
    uint64_t left[PT_PROTO_MAX_DEPTH_LIMIT + 2];
};

/* Set the limits (already defaulted and clamped by the caller) and reset. */
void pt_proto_scan_init(struct pt_proto_scan *s, size_t max_msg,
                        unsigned max_depth);

/* Forget progress: the next call scans a new message from its first byte. */
void pt_proto_scan_reset(struct pt_proto_scan *s);

/* Continue scanning the message that starts at msg, of which avail bytes are
 * buffered (the same bytes as last time, possibly more). 1: complete, its
 * length is s->pos; 0: need more bytes; PT_PROTO_E_TOOBIG, _TOODEEP or
 * _MALFORMED. */
int pt_proto_scan_step(struct pt_proto_scan *s, const uint8_t *msg, size_t avail);

#endif /* PT_PROTO_SCAN_H */
