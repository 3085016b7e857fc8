/* check_errors.c — hostile and broken input: truncated, oversized, wrongly
 * typed, unknown-type, too deep, invalid msgpack and random bytes. Each must
 * give its error, keep the decoder in the documented state and (under
 * `make asan`) leak nothing. Bad messages are built by hand with msgpack-c's
 * packer. */
#include <stdlib.h>
#include <string.h>
#include "check_protocol.h"

/* ---- building raw messages ---- */

static msgpack_sbuffer sb;
static msgpack_packer pk;

static void raw_begin(void)
{
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
}

static void key(const char *k)
{
    msgpack_pack_str_with_body(&pk, k, strlen(k));
}

static void kv_uint(const char *k, uint64_t v)
{
    key(k);
    msgpack_pack_uint64(&pk, v);
}

static void kv_str(const char *k, const char *v)
{
    key(k);
    msgpack_pack_str_with_body(&pk, v, strlen(v));
}

/* Decode sb's bytes with pt_msg_decode; return the result, free all. */
static int raw_decode(struct pt_msg *out)
{
    int rc = pt_msg_decode(sb.data, sb.size, out);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* A valid STEP request (id 5, fiber 3) appended to sb. */
static void pack_valid_step(void)
{
    msgpack_pack_map(&pk, 3);
    kv_uint("type", PT_REQ_STEP);
    kv_uint("id", 5);
    kv_uint("fiber", 3);
}

/* ---- truncated ---- */

START_TEST(test_truncated)
{
    struct pt_msg m, d;
    fill_msg(&m, all_types[_i], 1);
    size_t len;
    char *buf = must_encode(&m, &len);
    for (size_t cut = 0; cut < len; cut++) {
        ck_assert_int_eq(pt_msg_decode(buf, cut, &d), PT_PROTO_E_TRUNCATED);
        ck_assert_int_eq(d.type, PT_MSG_NONE);

        struct pt_proto_decoder *dec;
        ck_assert_int_eq(pt_proto_decoder_new(&dec, 0, 0), 0);
        ck_assert_int_eq(pt_proto_decoder_feed(dec, buf, cut), 0);
        ck_assert_int_eq(pt_proto_decoder_next(dec, &d), 0);
        ck_assert_uint_eq(pt_proto_decoder_buffered(dec), cut);
        pt_proto_decoder_free(dec);   /* with a partial message inside */
    }
    free(buf);
    pt_msg_free(&m);
}
END_TEST

/* ---- oversized ---- */

/* Feed bytes to a fresh default decoder; return next()'s result. */
static int feed_default(const void *bytes, size_t n)
{
    struct pt_proto_decoder *dec;
    struct pt_msg d;
    ck_assert_int_eq(pt_proto_decoder_new(&dec, 0, 0), 0);
    ck_assert_int_eq(pt_proto_decoder_feed(dec, bytes, n), 0);
    int rc = pt_proto_decoder_next(dec, &d);
    pt_msg_free(&d);
    pt_proto_decoder_free(dec);
    return rc;
}

START_TEST(test_hostile_length_claims)
{
    /* 5-byte messages claiming gigabytes: refused at once, nothing allocated
     * for the claim (under ASan a 4-billion-element allocation would abort) */
    static const unsigned char claims[][6] = {
        { 0xdd, 0xff, 0xff, 0xff, 0xff },          /* array32 */
        { 0xdf, 0x7f, 0xff, 0xff, 0xff },          /* map32 */
        { 0xdb, 0xff, 0xff, 0xff, 0xff },          /* str32 */
        { 0xc6, 0xff, 0xff, 0xff, 0xff },          /* bin32 */
        { 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01 },    /* ext32 */
        { 0xdd, 0x01, 0x00, 0x00, 0x01 },          /* array32, 16Mi+1 items */
    };
    for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++) {
        size_t n = claims[i][0] == 0xc9 ? 6 : 5;
        ck_assert_int_eq(feed_default(claims[i], n), PT_PROTO_E_TOOBIG);
        struct pt_msg d;
        ck_assert_int_eq(pt_msg_decode(claims[i], n, &d), PT_PROTO_E_TOOBIG);
    }

    /* the same, nested inside an otherwise valid FIBERS reply */
    raw_begin();
    msgpack_pack_map(&pk, 4);
    kv_uint("type", PT_REP_FIBERS);
    kv_uint("id", 1);
    kv_uint("total", 1);
    key("fibers");
    msgpack_pack_array(&pk, 0xfffffff0u);
    ck_assert_int_eq(feed_default(sb.data, sb.size), PT_PROTO_E_TOOBIG);
    msgpack_sbuffer_destroy(&sb);

    /* a claim that fits the limit but whose bytes have not arrived: wait */
    static const unsigned char fits[] = { 0xdc, 0xea, 0x60 }; /* array16, 60000 */
    ck_assert_int_eq(feed_default(fits, sizeof fits), 0);
}
END_TEST

START_TEST(test_size_limit_boundary)
{
    struct pt_msg m, d;
    fill_msg(&m, PT_REP_DUMP, 0);
    size_t len;
    char *buf = must_encode(&m, &len);

    struct pt_proto_decoder *dec;
    ck_assert_int_eq(pt_proto_decoder_new(&dec, len, 0), 0);   /* exactly fits */
    ck_assert_int_eq(pt_proto_decoder_feed(dec, buf, len), 0);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), 1);
    pt_msg_free(&d);
    pt_proto_decoder_free(dec);

    ck_assert_int_eq(pt_proto_decoder_new(&dec, len - 1, 0), 0); /* one short */
    ck_assert_int_eq(pt_proto_decoder_feed(dec, buf, len), 0);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), PT_PROTO_E_TOOBIG);
    /* the decoder stays failed: the connection must be closed */
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), PT_PROTO_E_FAILED);
    ck_assert_int_eq(pt_proto_decoder_feed(dec, buf, len), PT_PROTO_E_FAILED);
    pt_proto_decoder_free(dec);

    /* too big is noticed before the whole message arrives */
    ck_assert_int_eq(pt_proto_decoder_new(&dec, 1024, 0), 0);
    pt_msg_free(&m);
    pt_msg_init(&m, PT_EV_OUTPUT, 0);
    char big[4096];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    m.u.output.text = big;
    size_t blen;
    char *bbuf = must_encode(&m, &blen);
    m.u.output.text = NULL;
    ck_assert_int_eq(pt_proto_decoder_feed(dec, bbuf, 40), 0);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), PT_PROTO_E_TOOBIG);
    pt_proto_decoder_free(dec);
    free(bbuf);
    free(buf);
    pt_msg_free(&m);
}
END_TEST

/* ---- wrong types and missing fields ---- */

START_TEST(test_wrong_types)
{
    struct pt_msg d;

    /* not a map at the top */
    raw_begin();
    msgpack_pack_array(&pk, 1);
    msgpack_pack_uint8(&pk, PT_REQ_STEP);
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);

    /* no type */
    raw_begin();
    msgpack_pack_map(&pk, 1);
    kv_uint("id", 5);
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);

    /* type as a string */
    raw_begin();
    msgpack_pack_map(&pk, 2);
    kv_str("type", "step");
    kv_uint("id", 5);
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);

    /* request without id, with id 0, with id over uint32 */
    raw_begin();
    msgpack_pack_map(&pk, 1);
    kv_uint("type", PT_REQ_CONTINUE);
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);
    raw_begin();
    msgpack_pack_map(&pk, 2);
    kv_uint("type", PT_REQ_CONTINUE);
    kv_uint("id", 0);
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);
    raw_begin();
    msgpack_pack_map(&pk, 2);
    kv_uint("type", PT_REQ_CONTINUE);
    kv_uint("id", 1ull << 32);
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);

    /* a field of the wrong type: the id is still reported */
    raw_begin();
    msgpack_pack_map(&pk, 3);
    kv_uint("type", PT_REQ_STEP);
    kv_uint("id", 41);
    kv_str("fiber", "three");
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);
    ck_assert_uint_eq(d.id, 41);
    ck_assert_int_eq(d.type, PT_MSG_NONE);

    /* a missing required field */
    raw_begin();
    msgpack_pack_map(&pk, 2);
    kv_uint("type", PT_REQ_STEP);
    kv_uint("id", 41);
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);

    /* negative for unsigned; int32 overflow; bool as int */
    raw_begin();
    msgpack_pack_map(&pk, 3);
    kv_uint("type", PT_REQ_DELETE);
    kv_uint("id", 2);
    key("bp");
    msgpack_pack_int(&pk, -1);
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);
    raw_begin();
    msgpack_pack_map(&pk, 4);
    kv_uint("type", PT_EV_EXITED);
    kv_uint("status", 1ull << 31);
    kv_uint("signal", 0);
    kv_uint("extra", 0);
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);
    raw_begin();
    msgpack_pack_map(&pk, 4);
    kv_uint("type", PT_REQ_TRACE_OPS);
    kv_uint("id", 2);
    kv_uint("on", 1);
    kv_uint("fiber", 0);
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);

    /* nil for a required string (nullable ones accept it) */
    raw_begin();
    msgpack_pack_map(&pk, 4);
    kv_uint("type", PT_REQ_SET);
    kv_uint("id", 2);
    key("name");
    msgpack_pack_nil(&pk);
    kv_str("value", "on");
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);

    /* an array element of the wrong type, deep inside: partial decode freed */
    raw_begin();
    msgpack_pack_map(&pk, 4);
    kv_uint("type", PT_REP_LINES);
    kv_uint("id", 2);
    kv_str("file", "a.rb");
    key("lines");
    msgpack_pack_array(&pk, 3);
    msgpack_pack_str_with_body(&pk, "x", 1);
    msgpack_pack_str_with_body(&pk, "y", 1);
    msgpack_pack_int(&pk, 3);
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);   /* also lacks "first" */

    raw_begin();
    msgpack_pack_map(&pk, 4);
    kv_uint("type", PT_REP_FRAMES);
    kv_uint("id", 2);
    kv_uint("fiber", 1);
    key("frames");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_map(&pk, 4);
    kv_uint("index", 0);
    kv_str("file", "a.rb");
    kv_uint("line", 1);
    kv_str("label", "main");
    msgpack_pack_map(&pk, 3);                 /* second frame lacks "label" */
    kv_uint("index", 1);
    kv_str("file", "a.rb");
    kv_uint("line", 2);
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);
}
END_TEST

START_TEST(test_unknown_keys_ignored)
{
    struct pt_msg d;
    raw_begin();
    msgpack_pack_map(&pk, 6);
    kv_uint("type", PT_REQ_STEP);
    key("future");
    msgpack_pack_map(&pk, 1);
    kv_str("nested", "value");
    kv_uint("id", 5);
    msgpack_pack_int(&pk, 7);                 /* a non-string key */
    msgpack_pack_nil(&pk);
    kv_uint("fiber", 3);
    kv_str("later", "x");
    ck_assert_int_eq(raw_decode(&d), 0);
    ck_assert_int_eq(d.type, PT_REQ_STEP);
    ck_assert_uint_eq(d.id, 5);
    ck_assert_uint_eq(d.u.fiber.fiber, 3);
    ck_assert_uint_eq(d.u.fiber.frame, 0);    /* an optional field left out */
    pt_msg_free(&d);

    /* an optional field, when present, must have its type */
    raw_begin();
    msgpack_pack_map(&pk, 4);
    kv_uint("type", PT_REQ_UP);
    kv_uint("id", 6);
    kv_uint("fiber", 3);
    kv_str("frame", "two");
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);

    /* an event with an id: the id is ignored */
    raw_begin();
    msgpack_pack_map(&pk, 2);
    kv_uint("type", PT_EV_RUNNING);
    kv_uint("id", 9);
    ck_assert_int_eq(raw_decode(&d), 0);
    ck_assert_uint_eq(d.id, 0);

    /* a double field given as an integer is accepted */
    struct pt_msg m;
    fill_msg(&m, PT_REP_FIBER_INFO, 0);
    raw_begin();
    msgpack_pack_map(&pk, 3);
    kv_uint("type", PT_REP_FIBER_INFO);
    kv_uint("id", 9);
    key("fiber");
    msgpack_pack_map(&pk, 11);
    kv_uint("id", 1); kv_uint("parent", 0); key("tag"); msgpack_pack_nil(&pk);
    kv_str("state", "running"); kv_str("file", "a.rb"); kv_uint("line", 3);
    key("method"); msgpack_pack_nil(&pk); key("wait_op"); msgpack_pack_nil(&pk);
    key("wait_fd"); msgpack_pack_int(&pk, -1);
    key("wait_timeout"); msgpack_pack_int(&pk, -1);
    kv_uint("thread", 1);
    ck_assert_int_eq(raw_decode(&d), 0);
    ck_assert_double_eq(d.u.fiber_info.fiber.wait_timeout, -1.0);
    ck_assert_ptr_null(d.u.fiber_info.fiber.tag);
    pt_msg_free(&d);
    pt_msg_free(&m);
}
END_TEST

START_TEST(test_unknown_type)
{
    struct pt_msg d;
    raw_begin();
    msgpack_pack_map(&pk, 2);
    kv_uint("type", 999);
    kv_uint("id", 123);
    pack_valid_step();                       /* a good message right after */

    struct pt_proto_decoder *dec;
    ck_assert_int_eq(pt_proto_decoder_new(&dec, 0, 0), 0);
    ck_assert_int_eq(pt_proto_decoder_feed(dec, sb.data, sb.size), 0);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), PT_PROTO_E_UNKNOWN_TYPE);
    ck_assert_uint_eq(d.id, 123);            /* so the reply can name it */
    ck_assert_int_eq(d.type, PT_MSG_NONE);
    /* recoverable: the stream goes on */
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), 1);
    ck_assert_int_eq(d.type, PT_REQ_STEP);
    ck_assert_uint_eq(d.u.fiber.fiber, 3);
    pt_msg_free(&d);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), 0);
    pt_proto_decoder_free(dec);
    msgpack_sbuffer_destroy(&sb);

    raw_begin();
    msgpack_pack_map(&pk, 1);
    kv_uint("type", 0);                      /* PT_MSG_NONE is not a wire type */
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_UNKNOWN_TYPE);
}
END_TEST

START_TEST(test_bad_message_then_good)
{
    /* a wrong-typed message is consumed whole; the next one decodes */
    struct pt_msg d;
    raw_begin();
    msgpack_pack_map(&pk, 3);
    kv_uint("type", PT_REQ_STEP);
    kv_uint("id", 4);
    key("fiber");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_nil(&pk);
    msgpack_pack_nil(&pk);
    pack_valid_step();
    struct pt_proto_decoder *dec;
    ck_assert_int_eq(pt_proto_decoder_new(&dec, 0, 0), 0);
    ck_assert_int_eq(pt_proto_decoder_feed(dec, sb.data, sb.size), 0);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), PT_PROTO_E_BADMSG);
    ck_assert_uint_eq(d.id, 4);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), 1);
    ck_assert_uint_eq(d.id, 5);
    pt_msg_free(&d);
    pt_proto_decoder_free(dec);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* ---- depth ---- */

/* A STEP request carrying an unknown key whose value is `levels` nested
 * one-element arrays (total depth levels + 1 with the top map). */
static void pack_deep(unsigned levels)
{
    raw_begin();
    msgpack_pack_map(&pk, 4);
    kv_uint("type", PT_REQ_STEP);
    kv_uint("id", 5);
    kv_uint("fiber", 3);
    key("deep");
    for (unsigned i = 0; i < levels; i++)
        msgpack_pack_array(&pk, i + 1 < levels ? 1 : 0);
}

START_TEST(test_too_deep)
{
    struct pt_msg d;
    struct pt_proto_decoder *dec;

    pack_deep(PT_PROTO_MAX_DEPTH - 1);       /* exactly the default limit */
    ck_assert_int_eq(raw_decode(&d), 0);
    pt_msg_free(&d);
    pack_deep(PT_PROTO_MAX_DEPTH);           /* one more */
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_TOODEEP);

    pack_deep(3);                            /* depth 4 */
    ck_assert_int_eq(pt_proto_decoder_new(&dec, 0, 4), 0);
    ck_assert_int_eq(pt_proto_decoder_feed(dec, sb.data, sb.size), 0);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), 1);
    pt_msg_free(&d);
    pt_proto_decoder_free(dec);
    msgpack_sbuffer_destroy(&sb);

    pack_deep(4);                            /* depth 5 > 4 */
    ck_assert_int_eq(pt_proto_decoder_new(&dec, 0, 4), 0);
    ck_assert_int_eq(pt_proto_decoder_feed(dec, sb.data, sb.size), 0);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), PT_PROTO_E_TOODEEP);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), PT_PROTO_E_FAILED);
    pt_proto_decoder_free(dec);
    msgpack_sbuffer_destroy(&sb);

    /* far deeper than msgpack-c's own stack, with a clamped huge limit */
    pack_deep(200);
    ck_assert_int_eq(pt_proto_decoder_new(&dec, 0, 100000), 0);
    ck_assert_int_eq(pt_proto_decoder_feed(dec, sb.data, sb.size), 0);
    ck_assert_int_eq(pt_proto_decoder_next(dec, &d), PT_PROTO_E_TOODEEP);
    pt_proto_decoder_free(dec);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* ---- invalid msgpack, trailing bytes ---- */

START_TEST(test_malformed)
{
    struct pt_msg d;
    static const unsigned char never_used[] = { 0xc1 };
    ck_assert_int_eq(feed_default(never_used, 1), PT_PROTO_E_MALFORMED);
    ck_assert_int_eq(pt_msg_decode(never_used, 1, &d), PT_PROTO_E_MALFORMED);
    static const unsigned char inside[] = { 0x81, 0xa4, 't', 'y', 'p', 'e', 0xc1 };
    ck_assert_int_eq(feed_default(inside, sizeof inside), PT_PROTO_E_MALFORMED);

    raw_begin();
    pack_valid_step();
    msgpack_pack_nil(&pk);                    /* one byte too many */
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_MALFORMED);
    ck_assert_int_eq(pt_msg_decode("", 0, &d), PT_PROTO_E_TRUNCATED);
}
END_TEST

/* ---- random input ---- */

static uint64_t rng_state;
static uint32_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

/* Drain a decoder: take messages until it wants more or fails. */
static void drain(struct pt_proto_decoder *dec)
{
    struct pt_msg d;
    for (int guard = 0; guard < 100000; guard++) {
        int rc = pt_proto_decoder_next(dec, &d);
        if (rc == 1) {
            /* whatever decoded must encode again */
            size_t len;
            char *buf = NULL;
            int erc = pt_msg_encode_alloc(&d, &buf, &len);
            ck_assert_msg(erc == 0, "re-encode %s: %s", pt_msg_type_name(d.type),
                          pt_proto_strerror(erc));
            free(buf);
            pt_msg_free(&d);
            continue;
        }
        ck_assert_int_eq(d.type, PT_MSG_NONE);
        if (rc == 0 || rc == PT_PROTO_E_FAILED || rc == PT_PROTO_E_TOOBIG ||
            rc == PT_PROTO_E_TOODEEP || rc == PT_PROTO_E_MALFORMED)
            return;
        ck_assert_msg(rc == PT_PROTO_E_BADMSG || rc == PT_PROTO_E_UNKNOWN_TYPE,
                      "unexpected %d", rc);
    }
}

START_TEST(test_random_bytes)
{
    rng_state = 12345;
    unsigned char buf[512];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 1 + rng() % sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)rng();
        struct pt_proto_decoder *dec;
        ck_assert_int_eq(pt_proto_decoder_new(&dec, 4096, 8), 0);
        if (pt_proto_decoder_feed(dec, buf, n) == 0)
            drain(dec);
        pt_proto_decoder_free(dec);
        struct pt_msg d;
        if (pt_msg_decode(buf, n, &d) == 0)
            pt_msg_free(&d);
    }
}
END_TEST

START_TEST(test_mutated_messages)
{
    /* valid encodings with random bytes changed: any outcome but a crash,
     * a leak, or a decoded message that cannot be encoded again */
    rng_state = 777;
    for (size_t t = 0; t < n_all_types; t++) {
        struct pt_msg m;
        fill_msg(&m, all_types[t], 0);
        size_t len;
        char *orig = must_encode(&m, &len);
        pt_msg_free(&m);
        char *buf = malloc(len);
        ck_assert_ptr_nonnull(buf);
        for (int iter = 0; iter < 300; iter++) {
            memcpy(buf, orig, len);
            int flips = 1 + (int)(rng() % 4);
            for (int f = 0; f < flips; f++)
                buf[rng() % len] = (char)rng();
            struct pt_proto_decoder *dec;
            ck_assert_int_eq(pt_proto_decoder_new(&dec, 0, 0), 0);
            ck_assert_int_eq(pt_proto_decoder_feed(dec, buf, len), 0);
            drain(dec);
            pt_proto_decoder_free(dec);
        }
        free(buf);
        free(orig);
    }
}
END_TEST

START_TEST(test_other_version_hello_decodes)
{
    /* a future HELLO with changed fields still decodes, so the mismatch can
     * be reported instead of a confusing "bad message" */
    struct pt_msg d, reply;
    raw_begin();
    msgpack_pack_map(&pk, 4);
    kv_uint("type", PT_MSG_HELLO);
    kv_uint("version", PT_PROTO_VERSION + 1);
    kv_str("pid", "not a number");
    key("argv");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_int(&pk, 1);
    ck_assert_int_eq(raw_decode(&d), 0);
    ck_assert_int_eq(d.type, PT_MSG_HELLO);
    ck_assert_uint_eq(d.u.hello.version, PT_PROTO_VERSION + 1);
    ck_assert_int_eq(d.u.hello.pid, 0);
    ck_assert_str_eq(d.u.hello.ruby_version, "");
    ck_assert_str_eq(d.u.hello.program, "");
    ck_assert_uint_eq(d.u.hello.argc, 0);
    ck_assert_int_eq(pt_proto_check_hello(&d, &reply), PT_PROTO_E_VERSION);
    ck_assert_int_eq(reply.u.error.code, PT_PROTO_ERR_VERSION);
    pt_msg_free(&reply);
    pt_msg_free(&d);

    /* our version with a bad field is simply a bad message */
    raw_begin();
    msgpack_pack_map(&pk, 3);
    kv_uint("type", PT_MSG_HELLO);
    kv_uint("version", PT_PROTO_VERSION);
    kv_str("pid", "not a number");
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);
    /* and a HELLO without a version too */
    raw_begin();
    msgpack_pack_map(&pk, 1);
    kv_uint("type", PT_MSG_HELLO);
    ck_assert_int_eq(raw_decode(&d), PT_PROTO_E_BADMSG);
}
END_TEST

TCase *tc_errors(void)
{
    TCase *tc = tcase_create("errors");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_truncated, 0, (int)n_all_types);
    tcase_add_test(tc, test_hostile_length_claims);
    tcase_add_test(tc, test_size_limit_boundary);
    tcase_add_test(tc, test_wrong_types);
    tcase_add_test(tc, test_unknown_keys_ignored);
    tcase_add_test(tc, test_unknown_type);
    tcase_add_test(tc, test_bad_message_then_good);
    tcase_add_test(tc, test_too_deep);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_random_bytes);
    tcase_add_test(tc, test_mutated_messages);
    tcase_add_test(tc, test_other_version_hello_decodes);
    return tc;
}
