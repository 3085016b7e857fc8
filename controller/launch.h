/*
 * launch.h — starting the program under polytrace: the listening socket in
 * the private directory, fork/exec with the tracer preloaded (RUBYOPT,
 * RUBYLIB, POLYTRACE_SOCKET, POLYTRACE_NONSTOP) in the program's own
 * process group, and waiting for the tracer to connect.
 */
#ifndef PT_LAUNCH_H
#define PT_LAUNCH_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

struct pt_launch {
    char sock_path[PATH_MAX];  /* "" when not listening */
    int listen_fd;             /* -1 when not listening */
    pid_t pid;                 /* the program, 0 before start */
    int exec_errno;            /* set when exec failed */
};

/* Creates the private directory and listens on <dir>/ctl-<our pid>.sock.
 * 0 or -errno (-EPERM: the directory has the wrong owner or mode). */
int pt_launch_listen(struct pt_launch *l);

/* The directory to prepend to RUBYLIB: <dir of this binary>/../lib when it
 * holds polytrace.rb (running from the build tree), else "" (installed).
 * 0 or -errno. */
int pt_launch_libdir(char *buf, size_t len);

/* What to run and how. */
struct pt_launch_spec {
    char **argv;               /* argv[0] ending in ".rb" is run with "ruby" */
    bool nonstop;              /* POLYTRACE_NONSTOP: no stop at the first line */
    bool attachable;           /* no socket: the program waits for `polytrace
                                  attach`, stdin from /dev/null */
    const char *cwd;           /* NULL: ours */
    char *const *env;          /* NULL-terminated NAME=VALUE settings added to
                                  (or replacing in) our environment, a NAME
                                  alone removed from it; NULL: none */
    int stdio[3];              /* the program's stdin, stdout, stderr; -1: ours */
};

/* A spec for argv with everything else as polytrace's own. */
void pt_launch_spec_init(struct pt_launch_spec *spec, char **argv);

/*
 * Forks and execs spec->argv in its own process group. 0, or -errno; when
 * exec itself failed (or the working directory could not be entered),
 * -errno of that and l->exec_errno is set (the child is reaped).
 */
int pt_launch_start(struct pt_launch *l, const struct pt_launch_spec *spec);

/*
 * Replaces polytrace with spec->argv (same pid, terminal and stdio), the
 * tracer preloaded and spec->env applied, for a program that waits for its
 * controller itself (--listen). Returns only on failure: -errno.
 */
int pt_launch_exec(const struct pt_launch_spec *spec);

/*
 * Waits until the tracer connects (and its uid is ours) or the deadline.
 * 1: connected, *fd set; 0: the program ended first, *status as from
 * waitpid; -ETIMEDOUT; -EINTR when SIGTERM/SIGHUP/SIGINT arrived; -errno.
 * Stops listening in every case.
 */
int pt_launch_accept(struct pt_launch *l, int timeout_ms, int *fd, int *status);

/* Stops listening and removes the socket file. */
void pt_launch_unlisten(struct pt_launch *l);

#endif
