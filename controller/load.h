/*
 * load.h — bringing the tracer into a Ruby 3.1 process that never loaded
 * it, so that `attach` and `dump` can then reach it the usual way (SIGURG,
 * socket). docs/ARCHITECTURE.md, "Attaching to a process without the
 * tracer", says why each step is safe.
 */
#ifndef PT_LOAD_H
#define PT_LOAD_H

#include <stddef.h>
#include <sys/types.h>

/* Why the tracer could not be brought in. */
enum pt_load_error {
    PT_LOAD_OK = 0,
    PT_LOAD_NOT_RUBY,       /* no libruby mapped */
    PT_LOAD_WRONG_RUBY,     /* a libruby other than 3.1 */
    PT_LOAD_ARCH,           /* not x86-64 (the target, or this build) */
    PT_LOAD_TRACED,         /* already traced by another process */
    PT_LOAD_STOPPED,        /* stopped by job control */
    PT_LOAD_PTRACE_DENIED,  /* ptrace not permitted (Yama, capabilities) */
    PT_LOAD_NO_TRACER_FILES,/* polytrace's Ruby files not found */
    PT_LOAD_GONE,           /* the process exited */
    PT_LOAD_TIMEOUT,        /* Ruby never reached a safe point */
    PT_LOAD_FAILED,         /* anything else (the message says what) */
};

/*
 * Loads the tracer into pid, whose threads are not traced by us. On
 * PT_LOAD_OK the tracer runs in the process, idle, with its SIGURG handler
 * installed. Otherwise why[] holds one line for the user (no "polytrace: "
 * prefix, no newline). timeout_ms bounds the wait for Ruby's safe point.
 */
enum pt_load_error pt_load_tracer(pid_t pid, int timeout_ms, char *why, size_t len);

/*
 * The explanation for a ptrace EPERM: yama_scope is the value of
 * kernel.yama.ptrace_scope (-1 when there is no Yama), have_cap whether we
 * hold CAP_SYS_PTRACE. Exposed for the check suite.
 */
void pt_load_eperm_text(pid_t pid, int yama_scope, int have_cap, char *buf, size_t len);

/* The same for process pid as things are here (Yama, our capabilities). */
void pt_load_explain_eperm(pid_t pid, char *buf, size_t len);

/* Where the Ruby file that boots an injected tracer is (for messages, tests). */
int pt_load_boot_file(char *buf, size_t len);

#endif
