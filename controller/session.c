/*
 * session.c — the controller's end of a tracer connection: handshake
 * (docs/ARCHITECTURE.md, "Conversation rules" 1), one request at a time
 * matched to its reply by id (rule 3), and an in-order queue of events that
 * arrived while a reply was awaited, so the event loop sees them later.
 */
#include "session.h"
#include "strcopy.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int pt_sess_open(struct pt_sess *s, int fd)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->next_id = 1;
    int rc = pt_proto_decoder_new(&s->dec, 0, 0);
    if (rc) {
        s->dec = NULL;
        return rc;
    }
    return 0;
}

void pt_sess_close(struct pt_sess *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    pt_proto_decoder_free(s->dec);
    s->dec = NULL;
    for (size_t i = 0; i < s->nqueue; i++)
        pt_msg_free(&s->queue[i]);
    free(s->queue);
    s->queue = NULL;
    s->nqueue = s->capqueue = 0;
    pt_msg_free(&s->peer_hello);
}

static int enqueue(struct pt_sess *s, struct pt_msg *m)
{
    if (s->nqueue == s->capqueue) {
        size_t cap = s->capqueue ? s->capqueue * 2 : 8;
        struct pt_msg *q = realloc(s->queue, cap * sizeof *q);
        if (!q)
            return -ENOMEM;
        s->queue = q;
        s->capqueue = cap;
    }
    s->queue[s->nqueue++] = *m;
    memset(m, 0, sizeof *m);
    return 0;
}

int pt_sess_handshake(struct pt_sess *s, bool attached, char *err, size_t errlen)
{
    struct pt_msg m;
    memset(&m, 0, sizeof m);
    int rc = pt_proto_recv(s->fd, s->dec, &m, PT_SESS_HELLO_MS);
    if (rc == 0) {
        snprintf(err, errlen, "the tracer closed the connection before saying hello");
        return -ECONNRESET;
    }
    if (rc < 0) {
        snprintf(err, errlen, "no hello from the tracer: %s", pt_proto_strerror(rc));
        return rc;
    }
    struct pt_msg reply;
    memset(&reply, 0, sizeof reply);
    rc = pt_proto_check_hello(&m, &reply);
    if (rc == PT_PROTO_E_VERSION) {
        snprintf(err, errlen, "protocol version mismatch: the tracer speaks %u, polytrace speaks %d",
                 (unsigned)m.u.hello.version, PT_PROTO_VERSION);
        pt_proto_send(s->fd, &reply, 1000);
        pt_msg_free(&reply);
        pt_msg_free(&m);
        return rc;
    }
    pt_msg_free(&reply);
    if (rc) {
        if (m.type == PT_REP_ERROR)
            snprintf(err, errlen, "the tracer refused: %s", m.u.error.message ? m.u.error.message : "");
        else
            snprintf(err, errlen, "the tracer's first message is not a hello (%s)",
                     pt_msg_type_name(m.type));
        pt_msg_free(&m);
        return rc;
    }
    s->peer_hello = m;
    struct pt_msg hello;
    rc = pt_proto_make_hello(&hello, (int64_t)getpid(), "", "", "", NULL, 0, attached);
    hello.u.hello.observe = s->observe;
    if (rc == 0 && s->follow)
        rc = pt_proto_set_str(&hello.u.hello.follow_fork, s->follow);
    if (rc == 0) {
        rc = pt_proto_send(s->fd, &hello, PT_SESS_HELLO_MS);
        pt_msg_free(&hello);
    }
    if (rc)
        snprintf(err, errlen, "cannot send hello to the tracer: %s", pt_proto_strerror(rc));
    return rc;
}

int pt_sess_send(struct pt_sess *s, struct pt_msg *req)
{
    if (s->fd < 0)
        return -ENOTCONN;
    req->id = s->next_id++;
    if (s->next_id == 0)
        s->next_id = 1;
    return pt_proto_send(s->fd, req, PT_SESS_REPLY_MS);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int pt_sess_wait_reply(struct pt_sess *s, uint32_t id, struct pt_msg *reply, int timeout_ms,
                       int intr_fd)
{
    memset(reply, 0, sizeof *reply);
    if (s->fd < 0)
        return -ENOTCONN;
    long deadline = now_ms() + timeout_ms;
    for (;;) {
        struct pt_msg m;
        memset(&m, 0, sizeof m);
        int rc = pt_proto_recv(s->fd, s->dec, &m, 0);
        if (rc == -ETIMEDOUT) {
            /* Nothing complete yet: wait for bytes, the deadline or intr_fd. */
            long left = deadline - now_ms();
            if (left <= 0)
                return -ETIMEDOUT;
            struct pollfd p[2] = {
                { .fd = s->fd, .events = POLLIN },
                { .fd = intr_fd, .events = POLLIN },
            };
            int n = poll(p, intr_fd >= 0 ? 2 : 1, (int)left);
            if (n < 0 && errno != EINTR)
                return -errno;
            if (n > 0 && intr_fd >= 0 && (p[1].revents & POLLIN))
                return -EINTR;
            continue;
        }
        if (rc == 0)
            return -ECONNRESET;
        if (rc == PT_PROTO_E_UNKNOWN_TYPE) {
            pt_msg_free(&m);
            continue;  /* a message type we do not know: not our reply */
        }
        if (rc == PT_PROTO_E_BADMSG) {
            /* Unreadable; if it answered us, say so (the stream is still in step). */
            uint32_t bad_id = m.id;
            pt_msg_free(&m);
            if (bad_id == id)
                return rc;
            continue;
        }
        if (rc < 0)
            return rc;
        enum pt_msg_kind kind = pt_msg_kind(m.type);
        if (kind == PT_KIND_REPLY && (m.id == id || (m.type == PT_REP_ERROR && m.id == 0))) {
            *reply = m;
            return 0;
        }
        if (kind == PT_KIND_EVENT) {
            if ((rc = enqueue(s, &m))) {
                pt_msg_free(&m);
                return rc;
            }
            continue;
        }
        pt_msg_free(&m);  /* a stale reply to an earlier request */
    }
}

int pt_sess_request(struct pt_sess *s, struct pt_msg *req, struct pt_msg *reply, int timeout_ms)
{
    memset(reply, 0, sizeof *reply);
    int rc = pt_sess_send(s, req);
    if (rc)
        return rc;
    return pt_sess_wait_reply(s, req->id, reply, timeout_ms, -1);
}

bool pt_sess_pending(const struct pt_sess *s)
{
    return s->nqueue > 0 || (s->dec && pt_proto_decoder_buffered(s->dec) > 0);
}

int pt_sess_next(struct pt_sess *s, struct pt_msg *m, int timeout_ms)
{
    memset(m, 0, sizeof *m);
    if (s->nqueue) {
        *m = s->queue[0];
        memmove(s->queue, s->queue + 1, (s->nqueue - 1) * sizeof *s->queue);
        s->nqueue--;
        return 1;
    }
    if (s->fd < 0)
        return 0;
    for (;;) {
        int rc = pt_proto_recv(s->fd, s->dec, m, timeout_ms);
        if (rc == PT_PROTO_E_BADMSG || rc == PT_PROTO_E_UNKNOWN_TYPE) {
            pt_msg_free(m);
            continue;  /* skip what we cannot read; the stream is still in step */
        }
        return rc;
    }
}

int pt_sess_reply_error(const struct pt_msg *reply, char *buf, size_t len)
{
    if (reply->type != PT_REP_ERROR)
        return 0;
    const char *msg = reply->u.error.message;
    if (msg && *msg)
        pt_str_copy(buf, len, msg);
    else
        snprintf(buf, len, "the tracer answered %s", pt_proto_errcode_name(reply->u.error.code));
    return 1;
}
