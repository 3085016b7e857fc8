/*
 * launch.c — fork/exec of the program with the tracer preloaded, and the
 * first connection from it. The environment carries everything the tracer
 * needs (docs/ARCHITECTURE.md, "Conversation rules" 7); the user adds no -r
 * or -I. The child gets its own process group so the terminal can be handed
 * to it and back.
 */
#include "launch.h"
#include "strcopy.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "signals.h"
#include "pt_rendezvous.h"

int pt_launch_listen(struct pt_launch *l)
{
    char dir[PATH_MAX];
    l->listen_fd = -1;
    l->sock_path[0] = '\0';
    int rc = pt_proto_sockdir_ensure(dir, sizeof dir);
    if (rc)
        return rc;
    char path[PATH_MAX];
    struct sockaddr_un sa;
    if ((rc = pt_proto_ctl_sock_path(dir, getpid(), path, sizeof path)) ||
        (rc = pt_proto_sockaddr(path, &sa)))
        return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    l->listen_fd = fd;
    pt_str_copy(l->sock_path, sizeof l->sock_path, path);
    return 0;
}

void pt_launch_unlisten(struct pt_launch *l)
{
    if (l->listen_fd >= 0)
        close(l->listen_fd);
    l->listen_fd = -1;
    if (l->sock_path[0])
        unlink(l->sock_path);
    l->sock_path[0] = '\0';
}

int pt_launch_libdir(char *buf, size_t len)
{
    char exe[PATH_MAX];
    buf[0] = '\0';
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0)
        return -errno;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    char cand[PATH_MAX + 32];
    snprintf(cand, sizeof cand, "%s/../lib/polytrace.rb", exe);
    if (access(cand, R_OK) != 0)
        return 0;
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/../lib", exe);
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return -errno;
    if (strlen(real) >= len)
        return -ENAMETOOLONG;
    strcpy(buf, real);
    return 0;
}

/* Prepends value to the colon- (or space-) separated variable name. */
static void prepend_env(const char *name, const char *value, const char *sep)
{
    const char *old = getenv(name);
    if (!old || !*old) {
        setenv(name, value, 1);
        return;
    }
    size_t n = strlen(value) + strlen(sep) + strlen(old) + 1;
    char *v = malloc(n);
    if (!v)
        return;
    snprintf(v, n, "%s%s%s", value, sep, old);
    setenv(name, v, 1);
    free(v);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

void pt_launch_spec_init(struct pt_launch_spec *spec, char **argv)
{
    memset(spec, 0, sizeof *spec);
    spec->argv = argv;
    spec->stdio[0] = spec->stdio[1] = spec->stdio[2] = -1;
}

/* Moves fd to target in the child (fds may overlap the targets). */
static void child_stdio(const int fds[3])
{
    int copies[3];
    for (int i = 0; i < 3; i++)
        copies[i] = fds[i] >= 0 ? fcntl(fds[i], F_DUPFD_CLOEXEC, 3) : -1;
    for (int i = 0; i < 3; i++)
        if (copies[i] >= 0)
            dup2(copies[i], i);
}

/* Executes argv, with "ruby" in front of a script; returns only on failure. */
static void exec_program(char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    char **args = argv;
    char *with_ruby[argc + 2];
    if (ends_with(argv[0], ".rb")) {
        with_ruby[0] = (char *)"ruby";
        for (int i = 0; i <= argc; i++)
            with_ruby[i + 1] = argv[i];
        args = with_ruby;
    }
    execvp(args[0], args);
}

/* The spec's NAME=VALUE settings; a NAME alone unsets it. */
static void apply_env(char *const *env)
{
    for (char *const *kv = env; kv && *kv; kv++) {
        const char *eq = strchr(*kv, '=');
        if (!eq) {
            unsetenv(*kv);
            continue;
        }
        char *name = eq != *kv ? strndup(*kv, (size_t)(eq - *kv)) : NULL;
        if (name)
            setenv(name, eq + 1, 1);
        free(name);
    }
}

/* In the child, between fork and exec: never returns. */
static void exec_child(struct pt_launch *l, const struct pt_launch_spec *spec,
                       const char *libdir, int err_fd)
{
    setpgid(0, 0);
    if (!spec->attachable && spec->stdio[0] < 0 && isatty(STDIN_FILENO) &&
        tcgetpgrp(STDIN_FILENO) == getpgid(getppid()))
        tcsetpgrp(STDIN_FILENO, getpgrp());  /* SIGTTOU is still ignored here */
    pt_sig_reset_child();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (!spec->cwd || !spec->cwd[0] || chdir(spec->cwd) == 0) {
        apply_env(spec->env);
        if (libdir[0])
            prepend_env("RUBYLIB", libdir, ":");
        prepend_env("RUBYOPT", "-rpolytrace", " ");
        child_stdio(spec->stdio);
        if (spec->attachable) {
            unsetenv("POLYTRACE_SOCKET");
            int null = open("/dev/null", O_RDONLY);
            if (null >= 0) {
                dup2(null, STDIN_FILENO);
                close(null);
            }
        } else {
            setenv("POLYTRACE_SOCKET", l->sock_path, 1);
        }
        if (spec->nonstop)
            setenv("POLYTRACE_NONSTOP", "1", 1);
        else
            unsetenv("POLYTRACE_NONSTOP");
        exec_program(spec->argv);
    }
    int e = errno;
    ssize_t w = write(err_fd, &e, sizeof e);
    (void)w;
    _exit(127);
}

int pt_launch_start(struct pt_launch *l, const struct pt_launch_spec *spec)
{
    char libdir[PATH_MAX];
    if (pt_launch_libdir(libdir, sizeof libdir))
        libdir[0] = '\0';
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0)
        return -errno;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(errpipe[0]);
        close(errpipe[1]);
        return -e;
    }
    if (pid == 0) {
        close(errpipe[0]);
        exec_child(l, spec, libdir, errpipe[1]);
    }
    close(errpipe[1]);
    setpgid(pid, pid);  /* both sides, so there is no race with tcsetpgrp */
    l->pid = pid;
    int e = 0;
    ssize_t n;
    do
        n = read(errpipe[0], &e, sizeof e);
    while (n < 0 && errno == EINTR);
    close(errpipe[0]);
    if (n == (ssize_t)sizeof e) {
        l->exec_errno = e;
        waitpid(pid, NULL, 0);
        l->pid = 0;
        return -e;
    }
    return 0;
}

int pt_launch_exec(const struct pt_launch_spec *spec)
{
    char libdir[PATH_MAX];
    if (pt_launch_libdir(libdir, sizeof libdir))
        libdir[0] = '\0';
    pt_sig_reset_child();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    apply_env(spec->env);
    if (libdir[0])
        prepend_env("RUBYLIB", libdir, ":");
    prepend_env("RUBYOPT", "-rpolytrace", " ");
    unsetenv("POLYTRACE_SOCKET");
    if (spec->nonstop)
        setenv("POLYTRACE_NONSTOP", "1", 1);
    else
        unsetenv("POLYTRACE_NONSTOP");
    fflush(NULL);
    exec_program(spec->argv);
    return -errno;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Accepts one connection; -EACCES if the peer is not the same user. */
static int accept_peer(int lfd, int *fd)
{
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return -errno;
    if (pt_proto_peer_check(c, 0) != 0) {
        close(c);
        return -EACCES;
    }
    *fd = c;
    return 0;
}

int pt_launch_accept(struct pt_launch *l, int timeout_ms, int *fd, int *status)
{
    long deadline = now_ms() + timeout_ms;
    int rc = -ETIMEDOUT;
    for (;;) {
        pid_t w = waitpid(l->pid, status, WNOHANG);
        if (w == l->pid) {
            l->pid = 0;
            rc = 0;
            break;
        }
        long left = deadline - now_ms();
        if (left <= 0) {
            rc = -ETIMEDOUT;
            break;
        }
        struct pollfd p[2] = {
            { .fd = l->listen_fd, .events = POLLIN },
            { .fd = pt_sig_fd(), .events = POLLIN },
        };
        int n = poll(p, pt_sig_fd() >= 0 ? 2 : 1, (int)left);
        if (n < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        if (n > 0 && (p[1].revents & POLLIN)) {
            int sig = pt_sig_next();
            if (sig == SIGTERM || sig == SIGHUP || sig == SIGINT) {
                rc = -EINTR;
                break;
            }
        }
        if (n > 0 && (p[0].revents & POLLIN)) {
            int r = accept_peer(l->listen_fd, fd);
            if (r == 0) {
                rc = 1;
                break;
            }
            if (r != -EACCES && r != -EAGAIN && r != -EINTR && r != -ECONNABORTED) {
                rc = r;
                break;
            }
        }
    }
    pt_launch_unlisten(l);
    return rc;
}
