/*
 * attach.c — `polytrace attach PID` and `dump PID`, the part before the
 * handshake. SIGURG's default action is to ignore it, and we check
 * /proc/PID/maps for the tracer first, so a process without the tracer is
 * never signalled at all, and could not be killed by it if it were.
 */
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "load.h"
#include "pt_rendezvous.h"

int pt_attach_maps_have_tracer(const char *maps)
{
    for (const char *p = maps; (p = strstr(p, "polytrace_ext.so")); p++) {
        /* The name must end a path: preceded by '/', followed by end of line. */
        const char *after = p + strlen("polytrace_ext.so");
        if (p > maps && p[-1] == '/' && (*after == '\n' || *after == '\0' || *after == ' '))
            return 1;
    }
    return 0;
}

/* Reads /proc/<pid>/maps looking for the tracer, chunk by chunk. */
static int maps_have_tracer(pid_t pid, int *err_no)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/maps", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f) {
        *err_no = errno;
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int found = 0;
    while (!found && getline(&line, &cap, f) > 0)
        found = pt_attach_maps_have_tracer(line);
    free(line);
    fclose(f);
    return found;
}

enum pt_attach_refusal pt_attach_check(pid_t pid, int *err_no)
{
    *err_no = 0;
    if (pid <= 0)
        return PT_ATTACH_NO_PROCESS;
    if (pid == getpid())
        return PT_ATTACH_SELF;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld", (long)pid);
    struct stat st;
    if (stat(path, &st) != 0) {
        *err_no = errno;
        return PT_ATTACH_NO_PROCESS;
    }
    if (st.st_uid != getuid())
        return PT_ATTACH_OTHER_USER;
    /* A zombie has no maps left; nor a tracer to talk to. */
    int found = maps_have_tracer(pid, err_no);
    if (found < 0)
        return *err_no == ENOENT ? PT_ATTACH_NO_PROCESS : PT_ATTACH_NO_ACCESS;
    return found ? PT_ATTACH_OK : PT_ATTACH_NO_TRACER;
}

void pt_attach_describe(enum pt_attach_refusal r, pid_t pid, char *buf, size_t len)
{
    switch (r) {
    case PT_ATTACH_OK:
        snprintf(buf, len, "process %ld can be attached to", (long)pid);
        break;
    case PT_ATTACH_NO_PROCESS:
        snprintf(buf, len, "no process with id %ld", (long)pid);
        break;
    case PT_ATTACH_NO_ACCESS:
        /* /proc/PID/maps takes the same permission as ptrace. */
        pt_load_explain_eperm(pid, buf, len);
        break;
    case PT_ATTACH_OTHER_USER:
        snprintf(buf, len, "process %ld belongs to another user", (long)pid);
        break;
    case PT_ATTACH_NO_TRACER:
        snprintf(buf, len, "process %ld has not loaded the polytrace tracer "
                 "(polytrace_ext.so is not mapped); run it with -rpolytrace", (long)pid);
        break;
    case PT_ATTACH_SELF:
        snprintf(buf, len, "process %ld is polytrace itself", (long)pid);
        break;
    }
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int pt_attach_connect(pid_t pid, int timeout_ms, int *fd)
{
    char dir[PATH_MAX], path[PATH_MAX];
    struct sockaddr_un sa;
    int rc = pt_proto_sockdir_ensure(dir, sizeof dir);
    if (rc)
        return rc;
    if ((rc = pt_proto_attach_sock_path(dir, pid, path, sizeof path)) ||
        (rc = pt_proto_sockaddr(path, &sa)))
        return rc;

    if (kill(pid, SIGURG) != 0)
        return -errno;
    long deadline = now_ms() + timeout_ms;
    for (;;) {
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            return -errno;
        if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) {
            if (pt_proto_peer_check(s, pid) != 0) {
                close(s);
                return -EACCES;
            }
            *fd = s;
            return 0;
        }
        int e = errno;
        close(s);
        if (e != ENOENT && e != ECONNREFUSED && e != EAGAIN && e != EINTR)
            return -e;
        if (kill(pid, 0) != 0)
            return -ESRCH;
        if (now_ms() >= deadline)
            return -ETIMEDOUT;
        /* The tracer opens the socket from its signal path; poll for it. */
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
}
