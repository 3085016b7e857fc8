/*
 * proto_rendezvous.c — the private socket directory, the socket names in
 * it, and the peer check (pt_rendezvous.h). The directory keeps everyone
 * else out; SO_PEERCRED on each connection is the second line of defence.
 */
#include "pt_rendezvous.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int format_path(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pt_proto_sockdir_path(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");

    if (xdg && xdg[0] == '/')
        return format_path(buf, len, "%s/polytrace", xdg);
    return format_path(buf, len, "/tmp/polytrace-%ld", (long)getuid());
}

int pt_proto_sockdir_make(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -errno;
    if (lstat(dir, &st) != 0)
        return -errno;
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077) != 0)
        return -EPERM;
    return 0;
}

int pt_proto_sockdir_ensure(char *buf, size_t len)
{
    int rc = pt_proto_sockdir_path(buf, len);

    return rc ? rc : pt_proto_sockdir_make(buf);
}

int pt_proto_ctl_sock_path(const char *dir, pid_t controller, char *buf, size_t len)
{
    return format_path(buf, len, "%s/ctl-%ld.sock", dir, (long)controller);
}

int pt_proto_attach_sock_path(const char *dir, pid_t debuggee, char *buf, size_t len)
{
    return format_path(buf, len, "%s/%ld.sock", dir, (long)debuggee);
}

int pt_proto_inject_ticket_path(const char *dir, pid_t debuggee, char *buf, size_t len)
{
    return format_path(buf, len, "%s/%ld.inject", dir, (long)debuggee);
}

int pt_proto_sockaddr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path)
        return -ENAMETOOLONG;
    strcpy(sa->sun_path, path);
    return 0;
}

int pt_proto_peer_check(int fd, pid_t pid)
{
    struct ucred cred;
    socklen_t len = sizeof cred;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return -errno;
    if (cred.uid != getuid() || (pid != 0 && cred.pid != pid))
        return -EACCES;
    return 0;
}
