/* check_dap_io.c — DAP framing: whole messages out of bytes that arrive in
 * pieces, several per read, with other headers and any case; bodies that
 * are not JSON and header blocks without a length are dropped with a
 * reason and the stream goes on; oversized ones end it; writing frames a
 * message; bytes that are not UTF-8 become U+FFFD, and a character cut by a
 * read waits for the rest. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "dap_io.h"
#include "suites.h"

static int next(struct pt_dapio *io, json_t **m)
{
    char err[256];
    return pt_dapio_next(io, m, err, sizeof err);
}

START_TEST(test_pieces_and_several)
{
    struct pt_dapio io;
    pt_dapio_init(&io);
    const char *a = "Content-Length: 13\r\n\r\n{\"seq\": 1}   ";
    const char *b = "content-length:7\r\nContent-Type: x\r\n\r\n[1,2,3]";
    json_t *m;
    /* One byte at a time: nothing until the last. */
    for (size_t i = 0; i < strlen(a); i++) {
        ck_assert_int_eq(next(&io, &m), 0);
        ck_assert_int_eq(pt_dapio_feed(&io, a + i, 1), 0);
    }
    ck_assert_int_eq(pt_dapio_feed(&io, b, strlen(b)), 0);
    ck_assert_int_eq(next(&io, &m), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(m, "seq")), 1);
    json_decref(m);
    ck_assert_int_eq(next(&io, &m), 1);
    ck_assert_int_eq(json_array_size(m), 3);
    json_decref(m);
    ck_assert_int_eq(next(&io, &m), 0);
    pt_dapio_free(&io);
}
END_TEST

START_TEST(test_bad_ones_are_dropped)
{
    struct pt_dapio io;
    pt_dapio_init(&io);
    const char *s = "Content-Length: 5\r\n\r\n{nope"
                    "X-Other: 1\r\n\r\n"
                    "Content-Length: 2\r\n\r\n{}";
    json_t *m;
    char err[256];
    ck_assert_int_eq(pt_dapio_feed(&io, s, strlen(s)), 0);
    ck_assert_int_eq(pt_dapio_next(&io, &m, err, sizeof err), -EPROTO);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err, "not JSON"), "%s", err);
    ck_assert_int_eq(pt_dapio_next(&io, &m, err, sizeof err), -EPROTO);
    ck_assert_msg(strstr(err, "Content-Length"), "%s", err);
    ck_assert_int_eq(next(&io, &m), 1);
    ck_assert(json_is_object(m));
    json_decref(m);
    pt_dapio_free(&io);
}
END_TEST

START_TEST(test_limits_end_the_stream)
{
    struct pt_dapio io;
    pt_dapio_init(&io);
    json_t *m;
    const char *huge = "Content-Length: 999999999999\r\n\r\n";
    ck_assert_int_eq(pt_dapio_feed(&io, huge, strlen(huge)), 0);
    ck_assert_int_eq(next(&io, &m), -EMSGSIZE);
    pt_dapio_free(&io);
    pt_dapio_init(&io);
    char junk[PT_DAPIO_MAX_HEADER + 10];
    memset(junk, 'x', sizeof junk);
    ck_assert_int_eq(pt_dapio_feed(&io, junk, sizeof junk), 0);
    ck_assert_int_eq(next(&io, &m), -EMSGSIZE);
    pt_dapio_free(&io);
}
END_TEST

START_TEST(test_write_frames)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    json_t *m = json_pack("{s:s}", "type", "event");
    ck_assert_int_eq(pt_dapio_write(p[1], m), 0);
    json_decref(m);
    char buf[128] = "";
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    ck_assert_int_gt(n, 0);
    ck_assert_str_eq(buf, "Content-Length: 16\r\n\r\n{\"type\":\"event\"}");
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(test_utf8)
{
    /* "é" whole, a lone continuation byte, an overlong form, a NUL. */
    const char s[] = "a\xC3\xA9" "b\x80" "c\xC0\xAF" "d\0e";
    json_t *j = pt_dapio_str(s, sizeof s - 1);
    ck_assert_str_eq(json_string_value(j), "a\xC3\xA9" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD" "d e");
    json_decref(j);
    /* A read that ends inside "€" (E2 82 AC) keeps its start for later. */
    ck_assert_uint_eq(pt_dapio_utf8_complete("ab\xE2\x82", 4), 2);
    ck_assert_uint_eq(pt_dapio_utf8_complete("ab\xE2\x82\xAC", 5), 5);
    ck_assert_uint_eq(pt_dapio_utf8_complete("ab\xFF", 3), 3);  /* invalid: not waited for */
}
END_TEST

Suite *dap_io_suite(void)
{
    Suite *s = suite_create("dap_io");
    TCase *tc = tcase_create("dap_io");
    tcase_add_test(tc, test_pieces_and_several);
    tcase_add_test(tc, test_bad_ones_are_dropped);
    tcase_add_test(tc, test_limits_end_the_stream);
    tcase_add_test(tc, test_write_frames);
    tcase_add_test(tc, test_utf8);
    suite_add_tcase(s, tc);
    return s;
}
