/*
 * dbg_start.c — how a session reaches its program: launch (listen, fork/exec
 * with the tracer preloaded, accept, handshake), attach (checks, the
 * tracer brought in if the program never loaded it, SIGURG, connect,
 * handshake, the first stop) and connect (a tracer listening on TCP:
 * TLS, its challenge answered, handshake). Every front end starts programs this
 * one way; failures come back as text and the exit code of
 * docs/ARCHITECTURE.md.
 */
#include "dbg.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach.h"
#include "format.h"
#include "launch.h"
#include "load.h"
#include "pt_remote.h"
#include "pt_rendezvous.h"

/* How long the tracer may take to connect after exec (Ruby start-up). */
#define LAUNCH_CONNECT_MS 30000
/* How long an attached tracer may take to open its socket. */
#define ATTACH_CONNECT_MS 5000
/* How long a tracer on TCP may take to answer (connect, TLS, challenge). */
#define REMOTE_CONNECT_MS 10000
/* How long Ruby may take to reach a safe point and load the tracer. */
#define INJECT_TIMEOUT_MS 5000

static void terminal(struct pt_dbg *d, bool to_program)
{
    if (d->ui && d->ui->terminal)
        d->ui->terminal(d->ui_ctx, to_program);
}

/* A launched program that never became a session: gone for good. */
static int abandon(struct pt_dbg *d, int rc)
{
    terminal(d, false);
    kill(-d->inf->pid, SIGKILL);
    waitpid(d->inf->pid, NULL, 0);
    d->inf->child = false;
    d->inf->state = PT_DBG_DONE;
    d->exit_code = 1;
    return rc;
}

int pt_dbg_launch(struct pt_dbg *d, const struct pt_launch_spec *spec)
{
    struct pt_inf *inf = d->inf;
    struct pt_launch l;
    memset(&l, 0, sizeof l);
    l.listen_fd = -1;
    d->exit_code = 1;
    int rc = pt_launch_listen(&l);
    if (rc) {
        char dir[PATH_MAX];
        pt_proto_sockdir_path(dir, sizeof dir);
        if (rc == -EPERM)
            return pt_dbg_fail(d, rc, "refusing socket directory %s: it must be yours with mode 0700", dir);
        return pt_dbg_fail(d, rc, "cannot listen in %s: %s", dir, strerror(-rc));
    }
    rc = pt_launch_start(&l, spec);
    if (rc) {
        pt_launch_unlisten(&l);
        return pt_dbg_fail(d, rc, "cannot run '%s': %s", spec->argv[0], strerror(-rc));
    }
    inf->pid = l.pid;
    inf->child = true;
    terminal(d, true);

    int fd = -1, status = 0;
    rc = pt_launch_accept(&l, LAUNCH_CONNECT_MS, &fd, &status);
    if (rc == 0) {
        char how[128];
        terminal(d, false);
        inf->child = false;
        inf->state = PT_DBG_DONE;
        pt_fmt_wait_status(status, how, sizeof how);
        d->exit_code = pt_fmt_exit_code(status);
        return pt_dbg_fail(d, -ECONNREFUSED, "the tracer never connected; %s", how);
    }
    if (rc < 0) {
        if (rc == -ETIMEDOUT)
            pt_dbg_fail(d, rc, "the tracer did not connect within %d s (is polytrace.rb on Ruby's load path?)",
                        LAUNCH_CONNECT_MS / 1000);
        else if (rc == -EINTR)
            d->err[0] = '\0';
        else
            pt_dbg_fail(d, rc, "waiting for the tracer: %s", strerror(-rc));
        return abandon(d, rc);
    }
    if ((rc = pt_dbg_open(d, fd, false)))
        return abandon(d, rc);
    return 0;
}

/* Checks, signals and connects. 0 with *fd, or <0 with the reason. */
static int reach(struct pt_dbg *d, pid_t pid, int *fd)
{
    int err_no = 0;
    enum pt_attach_refusal r = pt_attach_check(pid, &err_no);
    /* A watcher (top) leaves a program without the tracer alone: bringing
     * it in stops a thread of the program, which top promises not to do. */
    if (r == PT_ATTACH_NO_TRACER && d->observe)
        return pt_dbg_fail(d, -EPERM, "process %ld has not loaded the polytrace tracer: run it "
                           "with -rpolytrace, or 'polytrace attach %ld' brings it in (stopping the "
                           "program a moment), then top can watch", (long)pid, (long)pid);
    if (r == PT_ATTACH_NO_TRACER) {
        /* Started without the tracer: bring it in, then as usual. */
        if (pt_load_tracer(pid, INJECT_TIMEOUT_MS, d->err, sizeof d->err) != PT_LOAD_OK)
            return -EPERM;
        r = pt_attach_check(pid, &err_no);
    }
    if (r != PT_ATTACH_OK) {
        pt_attach_describe(r, pid, d->err, sizeof d->err);
        return -EPERM;
    }
    int rc = pt_attach_connect(pid, ATTACH_CONNECT_MS, fd);
    if (rc == -ETIMEDOUT)
        return pt_dbg_fail(d, rc, "process %ld did not open its debugger socket within %d s",
                           (long)pid, ATTACH_CONNECT_MS / 1000);
    if (rc == -ESRCH)
        return pt_dbg_fail(d, rc, "process %ld exited", (long)pid);
    if (rc == -EPERM)
        return pt_dbg_fail(d, rc, "refusing the socket directory (it must be yours with mode 0700)");
    if (rc)
        return pt_dbg_fail(d, rc, "cannot connect to process %ld: %s", (long)pid, strerror(-rc));
    return 0;
}

int pt_dbg_attach(struct pt_dbg *d, pid_t pid)
{
    struct pt_inf *inf = d->inf;
    int fd, rc;
    d->exit_code = 1;
    inf->pid = pid;
    if ((rc = reach(d, pid, &fd)) || (rc = pt_dbg_open(d, fd, true))) {
        inf->state = PT_DBG_DONE;
        return rc;
    }
    return 0;
}

int pt_dbg_attach_socket(struct pt_dbg *d, const char *path)
{
    struct pt_inf *inf = d->inf;
    struct sockaddr_un sa;
    int rc;
    d->exit_code = 1;
    inf->state = PT_DBG_DONE;
    if (pt_proto_sockaddr(path, &sa))
        return pt_dbg_fail(d, -ENAMETOOLONG, "socket path too long: %s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return pt_dbg_fail(d, -errno, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        rc = -errno;
        close(fd);
        return pt_dbg_fail(d, rc, "cannot connect to %s: %s", path, strerror(-rc));
    }
    if (pt_proto_peer_check(fd, 0) != 0) {
        close(fd);
        return pt_dbg_fail(d, -EACCES, "%s belongs to another user", path);
    }
    inf->state = PT_DBG_RUNNING;
    if ((rc = pt_dbg_open(d, fd, true))) {
        inf->state = PT_DBG_DONE;
        return rc;
    }
    inf->pid = (pid_t)inf->sess.peer_hello.u.hello.pid;
    return 0;
}

int pt_dbg_connect(struct pt_dbg *d, const struct pt_dbg_remote *r)
{
    struct pt_inf *inf = d->inf;
    char host[PT_PROTO_REMOTE_ADDR_MAX], port[8];
    int fd, rc;
    d->exit_code = 1;
    inf->state = PT_DBG_DONE;
    if ((rc = pt_proto_remote_connect(r->addr, REMOTE_CONNECT_MS, &fd, d->err, sizeof d->err)))
        return rc;
    if (r->tls) {
        struct pt_proto_remote_tls *t;
        int plain;
        if (pt_proto_remote_split(r->addr, host, sizeof host, port, sizeof port))
            host[0] = '\0';
        if ((rc = pt_proto_remote_tls_client(r->tls_ca, &t, d->err, sizeof d->err))) {
            close(fd);
            return rc;
        }
        rc = pt_proto_remote_tls_start(t, fd, host, REMOTE_CONNECT_MS, &plain, d->err,
                                       sizeof d->err);
        pt_proto_remote_tls_free(t);      /* the connection keeps what it needs */
        if (rc)
            return rc;
        fd = plain;
    }
    if ((rc = pt_proto_remote_authenticate(fd, r->token, REMOTE_CONNECT_MS, d->err,
                                           sizeof d->err))) {
        close(fd);
        return rc;
    }
    /* A forked child waits on a Unix socket of its host: out of reach. */
    d->remote = true;
    d->follow = PT_DBG_FOLLOW_NONE;
    inf->state = PT_DBG_RUNNING;
    if ((rc = pt_dbg_open(d, fd, true))) {
        inf->state = PT_DBG_DONE;
        if (strstr(d->err, "authentication failed"))
            snprintf(d->err, sizeof d->err, "%s refused the token (authentication failed)", r->addr);
        return rc;
    }
    inf->pid = (pid_t)inf->sess.peer_hello.u.hello.pid;
    return 0;
}

int pt_dbg_observe(struct pt_dbg *d, pid_t pid)
{
    d->observe = true;
    return pt_dbg_attach(d, pid);
}

int pt_dbg_reach_forked(struct pt_dbg *d, struct pt_inf *c)
{
    int fd;
    int rc = pt_attach_connect(c->pid, ATTACH_CONNECT_MS, &fd);
    if (rc == -ESRCH)
        return pt_dbg_fail(d, rc, "it is gone");
    if (rc == -ETIMEDOUT)
        return pt_dbg_fail(d, rc, "it did not open its debugger socket within %d s",
                           ATTACH_CONNECT_MS / 1000);
    if (rc)
        return pt_dbg_fail(d, rc, "cannot connect to it: %s", strerror(-rc));
    if (pt_sess_open(&c->sess, fd)) {
        close(fd);
        c->sess.fd = -1;
        return pt_dbg_fail(d, -ENOMEM, "out of memory");
    }
    c->sess.follow = d->follow != PT_DBG_FOLLOW_NONE ? pt_dbg_follow_name(d->follow) : NULL;
    rc = pt_sess_handshake(&c->sess, true, d->err, sizeof d->err);
    if (rc)
        pt_sess_close(&c->sess);
    return rc;
}

int pt_dbg_first_stop(struct pt_dbg *d)
{
    /* An attached program stops (reason "attach", or "call" from
     * Kernel#breakpoint) right after the handshake. */
    int rc = pt_dbg_wait_stop(d, PT_SESS_REPLY_MS);
    if (rc) {
        char why[PT_DBG_ERR_MAX];
        snprintf(why, sizeof why, "%s", d->err);
        pt_dbg_close(d);
        d->inf->state = PT_DBG_DONE;
        d->exit_code = 1;
        return pt_dbg_fail(d, rc, "process did not stop after attaching: %s", why);
    }
    return 0;
}
