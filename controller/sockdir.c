/*
 * sockdir.c — where polytrace's Unix sockets live. The directory is private
 * (mode 0700, the user's own) so only the user can reach the sockets at all;
 * SO_PEERCRED checks on both ends are the second line of defence.
 */
#include "sockdir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int fmt(char *buf, size_t len, const char *f, const char *a, long b)
{
    int n = snprintf(buf, len, f, a, b);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pt_sockdir_path(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg && xdg[0] == '/')
        return fmt(buf, len, "%s/polytrace%.0ld", xdg, 0);
    return fmt(buf, len, "%s/polytrace-%ld", "/tmp", (long)getuid());
}

int pt_sockdir_ensure(char *buf, size_t len)
{
    int rc = pt_sockdir_path(buf, len);
    if (rc)
        return rc;
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (lstat(buf, &st) != 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (st.st_uid != getuid() || (st.st_mode & 077) != 0)
        return -EPERM;
    return 0;
}

int pt_sockdir_ctl_path(const char *dir, pid_t self, char *buf, size_t len)
{
    return fmt(buf, len, "%s/ctl-%ld.sock", dir, (long)self);
}

int pt_sockdir_attach_path(const char *dir, pid_t target, char *buf, size_t len)
{
    return fmt(buf, len, "%s/%ld.sock", dir, (long)target);
}
