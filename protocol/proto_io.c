/* proto_io.c — blocking message I/O on a stream socket (or pipe) with a
 * total deadline: whole writes despite short writes and EINTR, reads fed to
 * the stream decoder until a message is complete. Sockets are written with
 * send(MSG_NOSIGNAL | MSG_DONTWAIT) so a vanished peer is -EPIPE rather than
 * SIGPIPE in the debuggee, and poll() bounds every wait — or the caller's
 * own wait (struct pt_proto_waiter), which may end a wait early. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "pt_proto.h"

int64_t pt_proto_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline (-1: none) for poll(). */
static int remaining(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - pt_proto_now_ms();
    if (left <= 0)
        return 0;
    return left > 1000000000 ? 1000000000 : (int)left;
}

/* The plain wait: poll fd until deadline. 0 ready, -ETIMEDOUT, -errno;
 * EINTR is retried unless eintr is set. */
static int poll_fd(int fd, short events, int64_t deadline, bool eintr)
{
    for (;;) {
        struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
        int n = poll(&p, 1, remaining(deadline));
        if (n > 0) {
            if (p.revents & POLLNVAL)
                return -EBADF;
            return 0;   /* readable, writable, or HUP/ERR: the I/O call tells */
        }
        if (n == 0)
            return -ETIMEDOUT;
        if (errno != EINTR || eintr)
            return -errno;
    }
}

static int wait_fd(const struct pt_proto_waiter *w, int fd, short events, int64_t deadline,
                   bool eintr)
{
    if (w && w->wait)
        return w->wait(w->ctx, fd, events, deadline);
    return poll_fd(fd, events, deadline, eintr);
}

static int64_t deadline_of(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : pt_proto_now_ms() + timeout_ms;
}

int pt_proto_wait_fd(int fd, short events, int64_t deadline_ms)
{
    return poll_fd(fd, events, deadline_ms, false);
}

static int write_until(int fd, const void *buf, size_t len, int64_t deadline,
                       const struct pt_proto_waiter *w)
{
    if (!buf && len)
        return -EINVAL;
    const char *p = buf;
    int is_socket = 1;
    while (len > 0) {
        ssize_t n = is_socket ? send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT)
                              : write(fd, p, len);
        if (n >= 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == ENOTSOCK && is_socket) {
            is_socket = 0;
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int rc = wait_fd(w, fd, POLLOUT, deadline, false);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int pt_proto_write_all_w(int fd, const void *buf, size_t len, int timeout_ms,
                         const struct pt_proto_waiter *w)
{
    return write_until(fd, buf, len, deadline_of(timeout_ms), w);
}

int pt_proto_write_all_until(int fd, const void *buf, size_t len, int64_t deadline_ms)
{
    return write_until(fd, buf, len, deadline_ms, NULL);
}

int pt_proto_write_all(int fd, const void *buf, size_t len, int timeout_ms)
{
    return pt_proto_write_all_w(fd, buf, len, timeout_ms, NULL);
}

int pt_proto_send_w(int fd, const struct pt_msg *m, int timeout_ms,
                    const struct pt_proto_waiter *w)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int rc = pt_msg_encode(m, &sb);
    if (rc == 0)
        rc = pt_proto_write_all_w(fd, sb.data, sb.size, timeout_ms, w);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

int pt_proto_send(int fd, const struct pt_msg *m, int timeout_ms)
{
    return pt_proto_send_w(fd, m, timeout_ms, NULL);
}

static int recv_loop(int fd, struct pt_proto_decoder *dec, struct pt_msg *out, int timeout_ms,
                     bool eintr, const struct pt_proto_waiter *w)
{
    if (!dec || !out)
        return -EINVAL;
    int64_t deadline = deadline_of(timeout_ms);
    int is_socket = 1;
    char buf[16384];
    for (;;) {
        int rc = pt_proto_decoder_next(dec, out);
        if (rc != 0)
            return rc;
        rc = wait_fd(w, fd, POLLIN, deadline, eintr);
        if (rc < 0)
            return rc;
        ssize_t n = is_socket ? recv(fd, buf, sizeof buf, MSG_DONTWAIT)
                              : read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == ENOTSOCK && is_socket)
                is_socket = 0;
            else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
                return -errno;
            continue;
        }
        if (n == 0)
            return pt_proto_decoder_buffered(dec) ? PT_PROTO_E_TRUNCATED : 0;
        rc = pt_proto_decoder_feed(dec, buf, (size_t)n);
        if (rc < 0)
            return rc;
    }
}

int pt_proto_recv(int fd, struct pt_proto_decoder *dec, struct pt_msg *out,
                  int timeout_ms)
{
    return recv_loop(fd, dec, out, timeout_ms, false, NULL);
}

int pt_proto_recv_flags(int fd, struct pt_proto_decoder *dec, struct pt_msg *out,
                        int timeout_ms, unsigned flags)
{
    return recv_loop(fd, dec, out, timeout_ms, flags & PT_PROTO_RECV_EINTR, NULL);
}

int pt_proto_recv_w(int fd, struct pt_proto_decoder *dec, struct pt_msg *out,
                    int timeout_ms, const struct pt_proto_waiter *w)
{
    return recv_loop(fd, dec, out, timeout_ms, false, w);
}
