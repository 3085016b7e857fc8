/*
 * sockdir.h — the private directory that holds polytrace's sockets:
 * $XDG_RUNTIME_DIR/polytrace, else /tmp/polytrace-<uid>, mode 0700 and owned
 * by the user (refused otherwise); and the socket names inside it.
 */
#ifndef PT_SOCKDIR_H
#define PT_SOCKDIR_H

#include <stddef.h>
#include <sys/types.h>

/* The directory's path into buf (not created). 0 or -ENAMETOOLONG. */
int pt_sockdir_path(char *buf, size_t len);

/* Creates the directory if needed and checks owner and mode.
 * 0, -EPERM (wrong owner or mode), -ENOTDIR, or another -errno. */
int pt_sockdir_ensure(char *buf, size_t len);

/* <dir>/ctl-<pid>.sock (launch) and <dir>/<pid>.sock (attach). */
int pt_sockdir_ctl_path(const char *dir, pid_t self, char *buf, size_t len);
int pt_sockdir_attach_path(const char *dir, pid_t target, char *buf, size_t len);

#endif
