/*
 * remote.c — POLYTRACE_LISTEN: the program waits for a controller over TCP
 * (`polytrace --listen HOST:PORT ruby app.rb`, or the variables set by
 * hand) instead of connecting to one.
 *
 * At boot the tracer opens the TCP socket (a loopback address unless
 * POLYTRACE_LISTEN_ANY=1), takes its token from POLYTRACE_TOKEN_FILE or
 * makes one and prints it on stderr with how to connect, and sets up TLS
 * when POLYTRACE_TLS_CERT and POLYTRACE_TLS_KEY name a certificate and its
 * key. The listener thread (listener.c) serves the socket from then on.
 * Unless POLYTRACE_NONSTOP=1 the program waits, before its first line, for
 * a controller to connect (the GVL let go: signals and Ctrl-C act as in
 * any blocking call), then stops there with reason "entry". Afterwards, and
 * with --nonstop from the start, a controller that connects stops the
 * program where it is, as `polytrace attach` does, and the socket stays
 * open after it leaves for the next one. The variables are removed from
 * the environment so that child Ruby processes do not try the same port.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tracer.h"
#include "pt_remote.h"

static char *take_env(const char *name)
{
    const char *v = getenv(name);
    char *copy = v && *v ? strdup(v) : NULL;

    unsetenv(name);
    return copy;
}

static void free_all(char *a, char *b, char *c, char *d, char *e)
{
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
}

/* Waits, as long as it takes, for the listener to hand over a controller
 * that passed the challenge and the handshake. */
static VALUE wait_first(VALUE arg)
{
    struct pt_wait w;

    (void)arg;
    pt_wait_init(&w, PT_WAIT_FREE);
    while (pt_attach_adopt_ready() != 0)
        pt_wait_fd(&w, pt_listen_ready_fd(), POLLIN, -1);
    return Qnil;
}

static VALUE wait_done(VALUE arg)
{
    (void)arg;
    pt_tr.adopt_waiting = 0;
    return Qnil;
}

/* 1: a controller is connected and the entry stop armed; 0: not (the
 * socket may be open: --nonstop, or it could not be opened: said why). */
int pt_remote_boot(void)
{
    char *addr = take_env("POLYTRACE_LISTEN"), *tokfile = take_env("POLYTRACE_TOKEN_FILE");
    char *cert = take_env("POLYTRACE_TLS_CERT"), *key = take_env("POLYTRACE_TLS_KEY");
    char *any = take_env("POLYTRACE_LISTEN_ANY"), *nonstop = getenv("POLYTRACE_NONSTOP");
    char token[PT_PROTO_REMOTE_TOKEN_MAX + 1], bound[PT_PROTO_REMOTE_ADDR_MAX], err[512];
    struct pt_proto_remote_tls *tls = NULL;
    bool any_host = any && strcmp(any, "1") == 0;
    int fd = -1, r = 0;

    if (!addr)
        goto out;
    err[0] = '\0';
    if (tokfile)
        r = pt_proto_remote_token_read(tokfile, token, sizeof token, err, sizeof err);
    else if ((r = pt_proto_remote_token_new(token, sizeof token)) < 0)
        snprintf(err, sizeof err, "cannot make a token: %s", strerror(-r));
    if (r == 0 && (cert || key)) {
        if (!cert || !key) {
            r = -EINVAL;
            snprintf(err, sizeof err, "TLS needs both POLYTRACE_TLS_CERT and POLYTRACE_TLS_KEY");
        } else {
            r = pt_proto_remote_tls_server(cert, key, &tls, err, sizeof err);
        }
    }
    if (r == 0)
        r = pt_proto_remote_listen(addr, any_host, &fd, bound, sizeof bound, err, sizeof err);
    if (r == 0 && (r = pt_listen_tcp(fd, token, tls, bound)) < 0)
        snprintf(err, sizeof err, "already listening");
    if (r == 0 && (r = pt_listen_start()) < 0)
        snprintf(err, sizeof err, "cannot start the listener: %s", pt_proto_strerror(r));
    if (r < 0) {
        fprintf(stderr, "polytrace: POLYTRACE_LISTEN=%s: %s; running without the debugger\n",
                addr, err);
        explicit_bzero(token, sizeof token);
        if (fd >= 0)
            close(fd);
        pt_proto_remote_tls_free(tls);
        goto out;
    }
    if (any_host)
        fprintf(stderr, "polytrace: warning: %s is not only a loopback address: anyone who can "
                "reach it and has the token can run any code as process %d%s\n", bound,
                (int)getpid(), tls ? "" : ", and the session is not encrypted (no TLS)");
    fprintf(stderr, "polytrace: process %d listens for a debugger on %s%s\n", (int)getpid(),
            bound, tls ? " (TLS)" : "");
    if (tokfile)
        fprintf(stderr, "polytrace: connect with: polytrace connect%s --token-file %s %s\n",
                tls ? " --tls" : "", tokfile, bound);
    else
        fprintf(stderr, "polytrace: token: %s\n"
                "polytrace: connect with: POLYTRACE_TOKEN=<token> polytrace connect%s %s\n",
                token, tls ? " --tls" : "", bound);
    fflush(stderr);
    explicit_bzero(token, sizeof token);
    if (nonstop && strcmp(nonstop, "1") == 0)
        goto out;
    free_all(addr, tokfile, cert, key, any);
    /* Before the first line: wait for the controller, then stop there. */
    pt_tr.adopt_waiting = 1;
    rb_ensure(wait_first, Qnil, wait_done, Qnil);
    pt_step_arm_entry();
    return 1;
out:
    free_all(addr, tokfile, cert, key, any);
    return 0;
}
