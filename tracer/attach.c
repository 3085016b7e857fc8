/*
 * attach.c — the ways into a running program: SIGURG and Kernel#breakpoint.
 *
 * polytrace.rb traps SIGURG (and, under a launching controller, SIGINT) and
 * calls PolyTrace.__interrupt on the main thread, which works whether the
 * program is busy or idle in the event loop. SIGURG means either "the
 * watcher saw traffic on the connection" or, with no controller, "attach":
 * listen on <dir>/<pid>.sock, accept one controller of our uid (others are
 * refused), shake hands and stop with reason "attach". SIGINT under a
 * controller becomes a pause. Kernel#breakpoint stops at its caller with a
 * controller; without one it starts `polytrace attach PID` on the terminal,
 * or, with no terminal, says on stderr how to attach and carries on.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tracer.h"

#define PT_ATTACH_TIMEOUT_MS 10000      /* a controller that sent SIGURG */
#define PT_SPAWN_TIMEOUT_MS 30000       /* a controller we started */

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * `polytrace attach PID` on our terminal: the build tree's ../bin next to
 * polytrace_ext.so first, else whatever PATH finds. It is started through
 * an intermediate child that exits at once (reaped here, by pid), so the
 * controller is never the program's child: it cannot linger as a zombie,
 * and the program's own Process.wait never sees it. The controller inherits
 * the write end of a pipe; the read end, returned in *alive, hangs up when
 * the controller is gone. Returns 0 or -errno.
 */
static int spawn_controller(int *alive)
{
    char exe[PATH_MAX], pidbuf[32];
    Dl_info info;
    int p[2], status;
    pid_t pid;

    exe[0] = '\0';
    if (dladdr((void *)&spawn_controller, &info) && info.dli_fname) {
        char *slash;
        snprintf(exe, sizeof exe, "%s", info.dli_fname);
        if ((slash = strrchr(exe, '/'))) {
            *slash = '\0';
            snprintf(slash, sizeof exe - (size_t)(slash - exe), "/../bin/polytrace");
            if (access(exe, X_OK) < 0)
                exe[0] = '\0';
        } else {
            exe[0] = '\0';
        }
    }
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)getpid());
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    pid = fork();
    if (pid == 0) {
        if (fork() != 0)
            _exit(0);   /* the intermediate child; the grandchild goes on */
        fcntl(p[1], F_SETFD, 0);
        if (exe[0])
            execl(exe, "polytrace", "attach", pidbuf, (char *)NULL);
        execlp("polytrace", "polytrace", "attach", pidbuf, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -EAGAIN;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    *alive = p[0];
    return 0;
}

int pt_attach_listen_accept(int timeout_ms, int spawn)
{
    struct sockaddr_un sa;
    char dir[PATH_MAX], path[PATH_MAX];
    long deadline = now_ms() + timeout_ms;
    int lfd, fd = -1, r, alive = -1;

    if ((r = pt_proto_sockdir_ensure(dir, sizeof dir)) < 0 ||
        (r = pt_proto_attach_sock_path(dir, getpid(), path, sizeof path)) < 0 ||
        (r = pt_proto_sockaddr(path, &sa)) < 0)
        return r;
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (lfd < 0)
        return -errno;
    unlink(sa.sun_path);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4) < 0) {
        r = -errno;
        close(lfd);
        return r;
    }
    if (spawn && (r = spawn_controller(&alive)) < 0) {
        close(lfd);
        unlink(sa.sun_path);
        return r;
    }
    r = -ETIMEDOUT;
    for (;;) {
        long left = deadline - now_ms();
        struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = alive, .events = POLLIN } };

        if (left <= 0)
            break;
        if (poll(p, alive >= 0 ? 2 : 1, (int)left) <= 0)
            continue;
        if (alive >= 0 && p[1].revents && !p[0].revents) {
            r = -ECHILD;    /* the controller we started is gone */
            break;
        }
        if (!p[0].revents)
            continue;
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        if ((r = pt_proto_peer_check(fd, 0)) < 0 || (r = pt_tr_handshake(fd, 1)) < 0) {
            close(fd);
            fd = -1;
            r = -ETIMEDOUT;
            continue;       /* refused: wait for the right one */
        }
        break;
    }
    close(lfd);
    if (alive >= 0)
        close(alive);
    unlink(sa.sun_path);
    if (fd < 0)
        return r;
    pt_tr_adopt(fd);
    return 0;
}

/* PolyTrace.__interrupt(kind): from polytrace.rb's trap handlers. For :int,
 * true when it became a pause (else the program gets its Interrupt). */
static VALUE tr_interrupt(VALUE self, VALUE kind)
{
    int r;

    (void)self;
    if (pt_tr.serving)
        return Qtrue;
    if (kind == ID2SYM(rb_intern("int"))) {
        if (pt_tr.fd < 0 || !pt_tr.launched)
            return Qfalse;
        pt_stop("pause", 0);
        return Qtrue;
    }
    if (pt_tr.fd >= 0) {
        pt_stop_serve_running();
        return Qnil;
    }
    r = pt_attach_listen_accept(PT_ATTACH_TIMEOUT_MS, 0);
    if (r == 0)
        pt_stop("attach", 0);
    else if (r == -EPERM)
        fprintf(stderr, "polytrace: attach refused: the socket directory is not private to this user\n");
    else
        fprintf(stderr, "polytrace: no debugger attached (%s); carrying on\n", pt_proto_strerror(r));
    return Qnil;
}

/* The caller's file and line (the first frame that is neither C nor ours). */
static void caller_line(VALUE *file, int *line)
{
    VALUE frames[16];
    int lines[16], i, n = rb_profile_frames(0, 16, frames, lines);

    *file = Qnil;
    *line = 0;
    for (i = 0; i < n; i++) {
        VALUE path = rb_profile_frame_path(frames[i]);
        if (!NIL_P(path) && !pt_tr_is_hidden_path(path)) {
            *file = path;
            *line = lines[i];
            return;
        }
    }
}

/* Kernel#breakpoint */
static VALUE kernel_breakpoint(VALUE self)
{
    VALUE file;
    int line;

    (void)self;
    if (pt_tr.serving)
        return Qnil;
    if (pt_tr.fd >= 0) {
        pt_stop("call", 0);
        return Qnil;
    }
    caller_line(&file, &line);
    if (isatty(0)) {
        int r = pt_attach_listen_accept(PT_SPAWN_TIMEOUT_MS, 1);
        if (r == 0) {
            pt_stop("call", 0);
            return Qnil;
        }
        fprintf(stderr, "polytrace: breakpoint at %s:%d: could not start the debugger (%s); carrying on\n",
                NIL_P(file) ? "?" : StringValueCStr(file), line, pt_proto_strerror(r));
        return Qnil;
    }
    fprintf(stderr, "polytrace: breakpoint at %s:%d (no debugger attached; attach with: polytrace attach %d)\n",
            NIL_P(file) ? "?" : StringValueCStr(file), line, (int)getpid());
    fflush(stderr);
    return Qnil;
}

void pt_attach_init(VALUE mod)
{
    rb_define_singleton_method(mod, "__interrupt", tr_interrupt, 1);
    rb_define_global_function("breakpoint", kernel_breakpoint, 0);
}
