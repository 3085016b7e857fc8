/*
 * ctl.c — helpers every part of a session uses: the one-line error the user
 * sees, a request with its reply (interruptible by Ctrl-C, and ending the
 * session when the connection is gone), and a source window for a location
 * (read locally, else asked of the tracer).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "format.h"
#include "signals.h"
#include "sourcefile.h"

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void pt_ctl_error(struct pt_ctl *ctl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", ctl->out);
    if (ctl->running_line && ctl->running_line->lineno)
        fprintf(ctl->out, "%s:%d: ", ctl->running_line->origin, ctl->running_line->lineno);
    ctl->cmd_failed = true;
    vfprintf(ctl->out, fmt, ap);
    fputc('\n', ctl->out);
    va_end(ap);
    fflush(ctl->out);
}

void pt_ctl_show_source(struct pt_ctl *ctl, const char *file, int line, int first, int last)
{
    struct pt_src_lines src;
    int rc = pt_src_read(file, ctl->pid, first, last, &src);
    if (rc == 0) {
        pt_fmt_listing(ctl->out, src.lines, src.n, src.first, line);
        pt_src_free(&src);
        return;
    }
    if (rc == -ERANGE) {
        fprintf(ctl->out, "%s has no line %d\n", pt_fmt_path(file, NULL), first);
        return;
    }
    /* Not readable here: ask the tracer, which has the program's view. */
    if (ctl->state != PT_CTL_STOPPED || ctl->sess.fd < 0) {
        fprintf(ctl->out, "(source of %s not available: %s)\n", pt_fmt_path(file, NULL), strerror(-rc));
        return;
    }
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_SOURCE, 0);
    req.u.source.file = (char *)file;
    req.u.source.first = first;
    req.u.source.last = last;
    int r = pt_sess_request(&ctl->sess, &req, &rep, PT_SESS_REPLY_MS);
    req.u.source.file = NULL;
    if (r == 0 && rep.type == PT_REP_LINES && rep.u.lines.nlines)
        pt_fmt_listing(ctl->out, rep.u.lines.lines, rep.u.lines.nlines, rep.u.lines.first, line);
    else
        fprintf(ctl->out, "(source of %s not available: %s)\n", pt_fmt_path(file, NULL), strerror(-rc));
    pt_msg_free(&rep);
}

int pt_ctl_request(struct pt_ctl *ctl, struct pt_msg *req, struct pt_msg *reply)
{
    memset(reply, 0, sizeof *reply);
    if (ctl->sess.fd < 0) {
        pt_ctl_error(ctl, "not connected to the program");
        return -ENOTCONN;
    }
    int rc = pt_sess_send(&ctl->sess, req);
    if (rc) {
        pt_ctl_connection_lost(ctl, rc == -EPIPE ? 0 : rc);
        return rc;
    }
    /* Wait, but let Ctrl-C give up on a slow answer (a long `print`); other
     * signals that arrive meanwhile are handled afterwards by the loop. */
    long deadline = now_ms() + PT_SESS_REPLY_MS;
    int held[16];
    size_t nheld = 0;
    bool interrupted = false;
    for (;;) {
        long left = deadline - now_ms();
        rc = left > 0 ? pt_sess_wait_reply(&ctl->sess, req->id, reply, (int)left, pt_sig_fd())
                      : -ETIMEDOUT;
        if (rc != -EINTR)
            break;
        int sig;
        while ((sig = pt_sig_next()) != 0) {
            if (sig == SIGINT)
                interrupted = true;
            else if (nheld < sizeof held / sizeof held[0])
                held[nheld++] = sig;
        }
        if (interrupted)
            break;
    }
    for (size_t i = 0; i < nheld; i++)
        pt_sig_requeue(held[i]);
    if (interrupted) {
        pt_ctl_error(ctl, "interrupted; the program may still be working on it");
        return -EINTR;
    }
    if (rc == -ETIMEDOUT) {
        pt_ctl_error(ctl, "the program did not answer within %d s", PT_SESS_REPLY_MS / 1000);
        return rc;
    }
    if (rc == PT_PROTO_E_BADMSG) {
        pt_ctl_error(ctl, "the program's reply could not be read (%s)", pt_proto_strerror(rc));
        return rc;
    }
    if (rc < 0) {
        pt_ctl_connection_lost(ctl, rc == -ECONNRESET ? 0 : rc);
        return rc;
    }
    char buf[1024];
    if (pt_sess_reply_error(reply, buf, sizeof buf)) {
        pt_ctl_error(ctl, "%s", buf);
        pt_msg_free(reply);
        return -EPROTO;
    }
    return 0;
}
