/*
 * server.c — the tracer's connection to a controller: connect (launch) and
 * its HELLO exchange (handshake.c checks the peer), adopting a connection
 * (launch, or one the attach listener handed over), sending messages and
 * OUTPUT notices, and cleaning up when the controller goes away (detach,
 * closed socket, dead peer), after which the program runs on unharmed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "tracer.h"

/*
 * Launch: the HELLO exchange on a fresh connection to the controller. The
 * program has not started yet; the wait lets the GVL go like any blocking
 * call, so a signal (SIGTERM, Ctrl-C) is handled by Ruby as usual, raising
 * through here: the caller cleans up.
 */
struct launch {
    int fd;
    struct pt_proto_decoder *dec;
    struct pt_peer peer;
    int r;
};

static VALUE launch_handshake(VALUE arg)
{
    struct launch *l = (struct launch *)arg;
    struct pt_msg m, peer, reply;
    struct pt_wait w;
    struct pt_proto_waiter waiter;
    int r;

    pt_wait_init(&w, PT_WAIT_FREE);
    waiter = pt_wait_waiter(&w);
    if ((r = pt_hs_make_hello(&m, 0)) < 0)
        return l->r = r, Qnil;
    r = pt_proto_send_w(l->fd, &m, PT_TR_SEND_TIMEOUT, &waiter);
    pt_msg_free(&m);
    if (r < 0)
        return l->r = r, Qnil;
    memset(&peer, 0, sizeof peer);
    r = pt_proto_recv_w(l->fd, l->dec, &peer, PT_TR_HELLO_TIMEOUT, &waiter);
    r = pt_hs_check(r, &peer, &reply);
    if (r == 0)
        pt_hs_peer_hello(&peer, &l->peer);
    if (r == PT_PROTO_E_VERSION)
        fprintf(stderr, "polytrace: the debugger speaks protocol version %u, this tracer %d; running without it\n",
                (unsigned)peer.u.hello.version, PT_PROTO_VERSION);
    else if (r < 0 && peer.type == PT_REP_ERROR)
        fprintf(stderr, "polytrace: the debugger refused the connection: %s\n", peer.u.error.message);
    if (reply.type != PT_MSG_NONE)
        pt_proto_send_w(l->fd, &reply, PT_TR_SEND_TIMEOUT, &waiter);
    pt_msg_free(&reply);
    pt_msg_free(&peer);
    l->r = r;
    return Qnil;
}

static VALUE launch_cleanup(VALUE arg)
{
    struct launch *l = (struct launch *)arg;

    if (l->r < 0 && l->fd >= 0) {
        close(l->fd);
        l->fd = -1;
    }
    if (l->r < 0) {
        pt_proto_decoder_free(l->dec);
        l->dec = NULL;
    }
    return Qnil;
}

int pt_tr_connect(const char *path)
{
    struct sockaddr_un sa;
    struct launch l = { .fd = -1, .dec = NULL, .r = -EINTR };
    pid_t peer = 0;
    int r;

    memset(&l.peer, 0, sizeof l.peer);

    if ((r = pt_proto_sockaddr(path, &sa)) < 0)
        goto fail;
    l.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l.fd < 0) {
        r = -errno;
        goto fail;
    }
    if (connect(l.fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        (r = pt_hs_peer(l.fd, &peer)) < 0 || (r = pt_proto_decoder_new(&l.dec, 0, 0)) < 0) {
        if (r == 0)
            r = -errno;
        close(l.fd);
        goto fail;
    }
    rb_ensure(launch_handshake, (VALUE)&l, launch_cleanup, (VALUE)&l);
    if ((r = l.r) < 0)
        goto fail;
    l.peer.pid = peer;
    pt_tr_adopt(l.fd, l.dec, &l.peer);
    return 0;
fail:
    fprintf(stderr, "polytrace: cannot use the debugger at %s (%s); running without it\n",
            path, pt_proto_strerror(r));
    return r;
}

void pt_tr_adopt(int fd, struct pt_proto_decoder *dec, const struct pt_peer *peer)
{
    pt_proto_decoder_free(pt_tr.dec);
    pt_tr.dec = dec;
    pt_tr.fd = fd;
    pt_tr.fd_pid = pt_tr.pid;
    pt_tr.peer_pid = peer->pid;
    pt_tr.follow = peer->follow;
    pt_tr.peer_remote = peer->remote;
    /* From now on the attach socket refuses other controllers. */
    if (pt_listen_start() == 0)
        pt_listen_attached(peer->pid);
    pt_idle_leave();
    pt_watch_start(fd);
}

/*
 * A reply while stopped may wait up to PT_TR_SEND_TIMEOUT for the
 * controller to read, but a signal for the program cuts that to a grace;
 * an event while the program runs waits at most PT_TR_EVENT_TIMEOUT. A
 * message that could not be written whole leaves the stream unusable: the
 * socket is shut down, so every path (the stop loop, the watcher) sees a
 * controller that went away.
 */
static int send_bytes(const char *data, size_t size)
{
    struct pt_wait w;
    struct pt_proto_waiter waiter;
    int r;

    pt_wait_init(&w, pt_tr.serving ? PT_WAIT_HELD_GRACE : PT_WAIT_HELD_DEAF);
    waiter = pt_wait_waiter(&w);
    r = pt_proto_write_all_w(pt_tr.fd, data, size,
                             pt_tr.serving ? PT_TR_SEND_TIMEOUT : PT_TR_EVENT_TIMEOUT, &waiter);
    if (r < 0)
        shutdown(pt_tr.fd, SHUT_RDWR);
    return r;
}

/*
 * The queued OP events (tracer.h), of process ops_pid, the first queued at
 * ops_since. They go out without waiting: what the socket does not take
 * stays queued (ops_stuck, tried again PT_TR_OPS_DELAY_MS after ops_tried,
 * when the loop next waits, and when the socket has room again: the
 * listener's thread watches for it and wakes ops_thread's loop, so a
 * program gone idle for good still sends it all), and beyond PT_TR_OPS_MAX
 * queued bytes events are dropped and counted (ops_dropped) until there is
 * room, where an OUTPUT notice tells the controller how many. Only a
 * message other than an OP event waits for the queue to go out before it
 * (send_bytes).
 */
static msgpack_sbuffer ops_buf;
static struct pt_op_encoder ops_enc;
static pid_t ops_pid;
static uint64_t ops_since;
static int ops_stuck;
static uint64_t ops_tried;
static uint64_t ops_dropped;
static int ops_watched;         /* the listener was asked to watch for room */
static VALUE ops_thread = Qnil; /* whose loop it wakes then (marked) */

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* pt_tr.pid, not getpid(): a system call per OP event costs more than the
 * rest of the event (about 1 µs where the kernel isolates its page tables). */
int pt_tr_connected(void)
{
    return pt_tr.fd >= 0 && pt_tr.fd_pid == pt_tr.pid;
}

/* Nothing to wait for room for: the listener's watch withdrawn. */
static void ops_unwatch(void)
{
    if (!ops_watched)
        return;
    ops_watched = 0;
    ops_thread = Qnil;
    pt_listen_unwatch_room();
}

static void ops_forget(void)
{
    ops_buf.size = 0;
    ops_stuck = 0;
    ops_dropped = 0;
    ops_unwatch();
}

void pt_tr_ops_mark(void)
{
    rb_gc_mark(ops_thread);
}

/* The notice of the events dropped since the last one, queued in their place. */
static void queue_dropped(void)
{
    struct pt_msg m;
    char text[160];
    int n;

    n = snprintf(text, sizeof text,
                 "polytrace: %llu op events dropped: the debugger did not read them in time\n",
                 (unsigned long long)ops_dropped);
    pt_msg_init(&m, PT_EV_OUTPUT, 0);
    m.u.output.text = text;     /* borrowed: encoded, never freed */
    m.u.output.text_len = (size_t)n;
    if (pt_msg_encode(&m, &ops_buf) == 0)
        ops_dropped = 0;
}

/* Everything queued, waiting for the controller to take it (send_bytes). */
static int flush_ops(void)
{
    int r = 0;

    if (ops_dropped && ops_pid == pt_tr.pid && pt_tr_connected())
        queue_dropped();
    if (ops_buf.size && ops_pid == pt_tr.pid && pt_tr_connected())
        r = send_bytes(ops_buf.data, ops_buf.size);
    ops_forget();
    return r;
}

static void ops_on_wait(void *data);

/* What the socket takes now; the rest stays queued. 0 or -errno. */
static int flush_ops_nowait(uint64_t now)
{
    size_t sent = 0;
    ssize_t n;
    int r = 0;

    if (ops_pid != pt_tr.pid || !pt_tr_connected()) {
        ops_forget();
        return 0;
    }
again:
    while (sent < ops_buf.size) {
        n = send(pt_tr.fd, ops_buf.data + sent, ops_buf.size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0 && errno == ENOTSOCK)
            return flush_ops();
        /* A broken stream: as send_bytes, shut down for every path to see. */
        r = n < 0 ? -errno : -EPIPE;
        shutdown(pt_tr.fd, SHUT_RDWR);
        ops_forget();
        return r;
    }
    memmove(ops_buf.data, ops_buf.data + sent, ops_buf.size - sent);
    ops_buf.size -= sent;
    if (!ops_buf.size && ops_dropped) {
        /* All out, but events were dropped on the way: say so now. */
        queue_dropped();
        sent = 0;
        if (ops_buf.size)
            goto again;
    }
    ops_tried = now;
    ops_stuck = ops_buf.size > 0;
    if (!ops_stuck) {
        ops_unwatch();
        return 0;
    }
    ops_since = now;
    if (pt_tr.rt && RT_API_HAS(pt_tr.rt, on_next_wait)) {
        /* Tried again as the loop next waits, and, should the program be
         * idle for good by then, once the socket has room (listener.c). */
        pt_tr.rt->on_next_wait(ops_on_wait, NULL);
        ops_thread = rb_thread_current();
        ops_watched = 1;
        pt_listen_watch_room(pt_tr.fd, ops_thread, pt_tr.main_thread);
    }
    return 0;
}

/*
 * The runtime's loop is about to wait (rt_api.h on_next_wait): the batch
 * goes out now, unless the program is stopped (then the stop loop's first
 * message sends it).
 */
static void ops_on_wait(void *data)
{
    (void)data;
    if (!pt_tr.serving && ops_buf.size)
        flush_ops_nowait(now_ms());
}

/* Whether the queue should be sent (or, stuck, tried again) now. */
static int ops_due(uint64_t now, int full)
{
    if (ops_stuck)
        return now - ops_tried >= PT_TR_OPS_DELAY_MS;
    return full || now - ops_since >= PT_TR_OPS_DELAY_MS;
}

int pt_tr_send_op(const struct pt_proto_ev_op *op)
{
    uint64_t now;
    int r;

    if (!pt_tr_connected())
        return -ENOTCONN;
    if (ops_pid != pt_tr.pid) { /* a forked child: the parent's batch is not its own */
        ops_forget();
        ops_pid = pt_tr.pid;
    }
    now = now_ms();
    if (ops_buf.size >= PT_TR_OPS_MAX) {
        if (ops_due(now, 0) && (r = flush_ops_nowait(now)) < 0)
            return r;
        if (ops_buf.size >= PT_TR_OPS_MAX) {
            ops_dropped++;
            return -ENOBUFS;
        }
    }
    if (!ops_buf.size) {
        ops_since = now;
        if (pt_tr.rt && RT_API_HAS(pt_tr.rt, on_next_wait))
            pt_tr.rt->on_next_wait(ops_on_wait, NULL);
    }
    if (ops_dropped)
        queue_dropped();
    r = pt_op_encode(&ops_enc, op, &ops_buf);
    if (r < 0)
        return r;
    if (ops_due(now, ops_buf.size >= PT_TR_OPS_BATCH))
        return flush_ops_nowait(now);
    return 0;
}

int pt_tr_ops_queued(void)
{
    return ops_buf.size > 0 || ops_dropped > 0;
}

void pt_tr_ops_tick(int about_to_wait)
{
    uint64_t now;

    if (!ops_buf.size)
        return;
    now = now_ms();
    if ((about_to_wait && !ops_stuck) || ops_due(now, 0))
        flush_ops_nowait(now);
}

int pt_tr_send(struct pt_msg *m)
{
    msgpack_sbuffer sb;
    int r = -ENOTCONN;

    if (!pt_tr_connected()) {
        pt_msg_free(m);
        return r;
    }
    /* Queued OP events happened first. */
    if (flush_ops() < 0) {
        pt_msg_free(m);
        return -EPIPE;
    }
    msgpack_sbuffer_init(&sb);
    r = pt_msg_encode(m, &sb);
    if (r == -EMSGSIZE && m->id && pt_msg_kind(m->type) == PT_KIND_REPLY && m->type != PT_REP_ERROR) {
        /* Still an answer, so the controller does not wait for one. */
        uint32_t id = m->id;
        pt_msg_free(m);
        msgpack_sbuffer_destroy(&sb);
        return pt_tr_send_error(id, PT_PROTO_ERR_INTERNAL,
                                "the answer is larger than a message may be (%u bytes)",
                                (unsigned)PT_PROTO_MAX_MSG);
    }
    pt_msg_free(m);
    if (r == 0)
        r = send_bytes(sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return r;
}

int pt_tr_send_error(uint32_t id, int code, const char *fmt, ...)
{
    struct pt_msg m;
    char *text = NULL;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (r < 0)
        return -ENOMEM;
    memset(&m, 0, sizeof m);
    r = pt_proto_make_error(&m, id, code, "%s", text);
    free(text);
    if (r < 0)
        return r;
    return pt_tr_send(&m);
}

void pt_tr_output(const char *fmt, ...)
{
    struct pt_msg m;
    char *text = NULL;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (r < 0)
        return;
    pt_msg_init(&m, PT_EV_OUTPUT, 0);
    m.u.output.text = text;     /* owned by m from here */
    m.u.output.text_len = strlen(text);
    pt_tr_send(&m);
}

/*
 * The controller is gone (detach, EOF, error): forget it and everything it
 * asked for, so the program runs on as if never debugged. The fiber lock and
 * the loop are given back by the stop loop when we are inside it.
 */
void pt_tr_disconnect(void)
{
    const struct rt_api *rt = pt_tr.rt;

    /* Before the close: a controller that sees it may attach again at once. */
    pt_listen_attached(0);
    pt_tr.observing = 0;
    pt_watch_stop();
    ops_unwatch();      /* the listener's thread must not poll a closed fd */
    if (pt_tr.fd >= 0)
        close(pt_tr.fd);
    pt_tr.fd = -1;
    pt_proto_decoder_free(pt_tr.dec);
    pt_tr.dec = NULL;
    pt_bp_clear_all();
    pt_catch_clear_all();
    pt_wp_clear_all();
    pt_step_cancel();
    pt_tr.trace_ops = 0;
    ops_forget();
    pt_tr.lockmode = PT_TR_LOCK_STEP;
    pt_tr.follow = PT_TR_FOLLOW_NONE;
    pt_diag_disconnected();
    if (pt_tr.stdio_pipe && pt_tr.fd_pid == pt_tr.pid) {
        /* Nobody reads those pipes any more: writing must not fail. */
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            close(null);
        }
        pt_tr.stdio_pipe = 0;
    }
    pt_tr.peer_pid = 0;
    pt_idle_enter();
    if (!pt_tr.serving && rt && rt->fiber_lock_owner(pt_tr.main_thread) != Qnil)
        rt->fiber_unlock(pt_tr.main_thread);
}
