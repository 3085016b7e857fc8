/*
 * start.c — from the command line to a front end: the REPL after a launch,
 * attach or dump through the session (dbg_start.c), with the command files
 * queued for the first stop; or the Debug Adapter (dap). Failures are
 * printed as one "polytrace: ..." line and mapped to the exit codes of
 * docs/ARCHITECTURE.md.
 */
#include "start.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl.h"
#include "dap.h"
#include "format.h"
#include "launch.h"
#include "pt_remote.h"
#include "signals.h"
#include "strcopy.h"

static void perr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void perr(const char *fmt, ...)
{
    /* One write, so the line is not interleaved with the program's output. */
    char msg[PT_DBG_ERR_MAX + PATH_MAX];
    char line[sizeof msg + 16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int n = snprintf(line, sizeof line, "polytrace: %s\n", msg);
    if (n > 0)
        fwrite(line, 1, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, stderr);
}

/* Prints the session's failure (if it has words) and returns its exit code. */
static int failed(struct pt_ctl *ctl)
{
    const char *why = pt_dbg_error(&ctl->dbg);
    pt_term_take(&ctl->term);
    if (why[0])
        perr("%s", why);
    pt_term_restore(&ctl->term);
    return ctl->dbg.exit_code;
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

static int init_signals(void)
{
    if (pt_sig_init() == 0)
        return 0;
    perr("cannot set up signal handling: %s", strerror(errno));
    return 1;
}

/* One command file into the queue; 0, or prints why not and returns -1. */
static int load_file(struct pt_ctl *ctl, const char *path, bool missing_ok)
{
    int bad_line = 0;
    int rc = pt_script_load(&ctl->script, path, NULL, &bad_line);
    if (rc == 0 || (rc == -ENOENT && missing_ok))
        return 0;
    if (rc == -E2BIG)
        perr("%s:%d: line too long", path, bad_line);
    else
        perr("cannot read %s: %s", path, strerror(-rc));
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
            perr("out of memory");
            return -1;
        }
    }
    return 0;
}

/* The session ctl (set up, scripts queued) from start to end. */
static int launch(struct pt_ctl *ctl, const struct pt_opt *o)
{
    struct pt_launch_spec spec;
    if (init_signals())
        return 1;
    pt_launch_spec_init(&spec, o->prog_argv);
    spec.nonstop = o->nonstop;

    if (o->detach) {
        /* Not a session: the program waits for a later `polytrace attach`. */
        struct pt_launch l;
        memset(&l, 0, sizeof l);
        l.listen_fd = -1;
        spec.attachable = true;
        int rc = pt_launch_start(&l, &spec);
        if (rc) {
            perr("cannot run '%s': %s", o->prog_argv[0], strerror(-rc));
            return 1;
        }
        printf("polytrace: started process %ld; attach with: polytrace attach %ld\n",
               (long)l.pid, (long)l.pid);
        return 0;
    }

    if (pt_dbg_launch(&ctl->dbg, &spec))
        return failed(ctl);
    set_base_from_cwd(0);
    return pt_repl_run(ctl);
}

int pt_start_launch(const struct pt_opt *o)
{
    struct pt_ctl ctl;
    pt_ctl_init(&ctl, PT_DBG_LAUNCHED);
    int code = load_scripts(&ctl, o) ? 2 : launch(&ctl, o);
    pt_script_free(&ctl.script);
    return code;
}

static int attach(struct pt_ctl *ctl, const struct pt_opt *o)
{
    if (init_signals())
        return 1;
    if (pt_dbg_attach(&ctl->dbg, o->pid))
        return failed(ctl);
    set_base_from_cwd(o->pid);
    printf("Attached to process %ld.\n", (long)o->pid);
    if (pt_dbg_first_stop(&ctl->dbg))
        return failed(ctl);
    return pt_repl_run(ctl);
}

int pt_start_attach(const struct pt_opt *o)
{
    struct pt_ctl ctl;
    pt_ctl_init(&ctl, PT_DBG_ATTACHED);
    int code = load_scripts(&ctl, o) ? 2 : attach(&ctl, o);
    pt_script_free(&ctl.script);
    return code;
}

/* Reads a token from the terminal, not echoed. 0 or -1. */
static int prompt_token(const char *addr, char *buf, size_t len)
{
    struct termios old, quiet;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    bool echo_off = tcgetattr(fd, &old) == 0;
    if (echo_off) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    dprintf(fd, "Token for %s: ", addr);
    size_t n = 0;
    char c;
    ssize_t r;
    while ((r = read(fd, &c, 1)) == 1 && c != '\n')
        if (n + 1 < len)
            buf[n++] = c;
    buf[n] = '\0';
    if (echo_off)
        tcsetattr(fd, TCSAFLUSH, &old);
    close(fd);
    return r == 1 || n ? 0 : -1;
}

/* The token for connect: --token-file, POLYTRACE_TOKEN, or asked for on
 * the terminal. 0, or prints why not and returns -1. */
static int connect_token(const struct pt_opt *o, char *buf, size_t len)
{
    char err[PT_DBG_ERR_MAX];
    const char *env = getenv("POLYTRACE_TOKEN");
    if (o->token_file) {
        if (pt_proto_remote_token_read(o->token_file, buf, len, err, sizeof err) == 0)
            return 0;
        perr("%s", err);
        return -1;
    }
    if (env && *env) {
        if (!pt_proto_remote_token_valid(env) || strlen(env) >= len) {
            perr("POLYTRACE_TOKEN must be %d to %d printable characters", PT_PROTO_REMOTE_TOKEN_MIN,
                 PT_PROTO_REMOTE_TOKEN_MAX);
            return -1;
        }
        pt_str_copy(buf, len, env);
        return 0;
    }
    if (isatty(STDIN_FILENO) && prompt_token(o->addr, buf, len) == 0) {
        if (pt_proto_remote_token_valid(buf))
            return 0;
        perr("a token is %d to %d printable characters", PT_PROTO_REMOTE_TOKEN_MIN,
             PT_PROTO_REMOTE_TOKEN_MAX);
        return -1;
    }
    perr("connecting to %s needs its token: --token-file FILE, or POLYTRACE_TOKEN (the "
         "listening program printed it, or read it from its --token-file)", o->addr);
    return -1;
}

static int connect_session(struct pt_ctl *ctl, const struct pt_opt *o, const char *token)
{
    struct pt_dbg_remote r = { .addr = o->addr, .token = token, .tls = o->tls,
                               .tls_ca = o->tls_ca };
    if (init_signals())
        return 1;
    if (pt_dbg_connect(&ctl->dbg, &r))
        return failed(ctl);
    set_base_from_cwd(0);
    printf("Connected to process %ld on %s%s.\n", (long)ctl->dbg.inf->pid, o->addr,
           o->tls ? " (TLS)" : "");
    if (pt_dbg_first_stop(&ctl->dbg))
        return failed(ctl);
    return pt_repl_run(ctl);
}

int pt_start_connect(const struct pt_opt *o)
{
    char token[PT_PROTO_REMOTE_TOKEN_MAX + 1];
    if (connect_token(o, token, sizeof token))
        return 1;
    struct pt_ctl ctl;
    pt_ctl_init(&ctl, PT_DBG_ATTACHED);
    int code = load_scripts(&ctl, o) ? 2 : connect_session(&ctl, o, token);
    explicit_bzero(token, sizeof token);
    pt_script_free(&ctl.script);
    return code;
}

/*
 * --listen: checks what the tracer will need (the address, the token
 * file, the certificate and key), so that a mistake is told here rather
 * than by a program that then runs without the debugger, and becomes the
 * program; the tracer in it listens (tracer/remote.c).
 */
int pt_start_listen(const struct pt_opt *o)
{
    char err[PT_DBG_ERR_MAX], bound[PT_PROTO_REMOTE_ADDR_MAX], token[PT_PROTO_REMOTE_TOKEN_MAX + 1];
    int fd;
    if (pt_proto_remote_listen(o->listen, o->listen_any, &fd, bound, sizeof bound, err,
                               sizeof err)) {
        perr("%s", err);
        return 1;
    }
    close(fd);
    if (o->token_file) {
        if (pt_proto_remote_token_read(o->token_file, token, sizeof token, err, sizeof err)) {
            perr("%s", err);
            return 1;
        }
        explicit_bzero(token, sizeof token);
    }
    if (o->tls_cert) {
        struct pt_proto_remote_tls *t;
        if (pt_proto_remote_tls_server(o->tls_cert, o->tls_key, &t, err, sizeof err)) {
            perr("%s", err);
            return 1;
        }
        pt_proto_remote_tls_free(t);
    }
    char listen[PT_PROTO_REMOTE_ADDR_MAX + 32], tokfile[PATH_MAX + 32], cert[PATH_MAX + 32],
        key[PATH_MAX + 32];
    snprintf(listen, sizeof listen, "POLYTRACE_LISTEN=%s", o->listen);
    snprintf(tokfile, sizeof tokfile, o->token_file ? "POLYTRACE_TOKEN_FILE=%s" : "%s",
             o->token_file ? o->token_file : "POLYTRACE_TOKEN_FILE");
    snprintf(cert, sizeof cert, o->tls_cert ? "POLYTRACE_TLS_CERT=%s" : "%s",
             o->tls_cert ? o->tls_cert : "POLYTRACE_TLS_CERT");
    snprintf(key, sizeof key, o->tls_key ? "POLYTRACE_TLS_KEY=%s" : "%s",
             o->tls_key ? o->tls_key : "POLYTRACE_TLS_KEY");
    char *env[] = { listen, tokfile, cert, key,
                    (char *)(o->listen_any ? "POLYTRACE_LISTEN_ANY=1" : "POLYTRACE_LISTEN_ANY"),
                    NULL };
    struct pt_launch_spec spec;
    pt_launch_spec_init(&spec, o->prog_argv);
    spec.nonstop = o->nonstop;
    spec.env = env;
    int rc = pt_launch_exec(&spec);
    perr("cannot run '%s': %s", o->prog_argv[0], strerror(-rc));
    return 1;
}

int pt_start_dump(const struct pt_opt *o)
{
    struct pt_dbg d;
    pt_dbg_init(&d, PT_DBG_ATTACHED, NULL, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* The program stops (reason "attach") before it takes requests; the
     * stop itself is not shown, only the dump. */
    if (pt_dbg_attach(&d, o->pid) || pt_dbg_first_stop(&d)) {
        perr("%s", pt_dbg_error(&d));
        return 1;
    }
    set_base_from_cwd(o->pid);
    struct pt_msg req, rep;
    pt_msg_init(&req, PT_REQ_DUMP, 0);
    int code = 0;
    if (pt_dbg_request(&d, &req, &rep)) {
        perr("dump failed: %s", pt_dbg_error(&d)[0] ? pt_dbg_error(&d) : "connection lost");
        code = 1;
    } else if (rep.type == PT_REP_DUMP) {
        printf("Process %ld: ", (long)o->pid);
        pt_fmt_dump(stdout, &rep.u.dump);
    }
    pt_msg_free(&rep);
    if (pt_dbg_fd(&d) >= 0)
        pt_dbg_detach(&d);
    pt_dbg_close(&d);
    fflush(stdout);
    return code;
}

int pt_start_dap(const struct pt_opt *o)
{
    signal(SIGPIPE, SIG_IGN);
    if (init_signals())
        return 1;
    if (o->listen)
        return pt_dap_listen(o->listen);
    /* stdout carries the protocol: anything else written there would
     * corrupt it, so stray output goes to stderr from here on. */
    int out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (out < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        perr("cannot set up stdout: %s", strerror(errno));
        return 1;
    }
    int code = pt_dap_serve(STDIN_FILENO, out);
    close(out);
    return code;
}
