/* check_api.c — the small helpers of the protocol API: names, error texts,
 * init/free, setters and pushes, what the encoder refuses, and the
 * handshake helpers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check_protocol.h"
#include "proto_catalog.h"

START_TEST(test_names_and_kinds)
{
    ck_assert_int_eq(pt_proto_version(), PT_PROTO_VERSION);
    ck_assert_str_eq(pt_msg_type_name(PT_REQ_STEP), "step");
    ck_assert_str_eq(pt_msg_type_name(PT_REQ_FIBERS), "fibers");
    ck_assert_str_ne(pt_msg_type_name(PT_REP_FIBERS), "fibers");
    ck_assert_str_eq(pt_msg_type_name((enum pt_msg_type)999), "unknown");
    ck_assert_str_eq(pt_msg_type_name(PT_MSG_NONE), "unknown");
    ck_assert_int_eq(pt_msg_kind(PT_MSG_HELLO), PT_KIND_HELLO);
    ck_assert_int_eq(pt_msg_kind(PT_REQ_DUMP), PT_KIND_REQUEST);
    ck_assert_int_eq(pt_msg_kind(PT_REP_DUMP), PT_KIND_REPLY);
    ck_assert_int_eq(pt_msg_kind(PT_EV_EXITED), PT_KIND_EVENT);
    ck_assert_int_eq(pt_msg_kind((enum pt_msg_type)2), PT_KIND_INVALID);
    /* every known type has a distinct name */
    for (size_t i = 0; i < n_all_types; i++)
        for (size_t j = i + 1; j < n_all_types; j++)
            ck_assert_str_ne(pt_msg_type_name(all_types[i]),
                             pt_msg_type_name(all_types[j]));
    /* a payload field never takes the message's own keys */
    for (size_t i = 0; i < n_all_types; i++) {
        const struct pt_proto_msgdesc *d = pt_proto_msgdesc(all_types[i]);
        for (size_t k = 0; d->payload && k < d->payload->nfields; k++) {
            const char *key = d->payload->fields[k].key;
            ck_assert_msg(strcmp(key, "id") != 0 && strcmp(key, "type") != 0,
                          "%s has a field named %s", d->name, key);
        }
    }
}
END_TEST

START_TEST(test_error_texts)
{
    ck_assert_str_eq(pt_proto_strerror(PT_PROTO_E_TOOBIG), "message too large");
    ck_assert_str_eq(pt_proto_strerror(-ETIMEDOUT), strerror(ETIMEDOUT));
    ck_assert_ptr_nonnull(pt_proto_strerror(-99999));
    ck_assert_str_eq(pt_proto_errcode_name(PT_PROTO_ERR_VERSION), "VERSION");
    ck_assert_str_eq(pt_proto_errcode_name(PT_PROTO_ERR_INTERNAL), "INTERNAL");
    ck_assert_str_eq(pt_proto_errcode_name(0), "UNKNOWN");
    ck_assert_str_eq(pt_proto_errcode_name(1000), "UNKNOWN");
    ck_assert_str_eq(pt_proto_errcode_name(-1), "UNKNOWN");
}
END_TEST

START_TEST(test_init_free_setters)
{
    struct pt_msg m;
    memset(&m, 0, sizeof m);
    pt_msg_free(&m);                       /* zeroed: fine */
    pt_msg_init(&m, PT_REQ_EVAL, 9);
    ck_assert_int_eq(m.type, PT_REQ_EVAL);
    ck_assert_uint_eq(m.id, 9);
    ck_assert_int_eq(pt_proto_set_str(&m.u.eval.expr, "x"), 0);
    ck_assert_int_eq(pt_proto_set_str(&m.u.eval.expr, "y + 1"), 0); /* replaces */
    ck_assert_str_eq(m.u.eval.expr, "y + 1");
    ck_assert_int_eq(pt_proto_set_strn(&m.u.eval.expr, "abcdef", 3), 0);
    ck_assert_str_eq(m.u.eval.expr, "abc");
    pt_msg_free(&m);
    ck_assert_int_eq(m.type, PT_MSG_NONE);
    ck_assert_ptr_null(m.u.eval.expr);
    pt_msg_free(&m);                       /* twice: fine */
    pt_msg_free(NULL);

    struct pt_proto_fiber *v = NULL;
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        ck_assert_ptr_nonnull(pt_proto_fibers_push(&v, &n));
    ck_assert_uint_eq(n, 100);
    ck_assert_int_eq(v[99].wait_fd, -1);
    ck_assert_double_eq(v[99].wait_timeout, -1);
    ck_assert_ptr_null(v[50].file);
    free(v);
}
END_TEST

START_TEST(test_encoder_refuses)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    struct pt_msg m;
    pt_msg_init(&m, PT_MSG_NONE, 0);
    ck_assert_int_eq(pt_msg_encode(&m, &sb), -EINVAL);
    pt_msg_init(&m, (enum pt_msg_type)200, 1);
    ck_assert_int_eq(pt_msg_encode(&m, &sb), -EINVAL);
    pt_msg_init(&m, PT_REQ_CONTINUE, 0);       /* request without id */
    ck_assert_int_eq(pt_msg_encode(&m, &sb), -EINVAL);
    pt_msg_init(&m, PT_REP_OK, 0);             /* reply without id */
    ck_assert_int_eq(pt_msg_encode(&m, &sb), -EINVAL);
    pt_msg_init(&m, PT_REP_FRAMES, 1);         /* count without array */
    m.u.frames.nframes = 2;
    ck_assert_int_eq(pt_msg_encode(&m, &sb), -EINVAL);
    ck_assert_int_eq(pt_msg_encode(NULL, &sb), -EINVAL);
    ck_assert_uint_eq(sb.size, 0);             /* nothing left behind */

    /* a message over the size limit is refused, buffer unchanged */
    pt_msg_init(&m, PT_REQ_CONTINUE, 1);
    ck_assert_int_eq(pt_msg_encode(&m, &sb), 0);
    size_t one = sb.size;
    pt_msg_init(&m, PT_EV_OUTPUT, 0);
    m.u.output.text_len = PT_PROTO_MAX_MSG + 1;
    m.u.output.text = malloc(m.u.output.text_len);
    ck_assert_ptr_nonnull(m.u.output.text);
    memset(m.u.output.text, 'x', m.u.output.text_len);
    ck_assert_int_eq(pt_msg_encode(&m, &sb), -EMSGSIZE);
    ck_assert_uint_eq(sb.size, one);
    pt_msg_free(&m);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_handshake_helpers)
{
    struct pt_msg ours, theirs, reply;
    memset(&reply, 0, sizeof reply);
    ck_assert_int_eq(pt_proto_make_hello(&ours, 1, NULL, NULL, NULL, NULL, 0, false), 0);
    ck_assert_str_eq(ours.u.hello.backend, "");   /* controller side: "" */
    ck_assert_uint_eq(ours.u.hello.argc, 0);
    ck_assert_int_eq(pt_proto_check_hello(&ours, &reply), 0);
    ck_assert_int_eq(reply.type, PT_MSG_NONE);    /* untouched */

    fill_msg(&theirs, PT_MSG_HELLO, 0);
    theirs.u.hello.version = PT_PROTO_VERSION + 6;
    ck_assert_int_eq(pt_proto_check_hello(&theirs, &reply), PT_PROTO_E_VERSION);
    ck_assert_int_eq(reply.type, PT_REP_ERROR);
    ck_assert_uint_eq(reply.id, 0);
    ck_assert_int_eq(reply.u.error.code, PT_PROTO_ERR_VERSION);
    char want_theirs[32], want_ours[32];
    snprintf(want_theirs, sizeof want_theirs, "version %d", PT_PROTO_VERSION + 6);
    snprintf(want_ours, sizeof want_ours, "version %d", PT_PROTO_VERSION);
    ck_assert_ptr_nonnull(strstr(reply.u.error.message, want_theirs));
    ck_assert_ptr_nonnull(strstr(reply.u.error.message, want_ours));
    ck_assert_int_eq(pt_proto_check_hello(&theirs, NULL), PT_PROTO_E_VERSION);

    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_PAUSE, 3);
    ck_assert_int_eq(pt_proto_check_hello(&req, NULL), PT_PROTO_E_BADMSG);
    ck_assert_int_eq(pt_proto_check_hello(NULL, NULL), PT_PROTO_E_BADMSG);

    /* make_error replaces whatever the message held, without leaking */
    ck_assert_int_eq(pt_proto_make_error(&theirs, 77, PT_PROTO_ERR_NO_FIBER,
                                         "no fiber %d", 12), 0);
    ck_assert_int_eq(theirs.type, PT_REP_ERROR);
    ck_assert_uint_eq(theirs.id, 77);
    ck_assert_str_eq(theirs.u.error.message, "no fiber 12");
    pt_msg_free(&theirs);
    pt_msg_free(&ours);
    pt_msg_free(&reply);
}
END_TEST

TCase *tc_api(void)
{
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, test_names_and_kinds);
    tcase_add_test(tc, test_error_texts);
    tcase_add_test(tc, test_init_free_setters);
    tcase_add_test(tc, test_encoder_refuses);
    tcase_add_test(tc, test_handshake_helpers);
    return tc;
}
