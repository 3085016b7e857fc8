/* check_roundtrip.c — every message type survives encode -> decode with all
 * its fields, and a few fields that are easy to get wrong (64-bit extremes,
 * negative ints, embedded NUL, nested arrays, nil strings) are checked one by
 * one. */
#include <stdlib.h>
#include <string.h>
#include "check_protocol.h"

/* Loop test over all_types: encode, decode, re-encode, same bytes. The
 * message is fully populated, so a field the decoder dropped would change
 * the re-encoding. */
START_TEST(test_every_type_round_trips)
{
    enum pt_msg_type type = all_types[_i];
    struct pt_msg m, d;
    fill_msg(&m, type, (unsigned)_i);
    size_t len;
    char *buf = must_encode(&m, &len);
    int rc = pt_msg_decode(buf, len, &d);
    ck_assert_msg(rc == 0, "%s: %s", pt_msg_type_name(type), pt_proto_strerror(rc));
    ck_assert_int_eq(d.type, type);
    ck_assert_uint_eq(d.id, m.id);
    ck_assert_msg(same_msg(&m, &d), "%s differs after round trip",
                  pt_msg_type_name(type));
    free(buf);
    pt_msg_free(&m);
    pt_msg_free(&d);
}
END_TEST

static void round_trip(const struct pt_msg *m, struct pt_msg *d)
{
    size_t len;
    char *buf = must_encode(m, &len);
    int rc = pt_msg_decode(buf, len, d);
    ck_assert_msg(rc == 0, "%s", pt_proto_strerror(rc));
    free(buf);
}

START_TEST(test_hello_fields)
{
    struct pt_msg m, d;
    fill_msg(&m, PT_MSG_HELLO, 0);
    round_trip(&m, &d);
    ck_assert_uint_eq(d.u.hello.version, PT_PROTO_VERSION);
    ck_assert_int_eq(d.u.hello.pid, 4242);
    ck_assert_str_eq(d.u.hello.ruby_version, "3.1.2");
    ck_assert_str_eq(d.u.hello.backend, "io_uring");
    ck_assert_str_eq(d.u.hello.program, "/app/app.rb");
    ck_assert_uint_eq(d.u.hello.argc, 4);
    ck_assert_str_eq(d.u.hello.argv[0], "app.rb");
    ck_assert_str_eq(d.u.hello.argv[2], "");
    ck_assert_str_eq(d.u.hello.argv[3], "ünïcode");
    ck_assert(d.u.hello.attached);
    ck_assert(d.u.hello.observe);
    ck_assert_uint_eq(d.id, 0);
    ck_assert_int_eq(pt_proto_check_hello(&d, NULL), 0);
    pt_msg_free(&m);
    pt_msg_free(&d);
}
END_TEST

START_TEST(test_extremes_and_nested)
{
    struct pt_msg m, d;
    fill_msg(&m, PT_REP_DUMP, 0);
    round_trip(&m, &d);
    ck_assert_uint_eq(d.u.dump.nfibers, 3);
    ck_assert_uint_eq(d.u.dump.fibers[2].info.thread, UINT64_MAX - 2);
    ck_assert_int_eq(d.u.dump.fibers[1].info.line, -41);
    ck_assert_double_eq(d.u.dump.fibers[0].info.wait_timeout, 1.5);
    ck_assert_uint_eq(d.u.dump.fibers[2].nframes, 3);
    ck_assert_str_eq(d.u.dump.fibers[2].frames[1].label, "block in run-3");
    ck_assert_int_eq(d.u.dump.fibers[2].frames[2].line, 104);
    pt_msg_free(&m);
    pt_msg_free(&d);

    fill_msg(&m, PT_EV_OP, 0);
    round_trip(&m, &d);
    ck_assert_int_eq(d.u.op.len, INT64_MAX);
    ck_assert_int_eq(d.u.op.result, INT64_MIN);
    ck_assert_int_eq(d.u.op.fd, -1);
    ck_assert_uint_eq(d.id, 0);
    pt_msg_free(&m);
    pt_msg_free(&d);
}
END_TEST

START_TEST(test_text_keeps_nul_bytes)
{
    struct pt_msg m, d;
    fill_msg(&m, PT_REP_VALUE, 0);
    round_trip(&m, &d);
    ck_assert_uint_eq(d.u.value.text_len, 7);
    ck_assert_int_eq(memcmp(d.u.value.text, "a\0b=42!", 8), 0); /* NUL-terminated */
    pt_msg_free(&m);
    pt_msg_free(&d);

    /* text_len 0 on encode means strlen */
    fill_msg(&m, PT_EV_OUTPUT, 4);
    ck_assert_uint_eq(m.u.output.text_len, 0);
    round_trip(&m, &d);
    ck_assert_str_eq(d.u.output.text, "fiber 1 (main) ...\n-4");
    ck_assert_uint_eq(d.u.output.text_len, strlen("fiber 1 (main) ...\n-4"));
    pt_msg_free(&m);
    pt_msg_free(&d);
}
END_TEST

START_TEST(test_nil_and_empty)
{
    /* nullable strings left NULL decode as NULL; required ones left NULL
     * go out as "" and come back non-NULL; empty arrays stay empty */
    struct pt_msg m, d;
    pt_msg_init(&m, PT_EV_STOPPED, 0);
    round_trip(&m, &d);
    ck_assert_ptr_null(d.u.stopped.tag);
    ck_assert_ptr_null(d.u.stopped.method);
    ck_assert_ptr_null(d.u.stopped.exception);
    ck_assert_ptr_nonnull(d.u.stopped.reason);
    ck_assert_str_eq(d.u.stopped.file, "");
    pt_msg_free(&d);

    pt_msg_init(&m, PT_REP_FIBERS, 3);
    round_trip(&m, &d);
    ck_assert_uint_eq(d.u.fibers.nfibers, 0);
    ck_assert_ptr_null(d.u.fibers.fibers);
    pt_msg_free(&d);

    pt_msg_init(&m, PT_REP_VALUE, 3);   /* text NULL: encoded as "" */
    round_trip(&m, &d);
    ck_assert_str_eq(d.u.value.text, "");
    ck_assert_uint_eq(d.u.value.text_len, 0);
    pt_msg_free(&d);
}
END_TEST

START_TEST(test_error_with_id_zero)
{
    /* ERROR may answer no particular request (version mismatch) */
    struct pt_msg m, d;
    pt_msg_init(&m, PT_REP_ERROR, 0);
    ck_assert_int_eq(pt_proto_make_error(&m, 0, PT_PROTO_ERR_VERSION, "v%d", 2), 0);
    round_trip(&m, &d);
    ck_assert_int_eq(d.type, PT_REP_ERROR);
    ck_assert_uint_eq(d.id, 0);
    ck_assert_int_eq(d.u.error.code, PT_PROTO_ERR_VERSION);
    ck_assert_str_eq(d.u.error.message, "v2");
    pt_msg_free(&m);
    pt_msg_free(&d);
}
END_TEST

TCase *tc_roundtrip(void)
{
    TCase *tc = tcase_create("roundtrip");
    tcase_add_loop_test(tc, test_every_type_round_trips, 0, (int)n_all_types);
    tcase_add_test(tc, test_hello_fields);
    tcase_add_test(tc, test_extremes_and_nested);
    tcase_add_test(tc, test_text_keeps_nul_bytes);
    tcase_add_test(tc, test_nil_and_empty);
    tcase_add_test(tc, test_error_with_id_zero);
    return tc;
}
