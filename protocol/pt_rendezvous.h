/*
 * pt_rendezvous.h — where the tracer and the controller meet: the private
 * socket directory, the socket names in it, and the check of who is on the
 * other end. Both sides link this (it is part of libptproto) so that they
 * can never disagree on a path. docs/ARCHITECTURE.md, "Ways in".
 *
 * Functions return 0 or a negative errno and never print.
 */
#ifndef PT_RENDEZVOUS_H
#define PT_RENDEZVOUS_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

/* The directory's path: $XDG_RUNTIME_DIR/polytrace when that variable holds
 * an absolute path (the XDG spec says to ignore it otherwise), else
 * /tmp/polytrace-UID. -ENAMETOOLONG when it does not fit in buf. */
int pt_proto_sockdir_path(char *buf, size_t len);

/* The same path, the directory created (mode 0700) if missing; -EPERM when
 * it is not a directory of ours that only we may enter. */
int pt_proto_sockdir_ensure(char *buf, size_t len);

/* pt_proto_sockdir_ensure for a path found earlier (it reads no environment,
 * so a thread that must not call getenv can use it). */
int pt_proto_sockdir_make(const char *dir);

/* <dir>/ctl-<pid>.sock: a controller's listening socket (launch). */
int pt_proto_ctl_sock_path(const char *dir, pid_t controller, char *buf, size_t len);

/* <dir>/<pid>.sock: a debuggee's listening socket (attach). */
int pt_proto_attach_sock_path(const char *dir, pid_t debuggee, char *buf, size_t len);

/* <dir>/<pid>.inject: a controller that brought the tracer into a process
 * (attach without the tracer) waits for it; the tracer, once loaded,
 * removes it to say it is ready for SIGURG. Whoever removes it first
 * decides: the tracer (ready) or the controller (gave up). */
int pt_proto_inject_ticket_path(const char *dir, pid_t debuggee, char *buf, size_t len);

/* Fills a sockaddr_un for path; -ENAMETOOLONG when it does not fit. */
int pt_proto_sockaddr(const char *path, struct sockaddr_un *sa);

/* 0 when the peer of the connected Unix socket fd runs as our uid and, if
 * pid is not 0, is that process; -EACCES when it is someone else. */
int pt_proto_peer_check(int fd, pid_t pid);

#endif /* PT_RENDEZVOUS_H */
