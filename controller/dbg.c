/*
 * dbg.c — the session core: a request with its reply (interruptible, and
 * ending a process's part of the session when its connection is gone), the
 * tracers' events turned into session state and told to the front end, the
 * processes a session holds (forked children come in, ended ones go, one is
 * selected), and how a session ends (docs/ARCHITECTURE.md, "Conversation
 * rules" 3, 4 and 6, and "Several processes, one controller").
 */
#include "dbg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "procinfo.h"
#include "strcopy.h"

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void inf_init(struct pt_inf *inf, int num, enum pt_dbg_mode mode)
{
    memset(inf, 0, sizeof *inf);
    inf->num = num;
    inf->mode = mode;
    inf->state = PT_DBG_RUNNING;  /* until the tracer says it stopped */
    inf->sess.fd = -1;
}

void pt_dbg_init(struct pt_dbg *d, enum pt_dbg_mode mode, const struct pt_dbg_ui *ui, void *ctx)
{
    memset(d, 0, sizeof *d);
    inf_init(&d->one, 1, mode);
    d->inf = &d->one;
    d->procs[0] = &d->one;
    d->nprocs = 1;
    d->next_num = 2;
    d->ui = ui;
    d->ui_ctx = ctx;
    d->intr_fd = -1;
    d->print_limit = PT_DBG_PRINT_LIMIT;
}

int pt_dbg_fail(struct pt_dbg *d, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    return rc;
}

const char *pt_dbg_error(const struct pt_dbg *d)
{
    return d->err;
}

const char *pt_dbg_follow_name(enum pt_dbg_follow f)
{
    switch (f) {
    case PT_DBG_FOLLOW_ALL: return "all";
    case PT_DBG_FOLLOW_PARENT: return "parent";
    case PT_DBG_FOLLOW_CHILD: return "child";
    default: return "none";
    }
}

const char *pt_dbg_proc_name(const struct pt_dbg *d, const struct pt_inf *inf, char *buf, size_t len)
{
    if (d->next_num <= 2)
        snprintf(buf, len, "program");
    else
        snprintf(buf, len, "process %d (pid %ld)", inf->num, (long)inf->pid);
    return buf;
}

int pt_dbg_open(struct pt_dbg *d, int fd, bool attached)
{
    struct pt_inf *inf = d->inf;
    if (pt_sess_open(&inf->sess, fd)) {
        inf->sess.fd = -1;
        close(fd);
        return pt_dbg_fail(d, -ENOMEM, "out of memory");
    }
    inf->sess.observe = d->observe;
    inf->sess.follow = d->follow != PT_DBG_FOLLOW_NONE ? pt_dbg_follow_name(d->follow) : NULL;
    int rc = pt_sess_handshake(&inf->sess, attached, d->err, sizeof d->err);
    if (rc)
        pt_sess_close(&inf->sess);
    return rc;
}

void pt_dbg_close(struct pt_dbg *d)
{
    /* Process 1 stays, with the state of the session's end. */
    bool done = d->inf->state == PT_DBG_DONE;
    pt_sess_close(&d->one.sess);
    for (int i = 0; i < d->nprocs; i++) {
        if (d->procs[i] == &d->one)
            continue;
        pt_sess_close(&d->procs[i]->sess);
        free(d->procs[i]);
    }
    d->inf = &d->one;
    if (done)
        d->one.state = PT_DBG_DONE;
    d->procs[0] = &d->one;
    d->nprocs = 1;
}

int pt_dbg_need_stopped(struct pt_dbg *d)
{
    if (d->inf->state == PT_DBG_STOPPED)
        return 0;
    if (d->inf->state == PT_DBG_DONE)
        return pt_dbg_fail(d, -ENOTCONN, "the program is gone");
    return pt_dbg_fail(d, -EBUSY, "the program is running (use 'pause' or Ctrl-C first)");
}

/* ---- processes -------------------------------------------------------------- */

struct pt_inf *pt_dbg_process(struct pt_dbg *d, int num)
{
    for (int i = 0; i < d->nprocs; i++)
        if (d->procs[i]->num == num)
            return d->procs[i];
    return NULL;
}

static void tell_process(struct pt_dbg *d, const struct pt_inf *inf, enum pt_dbg_proc_event ev,
                         const char *how)
{
    const struct pt_inf *was = d->event_inf;
    d->event_inf = inf;
    if (d->ui && d->ui->process)
        d->ui->process(d->ui_ctx, inf, ev, how);
    d->event_inf = was;
}

int pt_dbg_select(struct pt_dbg *d, int num)
{
    struct pt_inf *inf = pt_dbg_process(d, num);
    if (!inf || inf->state == PT_DBG_DONE)
        return pt_dbg_fail(d, -ENOENT, "no process %d (see 'processes')", num);
    d->inf = inf;
    return 0;
}

/* The selected process ended: the first stopped one, else the first. */
static void select_another(struct pt_dbg *d)
{
    struct pt_inf *pick = NULL;
    for (int i = 0; i < d->nprocs && !pick; i++)
        if (d->procs[i]->state == PT_DBG_STOPPED)
            pick = d->procs[i];
    for (int i = 0; i < d->nprocs && !pick; i++)
        if (d->procs[i]->state != PT_DBG_DONE)
            pick = d->procs[i];
    if (!pick)
        return;
    d->inf = pick;
    tell_process(d, pick, PT_DBG_PROC_SELECTED, "the selected one ended");
}

void pt_dbg_select_waiting(struct pt_dbg *d)
{
    if (d->inf->state == PT_DBG_STOPPED)
        return;
    for (int i = 0; i < d->nprocs; i++) {
        struct pt_inf *inf = d->procs[i];
        if (inf != d->inf && inf->state == PT_DBG_STOPPED) {
            d->inf = inf;
            tell_process(d, inf, PT_DBG_PROC_SELECTED, "it waited");
            return;
        }
    }
}

static int live_others(const struct pt_dbg *d, const struct pt_inf *inf)
{
    int n = 0;
    for (int i = 0; i < d->nprocs; i++)
        if (d->procs[i] != inf && d->procs[i]->state != PT_DBG_DONE)
            n++;
    return n;
}

static void end(struct pt_dbg *d, const char *how, bool error)
{
    d->inf->state = PT_DBG_DONE;
    if (d->ui && d->ui->ended)
        d->ui->ended(d->ui_ctx, how, error);
}

/*
 * Process inf's part of the session is over (how: in words; code: the exit
 * code it gives polytrace, -1 none). With others left they go on (the
 * selected one ended: another is selected); with none it is the session's
 * end. polytrace's exit code is process 1's, else the last one's.
 */
static void inf_end(struct pt_dbg *d, struct pt_inf *inf, const char *how, bool error, int code)
{
    pt_sess_close(&inf->sess);
    inf->state = PT_DBG_DONE;
    if (code >= 0 && (inf == &d->one || !d->code_set)) {
        d->exit_code = code;
        d->code_set = inf == &d->one;
    } else if (error && !d->code_set) {
        d->exit_code = 1;
    }
    if (!live_others(d, inf)) {
        d->inf = inf;
        end(d, how, error);
        return;
    }
    tell_process(d, inf, PT_DBG_PROC_ENDED, how);
    for (int i = 0; i < d->nprocs; i++) {
        if (d->procs[i] == inf) {
            memmove(&d->procs[i], &d->procs[i + 1], (size_t)(d->nprocs - i - 1) * sizeof d->procs[0]);
            d->nprocs--;
            break;
        }
    }
    bool was_selected = d->inf == inf;
    if (was_selected)
        d->inf = d->procs[0];
    if (inf != &d->one)
        free(inf);
    if (was_selected)
        select_another(d);
}

pid_t pt_dbg_child_pid(const struct pt_dbg *d)
{
    return d->one.child ? d->one.pid : d->detached_child;
}

/* ---- requests --------------------------------------------------------------- */

static void inf_lost(struct pt_dbg *d, struct pt_inf *inf, int err);

/* pt_dbg_request to process inf. */
static int request_to(struct pt_dbg *d, struct pt_inf *inf, struct pt_msg *req, struct pt_msg *reply)
{
    struct pt_sess *s = &inf->sess;
    memset(reply, 0, sizeof *reply);
    d->err[0] = '\0';
    if (s->fd < 0)
        return pt_dbg_fail(d, -ENOTCONN, "not connected to the program");
    int rc = pt_sess_send(s, req);
    if (rc) {
        inf_lost(d, inf, rc == -EPIPE ? 0 : rc);
        return rc;
    }
    /* Wait; the front end may give up on a slow answer (a long `print`). */
    long deadline = now_ms() + PT_SESS_REPLY_MS;
    for (;;) {
        long left = deadline - now_ms();
        rc = left > 0 ? pt_sess_wait_reply(s, req->id, reply, (int)left, d->intr_fd) : -ETIMEDOUT;
        if (rc != -EINTR)
            break;
        if (!d->ui || !d->ui->interrupted || d->ui->interrupted(d->ui_ctx))
            return pt_dbg_fail(d, -EINTR, "interrupted; the program may still be working on it");
    }
    if (rc == -ETIMEDOUT)
        return pt_dbg_fail(d, rc, "the program did not answer within %d s", PT_SESS_REPLY_MS / 1000);
    if (rc == PT_PROTO_E_BADMSG)
        return pt_dbg_fail(d, rc, "the program's reply could not be read (%s)", pt_proto_strerror(rc));
    if (rc < 0) {
        inf_lost(d, inf, rc == -ECONNRESET ? 0 : rc);
        return rc;
    }
    if (pt_sess_reply_error(reply, d->err, sizeof d->err)) {
        pt_msg_free(reply);
        return -EPROTO;
    }
    return 0;
}

int pt_dbg_request(struct pt_dbg *d, struct pt_msg *req, struct pt_msg *reply)
{
    return request_to(d, d->inf, req, reply);
}

int pt_dbg_request_others(struct pt_dbg *d, struct pt_msg *req, bool quiet_missing)
{
    /* By number: a process that ends meanwhile leaves the list. */
    int failures = 0, last = d->next_num;
    const struct pt_inf *selected = d->inf;
    char saved[PT_DBG_ERR_MAX];
    pt_str_copy(saved, sizeof saved, d->err);
    for (int num = 1; num < last; num++) {
        struct pt_inf *inf = pt_dbg_process(d, num);
        if (!inf || inf == selected || inf->state == PT_DBG_DONE || inf->sess.fd < 0)
            continue;
        struct pt_msg rep;
        int rc = request_to(d, inf, req, &rep);
        if (rc == 0) {
            pt_msg_free(&rep);
            continue;
        }
        if (rc == -EPROTO && quiet_missing)
            continue;
        failures++;
        inf = pt_dbg_process(d, num);
        if (inf && d->err[0] && d->ui && d->ui->error) {
            char who[64], line[PT_DBG_ERR_MAX + 64];
            snprintf(line, sizeof line, "%s: %s", pt_dbg_proc_name(d, inf, who, sizeof who), d->err);
            d->ui->error(d->ui_ctx, line);
        }
    }
    pt_str_copy(d->err, sizeof d->err, saved);
    return failures;
}

/* ---- events ----------------------------------------------------------------- */

static void on_stopped(struct pt_dbg *d, struct pt_inf *inf, const struct pt_proto_ev_stopped *st)
{
    inf->state = PT_DBG_STOPPED;
    inf->pause_pending = false;
    inf->stop_fiber = st->fiber;
    inf->sel_fiber = st->fiber;
    inf->frame = inf->stop_frame = st->frame;
    pt_str_copy(inf->frame_file, sizeof inf->frame_file, st->file ? st->file : "");
    inf->frame_line = st->line;
    pt_str_copy(inf->stop_exception, sizeof inf->stop_exception, st->exception ? st->exception : "");
    pt_str_copy(inf->stop_method, sizeof inf->stop_method, st->method ? st->method : "");
    if (st->bp)
        snprintf(inf->stop_reason, sizeof inf->stop_reason, "breakpoint %u", (unsigned)st->bp);
    else
        pt_str_copy(inf->stop_reason, sizeof inf->stop_reason, st->reason ? st->reason : "");
    if (inf != d->inf) {
        /* While the user works in a stopped process, another's stop waits
         * for them; while the selected one runs, the stop takes over. */
        if (d->inf->state == PT_DBG_STOPPED) {
            d->event_stop = st;
            tell_process(d, inf, PT_DBG_PROC_STOPPED, NULL);
            d->event_stop = NULL;
            return;
        }
        d->inf = inf;
        tell_process(d, inf, PT_DBG_PROC_SELECTED, NULL);
    }
    if (d->ui && d->ui->stopped)
        d->ui->stopped(d->ui_ctx, st);
}

static int follow_parse(const char *s, enum pt_dbg_follow *f)
{
    static const enum pt_dbg_follow all[] = { PT_DBG_FOLLOW_ALL, PT_DBG_FOLLOW_PARENT, PT_DBG_FOLLOW_CHILD };
    for (size_t i = 0; s && i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(s, pt_dbg_follow_name(all[i])) == 0) {
            *f = all[i];
            return 0;
        }
    }
    return -EINVAL;
}

/*
 * A process forked. A child that is followed waits on its attach socket
 * until we reach it (with its parent's breakpoints and settings already);
 * it becomes the next process. With follow "child" the parent's
 * connection closes after this event: that end is a detach.
 */
static void on_forked(struct pt_dbg *d, struct pt_inf *parent, const struct pt_proto_ev_forked *ev)
{
    enum pt_dbg_follow how = PT_DBG_FOLLOW_PARENT;
    char text[64];
    follow_parse(ev->follow, &how);
    snprintf(text, sizeof text, "pid %lld", (long long)ev->pid);
    if (how == PT_DBG_FOLLOW_PARENT) {
        tell_process(d, parent, PT_DBG_PROC_FORKED, text);
        return;
    }
    if (how == PT_DBG_FOLLOW_CHILD)
        parent->leaving = true;
    struct pt_inf *c = d->nprocs < PT_DBG_PROCS_MAX ? malloc(sizeof *c) : NULL;
    if (!c) {
        if (d->ui && d->ui->error) {
            char line[128];
            snprintf(line, sizeof line, "forked child %s not followed: %s", text,
                     d->nprocs < PT_DBG_PROCS_MAX ? "out of memory" : "too many processes");
            d->ui->error(d->ui_ctx, line);
        }
        return;
    }
    inf_init(c, d->next_num, parent->mode);
    c->pid = (pid_t)ev->pid;
    c->parent = parent->pid;
    memcpy(c->catches, parent->catches, sizeof c->catches);
    c->ncatches = parent->ncatches;
    c->hog = parent->hog;
    c->hog_us = parent->hog_us;
    char saved[PT_DBG_ERR_MAX];
    pt_str_copy(saved, sizeof saved, d->err);
    int rc = pt_dbg_reach_forked(d, c);
    if (rc) {
        if (d->ui && d->ui->error) {
            char line[PT_DBG_ERR_MAX + 128];
            snprintf(line, sizeof line, "forked child %s not followed: %s", text, d->err);
            d->ui->error(d->ui_ctx, line);
        }
        pt_sess_close(&c->sess);
        free(c);
        pt_str_copy(d->err, sizeof d->err, saved);
        return;
    }
    pt_str_copy(d->err, sizeof d->err, saved);
    d->next_num++;
    d->procs[d->nprocs++] = c;
    tell_process(d, c, PT_DBG_PROC_NEW, NULL);
}

void pt_dbg_handle_event_from(struct pt_dbg *d, struct pt_inf *inf, struct pt_msg *m)
{
    const struct pt_dbg_ui *ui = d->ui;
    const struct pt_inf *was = d->event_inf;
    char buf[256];
    d->event_inf = inf;
    switch (m->type) {
    case PT_EV_STOPPED:
        on_stopped(d, inf, &m->u.stopped);
        break;
    case PT_EV_RUNNING:
        if (inf->state == PT_DBG_STOPPED) {
            inf->state = PT_DBG_RUNNING;
            if (inf == d->inf && ui && ui->running)
                ui->running(d->ui_ctx);
        }
        break;
    case PT_EV_OP:
        if (ui && ui->op)
            ui->op(d->ui_ctx, &m->u.op);
        break;
    case PT_EV_OUTPUT:
        if (ui && ui->output && m->u.output.text)
            ui->output(d->ui_ctx, m->u.output.text, m->u.output.text_len);
        break;
    case PT_EV_FIBER:
        if (ui && ui->fiber)
            ui->fiber(d->ui_ctx, &m->u.fiber_event);
        break;
    case PT_EV_EXITED:
        inf->exited_seen = true;
        inf->exited_status = m->u.exited.status;
        inf->exited_signal = m->u.exited.signal;
        break;
    case PT_EV_FORKED:
        on_forked(d, inf, &m->u.forked);
        break;
    case PT_REP_ERROR:
        if (pt_sess_reply_error(m, buf, sizeof buf) && ui && ui->error)
            ui->error(d->ui_ctx, buf);
        break;
    default:
        break;  /* a late OK to PAUSE, or something we do not show */
    }
    d->event_inf = was;
}

void pt_dbg_handle_event(struct pt_dbg *d, struct pt_msg *m)
{
    pt_dbg_handle_event_from(d, d->inf, m);
}

void pt_dbg_drain_process(struct pt_dbg *d, struct pt_inf *inf, bool readable)
{
    /* readable: until nothing more can be read now; else what is queued. */
    while (inf->state != PT_DBG_DONE && inf->sess.fd >= 0) {
        if (!readable && !pt_sess_pending(&inf->sess))
            return;
        struct pt_msg m;
        int rc = pt_sess_next(&inf->sess, &m, 0);
        if (rc == -ETIMEDOUT || rc == -EAGAIN)
            return;
        if (rc <= 0) {
            inf_lost(d, inf, rc);
            return;
        }
        pt_dbg_handle_event_from(d, inf, &m);
        pt_msg_free(&m);
    }
}

void pt_dbg_drain(struct pt_dbg *d)
{
    int last = d->next_num;
    for (int num = 1; num < last; num++) {
        struct pt_inf *inf = pt_dbg_process(d, num);
        if (inf)
            pt_dbg_drain_process(d, inf, true);
    }
}

int pt_dbg_wait_stop(struct pt_dbg *d, int timeout_ms)
{
    struct pt_inf *inf = d->inf;
    long deadline = now_ms() + timeout_ms;
    while (inf->state == PT_DBG_RUNNING) {
        long left = deadline - now_ms();
        if (left <= 0)
            return pt_dbg_fail(d, -ETIMEDOUT, "the program did not stop within %d s", timeout_ms / 1000);
        struct pt_msg m;
        int rc = pt_sess_next(&inf->sess, &m, (int)left);
        if (rc == -ETIMEDOUT)
            continue;
        if (rc != 1)
            return pt_dbg_fail(d, rc ? rc : -ECONNRESET, "%s",
                               rc ? pt_proto_strerror(rc) : "connection closed");
        pt_dbg_handle_event_from(d, inf, &m);
        pt_msg_free(&m);
    }
    return inf->state == PT_DBG_STOPPED ? 0 : pt_dbg_fail(d, -ECONNRESET, "the session ended");
}

int pt_dbg_set_follow(struct pt_dbg *d, enum pt_dbg_follow follow)
{
    if (d->remote)
        return pt_dbg_fail(d, -ENOTSUP, "forked children are not followed over TCP (connect): "
                           "they run free");
    d->follow = follow;
    struct pt_msg req;
    pt_msg_init(&req, PT_REQ_SET, 0);
    req.u.set.name = (char *)"follow-fork";
    req.u.set.value = (char *)pt_dbg_follow_name(follow);
    /* The selected one first, for the error if there is one. */
    int rc = 0;
    if (d->inf->state != PT_DBG_DONE && d->inf->sess.fd >= 0) {
        struct pt_msg rep;
        if ((rc = pt_dbg_request(d, &req, &rep)) == 0)
            pt_msg_free(&rep);
    }
    if (rc == 0)
        pt_dbg_request_others(d, &req, false);
    memset(&req.u.set, 0, sizeof req.u.set);
    return rc;
}

/* ---- the end ------------------------------------------------------------------ */

static void terminal(struct pt_dbg *d, bool to_program)
{
    if (d->ui && d->ui->terminal)
        d->ui->terminal(d->ui_ctx, to_program);
}

/* "program exited with status 0" or "process 2 (pid 4242) exited ...". */
static void how_exited(const struct pt_dbg *d, const struct pt_inf *inf, int status, int sig,
                       char *buf, size_t len)
{
    char text[128], who[64];
    pt_fmt_exit(status, sig, text, sizeof text);
    pt_dbg_proc_name(d, inf, who, sizeof who);
    /* pt_fmt_exit says "program ...": name the process instead. */
    const char *rest = strncmp(text, "program ", 8) == 0 ? text + 8 : text;
    snprintf(buf, len, "%s %s", who, rest);
}

void pt_dbg_report_child(struct pt_dbg *d, int status)
{
    char buf[160];
    struct pt_inf *inf = &d->one;
    how_exited(d, inf, WIFSIGNALED(status) ? -1 : WEXITSTATUS(status),
               WIFSIGNALED(status) ? WTERMSIG(status) : 0, buf, sizeof buf);
    inf->child = false;
    if (inf->state == PT_DBG_DONE) {
        /* Detached from: the session is over; say how the program ended. */
        d->exit_code = pt_fmt_exit_code(status);
        end(d, buf, false);
        return;
    }
    inf_end(d, inf, buf, false, pt_fmt_exit_code(status));
}

void pt_dbg_child_exited(struct pt_dbg *d, int status)
{
    struct pt_inf *inf = &d->one;
    inf->child = false;
    /* Let the last events (output notices, EXITED) be handled first. */
    while (inf->sess.fd >= 0 && inf->state != PT_DBG_DONE) {
        struct pt_msg m;
        if (pt_sess_next(&inf->sess, &m, 0) != 1)
            break;
        pt_dbg_handle_event_from(d, inf, &m);
        pt_msg_free(&m);
    }
    pt_sess_close(&inf->sess);
    if (inf->state == PT_DBG_DONE)
        return;
    if (!live_others(d, inf))
        terminal(d, false);
    pt_dbg_report_child(d, status);
}

void pt_dbg_reaped(struct pt_dbg *d, pid_t pid, int status)
{
    if (pid == d->detached_child) {
        d->detached_child = 0;  /* we let it go: its end is not ours to tell */
        return;
    }
    if (d->one.child && pid == d->one.pid)
        pt_dbg_child_exited(d, status);
}

/*
 * A process that is not our child closed its connection without EXITED
 * (exit!, a signal): if it is a zombie now, its status is still there for
 * its parent to collect, and /proc shows it. Waits a moment for the exit
 * to get that far. 0 with *status (as from waitpid), or -1.
 */
static int zombie_status(pid_t pid, int *status)
{
    for (int i = 0; i < 40; i++) {
        char state;
        int code;
        int rc = pt_proc_exit_status(pid, &state, &code);
        if (rc < 0)
            return -1;          /* gone: reaped already */
        if (state == 'Z' || state == 'X') {
            *status = code;
            return 0;
        }
        struct timespec ts = { 0, 5 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return -1;
}

static void inf_lost(struct pt_dbg *d, struct pt_inf *inf, int err)
{
    pt_sess_close(&inf->sess);
    if (inf->state == PT_DBG_DONE)
        return;
    char who[64], buf[PT_DBG_ERR_MAX];
    pt_dbg_proc_name(d, inf, who, sizeof who);
    if (inf->leaving) {
        /* follow-fork child: the parent let go of us and runs on. */
        if (inf->child)
            d->detached_child = inf->pid;
        inf->child = false;
        snprintf(buf, sizeof buf, "%s runs on without the debugger (follow-fork child)", who);
        inf_end(d, inf, buf, false, -1);
        return;
    }
    if (inf->child) {
        /* Our child: its exit status is the authority. The program may still
         * be finishing (at_exit handlers); it owns the terminal meanwhile. */
        bool last = !live_others(d, inf);
        int status;
        pid_t w;
        if (d->ui && d->ui->wait_program) {
            int rc = d->ui->wait_program(d->ui_ctx, inf->pid, &status);
            if (rc == -EAGAIN) {
                /* Its end comes with SIGCHLD (pt_dbg_reaped). */
                inf->state = PT_DBG_RUNNING;
                return;
            }
            w = rc == 0 ? inf->pid : -1;
        } else {
            if (last)
                terminal(d, true);
            do
                w = waitpid(inf->pid, &status, 0);
            while (w < 0 && errno == EINTR);
            if (last)
                terminal(d, false);
        }
        if (w == inf->pid) {
            pt_dbg_report_child(d, status);
            return;
        }
        inf->child = false;
    }
    int status;
    if (inf->exited_seen) {
        how_exited(d, inf, inf->exited_status, inf->exited_signal, buf, sizeof buf);
        inf_end(d, inf, buf, false,
                inf->exited_signal ? 128 + inf->exited_signal : inf->exited_status);
    } else if (inf != &d->one && zombie_status(inf->pid, &status) == 0) {
        how_exited(d, inf, WIFSIGNALED(status) ? -1 : WEXITSTATUS(status),
                   WIFSIGNALED(status) ? WTERMSIG(status) : 0, buf, sizeof buf);
        inf_end(d, inf, buf, false, pt_fmt_exit_code(status));
    } else if (inf != &d->one && !err) {
        snprintf(buf, sizeof buf, "%s ended (its exit status went to its parent)", who);
        inf_end(d, inf, buf, false, -1);
    } else {
        snprintf(buf, sizeof buf, "lost the connection to %s%s%s%s", d->next_num <= 2 ? "the " : "",
                 who, err ? ": " : "", err ? pt_proto_strerror(err) : "");
        inf_end(d, inf, buf, true, -1);
    }
}

void pt_dbg_connection_lost(struct pt_dbg *d, int err)
{
    inf_lost(d, d->inf, err);
}

void pt_dbg_process_lost(struct pt_dbg *d, struct pt_inf *inf, int err)
{
    inf_lost(d, inf, err);
}

void pt_dbg_hangup(struct pt_dbg *d, int exit_code)
{
    for (int i = 0; i < d->nprocs; i++) {
        pt_sess_close(&d->procs[i]->sess);
        d->procs[i]->state = PT_DBG_DONE;
    }
    d->exit_code = exit_code;
}
