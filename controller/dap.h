/*
 * dap.h — `polytrace dap`, the Debug Adapter Protocol front end: editors
 * (VS Code, nvim-dap, Emacs dap-mode) drive the same session layer
 * (dbg.h) as the REPL. Fibers are DAP threads; next/stepIn/stepOut step
 * one fiber. A program that forks has its followed children in the same
 * DAP session: every process's fibers are threads, the process told by
 * the thread id (pt_dap_tid) and, once there are several, by a "[pid N]"
 * before the thread's name. The adapter speaks on stdin/stdout, or on a socket it listens
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

/*
 * DAP thread ids: process 1's fibers keep their own ids; process N's fiber
 * F is N * PT_DAP_TID_BASE + F (process 2's fiber 3: 20000000003). Ids stay
 * below 2^53, which every editor's JSON numbers hold, up to process 900000.
 */
#define PT_DAP_TID_BASE 10000000000LL

static inline long long pt_dap_tid(int num, uint64_t fiber)
{
    return num <= 1 ? (long long)fiber : num * PT_DAP_TID_BASE + (long long)fiber;
}

static inline int pt_dap_tid_num(long long tid)
{
    return tid < PT_DAP_TID_BASE ? 1 : (int)(tid / PT_DAP_TID_BASE);
}

static inline uint64_t pt_dap_tid_fiber(long long tid)
{
    return (uint64_t)(tid < PT_DAP_TID_BASE ? tid : tid % PT_DAP_TID_BASE);
}

/* A DAP frame id: one frame of one fiber of one process, for one stop
 * (num 0: its process ran since; the id is dead). */
struct pt_dap_frame {
    int num;
    uint64_t fiber;
    uint32_t index;            /* the tracer's frame number */
};

/* A DAP variablesReference: a scope of a frame, or an object of the tracer. */
struct pt_dap_var {
    int num;                   /* its process (0: it ran since) */
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

/* A process of the session as the editor knows it: its fibers as
 * threads. Kept when it ends, so that a request naming one of its threads
 * is told so. */
struct pt_dap_proc {
    int num;
    pid_t pid;
    bool ended;
    bool fresh;                /* a forked child not yet shown: its fibers
                                  are announced as threads */
    bool stale;                /* stopped since its fibers were fetched */
    json_t *threads;           /* array of {id, name}, or NULL: not fetched */
    uint64_t *known;           /* fibers the editor was told of (sorted); NULL:
                                  none yet, and no thread events for them */
    size_t nknown;
    long long *shown;          /* threads told stopped since it last ran */
    size_t nshown;
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

    /* The processes, in the order they came (process 1 first). */
    struct pt_dap_proc **procs;
    size_t nprocs;
    bool fresh;                /* one of them is fresh */
    int req_num;               /* the process the request at hand is about */
    char why[160];             /* pt_dap_why's words */
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

/* Forgets the per-stop ids of process num (it resumed); all of them when
 * no process is stopped. */
void pt_dap_forget_stop(struct pt_dap *a, int num);

/* Request arguments: the "arguments" object (an empty one if missing). */
json_t *pt_dap_args(json_t *req);

/* 0 when the program is stopped; else fails req and returns -1. */
int pt_dap_need_stopped(struct pt_dap *a, json_t *req);

/* The editor's record of process num (created when create). NULL when
 * there is none (or out of memory). */
struct pt_dap_proc *pt_dap_proc(struct pt_dap *a, int num, bool create);

/* Selects the process of thread id tid for the request (the session's
 * selected one when tid is 0). 0, or -1 with req failed (the process
 * ended, or there is none). */
int pt_dap_select_tid(struct pt_dap *a, json_t *req, long long tid);

/* Selects process num (frame ids and variable references carry it); as
 * pt_dap_select_tid. */
int pt_dap_select_num(struct pt_dap *a, json_t *req, int num);

/* Why the session's last call failed: its error, or, when that was told
 * through events (the connection was lost), what became of the request's
 * process. */
const char *pt_dap_why(struct pt_dap *a);

/* Selects a stopped process if the selected one is not stopped (for what
 * any process can answer, or what names none). false when none is. */
bool pt_dap_select_stopped(struct pt_dap *a);

/* The threadId argument of a request (0 if none). */
long long pt_dap_thread_arg(json_t *args);

/* More than one process is live: each stops and runs on its own, so a
 * stop or a resume is about one thread, never all of them. */
bool pt_dap_several(const struct pt_dap *a);

/* The stopped event for process inf's stop st (or, st NULL, for fiber
 * stopped already: a pause of a fiber of a stopped process). */
void pt_dap_report_stop(struct pt_dap *a, const struct pt_inf *inf,
                        const struct pt_proto_ev_stopped *st, uint64_t fiber);

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

/* The selected process's fibers as threads, with thread events for
 * those that started or ended since they were last fetched (dap_inspect.c;
 * a running process is asked for its STATS); breakpoint events for
 * breakpoints that resolved (dap_break.c). */
void pt_dap_refresh_threads(struct pt_dap *a);
void pt_dap_refresh_breakpoints(struct pt_dap *a);

/* Announces the fibers of children that came under the session as
 * threads (dap_inspect.c): done from the loop, not from an event. */
void pt_dap_announce_fresh(struct pt_dap *a);

/* Process num ended: thread events for its threads, its ids dead. */
void pt_dap_proc_ended(struct pt_dap *a, int num);

/* A thread's name for a fiber: "3 worker (waiting: sleep (0.80s left))"
 * (the threads request puts "[pid 4242] " first once there were several
 * processes). */
void pt_dap_thread_name(const struct pt_proto_fiber *f, char *buf, size_t len);

/* Frees the adapter's tables. */
void pt_dap_free(struct pt_dap *a);

#endif
