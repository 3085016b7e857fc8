/*
 * format.h — how polytrace shows things: stops, source listings, the fiber
 * tree and its summary, backtraces, breakpoints, op events, dumps and the
 * program's end. Each function writes to the stream it is given.
 */
#ifndef PT_FORMAT_H
#define PT_FORMAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pt_proto.h"

/* How many fibers `fibers` lists before summarising the rest. */
#define PT_FMT_FIBERS_SHOWN 200

/* 9800 -> "9,800". */
const char *pt_fmt_count(uint64_t n, char *buf, size_t len);

/* A path as shown: relative to base (when under it), else unchanged. */
const char *pt_fmt_path(const char *file, const char *base);

/* Sets the directory paths are shown relative to ("" or NULL: none). */
void pt_fmt_set_base(const char *base);

/* "Stopped in fiber 3 (worker) at app.rb:12 in Worker#run (breakpoint 1)". */
void pt_fmt_stop(FILE *out, const struct pt_proto_ev_stopped *st);

/* Lines first..first+n-1 of a file with "=>" at current (0: none). */
void pt_fmt_listing(FILE *out, char *const *lines, size_t n, int first, int current);

/* What a fiber waits on: "sleep (0.80s left)", "read fd 5", "-". */
void pt_fmt_wait(const struct pt_proto_fiber *f, char *buf, size_t len);

/*
 * The fiber tree: children under their parent, at most `shown` rows, then a
 * summary of the rest ("... and 9,800 more: 9,750 waiting on receive, 50
 * runnable"). total is the number of live fibers (may exceed n).
 */
void pt_fmt_fibers(FILE *out, const struct pt_proto_fiber *f, size_t n, uint64_t total,
                   uint64_t selected, size_t shown);

/* `fibers` with threads, a title, a row limit. */
struct pt_fmt_fibers_opts {
    const struct pt_proto_thread *threads;   /* every thread; grouped when > 1 */
    size_t nthreads;
    uint64_t selected;                       /* marked '*' */
    size_t shown;                            /* rows before the summary */
    const char *title;                       /* first line; NULL: "N fibers" */
};

void pt_fmt_fibers_ex(FILE *out, const struct pt_proto_fiber *f, size_t n, uint64_t total,
                      const struct pt_fmt_fibers_opts *opts);

/* "thread 2 (worker): 3 fibers, libev, sleep; idle in its event loop: ..." */
void pt_fmt_thread_line(FILE *out, const struct pt_proto_thread *t);

/* `fibers -g`: a title, then COUNT, the group's key, its first fibers. At
 * most `shown` groups. */
struct pt_fv_group_row;
void pt_fmt_fiber_groups(FILE *out, const struct pt_proto_fiber *f,
                         const struct pt_fv_group_row *rows, size_t nrows, const char *title,
                         const char *heading, size_t shown);

/* `runqueue`: the fibers in the order they run, each with its value. */
void pt_fmt_runqueue(FILE *out, const struct pt_proto_fiber *f, size_t n, uint64_t thread);

/* One fiber, one line (switch, dump). */
void pt_fmt_fiber_line(FILE *out, const struct pt_proto_fiber *f);

/* Backtrace, ">" at the selected frame (-1: none). Frames of the runtime
 * and the tracer (hidden) are left out, and counted on a last line, unless
 * `all`. */
void pt_fmt_frames(FILE *out, const struct pt_proto_frame *fr, size_t n, long selected, bool all);

/* "app.rb:12 if x > 3 (fiber 2)" — where a breakpoint is, no newline. */
void pt_fmt_bp_where(FILE *out, const struct pt_proto_bp *bp);

/* "#1  app.rb:12 if x > 3 (fiber 2) hits 0". */
void pt_fmt_breakpoint(FILE *out, const struct pt_proto_bp *bp);

/* An op event: "op: fiber 3 read fd 5 (4096 bytes) -> 12". */
void pt_fmt_op(FILE *out, const struct pt_proto_ev_op *op);

/* Every fiber's state and backtrace (dump). */
void pt_fmt_dump(FILE *out, const struct pt_proto_rep_dump *d);

/* "program exited with status N" / "program killed by signal SIGKILL"
 * from a waitpid status. */
void pt_fmt_wait_status(int status, char *buf, size_t len);

/* The same from an EXITED event's fields. */
void pt_fmt_exit(int exit_status, int signal, char *buf, size_t len);

/* The controller's exit code for a program that exited with a waitpid status. */
int pt_fmt_exit_code(int status);

#endif
