/*
 * options.h — polytrace's command line: the mode (launch, attach, dump,
 * dap, help, version) and its options, parsed without printing anything.
 */
#ifndef PT_OPTIONS_H
#define PT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "top.h"

enum pt_opt_mode {
    PT_OPT_LAUNCH,   /* polytrace [-n] [-x FILE] [-ex CMD] [--nonstop [--detach]] [--] PROGRAM ARGS */
    PT_OPT_ATTACH,   /* polytrace [-n] [-x FILE] [-ex CMD] attach PID */
    PT_OPT_CONNECT,  /* polytrace [-n] [-x FILE] [-ex CMD] connect [--tls [--tls-ca FILE]]
                        [--token-file FILE] HOST:PORT */
    PT_OPT_LISTEN,   /* polytrace --listen HOST:PORT [--listen-any] [--token-file FILE]
                        [--tls-cert FILE --tls-key FILE] [--nonstop] [--] PROGRAM ARGS */
    PT_OPT_DUMP,     /* polytrace dump PID */
    PT_OPT_DAP,      /* polytrace dap [--listen ADDR] */
    PT_OPT_TOP,      /* polytrace top [-d SECS] [-s KEY] [-f TEXT] [-b [-n N]] PID */
    PT_OPT_HELP,     /* -h, --help */
    PT_OPT_VERSION   /* --version */
};

/* -x FILE and -ex CMD, in command-line order. */
#define PT_OPT_SCRIPTS_MAX 64

struct pt_opt_script {
    bool is_file;         /* -x FILE; else -ex CMD */
    const char *text;     /* points into argv */
};

struct pt_opt {
    enum pt_opt_mode mode;
    bool nonstop;
    bool detach;
    bool no_init;         /* -n: do not read ~/.polytracerc */
    struct pt_opt_script scripts[PT_OPT_SCRIPTS_MAX];
    int nscripts;
    pid_t pid;            /* attach, dump, top */
    const char *listen;   /* dap --listen ADDR (NULL: stdin/stdout); --listen HOST:PORT */
    bool listen_any;      /* --listen-any: a non-loopback address is meant */
    const char *token_file; /* --token-file FILE (listen, connect) */
    const char *tls_cert; /* --tls-cert FILE, --tls-key FILE (listen) */
    const char *tls_key;
    bool tls;             /* connect --tls */
    const char *tls_ca;   /* connect --tls-ca FILE */
    const char *addr;     /* connect HOST:PORT */
    struct pt_top_opt top;  /* top */
    int prog_argc;        /* launch: the program's argv (points into argv) */
    char **prog_argv;
};

/* 0, or -EINVAL with a one-line message in err (a usage error: exit 2). */
int pt_opt_parse(int argc, char **argv, struct pt_opt *out, char *err, size_t errlen);

/* Parses a PID argument: a positive decimal number. 0 or -EINVAL. */
int pt_opt_parse_pid(const char *s, pid_t *out);

#endif
