/*
 * session.h — one connection to a tracer: the handshake, request/reply with
 * ids, and the events that arrive in between (kept in order for the event
 * loop). Returns 0 or negative errno / enum pt_proto_error; never prints.
 */
#ifndef PT_SESSION_H
#define PT_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "pt_proto.h"

/* How long to wait for the tracer's answer to a request. */
#define PT_SESS_REPLY_MS 15000
/* How long to wait for the tracer's HELLO. */
#define PT_SESS_HELLO_MS 10000

struct pt_sess {
    int fd;                        /* -1 once closed */
    struct pt_proto_decoder *dec;
    uint32_t next_id;
    struct pt_msg peer_hello;      /* the tracer's HELLO */
    struct pt_msg *queue;          /* events received while awaiting a reply */
    size_t nqueue, capqueue;
    bool observe;                  /* our HELLO asks only to watch (top) */
    const char *follow;            /* our HELLO's follow_fork (NULL: none) */
};

/* Takes ownership of fd. 0 or -ENOMEM. */
int pt_sess_open(struct pt_sess *s, int fd);

/* Closes the socket and frees everything (safe twice). */
void pt_sess_close(struct pt_sess *s);

/*
 * Receives the tracer's HELLO and answers with ours. On a version mismatch
 * sends the ERROR, and returns PT_PROTO_E_VERSION with both versions named
 * in err. Other failures: -errno / protocol errors, err filled too.
 */
int pt_sess_handshake(struct pt_sess *s, bool attached, char *err, size_t errlen);

/*
 * Sends req (its id is assigned here) and waits for the reply with the same
 * id, queueing events that arrive first. 0 with *reply filled (possibly a
 * PT_REP_ERROR: see pt_sess_reply_error), 0 = connection closed returns
 * -ECONNRESET, or -ETIMEDOUT, or another negative error.
 */
int pt_sess_request(struct pt_sess *s, struct pt_msg *req, struct pt_msg *reply, int timeout_ms);

/*
 * Waits for the reply to request id, as pt_sess_request does; also returns
 * -EINTR as soon as intr_fd (when >= 0) is readable, without reading it.
 */
int pt_sess_wait_reply(struct pt_sess *s, uint32_t id, struct pt_msg *reply, int timeout_ms,
                       int intr_fd);

/* Sends req without waiting (PAUSE while running); the reply comes as an
 * event-like message through pt_sess_next. 0 or negative error. */
int pt_sess_send(struct pt_sess *s, struct pt_msg *req);

/* True if queued or already-buffered messages are waiting. */
bool pt_sess_pending(const struct pt_sess *s);

/*
 * The next message not consumed by a request: a queued event first, else
 * from the socket, waiting up to timeout_ms (0: don't block). 1: *m filled;
 * 0: the tracer closed the connection; -ETIMEDOUT: nothing yet; other <0.
 */
int pt_sess_next(struct pt_sess *s, struct pt_msg *m, int timeout_ms);

/* If reply is an ERROR, a one-line text for it in buf and 1; else 0. */
int pt_sess_reply_error(const struct pt_msg *reply, char *buf, size_t len);

#endif
