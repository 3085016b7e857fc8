/*
 * attach.h — reaching a running program: checks that the PID exists, is the
 * user's and has the tracer loaded (before any signal is sent), then SIGURG
 * and a connection to <dir>/<pid>.sock with a deadline.
 */
#ifndef PT_ATTACH_H
#define PT_ATTACH_H

#include <stddef.h>
#include <sys/types.h>

/* Why a process cannot be attached to. */
enum pt_attach_refusal {
    PT_ATTACH_OK = 0,
    PT_ATTACH_NO_PROCESS,   /* no such process */
    PT_ATTACH_OTHER_USER,   /* it belongs to another user */
    PT_ATTACH_NO_ACCESS,    /* ours, but its memory map may not be read */
    PT_ATTACH_NO_TRACER,    /* polytrace_ext.so is not mapped */
    PT_ATTACH_SELF,         /* it is polytrace itself */
};

/* Checks pid without signalling it. PT_ATTACH_OK or a refusal; *err_no
 * gets the errno behind a failed look-up (0 otherwise). */
enum pt_attach_refusal pt_attach_check(pid_t pid, int *err_no);

/* A one-line description of a refusal, for the user ("process 123 ..."). */
void pt_attach_describe(enum pt_attach_refusal r, pid_t pid, char *buf, size_t len);

/* True if a /proc/PID/maps text (NUL-terminated) shows the tracer. */
int pt_attach_maps_have_tracer(const char *maps);

/*
 * Sends SIGURG to pid and connects to its socket, retrying until
 * timeout_ms. Checks the peer is pid, run by the user. 0 with *fd set, or
 * -ETIMEDOUT, -EACCES (peer is someone else), -errno.
 */
int pt_attach_connect(pid_t pid, int timeout_ms, int *fd);

#endif
