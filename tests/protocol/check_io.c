/* check_io.c — pt_proto_send / pt_proto_recv over real descriptors: a
 * socketpair both ways, timeouts (also when a signal interrupts the wait),
 * a peer that closes between or in the middle of messages, a writer with no
 * reader, a message far larger than the socket buffer, and pipes; and a
 * caller's own wait (struct pt_proto_waiter) ending a read or a write. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check_protocol.h"

static int sv[2];
static struct pt_proto_decoder *dec;

static void setup(void)
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(pt_proto_decoder_new(&dec, 0, 0), 0);
}

static void teardown(void)
{
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    pt_proto_decoder_free(dec);
}

static long elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

START_TEST(test_socketpair_round_trip)
{
    /* every type from the tracer end to the controller end and back */
    for (size_t t = 0; t < n_all_types; t++) {
        for (int dir = 0; dir < 2; dir++) {
            struct pt_msg m, d;
            fill_msg(&m, all_types[t], (unsigned)t);
            ck_assert_int_eq(pt_proto_send(sv[dir], &m, 1000), 0);
            ck_assert_int_eq(pt_proto_recv(sv[1 - dir], dec, &d, 1000), 1);
            ck_assert_int_eq(d.type, m.type);
            ck_assert_msg(same_msg(&m, &d), "%s", pt_msg_type_name(m.type));
            pt_msg_free(&m);
            pt_msg_free(&d);
        }
    }
}
END_TEST

START_TEST(test_two_messages_one_write)
{
    struct pt_msg a, b, d;
    fill_msg(&a, PT_REP_OK, 1);
    fill_msg(&b, PT_EV_RUNNING, 2);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    ck_assert_int_eq(pt_msg_encode(&a, &sb), 0);
    ck_assert_int_eq(pt_msg_encode(&b, &sb), 0);
    ck_assert_int_eq(pt_proto_write_all(sv[0], sb.data, sb.size, 1000), 0);
    ck_assert_int_eq(pt_proto_recv(sv[1], dec, &d, 1000), 1);
    ck_assert_int_eq(d.type, PT_REP_OK);
    pt_msg_free(&d);
    /* the second is already buffered: no wait needed even with timeout 0 */
    ck_assert_int_eq(pt_proto_recv(sv[1], dec, &d, 0), 1);
    ck_assert_int_eq(d.type, PT_EV_RUNNING);
    ck_assert_int_eq(pt_proto_recv(sv[1], dec, &d, 0), -ETIMEDOUT);
    msgpack_sbuffer_destroy(&sb);
    pt_msg_free(&a);
    pt_msg_free(&b);
}
END_TEST

START_TEST(test_recv_timeout)
{
    struct pt_msg d;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    ck_assert_int_eq(pt_proto_recv(sv[1], dec, &d, 150), -ETIMEDOUT);
    long ms = elapsed_ms(&start);
    ck_assert_int_ge(ms, 140);
    ck_assert_int_lt(ms, 3000);
    ck_assert_int_eq(d.type, PT_MSG_NONE);

    /* a partial message does not count as a message: still a timeout, and
     * the rest completes it later */
    struct pt_msg m;
    fill_msg(&m, PT_EV_STOPPED, 0);
    size_t len;
    char *buf = must_encode(&m, &len);
    ck_assert_int_eq(pt_proto_write_all(sv[0], buf, 5, 1000), 0);
    ck_assert_int_eq(pt_proto_recv(sv[1], dec, &d, 50), -ETIMEDOUT);
    ck_assert_int_eq(pt_proto_write_all(sv[0], buf + 5, len - 5, 1000), 0);
    ck_assert_int_eq(pt_proto_recv(sv[1], dec, &d, 1000), 1);
    ck_assert_int_eq(d.type, PT_EV_STOPPED);
    pt_msg_free(&d);
    pt_msg_free(&m);
    free(buf);
}
END_TEST

static void on_alarm(int sig)
{
    (void)sig;
}

START_TEST(test_timeout_survives_signals)
{
    /* SIGALRM every 20 ms without SA_RESTART: poll gets EINTR repeatedly;
     * recv must keep waiting for its whole deadline, not return early */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
    ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct pt_msg d;
    int rc = pt_proto_recv(sv[1], dec, &d, 300);
    long ms = elapsed_ms(&start);
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    ck_assert_int_eq(rc, -ETIMEDOUT);
    ck_assert_int_ge(ms, 290);

    /* with PT_PROTO_RECV_EINTR the first signal ends the wait */
    struct itimerval once = { { 0, 0 }, { 0, 30000 } };
    ck_assert_int_eq(setitimer(ITIMER_REAL, &once, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &start);
    rc = pt_proto_recv_flags(sv[1], dec, &d, 5000, PT_PROTO_RECV_EINTR);
    ms = elapsed_ms(&start);
    ck_assert_int_eq(rc, -EINTR);
    ck_assert_int_lt(ms, 2000);
    /* and flags 0 is plain pt_proto_recv */
    ck_assert_int_eq(pt_proto_recv_flags(sv[1], dec, &d, 10, 0), -ETIMEDOUT);
}
END_TEST

START_TEST(test_peer_closed)
{
    struct pt_msg m, d;
    fill_msg(&m, PT_EV_EXITED, 0);
    ck_assert_int_eq(pt_proto_send(sv[0], &m, 1000), 0);
    close(sv[0]);
    sv[0] = -1;
    /* the message sent before closing still arrives, then a clean EOF */
    ck_assert_int_eq(pt_proto_recv(sv[1], dec, &d, 1000), 1);
    ck_assert_int_eq(d.type, PT_EV_EXITED);
    pt_msg_free(&d);
    ck_assert_int_eq(pt_proto_recv(sv[1], dec, &d, 1000), 0);
    /* writing to the closed peer: -EPIPE, and no SIGPIPE kills us */
    int rc = pt_proto_send(sv[1], &m, 1000);
    ck_assert_msg(rc == -EPIPE || rc == -ECONNRESET, "got %d", rc);
    pt_msg_free(&m);
}
END_TEST

START_TEST(test_peer_closed_mid_message)
{
    struct pt_msg m, d;
    fill_msg(&m, PT_REP_DUMP, 0);
    size_t len;
    char *buf = must_encode(&m, &len);
    ck_assert_int_eq(pt_proto_write_all(sv[0], buf, len / 2, 1000), 0);
    close(sv[0]);
    sv[0] = -1;
    ck_assert_int_eq(pt_proto_recv(sv[1], dec, &d, 1000), PT_PROTO_E_TRUNCATED);
    ck_assert_int_eq(d.type, PT_MSG_NONE);
    free(buf);
    pt_msg_free(&m);
}
END_TEST

/* An OUTPUT message of n bytes of text. */
static void big_output(struct pt_msg *m, size_t n)
{
    pt_msg_init(m, PT_EV_OUTPUT, 0);
    m->u.output.text = malloc(n + 1);
    ck_assert_ptr_nonnull(m->u.output.text);
    for (size_t i = 0; i < n; i++)
        m->u.output.text[i] = (char)('a' + i % 26);
    m->u.output.text[n] = '\0';
    m->u.output.text_len = n;
}

START_TEST(test_write_timeout_without_reader)
{
    /* nobody reads: the socket buffer fills and the send gives up in time */
    struct pt_msg m;
    big_output(&m, 8u << 20);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    ck_assert_int_eq(pt_proto_send(sv[0], &m, 200), -ETIMEDOUT);
    long ms = elapsed_ms(&start);
    ck_assert_int_ge(ms, 190);
    ck_assert_int_lt(ms, 5000);
    pt_msg_free(&m);
}
END_TEST

START_TEST(test_large_message_with_concurrent_reader)
{
    /* 8 MiB, far past the socket buffer: short writes and partial reads on
     * both sides; a child process sends while we receive */
    struct pt_msg m, d;
    big_output(&m, 8u << 20);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(sv[1]);
        int rc = pt_proto_send(sv[0], &m, 20000);
        _exit(rc == 0 ? 0 : 1);
    }
    ck_assert_int_eq(pt_proto_recv(sv[1], dec, &d, 20000), 1);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_uint_eq(d.u.output.text_len, 8u << 20);
    ck_assert_int_eq(memcmp(d.u.output.text, m.u.output.text, 8u << 20), 0);
    pt_msg_free(&d);
    pt_msg_free(&m);
}
END_TEST

START_TEST(test_pipe)
{
    /* not a socket: send falls back to write(), recv to read() */
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    struct pt_msg m, d;
    fill_msg(&m, PT_REP_LINES, 0);
    ck_assert_int_eq(pt_proto_send(p[1], &m, 1000), 0);
    ck_assert_int_eq(pt_proto_recv(p[0], dec, &d, 1000), 1);
    ck_assert_msg(same_msg(&m, &d), "lines differ over a pipe");
    pt_msg_free(&d);
    close(p[1]);
    ck_assert_int_eq(pt_proto_recv(p[0], dec, &d, 1000), 0);
    close(p[0]);
    ck_assert_int_eq(pt_proto_recv(p[0], dec, &d, 100), -EBADF);
    pt_msg_free(&m);
}
END_TEST

START_TEST(test_garbage_on_the_wire)
{
    /* a hostile peer: recv reports the error, the decoder stays failed */
    static const unsigned char claim[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
    struct pt_msg d;
    ck_assert_int_eq(pt_proto_write_all(sv[0], claim, sizeof claim, 1000), 0);
    ck_assert_int_eq(pt_proto_recv(sv[1], dec, &d, 1000), PT_PROTO_E_TOOBIG);
    ck_assert_int_eq(pt_proto_recv(sv[1], dec, &d, 1000), PT_PROTO_E_FAILED);
}
END_TEST

/* A waiter that counts its calls and says "stop" (-EINTR) on the n-th. */
struct count_waiter {
    int calls;
    int stop_at;
};

static int counting_wait(void *ctx, int fd, short events, int64_t deadline)
{
    struct count_waiter *cw = ctx;
    struct pollfd p = { .fd = fd, .events = events };

    if (++cw->calls == cw->stop_at)
        return -EINTR;
    if (deadline >= 0 && pt_proto_now_ms() >= deadline)
        return -ETIMEDOUT;
    poll(&p, 1, 10);    /* a slice: the I/O call tries again either way */
    return 0;
}

START_TEST(test_waiter_ends_a_read_and_keeps_its_bytes)
{
    /* half a message, the waiter interrupts, the rest, the message whole */
    struct count_waiter cw = { 0, 2 };
    struct pt_proto_waiter w = { counting_wait, &cw };
    struct pt_msg m, d;
    char *buf;
    size_t len;

    fill_msg(&m, PT_REQ_EVAL, 7);
    ck_assert_int_eq(pt_msg_encode_alloc(&m, &buf, &len), 0);
    ck_assert_int_eq(pt_proto_write_all(sv[0], buf, len / 2, 1000), 0);
    ck_assert_int_eq(pt_proto_recv_w(sv[1], dec, &d, 1000, &w), -EINTR);
    ck_assert_int_eq(cw.calls, 2);
    ck_assert_uint_eq(pt_proto_decoder_buffered(dec), len / 2);
    ck_assert_int_eq(pt_proto_write_all(sv[0], buf + len / 2, len - len / 2, 1000), 0);
    ck_assert_int_eq(pt_proto_recv_w(sv[1], dec, &d, 1000, &w), 1);
    ck_assert_msg(same_msg(&m, &d), "the message survives the interruption");
    pt_msg_free(&d);
    pt_msg_free(&m);
    free(buf);
}
END_TEST

START_TEST(test_waiter_ends_a_blocked_write)
{
    /* no reader: the send waits through the waiter, which gives up */
    struct count_waiter cw = { 0, 3 };
    struct pt_proto_waiter w = { counting_wait, &cw };
    static char big[1 << 20];

    ck_assert_int_eq(pt_proto_write_all_w(sv[0], big, sizeof big, 10000, &w), -EINTR);
    ck_assert_int_eq(cw.calls, 3);
    /* NULL waiter: the plain poll */
    ck_assert_int_eq(pt_proto_write_all_w(sv[0], big, sizeof big, 50, NULL), -ETIMEDOUT);
}
END_TEST

TCase *tc_io(void)
{
    TCase *tc = tcase_create("io");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_socketpair_round_trip);
    tcase_add_test(tc, test_two_messages_one_write);
    tcase_add_test(tc, test_recv_timeout);
    tcase_add_test(tc, test_timeout_survives_signals);
    tcase_add_test(tc, test_peer_closed);
    tcase_add_test(tc, test_peer_closed_mid_message);
    tcase_add_test(tc, test_write_timeout_without_reader);
    tcase_add_test(tc, test_large_message_with_concurrent_reader);
    tcase_add_test(tc, test_pipe);
    tcase_add_test(tc, test_garbage_on_the_wire);
    tcase_add_test(tc, test_waiter_ends_a_read_and_keeps_its_bytes);
    tcase_add_test(tc, test_waiter_ends_a_blocked_write);
    return tc;
}
