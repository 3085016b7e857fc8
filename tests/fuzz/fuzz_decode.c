/* fuzz_decode.c — libFuzzer target for the protocol decoder (make fuzz).
 *
 * Each input is decoded twice: in one piece with pt_msg_decode(), and as a
 * stream fed to a pt_proto_decoder in chunks whose sizes come from the input
 * itself (so partial reads and several messages per read are explored), with
 * a small size limit so the limit paths are reached. Every message that
 * decodes must encode again, and the re-encoding must be a fixed point:
 * encode(decode(encode(m))) == encode(m). Anything else is a crash; leaks
 * are caught by the fuzzer's LeakSanitizer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pt_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_fixed_point(const struct pt_msg *m)
{
    char *e1 = NULL, *e2 = NULL;
    size_t l1 = 0, l2 = 0;
    if (pt_msg_encode_alloc(m, &e1, &l1) != 0)
        abort();                     /* a decoded message must encode */
    struct pt_msg again;
    if (pt_msg_decode(e1, l1, &again) != 0)
        abort();                     /* our own encoding must decode */
    if (again.type != m->type || again.id != m->id)
        abort();
    if (pt_msg_encode_alloc(&again, &e2, &l2) != 0)
        abort();
    if (l1 != l2 || memcmp(e1, e2, l1) != 0)
        abort();                     /* a field was lost or changed */
    pt_msg_free(&again);
    free(e1);
    free(e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_msg m;
    if (pt_msg_decode(data, size, &m) == 0)
        check_fixed_point(&m);
    pt_msg_free(&m);

    /* Stream: the first byte picks the chunk size (1..64, or 0 = all). */
    if (size == 0)
        return 0;
    size_t chunk = data[0] & 0x3f;
    data++;
    size--;
    if (chunk == 0)
        chunk = size ? size : 1;

    struct pt_proto_decoder *dec;
    if (pt_proto_decoder_new(&dec, 32768, 12) != 0)
        return 0;
    int failed = 0;
    for (size_t off = 0; off < size && !failed; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (pt_proto_decoder_feed(dec, data + off, n) != 0)
            break;
        for (;;) {
            int rc = pt_proto_decoder_next(dec, &m);
            if (rc == 1) {
                check_fixed_point(&m);
                pt_msg_free(&m);
                continue;
            }
            if (m.type != PT_MSG_NONE)
                abort();             /* errors leave no payload behind */
            if (rc == PT_PROTO_E_BADMSG || rc == PT_PROTO_E_UNKNOWN_TYPE)
                continue;            /* recoverable: next message */
            if (rc < 0)
                failed = 1;
            break;
        }
    }
    pt_proto_decoder_free(dec);
    return 0;
}
