/*
 * proto_remote_tls.c — TLS for the debugger's TCP connections, through
 * OpenSSL (pt_remote.h). A relay thread owns each TLS connection and
 * copies bytes between it and a Unix socket pair whose other end the rest
 * of the program reads and writes as any local connection; so nothing
 * above (the preamble, the message framing, the tracer's stop loop that
 * must never enter Ruby) knows TLS is there.
 *
 * The relay never blocks on one direction while the other waits: both
 * sockets are non-blocking, each direction has its own buffer, and the
 * thread polls for whatever OpenSSL or the pair asks next. It ends when
 * either side closes, after passing on what it holds. Its descriptors are
 * closed in a forked child (pthread_atfork), where the thread is not: a
 * child must not keep its parent's TLS connection open.
 */
#include "pt_remote.h"
#include "pt_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define RELAY_BUF 16384
#define RELAY_HANDSHAKE_MS 10000     /* a server's peer has this long */
#define RELAY_MAX 64                 /* relays alive at once in a process */

struct pt_proto_remote_tls {
    SSL_CTX *ctx;
    bool server;
};

struct relay {
    SSL *ssl;
    int net, plain;
    bool handshake;                 /* still to do (server side) */
    unsigned char a[RELAY_BUF];     /* net -> plain */
    size_t alen, aoff;
    unsigned char b[RELAY_BUF];     /* plain -> net */
    size_t blen, boff;
};

/* Every live relay's descriptors, for the fork handler. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct relay *live[RELAY_MAX];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* OpenSSL's reason for the last failure, its queue emptied. */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_get_error(), last = e;

    while (e) {
        last = e;
        e = ERR_get_error();
    }
    if (!last)
        return "unknown TLS error";
    ERR_error_string_n(last, buf, len);
    return buf;
}

/* ---- contexts -------------------------------------------------------------- */

static int new_ctx(bool server, struct pt_proto_remote_tls **out, char *err, size_t errlen)
{
    struct pt_proto_remote_tls *t = calloc(1, sizeof *t);
    char why[256];

    if (!t)
        return pt_proto_errf(err, errlen, -ENOMEM, "out of memory");
    t->server = server;
    t->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!t->ctx) {
        free(t);
        return pt_proto_errf(err, errlen, -EIO, "cannot set up TLS: %s", ssl_reason(why, sizeof why));
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    *out = t;
    return 0;
}

int pt_proto_remote_tls_server(const char *cert, const char *key, struct pt_proto_remote_tls **out,
                               char *err, size_t errlen)
{
    struct pt_proto_remote_tls *t;
    char why[256];
    int r = new_ctx(true, &t, err, errlen);

    if (r < 0)
        return r;
    if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
        r = pt_proto_errf(err, errlen, -EINVAL, "cannot use the certificate %s: %s", cert,
                          ssl_reason(why, sizeof why));
    } else if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1) {
        r = pt_proto_errf(err, errlen, -EINVAL, "cannot use the private key %s: %s", key,
                          ssl_reason(why, sizeof why));
    } else if (SSL_CTX_check_private_key(t->ctx) != 1) {
        r = pt_proto_errf(err, errlen, -EINVAL, "the key %s does not belong to the certificate %s",
                          key, cert);
    }
    if (r < 0) {
        pt_proto_remote_tls_free(t);
        return r;
    }
    *out = t;
    return 0;
}

int pt_proto_remote_tls_client(const char *ca, struct pt_proto_remote_tls **out, char *err,
                               size_t errlen)
{
    struct pt_proto_remote_tls *t;
    char why[256];
    int r = new_ctx(false, &t, err, errlen);

    if (r < 0)
        return r;
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    if (ca ? SSL_CTX_load_verify_locations(t->ctx, ca, NULL) != 1
           : SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
        r = pt_proto_errf(err, errlen, -EINVAL, "cannot load the certificate authorities %s: %s",
                          ca ? ca : "of the system", ssl_reason(why, sizeof why));
        pt_proto_remote_tls_free(t);
        return r;
    }
    *out = t;
    return 0;
}

void pt_proto_remote_tls_free(struct pt_proto_remote_tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

/* ---- the relay ------------------------------------------------------------- */

static void forget_in_child(void)
{
    /* The threads stayed in the parent; their connections are the parent's. */
    for (int i = 0; i < RELAY_MAX; i++) {
        if (!live[i])
            continue;
        close(live[i]->net);
        close(live[i]->plain);
        live[i] = NULL;     /* the memory is a copy: left, not freed */
    }
    pthread_mutex_init(&live_mu, NULL);
}

static void register_fork_handler(void)
{
    pthread_atfork(NULL, NULL, forget_in_child);
}

static int live_add(struct relay *r)
{
    int i;

    pthread_mutex_lock(&live_mu);
    for (i = 0; i < RELAY_MAX && live[i]; i++)
        ;
    if (i < RELAY_MAX)
        live[i] = r;
    pthread_mutex_unlock(&live_mu);
    return i < RELAY_MAX ? 0 : -EMFILE;
}

static void relay_free(struct relay *r)
{
    pthread_mutex_lock(&live_mu);
    for (int i = 0; i < RELAY_MAX; i++)
        if (live[i] == r)
            live[i] = NULL;
    pthread_mutex_unlock(&live_mu);
    if (r->ssl)
        SSL_free(r->ssl);
    close(r->net);
    close(r->plain);
    free(r);
}

/* Steps a handshake with a deadline; 0 once done, <0 on failure. A
 * hang-up of watch (>= 0: the pair's end, whose reader gave up) ends it. */
static int handshake(SSL *ssl, int fd, int watch, int64_t deadline)
{
    for (;;) {
        int n = SSL_do_handshake(ssl);
        short ev;

        if (n == 1)
            return 0;
        switch (SSL_get_error(ssl, n)) {
        case SSL_ERROR_WANT_READ:
            ev = POLLIN;
            break;
        case SSL_ERROR_WANT_WRITE:
            ev = POLLOUT;
            break;
        default:
            return -EPROTO;
        }
        for (;;) {
            struct pollfd p[2] = { { .fd = fd, .events = ev }, { .fd = watch, .events = 0 } };
            int64_t left = deadline - pt_proto_now_ms();
            if (left <= 0)
                return -ETIMEDOUT;
            int k = poll(p, watch >= 0 ? 2 : 1, (int)left);
            if (k > 0 && watch >= 0 && (p[1].revents & (POLLHUP | POLLERR | POLLNVAL)))
                return -ECONNRESET;
            if (k > 0 && p[0].revents)
                break;
            if (k < 0 && errno != EINTR)
                return -errno;
        }
    }
}

/* One pass over both directions; true if anything moved. The wants say
 * what to poll for when nothing did; *done when the relay is over. */
static bool relay_pass(struct relay *r, short *net_ev, short *plain_ev, bool *done)
{
    bool moved = false;
    int n, e;

    *net_ev = 0;
    *plain_ev = 0;
    /* TLS -> the pair */
    if (r->alen == 0) {
        ERR_clear_error();
        n = SSL_read(r->ssl, r->a, sizeof r->a);
        if (n > 0) {
            r->alen = (size_t)n;
            r->aoff = 0;
            moved = true;
        } else if ((e = SSL_get_error(r->ssl, n)) == SSL_ERROR_WANT_READ) {
            *net_ev |= POLLIN;
        } else if (e == SSL_ERROR_WANT_WRITE) {
            *net_ev |= POLLOUT;
        } else {
            *done = true;   /* closed (or broken): the pair's reader sees the end */
            return moved;
        }
    }
    if (r->alen) {
        ssize_t w = send(r->plain, r->a + r->aoff, r->alen - r->aoff, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
            r->aoff += (size_t)w;
            if (r->aoff == r->alen)
                r->alen = r->aoff = 0;
            moved = true;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            *plain_ev |= POLLOUT;
        } else {
            *done = true;
            return moved;
        }
    }
    /* the pair -> TLS */
    if (r->blen == 0) {
        ssize_t k = recv(r->plain, r->b, sizeof r->b, MSG_DONTWAIT);
        if (k > 0) {
            r->blen = (size_t)k;
            r->boff = 0;
            moved = true;
        } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            *plain_ev |= POLLIN;
        } else {
            SSL_shutdown(r->ssl);   /* the local side is done: say so, once */
            *done = true;
            return moved;
        }
    }
    if (r->blen) {
        ERR_clear_error();
        n = SSL_write(r->ssl, r->b + r->boff, (int)(r->blen - r->boff));
        if (n > 0) {
            r->boff += (size_t)n;
            if (r->boff == r->blen)
                r->blen = r->boff = 0;
            moved = true;
        } else if ((e = SSL_get_error(r->ssl, n)) == SSL_ERROR_WANT_READ) {
            *net_ev |= POLLIN;
        } else if (e == SSL_ERROR_WANT_WRITE) {
            *net_ev |= POLLOUT;
        } else {
            *done = true;
        }
    }
    return moved;
}

static void *relay_run(void *arg)
{
    struct relay *r = arg;
    bool done = false;

    if (r->handshake && handshake(r->ssl, r->net, r->plain,
                                  pt_proto_now_ms() + RELAY_HANDSHAKE_MS) < 0) {
        ERR_clear_error();
        relay_free(r);
        return NULL;
    }
    while (!done) {
        short net_ev, plain_ev;
        if (relay_pass(r, &net_ev, &plain_ev, &done) || done)
            continue;
        struct pollfd p[2] = {
            { .fd = r->net, .events = net_ev },
            { .fd = r->plain, .events = plain_ev },
        };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        /* A hang-up or error on either side: the next pass sees it. */
    }
    ERR_clear_error();
    relay_free(r);
    return NULL;
}

int pt_proto_remote_tls_start(struct pt_proto_remote_tls *t, int net, const char *host,
                              int timeout_ms,
                              int *plain, char *err, size_t errlen)
{
    struct relay *r = calloc(1, sizeof *r);
    int pair[2] = { -1, -1 }, rc;
    char why[256];
    sigset_t all, old;
    pthread_t th;

    pthread_once(&once, register_fork_handler);
    if (!r) {
        close(net);
        return pt_proto_errf(err, errlen, -ENOMEM, "out of memory");
    }
    r->net = net;
    r->plain = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        rc = pt_proto_errf(err, errlen, -errno, "socketpair: %s", strerror(errno));
        goto out;
    }
    r->plain = pair[1];
    fcntl(net, F_SETFL, fcntl(net, F_GETFL) | O_NONBLOCK);
    fcntl(r->plain, F_SETFL, fcntl(r->plain, F_GETFL) | O_NONBLOCK);
    if (!(r->ssl = SSL_new(t->ctx)) || SSL_set_fd(r->ssl, net) != 1) {
        rc = pt_proto_errf(err, errlen, -EIO, "cannot set up TLS: %s", ssl_reason(why, sizeof why));
        goto out;
    }
    if (t->server) {
        SSL_set_accept_state(r->ssl);
        r->handshake = true;
    } else {
        SSL_set_connect_state(r->ssl);
        if (host && *host) {
            SSL_set_tlsext_host_name(r->ssl, host);
            if (SSL_set1_host(r->ssl, host) != 1) {
                rc = pt_proto_errf(err, errlen, -EINVAL, "cannot check the certificate for %s", host);
                goto out;
            }
        }
        ERR_clear_error();
        rc = handshake(r->ssl, net, -1, pt_proto_now_ms() + timeout_ms);
        if (rc < 0) {
            long v = SSL_get_verify_result(r->ssl);
            if (rc == -ETIMEDOUT)
                pt_proto_errf(err, errlen, rc, "TLS handshake: no answer within %d s", timeout_ms / 1000);
            else if (v != X509_V_OK)
                pt_proto_errf(err, errlen, -EACCES, "TLS: the server's certificate is refused: %s",
                              X509_verify_cert_error_string(v));
            else
                pt_proto_errf(err, errlen, rc, "TLS handshake failed (is the other side using --tls?): %s",
                              ssl_reason(why, sizeof why));
            if (v != X509_V_OK && rc != -ETIMEDOUT)
                rc = -EACCES;
            goto out;
        }
    }
    if ((rc = live_add(r)) < 0) {
        pt_proto_errf(err, errlen, rc, "too many TLS connections at once");
        goto out;
    }
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&th, NULL, relay_run, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        rc = pt_proto_errf(err, errlen, -rc, "cannot start the TLS thread: %s", strerror(rc));
        goto out;
    }
    pthread_detach(th);
    *plain = pair[0];
    return 0;
out:
    ERR_clear_error();
    if (pair[0] >= 0)
        close(pair[0]);
    relay_free(r);
    return rc;
}
