/* fuzz_dispatch.c — libFuzzer target for the tracer's request dispatch (make
 * fuzz): what a controller sends once its handshake is done, served by the
 * real stop loop of a real stopped Ruby program.
 *
 * Ruby is embedded and the tracer is compiled in (with ASan and UBSan, like
 * this file); polytrace.rb is loaded as a program would. Each input is the
 * byte stream of one connection: it is written on a socketpair whose other
 * end the tracer takes as its controller, the writing side is then closed,
 * and a Ruby method with a few locals stops there (reason "fuzz"). The stop
 * loop decodes and answers every request until the bytes end (the
 * controller "went away"), as it would for a real controller; a resume
 * request lets the method run on (a step stops again at its next line and
 * serves the rest). A thread reads and drops the replies. Afterwards the
 * tracer forgets the connection (breakpoints, catches, steps), so inputs do
 * not depend on each other.
 *
 * Requests are decoded from the input first with the same decoder, and an
 * input is rejected when it would end or change this process rather than
 * exercise the tracer: KILL, expressions to evaluate (EVAL, VARS "eval",
 * SETVAR, SWITCH's, a breakpoint's condition and logpoint) outside a small
 * vocabulary (local names, literals, a few harmless methods), SETVAR on
 * globals, and request types this file does not know yet (request_ok).
 *
 * Leak detection is off for this target (detect_leaks=0 for ASan and for
 * libFuzzer in the Makefile): Ruby does not free its heap at exit. Stack
 * redzones are off too (-mllvm -asan-stack=0): Ruby unwinds with
 * __builtin_longjmp, which ASan cannot follow. The decoder's own target
 * (fuzz_decode.c) keeps both. Seeds: tests/fuzz/corpus_dispatch, request
 * sequences written with the msgpack gem as tests/lib/pt_wire.rb encodes
 * them. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tracer.h"

#ifndef PT_FUZZ_TRACER_LIB
#error "PT_FUZZ_TRACER_LIB: the directory of polytrace.rb"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void Init_polytrace_ext(void);

/* ---- what an input may ask for ------------------------------------------- */

static int word_ok(const char *w, size_t n)
{
    static const char *const words[] = {
        "x", "s", "h", "a", "list", "nil", "true", "false", "self", "size", "length",
        "to_s", "inspect", "first", "last", "keys", "values", "class", "name",
        "upcase", "reverse", "to_a", "count", "empty?", "nil?", "frozen?", "hash", NULL,
    };
    for (int i = 0; words[i]; i++)
        if (strlen(words[i]) == n && memcmp(words[i], w, n) == 0)
            return 1;
    return 0;
}

/* Local names, literals of a few digits, operators, the words above. */
static int expr_ok(const char *e)
{
    if (!e)
        return 1;
    for (const char *p = e; *p;) {
        if (isalpha((unsigned char)*p) || *p == '_') {
            const char *w = p;
            while (isalnum((unsigned char)*p) || *p == '_')
                p++;
            if (*p == '?')
                p++;
            if (!word_ok(w, (size_t)(p - w)))
                return 0;
        } else if (isdigit((unsigned char)*p)) {
            const char *d = p;
            while (isdigit((unsigned char)*p))
                p++;
            if (p - d > 3)
                return 0;       /* no "x" * 10**9 */
        } else if (p[0] == '*' && p[1] == '*') {
            return 0;
        } else if (strchr(" +-*/%.,()[]:<>=!&|'\"", *p)) {
            p++;
        } else {
            return 0;
        }
    }
    return 1;
}

/* Requests this target knows to be safe to serve here. A request type added
 * to the protocol later is left out until it is looked at and added: one
 * that evaluates Ruby code must go through expr_ok. */
static int request_ok(const struct pt_msg *m)
{
    switch (m->type) {
    case PT_REQ_CONTINUE: case PT_REQ_STEP: case PT_REQ_SKIP: case PT_REQ_UP:
    case PT_REQ_PAUSE: case PT_REQ_FIBERS: case PT_REQ_BACKTRACE: case PT_REQ_SOURCE:
    case PT_REQ_DELETE: case PT_REQ_BREAKPOINTS: case PT_REQ_TRACE_OPS:
    case PT_REQ_SET: case PT_REQ_DETACH: case PT_REQ_DUMP: case PT_REQ_RUNQUEUE:
        return 1;
    case PT_REQ_BREAK:  /* a method breakpoint can be hit here: its code runs */
        return expr_ok(m->u.brk.cond) && expr_ok(m->u.brk.log);
    case PT_REQ_SWITCH:
        return expr_ok(m->u.fiber.expr);
    case PT_REQ_EVAL:
        return expr_ok(m->u.eval.expr);
    case PT_REQ_VARS:
        return expr_ok(m->u.vars.expr);
    case PT_REQ_SETVAR:
        return strcmp(m->u.setvar.scope, "globals") != 0 && expr_ok(m->u.setvar.expr);
    default:
        return 0;   /* KILL (it would end this process), and what is not vetted */
    }
}

/* Every request the tracer will decode from these bytes is fine to serve. */
static int input_ok(const uint8_t *data, size_t size)
{
    struct pt_proto_decoder *dec;
    int ok = 1, r;

    if (pt_proto_decoder_new(&dec, 0, 0) < 0)
        return 0;
    if (pt_proto_decoder_feed(dec, data, size) < 0)
        ok = 0;
    while (ok) {
        struct pt_msg m;
        memset(&m, 0, sizeof m);
        r = pt_proto_decoder_next(dec, &m);
        if (r == 1)
            ok = request_ok(&m);
        pt_msg_free(&m);
        if (r == 0 || (r < 0 && r != PT_PROTO_E_BADMSG && r != PT_PROTO_E_UNKNOWN_TYPE))
            break;  /* the end, or where the tracer stops reading */
    }
    pt_proto_decoder_free(dec);
    return ok;
}

/* ---- the program ------------------------------------------------------------ */

static VALUE fuzz_stop(VALUE self)
{
    (void)self;
    pt_stop("fuzz", 0);
    return Qnil;
}

static VALUE run_target(VALUE unused)
{
    (void)unused;
    return rb_eval_string("fuzz_target([1, 'two', :three], 'str')");
}

/* Setting up failed: say why (Ruby's exception) and stop. */
static void setup_failed(const char *what)
{
    VALUE err = rb_errinfo();
    VALUE text = NIL_P(err) ? rb_str_new_cstr("?") : rb_inspect(err);

    fprintf(stderr, "fuzz_dispatch: %s: %s\n", what, StringValueCStr(text));
    abort();
}

static void *drain(void *arg)
{
    int fd = *(int *)arg;
    char buf[65536];

    while (read(fd, buf, sizeof buf) > 0)
        ;
    return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* As `ruby --disable-gems -e ''`, never run: the options step loads
     * what ruby_init alone does not (TracePoint.new is Ruby code). */
    static char *ruby_argv[] = { "fuzz_dispatch", "--disable-gems", "-e", "", NULL };
    int state = 0;
    VALUE var;

    (void)argc;
    (void)argv;
    ruby_init_stack(&var);
    ruby_init();
    ruby_options(4, ruby_argv);
    ruby_script("fuzz_dispatch");
    Init_polytrace_ext();
    rb_provide("polytrace_ext");
    rb_eval_string_protect("$LOAD_PATH.unshift('" PT_FUZZ_TRACER_LIB "'); require 'polytrace'", &state);
    if (state)
        setup_failed("loading polytrace.rb");
    rb_define_global_function("fuzz_stop", fuzz_stop, 0);
    rb_eval_string_protect(
        "def fuzz_target(list, s)\n"
        "  x = 42\n"
        "  h = { k: [1, 2.5, nil], 'v' => s }\n"
        "  a = list.map(&:to_s)\n"
        "  fuzz_stop\n"
        "  x += 1\n"
        "  [x, h, a].size\n"
        "end\n", &state);
    if (state)
        setup_failed("defining the program");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv[2], state = 0;
    pthread_t reader;

    if (!input_ok(data, size))
        return -1;  /* not kept in the corpus */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    /* The whole input fits in the socket's buffer (make fuzz: -max_len). */
    if (size && write(sv[1], data, size) != (ssize_t)size)
        abort();
    shutdown(sv[1], SHUT_WR);
    if (pthread_create(&reader, NULL, drain, &sv[1]) != 0)
        abort();

    /* sv[0] is the controller, as after a valid handshake (no listener or
     * watcher thread: nothing else talks to it). */
    pt_tr.fd = sv[0];
    pt_tr.fd_pid = getpid();
    if (pt_proto_decoder_new(&pt_tr.dec, 0, 0) < 0)
        abort();
    rb_protect(run_target, Qnil, &state);
    rb_set_errinfo(Qnil);
    if (pt_tr.fd >= 0)
        pt_tr_disconnect();     /* closes sv[0] */

    pthread_join(reader, NULL);
    close(sv[1]);
    return 0;
}
