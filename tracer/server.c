/*
 * server.c — the tracer's connection to a controller: connect (launch),
 * the peer's uid check, the HELLO handshake, sending messages and OUTPUT
 * notices, and cleaning up when the controller goes away (detach, closed
 * socket, dead peer), after which the program runs on unharmed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "tracer.h"

int pt_tr_connect(const char *path)
{
    struct sockaddr_un sa;
    int fd, r;

    if ((r = pt_proto_sockaddr(path, &sa)) < 0)
        goto fail;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        r = -errno;
        goto fail;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        r = -errno;
        close(fd);
        goto fail;
    }
    if ((r = pt_proto_peer_check(fd, 0)) < 0 || (r = pt_tr_handshake(fd, 0)) < 0) {
        close(fd);
        goto fail;
    }
    pt_tr_adopt(fd);
    return 0;
fail:
    fprintf(stderr, "polytrace: cannot use the debugger at %s (%s); running without it\n",
            path, pt_proto_strerror(r));
    return r;
}

/* ARGV with $0 first, as C strings pointing into Ruby strings kept in *keep. */
static const char **program_argv(size_t *argc, VALUE *keep)
{
    VALUE argv = rb_get_argv();
    long i, n = RARRAY_LEN(argv);
    const char **v = calloc((size_t)n + 1, sizeof *v);

    *keep = rb_ary_new_capa(n + 1);
    *argc = 0;
    if (!v)
        return NULL;
    rb_ary_push(*keep, pt_tr.script);
    v[(*argc)++] = StringValueCStr(pt_tr.script);
    for (i = 0; i < n; i++) {
        VALUE s = rb_ary_entry(argv, i);
        if (!RB_TYPE_P(s, T_STRING) || memchr(RSTRING_PTR(s), 0, RSTRING_LEN(s)))
            continue;
        rb_ary_push(*keep, s);
        v[(*argc)++] = RSTRING_PTR(s);
    }
    return v;
}

int pt_tr_handshake(int fd, int attached)
{
    struct pt_proto_decoder *dec = NULL;
    struct pt_msg m, peer, reply;
    const char **argv;
    const struct rt_api *rt = pt_tr_rt();
    VALUE rv = rb_const_get(rb_cObject, rb_intern("RUBY_VERSION"));
    size_t argc;
    VALUE keep;
    int r;

    if ((r = pt_proto_decoder_new(&dec, 0, 0)) < 0)
        return r;
    argv = program_argv(&argc, &keep);
    r = pt_proto_make_hello(&m, (int64_t)getpid(), StringValueCStr(rv),
                            rt ? rt->backend_name(pt_tr.main_thread) : "",
                            StringValueCStr(pt_tr.script), argv, argv ? argc : 0,
                            attached != 0);
    free(argv);
    RB_GC_GUARD(keep);
    if (r == 0) {
        r = pt_proto_send(fd, &m, PT_TR_SEND_TIMEOUT);
        pt_msg_free(&m);
    }
    if (r < 0)
        goto fail;
    memset(&peer, 0, sizeof peer);
    r = pt_proto_recv(fd, dec, &peer, PT_TR_HELLO_TIMEOUT);
    if (r == 0)
        r = -ECONNRESET;
    if (r < 0)
        goto fail;
    memset(&reply, 0, sizeof reply);
    r = pt_proto_check_hello(&peer, &reply);
    if (r == PT_PROTO_E_VERSION) {
        fprintf(stderr, "polytrace: the debugger speaks protocol version %u, this tracer %d; running without it\n",
                (unsigned)peer.u.hello.version, PT_PROTO_VERSION);
        pt_proto_send(fd, &reply, PT_TR_SEND_TIMEOUT);
    } else if (r < 0 && peer.type == PT_REP_ERROR) {
        fprintf(stderr, "polytrace: the debugger refused the connection: %s\n", peer.u.error.message);
    } else if (r < 0) {
        pt_proto_make_error(&reply, 0, PT_PROTO_ERR_BAD_REQUEST, "expected HELLO, got %s",
                            pt_msg_type_name(peer.type));
        pt_proto_send(fd, &reply, PT_TR_SEND_TIMEOUT);
    }
    pt_msg_free(&reply);
    pt_msg_free(&peer);
    if (r < 0)
        goto fail;
    pt_proto_decoder_free(pt_tr.dec);
    pt_tr.dec = dec;
    return 0;
fail:
    pt_proto_decoder_free(dec);
    return r;
}

void pt_tr_adopt(int fd)
{
    pt_tr.fd = fd;
    pt_tr.fd_pid = getpid();
    pt_watch_start(fd);
}

int pt_tr_send(struct pt_msg *m)
{
    int r = -ENOTCONN;

    if (pt_tr.fd >= 0 && pt_tr.fd_pid == getpid())
        r = pt_proto_send(pt_tr.fd, m, PT_TR_SEND_TIMEOUT);
    pt_msg_free(m);
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

    pt_watch_stop();
    if (pt_tr.fd >= 0)
        close(pt_tr.fd);
    pt_tr.fd = -1;
    pt_proto_decoder_free(pt_tr.dec);
    pt_tr.dec = NULL;
    pt_bp_clear_all();
    pt_catch_clear_all();
    pt_step_cancel();
    pt_tr.trace_ops = 0;
    pt_tr.lockmode = PT_TR_LOCK_STEP;
    if (pt_tr.stdio_pipe && pt_tr.fd_pid == getpid()) {
        /* Nobody reads those pipes any more: writing must not fail. */
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            close(null);
        }
        pt_tr.stdio_pipe = 0;
    }
    if (!pt_tr.serving && rt && rt->fiber_lock_owner(pt_tr.main_thread) != Qnil)
        rt->fiber_unlock(pt_tr.main_thread);
}
