/*
 * attach.c — the ways into a running program: SIGURG and Kernel#breakpoint.
 *
 * polytrace.rb traps SIGURG (and, under a launching controller, SIGINT) and
 * calls PolyTrace.__interrupt on the main thread, which works whether the
 * program is busy or idle in the event loop. A SIGURG reaches that trap
 * only when the tracer wants the main thread (urg.c): the attach listener
 * (listener.c) has a controller that completed its handshake — stop with
 * reason "attach" — or the watcher saw traffic on the connection. SIGINT
 * under a controller becomes a pause. Kernel#breakpoint stops at its
 * caller with a controller; without one it starts `polytrace attach PID`
 * on the terminal, or, with no terminal, says on stderr how to attach and
 * carries on.
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

#define PT_SPAWN_TIMEOUT_MS 30000       /* a controller we started */

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

/* The connection the listener has ready, adopted; 0 or -EAGAIN (none).
 * While Kernel#breakpoint waits for the controller it started, or a forked
 * child for its parent's (pt_tr.adopt_waiting), the connection is theirs
 * to take, not the SIGURG trap's. */
int pt_attach_adopt_ready(void)
{
    struct pt_proto_decoder *dec;
    struct pt_peer peer;
    int fd;

    if (!pt_listen_take(&fd, &dec, &peer))
        return -EAGAIN;
    pt_tr_adopt(fd, dec, &peer);
    pt_tr.observing = peer.observe;
    return 0;
}


/*
 * PolyTrace.__interrupt(kind): from polytrace.rb's trap handlers. For :int,
 * true when it became a pause (else the program gets its Interrupt). For
 * :urg, urg.c let the signal through because the tracer wants the main
 * thread: a controller is ready (stop, reason "attach"), or the watcher
 * saw a request. A SIGURG that came
 * before the listener ran (first use, after fork) opens the socket here.
 */
static VALUE tr_interrupt(VALUE self, VALUE kind)
{
    (void)self;
    if (pt_tr.serving)
        return Qtrue;
    /* Fetching the runtime's table the first time runs Ruby code, where a
     * trap could run: do it before a controller is taken on, not during. */
    pt_tr_rt();
    if (kind == ID2SYM(rb_intern("int"))) {
        if (pt_tr.fd < 0 || !pt_tr.launched)
            return Qfalse;
        pt_stop("pause", 0);
        return Qtrue;
    }
    if (pt_tr.adopt_waiting)
        return Qnil;
    if (pt_tr.fd < 0) {
        if (pt_listen_start() < 0)
            return Qnil;
        if (pt_attach_adopt_ready() == 0 && pt_tr.observing)
            pt_stop_serve_running();    /* a watcher (top): the program runs on;
                                           what it sent with its HELLO is served */
        else if (pt_tr.fd >= 0)
            pt_stop("attach", 0);
        else
            pt_listen_window(PT_LISTEN_WINDOW_MS);
        return Qnil;
    }
    pt_stop_serve_running();
    return Qnil;
}

/*
 * Kernel#breakpoint with no controller but a terminal: start one and wait
 * for it, as long as it lives, at most PT_SPAWN_TIMEOUT_MS. The wait lets
 * the GVL go (the program is not stopped yet): signals and Thread#raise
 * act as in any blocking call, and the cleanup runs either way.
 */
struct spawn_wait {
    int alive;
    int r;
};

static VALUE spawn_wait(VALUE arg)
{
    struct spawn_wait *sw = (struct spawn_wait *)arg;
    int64_t deadline = pt_proto_now_ms() + PT_SPAWN_TIMEOUT_MS;
    struct pt_wait w;

    pt_wait_init(&w, PT_WAIT_FREE);
    sw->r = -ETIMEDOUT;
    for (;;) {
        struct pollfd p = { .fd = sw->alive, .events = POLLIN };

        if (pt_attach_adopt_ready() == 0) {
            sw->r = 0;
            return Qnil;
        }
        if (poll(&p, 1, 0) > 0) {
            sw->r = pt_attach_adopt_ready() == 0 ? 0 : -ECHILD; /* the controller we started is gone */
            return Qnil;
        }
        if (pt_proto_now_ms() >= deadline)
            return Qnil;
        /* The ready pipe, looking at the controller's pipe every 100 ms. */
        pt_wait_fd(&w, pt_listen_ready_fd(), POLLIN, pt_proto_now_ms() + 100);
    }
}

static VALUE spawn_cleanup(VALUE arg)
{
    struct spawn_wait *sw = (struct spawn_wait *)arg;

    pt_tr.adopt_waiting = 0;
    close(sw->alive);
    if (sw->r != 0)
        pt_listen_window(0);
    return Qnil;
}

static int start_controller_and_wait(void)
{
    struct spawn_wait sw = { .alive = -1, .r = 0 };
    int r;

    if ((r = pt_listen_start()) < 0)
        return r;
    pt_listen_window(PT_SPAWN_TIMEOUT_MS);
    if ((r = spawn_controller(&sw.alive)) < 0) {
        pt_listen_window(0);
        return r;
    }
    pt_tr.adopt_waiting = 1;
    rb_ensure(spawn_wait, (VALUE)&sw, spawn_cleanup, (VALUE)&sw);
    return sw.r;
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
    pt_tr_rt();     /* before a controller is taken on: see tr_interrupt */
    if (pt_tr.fd >= 0 && !pt_tr.observing) {
        pt_stop("call", 0);
        return Qnil;
    }
    caller_line(&file, &line);
    if (pt_tr.observing) {
        fprintf(stderr, "polytrace: breakpoint at %s:%d (polytrace top is watching, no debugger "
                "attached); carrying on\n", NIL_P(file) ? "?" : StringValueCStr(file), line);
        return Qnil;
    }
    if (isatty(0)) {
        int r = start_controller_and_wait();
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
    rb_define_singleton_method(mod, "__urg_gate", pt_urg_gate, 0);
    rb_define_global_function("breakpoint", kernel_breakpoint, 0);
}
