/* proto_decoder.c — the incremental stream decoder: bytes go into a
 * msgpack_unpacker's buffer as they arrive; the bounded scanner
 * (proto_scan.c) walks the current message's headers as far as the bytes
 * allow; only when it reports a whole message within the limits does
 * msgpack_unpacker_next parse it, and proto_decode.c turns it into a
 * struct pt_msg. So partial reads, several messages per read and hostile
 * length claims are all handled in one place. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "proto_decode.h"
#include "proto_scan.h"

struct pt_proto_decoder {
    msgpack_unpacker     unp;
    struct pt_proto_scan scan;
    int                  failed;   /* 0, or the fatal error that stopped us */
};

int pt_proto_decoder_new(struct pt_proto_decoder **out, size_t max_msg,
                         unsigned max_depth)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (max_msg == 0)
        max_msg = PT_PROTO_MAX_MSG;
    if (max_depth == 0)
        max_depth = PT_PROTO_MAX_DEPTH;
    if (max_depth > PT_PROTO_MAX_DEPTH_LIMIT)
        max_depth = PT_PROTO_MAX_DEPTH_LIMIT;
    struct pt_proto_decoder *dec = calloc(1, sizeof *dec);
    if (!dec)
        return -ENOMEM;
    /* Start small: most messages are tiny, and the buffer grows on demand. */
    if (!msgpack_unpacker_init(&dec->unp, 4096)) {
        free(dec);
        return -ENOMEM;
    }
    pt_proto_scan_init(&dec->scan, max_msg, max_depth);
    *out = dec;
    return 0;
}

void pt_proto_decoder_free(struct pt_proto_decoder *dec)
{
    if (!dec)
        return;
    msgpack_unpacker_destroy(&dec->unp);
    free(dec);
}

size_t pt_proto_decoder_buffered(const struct pt_proto_decoder *dec)
{
    return dec ? dec->unp.used - dec->unp.off : 0;
}

int pt_proto_decoder_feed(struct pt_proto_decoder *dec, const void *buf,
                          size_t n)
{
    if (!dec || (!buf && n))
        return -EINVAL;
    if (dec->failed)
        return PT_PROTO_E_FAILED;
    if (n == 0)
        return 0;
    if (!msgpack_unpacker_reserve_buffer(&dec->unp, n))
        return -ENOMEM;
    memcpy(msgpack_unpacker_buffer(&dec->unp), buf, n);
    msgpack_unpacker_buffer_consumed(&dec->unp, n);
    return 0;
}

int pt_proto_decoder_next(struct pt_proto_decoder *dec, struct pt_msg *out)
{
    if (!dec || !out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (dec->failed)
        return PT_PROTO_E_FAILED;

    /* The unpacker's unparsed bytes start at buffer + off: the scanner's
     * offsets are relative to that, so a buffer move on feed is harmless. */
    const uint8_t *msg = (const uint8_t *)dec->unp.buffer + dec->unp.off;
    int rc = pt_proto_scan_step(&dec->scan, msg, pt_proto_decoder_buffered(dec));
    if (rc == 0)
        return 0;
    if (rc < 0) {
        dec->failed = rc;
        return rc;
    }
    size_t len = dec->scan.pos;
    pt_proto_scan_reset(&dec->scan);

    msgpack_unpacked res;
    msgpack_unpacked_init(&res);
    size_t before = dec->unp.off;
    msgpack_unpack_return ur = msgpack_unpacker_next(&dec->unp, &res);
    if (ur != MSGPACK_UNPACK_SUCCESS || dec->unp.off - before != len) {
        /* The scanner and msgpack-c disagree about the bytes: out of sync. */
        msgpack_unpacked_destroy(&res);
        dec->failed = ur == MSGPACK_UNPACK_NOMEM_ERROR ? -ENOMEM : PT_PROTO_E_MALFORMED;
        return dec->failed;
    }
    rc = pt_proto_msg_from_object(&res.data, out);
    msgpack_unpacked_destroy(&res);
    /* Errors here (bad fields, unknown type, -ENOMEM) leave the stream in
     * sync: the message was consumed whole. */
    return rc < 0 ? rc : 1;
}
