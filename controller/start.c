/*
 * start.c — from the command line to a connected session: launch (listen,
 * fork/exec, accept, handshake), attach (checks, SIGURG, connect,
 * handshake) and dump (attach, DUMP, DETACH). Errors are printed as one
 * "polytrace: ..." line and mapped to the exit codes of docs/ARCHITECTURE.md.
 */
#include "start.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach.h"
#include "ctl.h"
#include "format.h"
#include "launch.h"
#include "signals.h"
#include "pt_rendezvous.h"

/* How long the tracer may take to connect after exec (Ruby start-up). */
#define LAUNCH_CONNECT_MS 30000
/* How long an attached tracer may take to open its socket. */
#define ATTACH_CONNECT_MS 5000

static void perr(const char *fmt, const char *a, const char *b)
{
    /* One write, so the line is not interleaved with the program's output. */
    char msg[1024];
    char line[1100];
    snprintf(msg, sizeof msg, fmt, a, b);
    int n = snprintf(line, sizeof line, "polytrace: %s\n", msg);
    if (n > 0)
        fwrite(line, 1, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, stderr);
}

static void set_base_from_cwd(pid_t pid)
{
    char path[64], real[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%ld/cwd", (long)pid);
    if (pid > 0 && realpath(path, real))
        pt_fmt_set_base(real);
    else if (getcwd(real, sizeof real))
        pt_fmt_set_base(real);
}

static void ctl_init(struct pt_ctl *ctl, enum pt_ctl_mode mode)
{
    memset(ctl, 0, sizeof *ctl);
    ctl->mode = mode;
    ctl->state = PT_CTL_RUNNING;  /* until the tracer says it stopped */
    ctl->sess.fd = -1;
    ctl->out = stdout;
    pt_term_init(&ctl->term);
    pt_script_init(&ctl->script);
}

/* One command file into the queue; 0, or prints why not and returns -1. */
static int load_file(struct pt_ctl *ctl, const char *path, bool missing_ok)
{
    int bad_line = 0;
    int rc = pt_script_load(&ctl->script, path, NULL, &bad_line);
    if (rc == 0 || (rc == -ENOENT && missing_ok))
        return 0;
    if (rc == -E2BIG) {
        char where[64];
        snprintf(where, sizeof where, "%d", bad_line);
        perr("%s:%s: line too long", path, where);
    } else {
        perr("cannot read %s: %s", path, strerror(-rc));
    }
    return -1;
}

/*
 * Queues ~/.polytracerc (unless -n), then every -x file and -ex command in
 * command-line order; they run at the first stop. 0, or -1 when a file
 * cannot be read (printed; a usage error).
 */
static int load_scripts(struct pt_ctl *ctl, const struct pt_opt *o)
{
    if (!o->no_init) {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            struct passwd *pw = getpwuid(getuid());
            home = pw ? pw->pw_dir : NULL;
        }
        if (home) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/.polytracerc", home);
            if (load_file(ctl, path, true))
                return -1;
        }
    }
    for (int i = 0; i < o->nscripts; i++) {
        if (o->scripts[i].is_file) {
            if (load_file(ctl, o->scripts[i].text, false))
                return -1;
        } else if (pt_script_add_command(&ctl->script, o->scripts[i].text)) {
            perr("%s%s", "out of memory", "");
            return -1;
        }
    }
    return 0;
}

static int handshake(struct pt_ctl *ctl, int fd, bool attached)
{
    char err[512];
    if (pt_sess_open(&ctl->sess, fd)) {
        close(fd);
        perr("%s%s", "out of memory", "");
        return -ENOMEM;
    }
    int rc = pt_sess_handshake(&ctl->sess, attached, err, sizeof err);
    if (rc) {
        perr("%s%s", err, "");
        pt_sess_close(&ctl->sess);
    }
    return rc;
}

static int launch(struct pt_ctl *ctl, const struct pt_opt *o);

int pt_start_launch(const struct pt_opt *o)
{
    struct pt_ctl ctl;
    ctl_init(&ctl, PT_CTL_LAUNCHED);
    int code = load_scripts(&ctl, o) ? 2 : launch(&ctl, o);
    pt_script_free(&ctl.script);
    return code;
}

/* The session ctl (set up, scripts queued) from start to end. */
static int launch(struct pt_ctl *ctl, const struct pt_opt *o)
{
    struct pt_launch l;
    memset(&l, 0, sizeof l);
    l.listen_fd = -1;
    if (pt_sig_init()) {
        perr("cannot set up signal handling: %s%s", strerror(errno), "");
        return 1;
    }

    if (o->detach) {
        int rc = pt_launch_start(&l, o->prog_argv, true, true);
        if (rc) {
            perr("cannot run '%s': %s", o->prog_argv[0], strerror(-rc));
            return 1;
        }
        printf("polytrace: started process %ld; attach with: polytrace attach %ld\n",
               (long)l.pid, (long)l.pid);
        return 0;
    }

    int rc = pt_launch_listen(&l);
    if (rc) {
        char dir[PATH_MAX];
        pt_proto_sockdir_path(dir, sizeof dir);
        if (rc == -EPERM)
            perr("refusing socket directory %s: it must be yours with mode 0700%s", dir, "");
        else
            perr("cannot listen in %s: %s", dir, strerror(-rc));
        return 1;
    }
    rc = pt_launch_start(&l, o->prog_argv, o->nonstop, false);
    if (rc) {
        pt_launch_unlisten(&l);
        pt_term_restore(&ctl->term);
        perr("cannot run '%s': %s", o->prog_argv[0], strerror(-rc));
        return 1;
    }
    ctl->pid = l.pid;
    ctl->child = true;
    pt_term_give(&ctl->term, ctl->pid);

    int fd = -1, status = 0;
    rc = pt_launch_accept(&l, LAUNCH_CONNECT_MS, &fd, &status);
    if (rc == 0) {
        pt_term_take(&ctl->term);
        char how[128];
        pt_fmt_wait_status(status, how, sizeof how);
        perr("the tracer never connected; %s", how, "");
        pt_term_restore(&ctl->term);
        return pt_fmt_exit_code(status);
    }
    if (rc < 0) {
        pt_term_take(&ctl->term);
        if (rc == -ETIMEDOUT)
            perr("the tracer did not connect within %s s (is polytrace.rb on Ruby's load path?)%s",
                 "30", "");
        else if (rc != -EINTR)
            perr("waiting for the tracer: %s%s", strerror(-rc), "");
        kill(-ctl->pid, SIGKILL);
        waitpid(ctl->pid, NULL, 0);
        pt_term_restore(&ctl->term);
        return 1;
    }
    if (handshake(ctl, fd, false)) {
        pt_term_take(&ctl->term);
        kill(-ctl->pid, SIGKILL);
        waitpid(ctl->pid, NULL, 0);
        pt_term_restore(&ctl->term);
        return 1;
    }
    set_base_from_cwd(0);
    return pt_repl_run(ctl);
}

/* Checks, signals and connects; prints why not. 0 with *fd, or 1. */
static int reach(pid_t pid, int *fd)
{
    int err_no = 0;
    enum pt_attach_refusal r = pt_attach_check(pid, &err_no);
    if (r != PT_ATTACH_OK) {
        char why[512];
        pt_attach_describe(r, pid, why, sizeof why);
        perr("%s%s", why, "");
        return 1;
    }
    int rc = pt_attach_connect(pid, ATTACH_CONNECT_MS, fd);
    if (rc) {
        char num[32];
        snprintf(num, sizeof num, "%ld", (long)pid);
        if (rc == -ETIMEDOUT)
            perr("process %s did not open its debugger socket within 5 s%s", num, "");
        else if (rc == -ESRCH)
            perr("process %s exited%s", num, "");
        else if (rc == -EPERM)
            perr("refusing the socket directory (it must be yours with mode 0700)%s%s", "", "");
        else
            perr("cannot connect to process %s: %s", num, strerror(-rc));
        return 1;
    }
    return 0;
}

/*
 * An attached program stops (reason "attach", or "call" from
 * Kernel#breakpoint) right after the handshake. Waiting for that stop here
 * keeps the prompt from appearing before it. Messages before the stop are
 * shown (print=true) or dropped. 0 or 1 (printed why).
 */
static int wait_first_stop(struct pt_ctl *ctl, bool print)
{
    for (;;) {
        struct pt_msg m;
        int rc = pt_sess_next(&ctl->sess, &m, PT_SESS_REPLY_MS);
        if (rc != 1) {
            perr("process did not stop after attaching: %s%s",
                 rc ? pt_proto_strerror(rc) : "connection closed", "");
            pt_sess_close(&ctl->sess);
            return 1;
        }
        bool stopped = m.type == PT_EV_STOPPED;
        if (print || stopped)
            pt_ctl_handle_event(ctl, &m);
        pt_msg_free(&m);
        if (stopped)
            return 0;
    }
}

static int attach(struct pt_ctl *ctl, const struct pt_opt *o)
{
    if (pt_sig_init()) {
        perr("cannot set up signal handling: %s%s", strerror(errno), "");
        return 1;
    }
    int fd;
    if (reach(o->pid, &fd))
        return 1;
    if (handshake(ctl, fd, true))
        return 1;
    set_base_from_cwd(o->pid);
    printf("Attached to process %ld.\n", (long)o->pid);
    if (wait_first_stop(ctl, true))
        return 1;
    return pt_repl_run(ctl);
}

int pt_start_attach(const struct pt_opt *o)
{
    struct pt_ctl ctl;
    ctl_init(&ctl, PT_CTL_ATTACHED);
    ctl.pid = o->pid;
    int code = load_scripts(&ctl, o) ? 2 : attach(&ctl, o);
    pt_script_free(&ctl.script);
    return code;
}

int pt_start_dump(const struct pt_opt *o)
{
    struct pt_ctl ctl;
    ctl_init(&ctl, PT_CTL_ATTACHED);
    ctl.pid = o->pid;
    signal(SIGPIPE, SIG_IGN);
    int fd;
    if (reach(o->pid, &fd))
        return 1;
    if (handshake(&ctl, fd, true))
        return 1;
    set_base_from_cwd(o->pid);

    /* The program stops (reason "attach") before it takes requests; the
     * stop itself is not shown, only the dump. */
    FILE *quiet = fopen("/dev/null", "w");
    ctl.out = quiet ? quiet : stdout;
    int rc = wait_first_stop(&ctl, false);
    if (quiet)
        fclose(quiet);
    ctl.out = stdout;
    if (rc)
        return 1;
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_DUMP, 0);
    rc = pt_sess_request(&ctl.sess, &req, &rep, PT_SESS_REPLY_MS);
    char err[512];
    int code = 0;
    if (rc) {
        perr("dump failed: %s%s", pt_proto_strerror(rc), "");
        code = 1;
    } else if (pt_sess_reply_error(&rep, err, sizeof err)) {
        perr("dump failed: %s%s", err, "");
        code = 1;
    } else if (rep.type == PT_REP_DUMP) {
        printf("Process %ld: ", (long)o->pid);
        pt_fmt_dump(stdout, &rep.u.dump);
    }
    pt_msg_free(&rep);
    pt_msg_init(&req, PT_REQ_DETACH, 0);
    if (ctl.sess.fd >= 0 && pt_sess_request(&ctl.sess, &req, &rep, PT_SESS_REPLY_MS) == 0)
        pt_msg_free(&rep);
    pt_sess_close(&ctl.sess);
    fflush(stdout);
    return code;
}
