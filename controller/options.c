/*
 * options.c — parsing polytrace's argv. Options come first; the first
 * non-option word is either a mode keyword (attach, dump, connect, top,
 * dap) or the start of the program to launch; "--" ends the options (so
 * `polytrace -- attach` launches a program named attach).
 */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pt_opt_parse_pid(const char *s, pid_t *out)
{
    if (!s || !*s)
        return -EINVAL;
    for (const char *c = s; *c; c++)
        if (!isdigit((unsigned char)*c))
            return -EINVAL;
    errno = 0;
    long v = strtol(s, NULL, 10);
    if (errno || v <= 0 || v > INT_MAX)
        return -EINVAL;
    *out = (pid_t)v;
    return 0;
}

static int usage_error(char *err, size_t errlen, const char *msg, const char *arg)
{
    if (err && errlen)
        snprintf(err, errlen, msg, arg);
    return -EINVAL;
}

static int parse_pid_mode(int argc, char **argv, int i, struct pt_opt *out,
                          char *err, size_t errlen)
{
    const char *kw = argv[i];
    if (i + 1 >= argc)
        return usage_error(err, errlen, "'%s' needs a process id", kw);
    if (pt_opt_parse_pid(argv[i + 1], &out->pid))
        return usage_error(err, errlen, "'%s' is not a process id", argv[i + 1]);
    if (i + 2 < argc)
        return usage_error(err, errlen, "unexpected argument '%s'", argv[i + 2]);
    return 0;
}

/* dap [--listen ADDR]: nothing before "dap" applies to it. */
static int parse_dap(int argc, char **argv, int i, struct pt_opt *out, char *err, size_t errlen)
{
    if (out->nonstop || out->detach || out->no_init || out->nscripts)
        return usage_error(err, errlen, "%s", "dap takes only --listen (an editor drives the session)");
    out->mode = PT_OPT_DAP;
    for (i++; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0) {
            if (i + 1 >= argc || !*argv[i + 1])
                return usage_error(err, errlen, "%s", "'--listen' needs HOST:PORT or a socket path");
            out->listen = argv[++i];
        } else if (strncmp(argv[i], "--listen=", 9) == 0 && argv[i][9]) {
            out->listen = argv[i] + 9;
        } else {
            return usage_error(err, errlen, "unexpected argument '%s' (polytrace dap [--listen ADDR])",
                               argv[i]);
        }
    }
    return 0;
}

/* connect [--tls] [--tls-ca FILE] [--token-file FILE] HOST:PORT, options
 * on either side. */
static int parse_connect(int argc, char **argv, int i, struct pt_opt *out, char *err, size_t errlen)
{
    out->mode = PT_OPT_CONNECT;
    if (out->nonstop || out->detach || out->listen || out->listen_any || out->tls_cert ||
        out->tls_key || out->token_file)
        return usage_error(err, errlen, "%s", "connect takes its options after it: "
                           "connect [--tls [--tls-ca FILE]] [--token-file FILE] HOST:PORT");
    for (i++; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--tls") == 0) {
            out->tls = true;
        } else if (strcmp(a, "--tls-ca") == 0 || strcmp(a, "--token-file") == 0) {
            if (i + 1 >= argc || !*argv[i + 1])
                return usage_error(err, errlen, "'%s' needs a file name", a);
            if (a[2] == 't' && a[3] == 'l')
                out->tls_ca = argv[++i];
            else
                out->token_file = argv[++i];
        } else if (a[0] == '-') {
            return usage_error(err, errlen, "connect: unknown option '%s' (see polytrace --help)", a);
        } else if (out->addr) {
            return usage_error(err, errlen, "unexpected argument '%s'", a);
        } else {
            out->addr = a;
        }
    }
    if (!out->addr)
        return usage_error(err, errlen, "%s", "'connect' needs HOST:PORT");
    if (out->tls_ca && !out->tls)
        return usage_error(err, errlen, "%s", "--tls-ca goes with --tls");
    return 0;
}

/* top [-d SECS] [-s KEY] [-f TEXT] [-b] [-n COUNT] PID, options on either side. */
static int parse_top(int argc, char **argv, int i, struct pt_opt *out, char *err, size_t errlen)
{
    struct pt_top_opt *t = &out->top;
    bool have_pid = false;

    t->delay = 1.0;
    t->sort = "cpu";
    for (i++; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-b") == 0) {
            t->batch = true;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "-s") == 0 || strcmp(a, "-f") == 0 ||
                   strcmp(a, "-n") == 0) {
            if (!v)
                return usage_error(err, errlen, "top: '%s' needs a value", a);
            i++;
            if (a[1] == 'd') {
                char *end;
                errno = 0;
                t->delay = strtod(v, &end);
                if (errno || *end || !(t->delay >= 0.1 && t->delay <= 3600))
                    return usage_error(err, errlen, "top: -d takes seconds from 0.1 to 3600, not '%s'", v);
            } else if (a[1] == 's') {
                if (strcmp(v, "cpu") && strcmp(v, "runs") && strcmp(v, "longest") &&
                    strcmp(v, "waiting") && strcmp(v, "id"))
                    return usage_error(err, errlen, "top: -s takes cpu, runs, longest, waiting or id, not '%s'", v);
                t->sort = v;
            } else if (a[1] == 'f') {
                t->filter = v;
            } else {
                char *end;
                errno = 0;
                t->count = strtol(v, &end, 10);
                if (errno || *end || t->count < 1)
                    return usage_error(err, errlen, "top: -n takes a count of screens, not '%s'", v);
            }
        } else if (a[0] == '-') {
            return usage_error(err, errlen, "top: unknown option '%s' (see polytrace --help)", a);
        } else if (have_pid) {
            return usage_error(err, errlen, "unexpected argument '%s'", a);
        } else if (pt_opt_parse_pid(a, &out->pid)) {
            return usage_error(err, errlen, "'%s' is not a process id", a);
        } else {
            have_pid = true;
        }
    }
    if (!have_pid)
        return usage_error(err, errlen, "'%s' needs a process id", "top");
    if (t->count && !t->batch)
        return usage_error(err, errlen, "top: -n counts the screens of -b%s", "");
    t->pid = out->pid;
    return 0;
}

/* A mode's own --help (`polytrace dap --help`) prints the usage, which
 * covers every mode; after "--" the words are a program's. */
static bool mode_asks_help(int argc, char **argv, int i)
{
    static const char *const modes[] = { "attach", "dump", "dap", "top", "connect" };
    bool is_mode = false;
    for (size_t m = 0; m < sizeof modes / sizeof *modes; m++)
        is_mode |= strcmp(argv[i], modes[m]) == 0;
    if (!is_mode)
        return false;
    for (i++; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    return false;
}

int pt_opt_parse(int argc, char **argv, struct pt_opt *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->mode = PT_OPT_LAUNCH;
    int i = 1;
    bool dashdash = false;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            dashdash = true;
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            out->mode = PT_OPT_HELP;
            return 0;
        } else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            out->mode = PT_OPT_VERSION;
            return 0;
        } else if (strcmp(a, "--nonstop") == 0) {
            out->nonstop = true;
        } else if (strcmp(a, "--detach") == 0) {
            out->detach = true;
        } else if (strcmp(a, "-n") == 0) {
            out->no_init = true;
        } else if (strcmp(a, "--listen-any") == 0) {
            out->listen_any = true;
        } else if (strcmp(a, "--listen") == 0 || strcmp(a, "--token-file") == 0 ||
                   strcmp(a, "--tls-cert") == 0 || strcmp(a, "--tls-key") == 0) {
            if (i + 1 >= argc || !*argv[i + 1])
                return usage_error(err, errlen, strcmp(a, "--listen") == 0
                                   ? "'%s' needs HOST:PORT" : "'%s' needs a file name", a);
            const char *v = argv[++i];
            if (strcmp(a, "--listen") == 0)
                out->listen = v;
            else if (strcmp(a, "--token-file") == 0)
                out->token_file = v;
            else if (strcmp(a, "--tls-cert") == 0)
                out->tls_cert = v;
            else
                out->tls_key = v;
        } else if (strcmp(a, "-x") == 0 || strcmp(a, "-ex") == 0) {
            if (i + 1 >= argc)
                return usage_error(err, errlen, a[1] == 'x' ? "'%s' needs a file name"
                                                             : "'%s' needs a command", a);
            if (out->nscripts == PT_OPT_SCRIPTS_MAX)
                return usage_error(err, errlen, "at most 64 -x and -ex options%s", "");
            out->scripts[out->nscripts].is_file = a[1] == 'x';
            out->scripts[out->nscripts++].text = argv[++i];
        } else {
            return usage_error(err, errlen, "unknown option '%s' (see polytrace --help)", a);
        }
    }
    if (i >= argc)
        return usage_error(err, errlen, "%s", "no program given (see polytrace --help)");
    if (!dashdash && mode_asks_help(argc, argv, i)) {
        out->mode = PT_OPT_HELP;
        return 0;
    }
    bool remote_opts = out->listen || out->listen_any || out->token_file || out->tls_cert ||
                       out->tls_key;
    if (!dashdash && remote_opts && (strcmp(argv[i], "top") == 0 || strcmp(argv[i], "attach") == 0 ||
                                     strcmp(argv[i], "dump") == 0))
        return usage_error(err, errlen, "--listen and its options are for launching a program, "
                           "not for %s", argv[i]);
    if (!dashdash && strcmp(argv[i], "top") == 0) {
        out->mode = PT_OPT_TOP;
        if (out->nonstop || out->detach || out->nscripts || out->no_init)
            return usage_error(err, errlen, "top takes none of --nonstop, --detach, -x, -ex, -n "
                               "before it%s", "");
        return parse_top(argc, argv, i, out, err, errlen);
    }
    if (!dashdash && (strcmp(argv[i], "attach") == 0 || strcmp(argv[i], "dump") == 0)) {
        out->mode = strcmp(argv[i], "attach") == 0 ? PT_OPT_ATTACH : PT_OPT_DUMP;
        if (out->nonstop || out->detach)
            return usage_error(err, errlen, "--nonstop and --detach only apply when launching a program%s", "");
        if (out->mode == PT_OPT_DUMP && (out->nscripts || out->no_init))
            return usage_error(err, errlen, "-x, -ex and -n need a session: launch or attach, not dump%s", "");
        return parse_pid_mode(argc, argv, i, out, err, errlen);
    }
    if (!dashdash && strcmp(argv[i], "connect") == 0)
        return parse_connect(argc, argv, i, out, err, errlen);
    if (!dashdash && strcmp(argv[i], "dap") == 0) {
        if (out->listen || out->listen_any || out->token_file || out->tls_cert || out->tls_key)
            return usage_error(err, errlen, "%s", "dap takes only --listen, after it");
        return parse_dap(argc, argv, i, out, err, errlen);
    }
    if (out->listen) {
        out->mode = PT_OPT_LISTEN;
        if (out->detach)
            return usage_error(err, errlen, "%s", "--listen and --detach do not go together: "
                               "with --listen the program waits for 'polytrace connect'");
        if (out->nscripts || out->no_init)
            return usage_error(err, errlen, "%s", "-x, -ex and -n belong to the session: give "
                               "them to 'polytrace connect'");
        if (!out->tls_cert != !out->tls_key)
            return usage_error(err, errlen, "%s", "TLS needs both --tls-cert and --tls-key");
    } else if (out->listen_any || out->token_file || out->tls_cert || out->tls_key) {
        return usage_error(err, errlen, "%s", "--listen-any, --token-file, --tls-cert and "
                           "--tls-key go with --listen HOST:PORT");
    }
    if (out->detach && !out->nonstop)
        return usage_error(err, errlen, "%s", "--detach needs --nonstop");
    if (out->detach && out->nscripts)
        return usage_error(err, errlen, "%s", "-x and -ex need a session; --detach leaves none");
    out->prog_argc = argc - i;
    out->prog_argv = argv + i;
    return 0;
}
