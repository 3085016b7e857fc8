/*
 * listener.c — the attach socket, served by the tracer's own thread.
 *
 * `polytrace attach PID` sends SIGURG and connects to <dir>/<pid>.sock. Every
 * step before the program may stop happens here, on a native thread that
 * holds no GVL and never touches Ruby: opening the socket, accepting,
 * checking the peer's uid, sending our HELLO, reading and checking theirs
 * (handshake.c decides). A bad, slow or vanishing client costs the program
 * nothing: its fibers and timers keep their pace. Only a connection that
 * completed a valid handshake is handed to the program's main thread (a
 * SIGURG through urg.c), which then stops with reason "attach".
 *
 * Bounds (also in man/polytrace.1): the socket is open from a SIGURG until
 * PT_LISTEN_WINDOW_MS have passed without another one, and all along while
 * a controller is attached (and as long again after it left); who
 * connected before the socket closes is still served; a connection has PT_HS_TIMEOUT_MS to complete
 * its handshake and may send at most PT_HS_MAX_BYTES before it does; at
 * most PT_LISTEN_SLOTS handshakes are in progress at once, and a connection
 * beyond those is answered ERROR BUSY and closed. While a controller is
 * attached every new connection is answered "already attached by pid N".
 * A burst of SIGURGs is one byte each in a pipe: one open socket.
 *
 * A TCP socket (POLYTRACE_LISTEN, remote.c) is served here too, open as
 * long as the program runs. Its connections get the authentication
 * challenge first (pt_remote.h) and nothing else, not even our HELLO,
 * until they answer it; PT_PROTO_REMOTE_MAX_FAILS wrong answers close the socket
 * for good. With TLS, a relay thread (proto_remote_tls.c) holds each TCP
 * connection and the connection here is its plain end.
 *
 * The thread also watches the controller's connection for room while the op
 * trace's backlog is stuck (server.c): when the socket becomes writable it
 * wakes the event loop of the thread that queued the backlog (and the main
 * thread's, should that one have ended) through the runtime's wakeup, whose
 * next wait sends what it can. One wake-up per request: the tracer asks
 * again while the backlog is still stuck, each time after the socket took
 * all it could, so an idle program neither spins nor waits for the
 * controller, and its backlog still goes out as the controller reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "tracer.h"
#include "pt_remote.h"

struct conn {
    int fd;
    struct pt_peer peer;
    struct pt_proto_decoder *dec;
    int64_t deadline;
    size_t got;             /* bytes read so far */
    char *out;              /* bytes still to send */
    size_t outlen, outoff;
    int closing;            /* close once out is sent */
    int valid;              /* its HELLO passed: hand over once out is sent */
    int remote;             /* came over TCP */
    int authed;             /* remote: answered the challenge */
    unsigned char challenge[PT_PROTO_REMOTE_CHALLENGE_LEN];
    unsigned char mac[PT_PROTO_REMOTE_MAC_LEN];
    size_t macgot;
    char from[64];          /* remote: the peer's address */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t thread;
static atomic_int running;          /* the thread is there (read by urg.c) */
static atomic_int wake_w = -1;      /* write end of the wake pipe */
static int wake_r = -1;
static int ready_pipe[2] = { -1, -1 };
static pid_t owner;                 /* the process the thread runs in */

/* Shared with the main thread, under mu. */
static int quit;
static pid_t attached;              /* pid of the attached controller, 0: none */
static int64_t window_until;        /* listen until then (0: no window) */
static char *hello;                 /* our HELLO, encoded */
static size_t hello_len;
static char sockdir[PATH_MAX];
static struct { int fd; struct pt_peer peer; struct pt_proto_decoder *dec; } ready = { -1, { 0 }, NULL };
/* The op trace's backlog: fd to watch for room (-1: none), the threads to
 * wake then (kept alive by the tracer: server.c marks them; the runtime only
 * compares them to its threads', so one that ended is no harm). */
static int room_fd = -1;
static VALUE room_thread = Qnil, room_main = Qnil;

/* The TCP socket: remote.c hands it over (under mu), the thread serves
 * it and may close it (under mu). */
static int tcp_fd = -1;
static char tcp_token[PT_PROTO_REMOTE_TOKEN_MAX + 1];
static struct pt_proto_remote_tls *tcp_tls;
static char tcp_addr[PT_PROTO_REMOTE_ADDR_MAX];
static int tcp_fails;

/* The thread's own. */
static struct conn conns[PT_LISTEN_SLOTS];
static int nconns;
static int lfd = -1;
static char lpath[PATH_MAX];

static void say(const char *text)
{
    ssize_t r = write(2, text, strlen(text));
    (void)r;
}

/* ---- the socket ----------------------------------------------------------- */

static void close_socket(void)
{
    if (lfd < 0)
        return;
    close(lfd);
    lfd = -1;
    unlink(lpath);
}

/* The socket gets its name only once it listens: it is bound under a
 * staging name and renamed, so a client that sees PID.sock can connect to
 * it (between bind and listen it would be refused). */
static int open_socket(const char *dir)
{
    struct sockaddr_un sa, staged;
    char stage[PATH_MAX];
    int r;

    if ((r = pt_proto_sockdir_make(dir)) < 0 ||
        (r = pt_proto_attach_sock_path(dir, getpid(), lpath, sizeof lpath)) < 0 ||
        (r = pt_proto_sockaddr(lpath, &sa)) < 0)
        return r;
    /* A name too long to stage is bound as it is. */
    int n = snprintf(stage, sizeof stage, "%s.new", lpath);
    bool staging = n > 0 && (size_t)n < sizeof stage && pt_proto_sockaddr(stage, &staged) == 0;
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (lfd < 0)
        return -errno;
    unlink(staging ? stage : lpath);
    if (bind(lfd, (struct sockaddr *)(staging ? &staged : &sa), sizeof sa) < 0 || listen(lfd, 64) < 0 ||
        (staging && rename(stage, lpath) < 0)) {
        r = -errno;
        close(lfd);
        lfd = -1;
        if (staging)
            unlink(stage);
        return r;
    }
    return 0;
}

/* ---- connections ----------------------------------------------------------- */

static void conn_drop(struct conn *c, int close_fd)
{
    if (close_fd && c->fd >= 0)
        close(c->fd);
    pt_proto_decoder_free(c->dec);
    free(c->out);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

/* Queue an encoded message on c (freed here); the connection closes after it
 * when closing is set. */
static void conn_say(struct conn *c, struct pt_msg *m, int closing)
{
    char *buf = NULL;
    size_t len = 0;

    if (m->type != PT_MSG_NONE && pt_msg_encode_alloc(m, &buf, &len) == 0) {
        free(c->out);
        c->out = buf;
        c->outlen = len;
        c->outoff = 0;
    }
    pt_msg_free(m);
    c->closing = closing;
}

/* An answer to a connection that gets no slot: one try, then close. */
static void refuse(int fd, pid_t by)
{
    struct pt_msg m;
    char *buf = NULL;
    size_t len = 0;

    if (pt_hs_busy(&m, by) == 0 && pt_msg_encode_alloc(&m, &buf, &len) == 0) {
        ssize_t r = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)r;
    }
    free(buf);
    pt_msg_free(&m);
    close(fd);
}

/* Our HELLO queued on c, and a decoder for theirs; 0 or -ENOMEM. */
static int conn_start_hello(struct conn *c)
{
    pthread_mutex_lock(&mu);
    c->out = hello ? malloc(hello_len) : NULL;
    if (c->out) {
        memcpy(c->out, hello, hello_len);
        c->outlen = hello_len;
        c->outoff = 0;
    }
    pthread_mutex_unlock(&mu);
    if (!c->out || pt_proto_decoder_new(&c->dec, 0, 0) < 0)
        return -ENOMEM;
    return 0;
}

static void accept_all(int64_t now)
{
    for (;;) {
        pid_t pid = 0, by;
        struct conn *c;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0)
            return;     /* EAGAIN, or an error the next poll shows again */
        if (pt_hs_peer(fd, &pid) < 0) {
            close(fd);  /* another user: not a word */
            continue;
        }
        pthread_mutex_lock(&mu);
        by = attached;
        pthread_mutex_unlock(&mu);
        if (by || nconns == PT_LISTEN_SLOTS) {
            refuse(fd, by);
            continue;
        }
        c = &conns[nconns];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->peer.pid = pid;
        c->deadline = now + PT_HS_TIMEOUT_MS;
        if (conn_start_hello(c) < 0) {
            conn_drop(c, 1);
            continue;
        }
        nconns++;
    }
}

/* TCP: nobody learns anything before answering the challenge; so a
 * connection beyond the slots is closed without a word, and one that
 * comes while a controller is attached is told only once it is
 * authenticated (hand_over). */
static void accept_tcp(int64_t now)
{
    for (;;) {
        struct conn *c;
        char from[64];
        int one = 1, fd = accept4(tcp_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0)
            return;
        if (nconns == PT_LISTEN_SLOTS) {
            close(fd);
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pt_proto_remote_peer_name(fd, from, sizeof from);
        if (tcp_tls) {
            int plain;
            if (pt_proto_remote_tls_start(tcp_tls, fd, NULL, 0, &plain, NULL, 0) < 0)
                continue;   /* fd is closed */
            fd = plain;
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        }
        c = &conns[nconns];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->remote = 1;
        c->peer.remote = 1;
        memcpy(c->from, from, sizeof c->from);
        c->deadline = now + PT_HS_TIMEOUT_MS;
        c->out = malloc(sizeof c->challenge);
        if (!c->out || pt_proto_remote_challenge(c->challenge) < 0) {
            conn_drop(c, 1);
            continue;
        }
        memcpy(c->out, c->challenge, sizeof c->challenge);
        c->outlen = sizeof c->challenge;
        nconns++;
    }
}

static void close_tcp(void)
{
    pthread_mutex_lock(&mu);
    if (tcp_fd >= 0)
        close(tcp_fd);
    tcp_fd = -1;
    pthread_mutex_unlock(&mu);
}

/* A wrong answer, or none in time: counted; the socket closes at the limit. */
static void auth_failed(struct conn *c, const char *why)
{
    char line[256];
    struct pt_msg m;

    tcp_fails++;
    snprintf(line, sizeof line, "polytrace: refused a debugger connection from %s: %s "
             "(%d of %d failed)\n", c->from, why, tcp_fails, PT_PROTO_REMOTE_MAX_FAILS);
    say(line);
    if (tcp_fails >= PT_PROTO_REMOTE_MAX_FAILS && tcp_fd >= 0) {
        snprintf(line, sizeof line, "polytrace: %d failed authentications: no longer listening on "
                 "%s\n", tcp_fails, tcp_addr);
        say(line);
        close_tcp();
    }
    pt_msg_init(&m, PT_MSG_NONE, 0);
    pt_proto_make_error(&m, 0, PT_PROTO_ERR_AUTH, "authentication failed");
    conn_say(c, &m, 1);
}

/* Reads the answer to the challenge; on a good one, our HELLO follows. */
static void conn_read_auth(struct conn *c, int64_t now)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->mac + c->macgot, sizeof c->mac - c->macgot, MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            if (c->macgot)
                tcp_fails++, c->macgot = 0;     /* a partial answer, then gone */
            conn_drop(c, 1);
            return;
        }
        c->macgot += (size_t)n;
        if (c->macgot < sizeof c->mac)
            continue;
        if (pt_proto_remote_verify(tcp_token, c->challenge, c->mac) < 0) {
            auth_failed(c, "wrong answer to the challenge (a wrong or missing token, a replay, "
                        "or not a polytrace controller)");
            return;
        }
        c->authed = 1;
        c->deadline = now + PT_HS_TIMEOUT_MS;
        free(c->out);
        c->out = NULL;
        c->outlen = c->outoff = 0;
        if (conn_start_hello(c) < 0)
            conn_drop(c, 1);
        return;
    }
}

/* A valid handshake: the connection goes to the main thread. */
static void hand_over(struct conn *c)
{
    int taken = 0;
    pid_t by;

    pthread_mutex_lock(&mu);
    by = attached;
    if (!by && ready.fd < 0) {
        ready.fd = c->fd;
        ready.peer = c->peer;
        ready.dec = c->dec;
        attached = c->peer.pid;
        taken = 1;
    }
    pthread_mutex_unlock(&mu);
    if (!taken) {
        struct pt_msg m;
        pt_hs_busy(&m, by);
        conn_say(c, &m, 1);
        return;
    }
    c->dec = NULL;
    conn_drop(c, 0);
    if (write(ready_pipe[1], "", 1) < 0) {
        /* full: the main thread has a byte to wake on already */
    }
    pt_urg_kick_main();
}

static void conn_read(struct conn *c)
{
    char buf[4096];

    for (;;) {
        struct pt_msg peer, reply;
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        int got;

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {           /* gone (or broken) before its hello */
            conn_drop(c, 1);
            return;
        }
        c->got += (size_t)n;
        if (c->got > PT_HS_MAX_BYTES) {
            got = PT_PROTO_E_TOOBIG;
        } else {
            if (pt_proto_decoder_feed(c->dec, buf, (size_t)n) < 0) {
                conn_drop(c, 1);
                return;
            }
            memset(&peer, 0, sizeof peer);
            got = pt_proto_decoder_next(c->dec, &peer);
            if (got == 0)
                continue;
            if (pt_hs_check(got, &peer, &reply) == 0) {
                pt_hs_peer_hello(&peer, &c->peer);
                if (c->remote)  /* no SO_PEERCRED: the pid its HELLO gives */
                    c->peer.pid = peer.u.hello.pid > 0 && peer.u.hello.pid <= INT_MAX
                                  ? (pid_t)peer.u.hello.pid : 1;
                pt_msg_free(&peer);
                pt_msg_free(&reply);
                c->valid = 1;
                return;
            }
            pt_msg_free(&peer);
            conn_say(c, &reply, 1);
            return;
        }
        memset(&peer, 0, sizeof peer);
        pt_hs_check(got, &peer, &reply);
        conn_say(c, &reply, 1);
        return;
    }
}

static void conn_write(struct conn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            conn_drop(c, 1);
            return;
        }
        c->outoff += (size_t)n;
    }
}

/* Moves a connection on after poll; drops it when done. */
static void conn_serve(struct conn *c, short revents, int64_t now)
{
    if (revents & POLLNVAL) {
        conn_drop(c, 0);
        return;
    }
    if (c->outoff < c->outlen)
        conn_write(c);
    if (c->fd >= 0 && !c->closing && !c->valid && (revents & (POLLIN | POLLHUP | POLLERR))) {
        if (c->remote && !c->authed)
            conn_read_auth(c, now);
        else
            conn_read(c);
    }
    if (c->fd < 0)
        return;
    if (c->outoff == c->outlen && c->closing) {
        conn_drop(c, 1);
    } else if (c->outoff == c->outlen && c->valid) {
        hand_over(c);
    } else if (now >= c->deadline) {
        if (c->closing || c->valid) {
            conn_drop(c, 1);    /* it does not even read */
        } else if (c->remote && !c->authed) {
            if (c->macgot)
                auth_failed(c, "no whole answer to the challenge in time");
            else
                conn_drop(c, 1);    /* said nothing: not counted */
            if (c->fd >= 0) {
                c->deadline = now + PT_HS_TIMEOUT_MS;
                conn_write(c);
                if (c->fd >= 0 && c->outoff == c->outlen)
                    conn_drop(c, 1);
            }
        } else {
            struct pt_msg reply, none;
            memset(&none, 0, sizeof none);
            pt_hs_check(-ETIMEDOUT, &none, &reply);
            conn_say(c, &reply, 1);
            c->deadline = now + PT_HS_TIMEOUT_MS;   /* to read the answer */
            conn_write(c);
            if (c->fd >= 0 && c->outoff == c->outlen)
                conn_drop(c, 1);
        }
    }
}

static void compact(void)
{
    int i, j = 0;

    for (i = 0; i < nconns; i++) {
        if (conns[i].fd < 0)
            continue;
        if (i != j)
            conns[j] = conns[i];
        j++;
    }
    for (i = j; i < nconns; i++) {
        memset(&conns[i], 0, sizeof conns[i]);
        conns[i].fd = -1;
    }
    nconns = j;
}

/* ---- the thread ------------------------------------------------------------ */

static void drain_wake(int64_t now)
{
    char buf[256];
    ssize_t n;
    int urg = 0;

    while ((n = read(wake_r, buf, sizeof buf)) > 0)
        urg |= memchr(buf, 'U', (size_t)n) != NULL;
    if (!urg)
        return;
    pthread_mutex_lock(&mu);
    if (window_until < now + PT_LISTEN_WINDOW_MS)
        window_until = now + PT_LISTEN_WINDOW_MS;
    pthread_mutex_unlock(&mu);
}

/* The controller's socket has room (or broke): wake the loop that holds
 * the backlog, unless the request was withdrawn or changed meanwhile. */
static void room_made(int fd)
{
    const struct rt_api *rt = pt_tr.rt;    /* set once, before any request */
    VALUE th = Qnil, main_th = Qnil;

    pthread_mutex_lock(&mu);
    if (room_fd == fd) {
        th = room_thread;
        main_th = room_main;
        room_fd = -1;
        room_thread = room_main = Qnil;
    }
    pthread_mutex_unlock(&mu);
    if (!rt || th == Qnil)
        return;
    rt->wakeup(th);
    if (main_th != Qnil && main_th != th)
        rt->wakeup(main_th);
}

static void *run(void *arg)
{
    struct pollfd p[4 + PT_LISTEN_SLOTS];
    int reported = 0;

    (void)arg;
    for (;;) {
        int64_t now = pt_proto_now_ms(), until;
        int i, n = 0, timeout = -1, want;
        char dir[PATH_MAX];

        pthread_mutex_lock(&mu);
        if (quit) {
            pthread_mutex_unlock(&mu);
            break;
        }
        want = attached || now < window_until;
        int tfd = tcp_fd;
        int rfd = room_fd;
        until = attached ? -1 : window_until;
        memcpy(dir, sockdir, sizeof dir);
        pthread_mutex_unlock(&mu);

        if (want && lfd < 0) {
            int r = open_socket(dir);
            if (r < 0) {
                if (!reported && r == -EPERM)
                    say("polytrace: attach refused: the socket directory is not private to this user\n");
                else if (!reported)
                    say("polytrace: cannot open the attach socket; no debugger can attach\n");
                reported = 1;
                pthread_mutex_lock(&mu);
                window_until = 0;
                pthread_mutex_unlock(&mu);
                until = -1;
            }
        } else if (!want && lfd >= 0) {
            accept_all(now);    /* who connected in time is served */
            close_socket();
        }
        if (lfd >= 0)
            reported = 0;

        int at_l = -1, at_t = -1, at_r = -1, at_c;
        p[n++] = (struct pollfd){ .fd = wake_r, .events = POLLIN };
        if (lfd >= 0) {
            at_l = n;
            p[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
        }
        if (tfd >= 0) {
            at_t = n;
            p[n++] = (struct pollfd){ .fd = tfd, .events = POLLIN };
        }
        if (rfd >= 0) {
            at_r = n;
            p[n++] = (struct pollfd){ .fd = rfd, .events = POLLOUT };
        }
        at_c = n;
        for (i = 0; i < nconns; i++) {
            struct conn *c = &conns[i];
            short ev = c->outoff < c->outlen ? POLLOUT : 0;
            if (!c->closing && !c->valid)
                ev |= POLLIN;
            p[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
            if (timeout < 0 || c->deadline - now < timeout)
                timeout = c->deadline - now < 0 ? 0 : (int)(c->deadline - now);
        }
        if (lfd >= 0 && until > 0 && (timeout < 0 || until - now < timeout))
            timeout = until - now < 0 ? 0 : (int)(until - now);

        if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR)
            continue;
        now = pt_proto_now_ms();
        if (p[0].revents)
            drain_wake(now);
        if (at_r >= 0 && p[at_r].revents)
            room_made(rfd);
        for (i = 0; i < nconns; i++)
            conn_serve(&conns[i], p[at_c + i].revents, now);
        compact();
        if (at_l >= 0 && lfd >= 0 && p[at_l].revents)
            accept_all(now);
        if (at_t >= 0 && tcp_fd >= 0 && p[at_t].revents)
            accept_tcp(now);
    }
    for (int i = 0; i < nconns; i++)
        conn_drop(&conns[i], 1);
    nconns = 0;
    close_socket();
    close_tcp();
    return NULL;
}

/* ---- the main thread's side ------------------------------------------------ */

int pt_listen_init(void)
{
    int w[2];

    if (atomic_load(&wake_w) >= 0)
        return 0;
    if (pipe2(w, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    if (pipe2(ready_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        close(w[0]);
        close(w[1]);
        return -errno;
    }
    wake_r = w[0];
    atomic_store(&wake_w, w[1]);
    return 0;
}

static void poke(char what)
{
    int fd = atomic_load(&wake_w);

    if (fd >= 0 && write(fd, &what, 1) < 0) {
        /* full: the thread has bytes to wake on already */
    }
}

void pt_listen_poke_signal(void)
{
    poke('U');
}

int pt_listen_running(void)
{
    return atomic_load(&running);
}

int pt_listen_start(void)
{
    struct pt_msg m;
    char *buf = NULL, dir[PATH_MAX];
    size_t len = 0;
    sigset_t all, old;
    int r;

    if ((r = pt_listen_init()) < 0)
        return r;
    /* Ruby values and the environment are read here, never by the thread. */
    if ((r = pt_hs_make_hello(&m, 1)) < 0)
        return r;
    r = pt_msg_encode_alloc(&m, &buf, &len);
    pt_msg_free(&m);
    if (r < 0)
        return r;
    if (pt_proto_sockdir_path(dir, sizeof dir) < 0)
        dir[0] = '\0';
    pthread_mutex_lock(&mu);
    free(hello);
    hello = buf;
    hello_len = len;
    memcpy(sockdir, dir, sizeof sockdir);
    pthread_mutex_unlock(&mu);
    if (atomic_load(&running))
        return 0;
    quit = 0;
    /* Signals go to Ruby's threads, never to this one. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    r = pthread_create(&thread, NULL, run, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0)
        return -r;
    owner = getpid();
    atomic_store(&running, 1);
    return 0;
}

int pt_listen_tcp(int fd, const char *token, struct pt_proto_remote_tls *tls, const char *addr)
{
    pthread_mutex_lock(&mu);
    if (tcp_fd >= 0 || strlen(token) >= sizeof tcp_token) {
        pthread_mutex_unlock(&mu);
        return -EBUSY;
    }
    memcpy(tcp_token, token, strlen(token) + 1);
    tcp_tls = tls;
    snprintf(tcp_addr, sizeof tcp_addr, "%s", addr);
    tcp_fails = 0;
    tcp_fd = fd;
    pthread_mutex_unlock(&mu);
    poke('S');
    return 0;
}

void pt_listen_window(int ms)
{
    pthread_mutex_lock(&mu);
    window_until = ms > 0 ? pt_proto_now_ms() + ms : 0;
    pthread_mutex_unlock(&mu);
    poke('S');
}

void pt_listen_attached(pid_t pid)
{
    pthread_mutex_lock(&mu);
    /* After a detach the socket stays a while, as after a SIGURG: whoever
     * attaches again right away finds it open. */
    if (attached && !pid)
        window_until = pt_proto_now_ms() + PT_LISTEN_WINDOW_MS;
    attached = pid;
    pthread_mutex_unlock(&mu);
    poke('S');
}

void pt_listen_watch_room(int fd, VALUE thread, VALUE main_thread)
{
    int was;

    pthread_mutex_lock(&mu);
    was = room_fd;
    room_fd = fd;
    room_thread = thread;
    room_main = main_thread;
    pthread_mutex_unlock(&mu);
    if (was != fd)
        poke('S');
}

/* The thread polls that fd no longer once poked: it may be closed. */
void pt_listen_unwatch_room(void)
{
    pt_listen_watch_room(-1, Qnil, Qnil);
}

int pt_listen_ready_fd(void)
{
    return ready_pipe[0];
}

int pt_listen_take(int *fd, struct pt_proto_decoder **dec, struct pt_peer *peer)
{
    int got = 0;

    pthread_mutex_lock(&mu);
    if (ready.fd >= 0) {
        *fd = ready.fd;
        *dec = ready.dec;
        *peer = ready.peer;
        ready.fd = -1;
        ready.dec = NULL;
        got = 1;
    }
    pthread_mutex_unlock(&mu);
    if (ready_pipe[0] >= 0) {
        char buf[64];
        while (read(ready_pipe[0], buf, sizeof buf) > 0)
            ;
    }
    return got;
}

void pt_listen_stop(void)
{
    if (!atomic_load(&running) || owner != getpid())
        return;
    pthread_mutex_lock(&mu);
    quit = 1;
    pthread_mutex_unlock(&mu);
    poke('S');
    pthread_join(thread, NULL);
    atomic_store(&running, 0);
    pthread_mutex_lock(&mu);
    if (ready.fd >= 0) {
        close(ready.fd);
        pt_proto_decoder_free(ready.dec);
        ready.fd = -1;
        ready.dec = NULL;
    }
    attached = 0;
    window_until = 0;
    pthread_mutex_unlock(&mu);
}

/*
 * In a forked child: the thread is not there. Its descriptors are closed
 * (the parent's socket path is left alone: it is the parent's) and the
 * state is reset, so the child can be attached on its own: the next SIGURG
 * reaches Ruby and starts a thread here.
 */
void pt_listen_forget(void)
{
    int i, w = atomic_load(&wake_w);

    atomic_store(&running, 0);
    pthread_mutex_init(&mu, NULL);
    for (i = 0; i < nconns && i < PT_LISTEN_SLOTS; i++) {
        if (conns[i].fd >= 0)
            close(conns[i].fd);
        conns[i].fd = -1;
    }
    nconns = 0;     /* the buffers are the parent's copies: left, not freed */
    if (lfd >= 0)
        close(lfd);
    lfd = -1;
    /* The TCP socket is the parent's: a child does not listen there. */
    close_tcp();
    memset(tcp_token, 0, sizeof tcp_token);
    tcp_tls = NULL;     /* the parent's: left, not freed */
    if (ready.fd >= 0)
        close(ready.fd);
    ready.fd = -1;
    ready.dec = NULL;
    attached = 0;
    window_until = 0;
    room_fd = -1;   /* the parent's backlog and connection */
    room_thread = room_main = Qnil;
    quit = 0;
    atomic_store(&wake_w, -1);
    if (w >= 0)
        close(w);
    if (wake_r >= 0)
        close(wake_r);
    wake_r = -1;
    for (i = 0; i < 2; i++) {
        if (ready_pipe[i] >= 0)
            close(ready_pipe[i]);
        ready_pipe[i] = -1;
    }
    pt_listen_init();
}
