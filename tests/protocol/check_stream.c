/* check_stream.c — the stream decoder's framing: a stream fed one byte at a
 * time decodes exactly as when fed at once, several messages in one buffer
 * come out as several, and a large message split across many feeds arrives
 * whole. */
#include <stdlib.h>
#include <string.h>
#include "check_protocol.h"

/* Every type, twice with different seeds, back to back in one buffer. */
static char *all_in_one(size_t *len, size_t *count)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    *count = 0;
    for (unsigned seed = 0; seed < 2; seed++)
        for (size_t t = 0; t < n_all_types; t++) {
            struct pt_msg m;
            fill_msg(&m, all_types[t], seed);
            ck_assert_int_eq(pt_msg_encode(&m, &sb), 0);
            pt_msg_free(&m);
            (*count)++;
        }
    *len = sb.size;
    return msgpack_sbuffer_release(&sb);
}

/* The i-th message of all_in_one, rebuilt for comparison. */
static void expected(size_t i, struct pt_msg *m)
{
    fill_msg(m, all_types[i % n_all_types], (unsigned)(i / n_all_types));
}

/* Feed buf in chunks of `step` bytes, taking messages as they complete;
 * check each against the expected sequence. Returns messages seen. */
static size_t feed_in_steps(const char *buf, size_t len, size_t step)
{
    struct pt_proto_decoder *dec;
    ck_assert_int_eq(pt_proto_decoder_new(&dec, 0, 0), 0);
    size_t seen = 0;
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        ck_assert_int_eq(pt_proto_decoder_feed(dec, buf + off, n), 0);
        struct pt_msg d;
        int rc;
        while ((rc = pt_proto_decoder_next(dec, &d)) == 1) {
            struct pt_msg want;
            expected(seen, &want);
            ck_assert_int_eq(d.type, want.type);
            ck_assert_msg(same_msg(&d, &want), "message %zu (%s) differs at step %zu",
                          seen, pt_msg_type_name(want.type), step);
            pt_msg_free(&want);
            pt_msg_free(&d);
            seen++;
        }
        ck_assert_int_eq(rc, 0);
    }
    ck_assert_uint_eq(pt_proto_decoder_buffered(dec), 0);
    pt_proto_decoder_free(dec);
    return seen;
}

START_TEST(test_byte_at_a_time_equals_at_once)
{
    size_t len, count;
    char *buf = all_in_one(&len, &count);
    ck_assert_uint_eq(feed_in_steps(buf, len, len), count);   /* all at once */
    ck_assert_uint_eq(feed_in_steps(buf, len, 1), count);     /* byte by byte */
    ck_assert_uint_eq(feed_in_steps(buf, len, 7), count);     /* odd chunks */
    free(buf);
}
END_TEST

START_TEST(test_two_messages_one_buffer)
{
    struct pt_msg a, b, d;
    fill_msg(&a, PT_EV_STOPPED, 1);
    fill_msg(&b, PT_REP_OK, 2);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    ck_assert_int_eq(pt_msg_encode(&a, &sb), 0);
    ck_assert_int_eq(pt_msg_encode(&b, &sb), 0);

    struct pt_proto_decoder *dec;
    ck_assert_int_eq(pt_proto_decoder_new(&dec, 0, 0), 0);
    ck_assert_int_eq(pt_proto_decoder_feed(dec, sb.data, sb.size), 0);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), 1);
    ck_assert_int_eq(d.type, PT_EV_STOPPED);
    ck_assert_str_eq(d.u.stopped.reason, "breakpoint-1");
    pt_msg_free(&d);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), 1);
    ck_assert_int_eq(d.type, PT_REP_OK);
    ck_assert_uint_eq(d.id, b.id);
    pt_msg_free(&d);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), 0);
    ck_assert_uint_eq(pt_proto_decoder_buffered(dec), 0);

    /* a message and a half, then the rest */
    msgpack_sbuffer_clear(&sb);
    ck_assert_int_eq(pt_msg_encode(&b, &sb), 0);
    ck_assert_int_eq(pt_msg_encode(&a, &sb), 0);
    size_t half = sb.size - 10;
    ck_assert_int_eq(pt_proto_decoder_feed(dec, sb.data, half), 0);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), 1);
    ck_assert_int_eq(d.type, PT_REP_OK);
    pt_msg_free(&d);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), 0);
    ck_assert_int_eq(pt_proto_decoder_feed(dec, sb.data + half, 10), 0);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), 1);
    ck_assert_int_eq(d.type, PT_EV_STOPPED);
    pt_msg_free(&d);

    pt_proto_decoder_free(dec);
    msgpack_sbuffer_destroy(&sb);
    pt_msg_free(&a);
    pt_msg_free(&b);
}
END_TEST

START_TEST(test_large_message_in_pieces)
{
    /* 10,000 fibers (the size ARCHITECTURE.md asks for) in 1000-byte feeds */
    struct pt_msg m, d;
    pt_msg_init(&m, PT_REP_FIBERS, 1);
    m.u.fibers.total = 10000;
    for (unsigned i = 0; i < 10000; i++) {
        struct pt_proto_fiber *f = pt_proto_fibers_push(&m.u.fibers.fibers,
                                                        &m.u.fibers.nfibers);
        ck_assert_ptr_nonnull(f);
        f->id = i + 1;
        ck_assert_int_eq(pt_proto_set_str(&f->state, "waiting"), 0);
        ck_assert_int_eq(pt_proto_set_str(&f->file, "/app/worker.rb"), 0);
        f->line = (int32_t)i;
    }
    size_t len;
    char *buf = must_encode(&m, &len);
    struct pt_proto_decoder *dec;
    ck_assert_int_eq(pt_proto_decoder_new(&dec, 0, 0), 0);
    int rc = 0;
    for (size_t off = 0; off < len; off += 1000) {
        ck_assert_int_eq(rc, 0);
        ck_assert_int_eq(pt_proto_decoder_feed(dec, buf + off,
                                               len - off < 1000 ? len - off : 1000), 0);
        rc = pt_proto_decoder_next(dec, &d);
    }
    ck_assert_int_eq(rc, 1);
    ck_assert_uint_eq(d.u.fibers.nfibers, 10000);
    ck_assert_uint_eq(d.u.fibers.fibers[9999].id, 10000);
    ck_assert_int_eq(d.u.fibers.fibers[9999].line, 9999);
    ck_assert_msg(same_msg(&m, &d), "10,000 fibers differ");
    pt_msg_free(&d);
    pt_proto_decoder_free(dec);
    free(buf);
    pt_msg_free(&m);
}
END_TEST

TCase *tc_stream(void)
{
    TCase *tc = tcase_create("stream");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_byte_at_a_time_equals_at_once);
    tcase_add_test(tc, test_two_messages_one_buffer);
    tcase_add_test(tc, test_large_message_in_pieces);
    return tc;
}
