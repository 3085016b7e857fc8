/* check_session.c — the controller's session against a scripted peer on a
 * socketpair: handshake, version mismatch, request/reply by id with events
 * queued in order, stale replies skipped, a closed peer, a timeout, and an
 * interrupted wait. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "session.h"
#include "suites.h"

static int ctl_fd, peer_fd;
static struct pt_sess sess;
static struct pt_proto_decoder *peer_dec;

static void setup(void)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ctl_fd = sv[0];
    peer_fd = sv[1];
    ck_assert_int_eq(pt_sess_open(&sess, ctl_fd), 0);
    ck_assert_int_eq(pt_proto_decoder_new(&peer_dec, 0, 0), 0);
}

static void teardown(void)
{
    pt_sess_close(&sess);
    if (peer_fd >= 0)
        close(peer_fd);
    pt_proto_decoder_free(peer_dec);
}

static void peer_send(struct pt_msg *m)
{
    ck_assert_int_eq(pt_proto_send(peer_fd, m, 1000), 0);
    pt_msg_free(m);
}

static void peer_hello(uint32_t version)
{
    struct pt_msg m;
    ck_assert_int_eq(pt_proto_make_hello(&m, 42, "3.1.2", "libev", "app.rb", NULL, 0, false), 0);
    m.u.hello.version = version;
    peer_send(&m);
}

static void peer_reply(enum pt_msg_type type, uint32_t id)
{
    struct pt_msg m;
    pt_msg_init(&m, type, id);
    peer_send(&m);
}

static void peer_output(const char *text)
{
    struct pt_msg m;
    pt_msg_init(&m, PT_EV_OUTPUT, 0);
    ck_assert_int_eq(pt_proto_set_str(&m.u.output.text, text), 0);
    peer_send(&m);
}

START_TEST(test_handshake)
{
    char err[256] = "";
    peer_hello(PT_PROTO_VERSION);
    ck_assert_int_eq(pt_sess_handshake(&sess, false, err, sizeof err), 0);
    ck_assert_int_eq(sess.peer_hello.u.hello.pid, 42);
    struct pt_msg m;
    ck_assert_int_eq(pt_proto_recv(peer_fd, peer_dec, &m, 1000), 1);
    ck_assert_int_eq(m.type, PT_MSG_HELLO);
    ck_assert_int_eq(m.u.hello.version, PT_PROTO_VERSION);
    ck_assert_int_eq(m.u.hello.pid, getpid());
    pt_msg_free(&m);
}
END_TEST

START_TEST(test_version_mismatch)
{
    char err[256] = "";
    peer_hello(99);
    ck_assert_int_eq(pt_sess_handshake(&sess, false, err, sizeof err), PT_PROTO_E_VERSION);
    ck_assert_str_eq(err, "protocol version mismatch: the tracer speaks 99, polytrace speaks 1");
    struct pt_msg m;
    ck_assert_int_eq(pt_proto_recv(peer_fd, peer_dec, &m, 1000), 1);
    ck_assert_int_eq(m.type, PT_REP_ERROR);
    ck_assert_int_eq(m.u.error.code, PT_PROTO_ERR_VERSION);
    pt_msg_free(&m);
}
END_TEST

START_TEST(test_not_a_hello_and_silence)
{
    char err[256] = "";
    peer_output("hi");
    ck_assert_int_lt(pt_sess_handshake(&sess, false, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "not a hello"), "%s", err);
}
END_TEST

START_TEST(test_closed_before_hello)
{
    char err[256] = "";
    close(peer_fd);
    peer_fd = -1;
    ck_assert_int_eq(pt_sess_handshake(&sess, false, err, sizeof err), -ECONNRESET);
    ck_assert(strstr(err, "closed"));
}
END_TEST

START_TEST(test_request_reply_and_queued_events)
{
    /* Scripted ahead: an event, a stale reply, another event, our reply. */
    peer_output("one");
    peer_reply(PT_REP_OK, 77);
    peer_output("two");
    peer_reply(PT_REP_OK, 1);   /* the session numbers requests from 1 */
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_CONTINUE, 0);
    ck_assert_int_eq(pt_sess_request(&sess, &req, &rep, 1000), 0);
    ck_assert_int_eq(req.id, 1);
    ck_assert_int_eq(rep.type, PT_REP_OK);
    ck_assert_int_eq(rep.id, 1);
    pt_msg_free(&rep);
    /* The peer saw the request. */
    struct pt_msg got;
    ck_assert_int_eq(pt_proto_recv(peer_fd, peer_dec, &got, 1000), 1);
    ck_assert_int_eq(got.type, PT_REQ_CONTINUE);
    pt_msg_free(&got);
    /* The events come out in order afterwards. */
    ck_assert(pt_sess_pending(&sess));
    struct pt_msg ev;
    ck_assert_int_eq(pt_sess_next(&sess, &ev, 0), 1);
    ck_assert_str_eq(ev.u.output.text, "one");
    pt_msg_free(&ev);
    ck_assert_int_eq(pt_sess_next(&sess, &ev, 0), 1);
    ck_assert_str_eq(ev.u.output.text, "two");
    pt_msg_free(&ev);
    ck_assert_int_eq(pt_sess_next(&sess, &ev, 0), -ETIMEDOUT);
}
END_TEST

START_TEST(test_error_reply_text)
{
    struct pt_msg m, rep;
    ck_assert_int_eq(pt_proto_make_error(&m, 1, PT_PROTO_ERR_NO_FIBER, "no fiber %d", 9), 0);
    peer_send(&m);
    pt_msg_init(&m, PT_REQ_SWITCH, 0);
    m.u.fiber.fiber = 9;
    ck_assert_int_eq(pt_sess_request(&sess, &m, &rep, 1000), 0);
    char buf[128];
    ck_assert_int_eq(pt_sess_reply_error(&rep, buf, sizeof buf), 1);
    ck_assert_str_eq(buf, "no fiber 9");
    pt_msg_free(&rep);
    pt_msg_init(&rep, PT_REP_OK, 3);
    ck_assert_int_eq(pt_sess_reply_error(&rep, buf, sizeof buf), 0);
}
END_TEST

START_TEST(test_peer_gone_and_timeout)
{
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_FIBERS, 0);
    ck_assert_int_eq(pt_sess_request(&sess, &req, &rep, 50), -ETIMEDOUT);
    close(peer_fd);
    peer_fd = -1;
    pt_msg_init(&req, PT_REQ_FIBERS, 0);
    int rc = pt_sess_request(&sess, &req, &rep, 1000);
    ck_assert_msg(rc == -ECONNRESET || rc == -EPIPE, "rc %d", rc);
    /* A close with our request unread resets the connection: either way, gone. */
    struct pt_msg ev;
    rc = pt_sess_next(&sess, &ev, 0);
    ck_assert_msg(rc == 0 || rc == -ECONNRESET, "rc %d", rc);
}
END_TEST

START_TEST(test_interrupted_wait)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    struct pt_msg rep;
    ck_assert_int_eq(pt_sess_wait_reply(&sess, 1, &rep, 5000, p[0]), -EINTR);
    close(p[0]);
    close(p[1]);
}
END_TEST

Suite *session_suite(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("peer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_handshake);
    tcase_add_test(tc, test_version_mismatch);
    tcase_add_test(tc, test_not_a_hello_and_silence);
    tcase_add_test(tc, test_closed_before_hello);
    tcase_add_test(tc, test_request_reply_and_queued_events);
    tcase_add_test(tc, test_error_reply_text);
    tcase_add_test(tc, test_peer_gone_and_timeout);
    tcase_add_test(tc, test_interrupted_wait);
    suite_add_tcase(s, tc);
    return s;
}
