/*
 * handshake.c — the one place that decides whether a peer may talk to the
 * tracer, and the HELLO the tracer introduces itself with.
 *
 * A peer passes in two steps: its uid (SO_PEERCRED: only our own user), then
 * its first message, which must be a HELLO of our protocol version. The
 * attach listener (listener.c, on the tracer's own thread, before the
 * program is touched) and the launch connection (server.c) both ask here,
 * so a new way in (another transport, a token in HELLO) is checked in one
 * place. Only pt_hs_make_hello touches Ruby; the checks are plain C and run
 * on any thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tracer.h"

int pt_hs_peer(int fd, pid_t *pid)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    int r = pt_proto_peer_check(fd, 0);

    if (r < 0)
        return r;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return -errno;
    *pid = cred.pid;
    return 0;
}

int pt_hs_check(int got, const struct pt_msg *peer, struct pt_msg *reply)
{
    pt_msg_init(reply, PT_MSG_NONE, 0);
    if (got == 1) {
        int r = pt_proto_check_hello(peer, reply);
        if (r == 0 || r == PT_PROTO_E_VERSION)
            return r;   /* the VERSION reply is built */
        if (r != PT_PROTO_E_BADMSG)
            return r;
        if (peer->type == PT_REP_ERROR)
            return PT_PROTO_E_BADMSG;   /* the peer refused us: nothing to say */
        pt_proto_make_error(reply, peer->id, PT_PROTO_ERR_BAD_REQUEST, "expected hello, got %s",
                            pt_msg_type_name(peer->type));
        return PT_PROTO_E_BADMSG;
    }
    switch (got) {
    case PT_PROTO_E_BADMSG:
    case PT_PROTO_E_UNKNOWN_TYPE:
        pt_proto_make_error(reply, peer->id, PT_PROTO_ERR_BAD_REQUEST, "expected hello: %s",
                            pt_proto_strerror(got));
        return got;
    case PT_PROTO_E_MALFORMED:
    case PT_PROTO_E_TOOBIG:
    case PT_PROTO_E_TOODEEP:
    case PT_PROTO_E_FAILED:
        pt_proto_make_error(reply, 0, PT_PROTO_ERR_BAD_REQUEST, "expected hello: %s; closing",
                            pt_proto_strerror(got));
        return got;
    case -ETIMEDOUT:
        pt_proto_make_error(reply, 0, PT_PROTO_ERR_BAD_REQUEST,
                            "no hello within %d ms; closing", PT_HS_TIMEOUT_MS);
        return got;
    case 0:
        return -ECONNRESET;     /* closed before its hello: nobody to answer */
    default:
        return got < 0 ? got : -EPROTO;
    }
}

void pt_hs_peer_hello(const struct pt_msg *hello, struct pt_peer *peer)
{
    const char *f = hello->type == PT_MSG_HELLO ? hello->u.hello.follow_fork : NULL;

    /* Over TCP a forked child could not be reached the way fork.c makes
     * it wait (its Unix socket, on this host): children run free. */
    if (!f || peer->remote || pt_fork_parse(f, &peer->follow) < 0)
        peer->follow = PT_TR_FOLLOW_NONE;
    peer->observe = hello->type == PT_MSG_HELLO && hello->u.hello.observe;
}

int pt_hs_busy(struct pt_msg *reply, pid_t attached)
{
    pt_msg_init(reply, PT_MSG_NONE, 0);
    if (attached > 0)
        return pt_proto_make_error(reply, 0, PT_PROTO_ERR_BUSY, "already attached by pid %ld",
                                   (long)attached);
    return pt_proto_make_error(reply, 0, PT_PROTO_ERR_BUSY,
                               "too many connections in their handshake; try again");
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

int pt_hs_make_hello(struct pt_msg *m, int attached)
{
    const struct rt_api *rt = pt_tr_rt();
    VALUE rv = rb_const_get(rb_cObject, rb_intern("RUBY_VERSION"));
    const char **argv;
    size_t argc;
    VALUE keep;
    int r;

    argv = program_argv(&argc, &keep);
    r = pt_proto_make_hello(m, (int64_t)getpid(), StringValueCStr(rv),
                            rt ? rt->backend_name(pt_tr.main_thread) : "",
                            StringValueCStr(pt_tr.script), argv, argv ? argc : 0,
                            attached != 0);
    free(argv);
    RB_GC_GUARD(keep);
    return r;
}
