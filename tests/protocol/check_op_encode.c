/* check_op_encode.c — the OP event's stream encoder (pt_op_encode) writes
 * exactly the bytes pt_msg_encode writes for the same event: for every kind
 * of number, for empty and NULL strings, for names too long to remember, for
 * more (phase, op) pairs than it remembers, and for a name whose text
 * changes at the same address. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check_protocol.h"

/* Encodes op both ways, appending to the same kind of buffer that already
 * holds bytes, and checks the two are equal and decode back to op. */
static void check_same(struct pt_op_encoder *enc, const struct pt_proto_ev_op *op)
{
    msgpack_sbuffer fast, slow;
    struct pt_msg m, d;

    msgpack_sbuffer_init(&fast);
    msgpack_sbuffer_init(&slow);
    msgpack_sbuffer_write(&fast, "\x01", 1);
    msgpack_sbuffer_write(&slow, "\x01", 1);
    pt_msg_init(&m, PT_EV_OP, 0);
    m.u.op = *op;
    ck_assert_int_eq(pt_op_encode(enc, op, &fast), 0);
    ck_assert_int_eq(pt_msg_encode(&m, &slow), 0);
    ck_assert_uint_eq(fast.size, slow.size);
    ck_assert_msg(memcmp(fast.data, slow.data, fast.size) == 0, "op %s/%s: bytes differ",
                  op->phase ? op->phase : "(null)", op->op ? op->op : "(null)");
    ck_assert_int_eq(pt_msg_decode(fast.data + 1, fast.size - 1, &d), 0);
    ck_assert_int_eq(d.type, PT_EV_OP);
    ck_assert_str_eq(d.u.op.op, op->op ? op->op : "");
    ck_assert_uint_eq(d.u.op.fiber, op->fiber);
    ck_assert_int_eq(d.u.op.fd, op->fd);
    ck_assert(d.u.op.len == op->len);
    ck_assert(d.u.op.result == op->result);
    pt_msg_free(&d);
    msgpack_sbuffer_destroy(&fast);
    msgpack_sbuffer_destroy(&slow);
}

START_TEST(test_numbers_of_every_size)
{
    static const int64_t big[] = { 0, 1, 127, 128, 255, 256, 65535, 65536, UINT32_MAX,
                                   (int64_t)UINT32_MAX + 1, INT64_MAX, -1, -32, -33, -128,
                                   -129, -32768, -32769, INT32_MIN, (int64_t)INT32_MIN - 1,
                                   INT64_MIN };
    struct pt_op_encoder enc;
    size_t n = sizeof big / sizeof big[0];

    memset(&enc, 0, sizeof enc);
    for (size_t i = 0; i < n; i++) {
        struct pt_proto_ev_op op = {
            .phase = i % 2 ? "complete" : "submit", .op = "write",
            .fiber = i == n - 1 ? UINT64_MAX : (uint64_t)(big[i] < 0 ? -big[i] : big[i]),
            .fd = (int32_t)(big[i] < INT32_MIN ? INT32_MIN : big[i] > INT32_MAX ? INT32_MAX : big[i]),
            .len = big[i], .result = big[n - 1 - i],
        };
        check_same(&enc, &op);
    }
}
END_TEST

START_TEST(test_empty_null_and_long_names)
{
    struct pt_op_encoder enc;
    char long_name[200];

    memset(&enc, 0, sizeof enc);
    memset(long_name, 'r', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    struct pt_proto_ev_op a = { .phase = NULL, .op = NULL, .fiber = 3, .fd = -1 };
    struct pt_proto_ev_op b = { .phase = "", .op = "", .fiber = 4, .fd = 0 };
    struct pt_proto_ev_op c = { .phase = "submit", .op = long_name, .fiber = 5, .fd = 7, .len = 4096 };
    for (int round = 0; round < 2; round++) {   /* the second time from the table */
        check_same(&enc, &a);
        check_same(&enc, &b);
        check_same(&enc, &c);
    }
    ck_assert_int_eq(pt_op_encode(NULL, &a, NULL), -EINVAL);
}
END_TEST

START_TEST(test_more_pairs_than_remembered)
{
    static const char *const ops[] = { "read", "write", "accept", "connect", "recv", "send",
                                       "sleep", "waitpid", "splice", "readv", "writev" };
    struct pt_op_encoder enc;

    memset(&enc, 0, sizeof enc);
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            for (int p = 0; p < 2; p++) {
                struct pt_proto_ev_op op = { .phase = p ? "complete" : "submit",
                                             .op = (char *)ops[i], .fiber = i + 1,
                                             .fd = (int32_t)i, .len = 100, .result = p ? 100 : 0 };
                check_same(&enc, &op);
            }
}
END_TEST

START_TEST(test_new_text_at_the_same_address)
{
    struct pt_op_encoder enc;
    char name[16] = "read";

    memset(&enc, 0, sizeof enc);
    struct pt_proto_ev_op op = { .phase = "submit", .op = name, .fiber = 1, .fd = 5, .len = 10 };
    check_same(&enc, &op);
    strcpy(name, "recv");           /* same length, same address */
    check_same(&enc, &op);
    strcpy(name, "readpartial");    /* longer */
    check_same(&enc, &op);
    strcpy(name, "rd");             /* shorter */
    check_same(&enc, &op);
}
END_TEST

TCase *tc_op_encode(void)
{
    TCase *tc = tcase_create("op_encode");
    tcase_add_test(tc, test_numbers_of_every_size);
    tcase_add_test(tc, test_empty_null_and_long_names);
    tcase_add_test(tc, test_more_pairs_than_remembered);
    tcase_add_test(tc, test_new_text_at_the_same_address);
    return tc;
}
