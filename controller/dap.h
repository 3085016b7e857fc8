/*
 * dap.h — `polytrace dap`, the Debug Adapter Protocol front end: editors
 * (VS Code, nvim-dap, Emacs dap-mode) drive the same session layer
 * (dbg.h) as the REPL. Fibers are DAP threads; next/stepIn/stepOut step
 * one fiber. The adapter speaks on stdin/stdout, or on a socket it listens
 * on (dap_listen.c). Files: dap.c (the loop, messages, events), dap_run.c
 * (life cycle and execution requests), dap_inspect.c (threads, frames,
 * variables, evaluation, source), dap_break.c (breakpoints, exceptions).
 */
#ifndef PT_DAP_H
#define PT_DAP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "dap_io.h"
#include "dbg.h"

/* At most this many thread events after one stop; beyond it the editor
 * learns of fibers from the threads request it makes at every stop. */
#define PT_DAP_THREAD_EVENTS_MAX 100

/* The answer to what needs a stop in a launch without debugging. */
#define PT_DAP_NO_DEBUG "launched without debugging (noDebug): the program is never stopped"

/* A DAP frame id: one frame of one fiber, for one stop. */
struct pt_dap_frame {
    uint64_t fiber;
    uint32_t index;            /* the tracer's frame number */
};

/* A DAP variablesReference: a scope of a frame, or an object of the tracer. */
struct pt_dap_var {
    uint64_t fiber;
    uint32_t frame;
    char scope[8];             /* "locals", "ivars", "globals"; "" for an object */
    uint64_t ref;              /* the tracer's ref of the object */
    bool indexed;              /* its children go by index */
};

struct pt_dap_src_bps {
    char *path;                /* as the editor named the source */
    uint32_t *ids;             /* the tracer's breakpoints set for it */
    size_t n;
};

struct pt_dap {
    struct pt_dbg dbg;
    int in_fd, out_fd;         /* the editor */
    struct pt_dapio io;
    long long seq;             /* our next message's seq */
    bool client_gone;          /* in_fd ended or out_fd broke */
    bool done;                 /* the conversation is over (disconnect) */

    bool initialized;          /* initialize answered */
    bool session;              /* launch or attach succeeded */
    bool configured;           /* configurationDone arrived */
    bool launched;             /* we started the program (else attached) */
    bool stop_on_entry;
    bool no_debug;             /* launched with noDebug: it runs, we never stop it */
    bool first_stop_pending;   /* the entry/attach stop awaits configurationDone */
    bool terminated_sent;
    bool internal_pause;       /* we paused it to change breakpoints */
    bool held;                 /* ... and that pause was the stop */
    bool restore_lock;         /* a singleThread request set fiberlock on */
    char fiberlock[8];         /* the session's own: "step" (default), "on", "off" */
    int out_pipe, err_pipe;    /* the launched program's stdout, stderr; -1 */
    char out_keep[4], err_keep[4];   /* an unfinished UTF-8 sequence */
    size_t out_nkeep, err_nkeep;

    /* Per stop: DAP frame ids and variablesReferences (id = index + 1). */
    struct pt_dap_frame *frames;
    size_t nframes, capframes;
    struct pt_dap_var *vars;
    size_t nvars, capvars;

    /* Breakpoints as the editor set them. */
    struct pt_dap_src_bps *srcs;
    size_t nsrcs;
    uint32_t *fn_ids;
    size_t nfn;
    uint32_t *pending_ids;     /* set but not yet resolved (file not loaded) */
    size_t npending;

    /* The fibers the editor knows as threads, from the last stop. */
    bool threads_stale;        /* stopped since they were fetched */
    json_t *threads;           /* array of {id, name}, or NULL */
    uint64_t *known;
    size_t nknown;
};

/* Serves one editor on in_fd/out_fd until it disconnects; returns the
 * exit code (the program's, as for the REPL, or 0). dap.c */
int pt_dap_serve(int in_fd, int out_fd);

/* polytrace dap --listen ADDR: HOST:PORT (TCP) or a path (a Unix socket);
 * serves one editor after another. dap_listen.c */
int pt_dap_listen(const char *addr);

/* ---- shared by the dap*.c files ------------------------------------------ */

/* Sends a message to the editor (steals msg). */
void pt_dap_send(struct pt_dap *a, json_t *msg);

/* An event (steals body; NULL: none). */
void pt_dap_event(struct pt_dap *a, const char *event, json_t *body);

/* The response to req: success with body (stolen, may be NULL), or failure
 * with message (body ignored). Returns 0. */
int pt_dap_ok(struct pt_dap *a, json_t *req, json_t *body);
int pt_dap_fail(struct pt_dap *a, json_t *req, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An output event. */
void pt_dap_output(struct pt_dap *a, const char *category, const char *text, size_t len);

/* Forwards what the program wrote and is waiting in its pipes. */
void pt_dap_drain_pipes(struct pt_dap *a);

/* Forgets the per-stop ids (the program resumed). */
void pt_dap_forget_stop(struct pt_dap *a);

/* Request arguments: the "arguments" object (an empty one if missing). */
json_t *pt_dap_args(json_t *req);

/* 0 when the program is stopped; else fails req and returns -1. */
int pt_dap_need_stopped(struct pt_dap *a, json_t *req);

/* If the program runs, pauses it quietly (*was_running set) so the tracer
 * takes requests; pt_dap_resume_quiet continues it afterwards. 0, or <0
 * with req failed. */
int pt_dap_hold(struct pt_dap *a, json_t *req, bool *was_running);
void pt_dap_resume_quiet(struct pt_dap *a, bool was_running);

/* A request handler; returns 0 (it answered req). */
typedef int (*pt_dap_fn)(struct pt_dap *a, json_t *req);

int pt_dap_initialize(struct pt_dap *a, json_t *req);
int pt_dap_launch(struct pt_dap *a, json_t *req);
int pt_dap_attach(struct pt_dap *a, json_t *req);
int pt_dap_configuration_done(struct pt_dap *a, json_t *req);
int pt_dap_disconnect(struct pt_dap *a, json_t *req);
int pt_dap_terminate(struct pt_dap *a, json_t *req);
int pt_dap_continue(struct pt_dap *a, json_t *req);
int pt_dap_next(struct pt_dap *a, json_t *req);
int pt_dap_step_in(struct pt_dap *a, json_t *req);
int pt_dap_step_out(struct pt_dap *a, json_t *req);
int pt_dap_pause(struct pt_dap *a, json_t *req);

int pt_dap_threads(struct pt_dap *a, json_t *req);
int pt_dap_stack_trace(struct pt_dap *a, json_t *req);
int pt_dap_scopes(struct pt_dap *a, json_t *req);
int pt_dap_variables(struct pt_dap *a, json_t *req);
int pt_dap_set_variable(struct pt_dap *a, json_t *req);
int pt_dap_evaluate(struct pt_dap *a, json_t *req);
int pt_dap_source(struct pt_dap *a, json_t *req);
int pt_dap_exception_info(struct pt_dap *a, json_t *req);

int pt_dap_set_breakpoints(struct pt_dap *a, json_t *req);
int pt_dap_set_function_breakpoints(struct pt_dap *a, json_t *req);
int pt_dap_set_exception_breakpoints(struct pt_dap *a, json_t *req);
int pt_dap_breakpoint_locations(struct pt_dap *a, json_t *req);

/* The capabilities initialize answers with (dap_run.c). */
json_t *pt_dap_capabilities(void);

/* After a stop: the fibers as threads, with thread events for those that
 * started or ended since they were last fetched (dap_inspect.c); breakpoint
 * events for breakpoints that resolved (dap_break.c). */
void pt_dap_refresh_threads(struct pt_dap *a);
void pt_dap_refresh_breakpoints(struct pt_dap *a);

/* A thread's name for a fiber: "3 worker (waiting: sleep (0.80s left))". */
void pt_dap_thread_name(const struct pt_proto_fiber *f, char *buf, size_t len);

/* Frees the adapter's tables. */
void pt_dap_free(struct pt_dap *a);

#endif
