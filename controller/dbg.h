/*
 * dbg.h — the debugging session: what every command means, decided once
 * for every front end. The REPL (repl.c, handlers.c) and the Debug Adapter
 * (dap*.c) both drive a struct pt_dbg; neither talks to the tracer itself.
 *
 * A session holds the program under the debugger (struct pt_inf: its
 * connection, whether it is stopped, where, what is selected in it) and
 * tells its front end what happens through struct pt_dbg_ui callbacks
 * (stops, output, the end). Functions return 0 or a negative errno / enum
 * pt_proto_error and never print: on failure pt_dbg_error() says why in one
 * line ("" when the failure was already told through the ui, e.g. the
 * connection was lost and `ended` reported it).
 *
 * A session may hold several processes: a program that forks has each
 * child it follows (set follow-fork) come under the same session as a new
 * struct pt_inf, numbered from 1 in the order they came. `inf` is the
 * selected one: every command acts on it, except breakpoints, catches and
 * settings, which go to all of them (docs/ARCHITECTURE.md, "Several
 * processes, one controller").
 */
#ifndef PT_DBG_H
#define PT_DBG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pt_proto.h"
#include "session.h"

#define PT_DBG_CATCH_MAX 64
#define PT_DBG_CATCH_NAME_MAX 256
#define PT_DBG_ERR_MAX 1024
#define PT_DBG_PATH_MAX 4096

/* How many fibers a fiber look-up by tag fetches. */
#define PT_DBG_FIBERS_FETCH 20000u

enum pt_dbg_mode {
    PT_DBG_LAUNCHED,   /* we started the program */
    PT_DBG_ATTACHED    /* we reached a running program (attach PID) */
};

enum pt_dbg_state {
    PT_DBG_STOPPED,    /* the program waits for commands */
    PT_DBG_RUNNING,    /* the program runs; events may arrive */
    PT_DBG_DONE        /* the session is over; exit_code says how */
};

/* The loop watchdog: what happens to a fiber that runs too long. */
enum pt_dbg_hog {
    PT_DBG_HOG_OFF,
    PT_DBG_HOG_STOP,           /* the program stops in it */
    PT_DBG_HOG_REPORT          /* one line when it finally yields */
};

/* One program under the debugger. */
struct pt_inf {
    int num;                   /* process N (1: the first; never reused) */
    pid_t parent;              /* the process it was forked from (0: none) */
    bool leaving;              /* its FORKED said follow "child": its end is a detach */
    enum pt_dbg_mode mode;
    enum pt_dbg_state state;
    struct pt_sess sess;
    pid_t pid;
    bool child;                /* our child: we reap it */

    /* The last stop, and what was selected since. */
    uint64_t stop_fiber;       /* fiber of the last stop */
    uint64_t sel_fiber;        /* selected fiber; step commands follow it */
    long frame;                /* selected frame of sel_fiber */
    long stop_frame;           /* the frame the stop showed (of stop_fiber) */
    char frame_file[PT_DBG_PATH_MAX];
    int frame_line;
    char stop_exception[PT_DBG_ERR_MAX];  /* "Class: message" of an exception stop */
    char stop_reason[64];      /* "breakpoint 2", "pause" ...: why it stopped */
    char stop_method[256];     /* the method of the stop's frame ("" none) */

    bool exited_seen;          /* an EXITED event arrived */
    int exited_status, exited_signal;
    bool pause_pending;        /* PAUSE sent while running */

    /* Exception classes caught, as the tracer accepted them. */
    char catches[PT_DBG_CATCH_MAX][PT_DBG_CATCH_NAME_MAX];
    int ncatches;

    /* The loop watchdog, as the tracer accepted it. */
    enum pt_dbg_hog hog;
    long hog_us;               /* its threshold */
};

/* What happened to one of several processes (pt_dbg_ui.process). */
enum pt_dbg_proc_event {
    PT_DBG_PROC_NEW,           /* a forked child came under the session */
    PT_DBG_PROC_STOPPED,       /* a process other than the selected one
                                  stopped; it waits (how: nothing; the
                                  stop: pt_dbg's event_stop) */
    PT_DBG_PROC_SELECTED,      /* the session selected it: the selected one
                                  runs while this one stopped (how: NULL; the
                                  stop follows through ui->stopped), or it
                                  ended (how: why) */
    PT_DBG_PROC_ENDED,         /* it ended, others go on (how: in words) */
    PT_DBG_PROC_FORKED,        /* it forked a child that is not followed
                                  (how: "pid N") */
};

/*
 * What a front end is told. Every member may be NULL. Events arrive from
 * pt_dbg_handle_event and from the functions that end a session. While a
 * callback runs, pt_dbg's event_inf is the process it is about (events of
 * a process other than the selected one arrive too: output, op traces).
 */
struct pt_dbg_ui {
    /* The program stopped; the session's stop and selection are updated. */
    void (*stopped)(void *ctx, const struct pt_proto_ev_stopped *st);
    /* The program runs again (a resume command was accepted). */
    void (*running)(void *ctx);
    /* An I/O op event (trace ops on). */
    void (*op)(void *ctx, const struct pt_proto_ev_op *op);
    /* A notice from the tracer (a breakpoint condition that raised ...). */
    void (*output)(void *ctx, const char *text, size_t len);
    /* A fiber started or ended. */
    void (*fiber)(void *ctx, const struct pt_proto_ev_fiber *ev);
    /* An ERROR from the tracer that answers no request. */
    void (*error)(void *ctx, const char *msg);
    /* The session is over: how, in one line (error: a failure, not the
     * program's end); pt_dbg's exit_code is set. */
    void (*ended)(void *ctx, const char *how, bool error);
    /* The session waits for the launched program to end: give it the
     * terminal (to_program) or take it back. */
    void (*terminal)(void *ctx, bool to_program);
    /* intr_fd became readable while a reply was awaited: true gives up. */
    bool (*interrupted)(void *ctx);
    /* Waits for our child pid to end (*status as from waitpid), doing what
     * the front end must meanwhile (reading the program's output). NULL:
     * a plain waitpid with the terminal given to the program. 0 or <0;
     * -EAGAIN: not now (other processes need the front end): the process
     * stays in the session without its connection, running, until
     * pt_dbg_reaped tells its end. */
    int (*wait_program)(void *ctx, pid_t pid, int *status);
    /* Something happened to one of several processes (see the enum). */
    void (*process)(void *ctx, const struct pt_inf *inf, enum pt_dbg_proc_event ev,
                    const char *how);
};

/* Which forked children a session takes on (set follow-fork). */
enum pt_dbg_follow {
    PT_DBG_FOLLOW_NONE,        /* none: the front end cannot show several */
    PT_DBG_FOLLOW_ALL,         /* parent and child (the REPL's default) */
    PT_DBG_FOLLOW_PARENT,      /* the parent only; children run free */
    PT_DBG_FOLLOW_CHILD        /* the child; the parent runs on, detached */
};

/* At most this many processes under one session; children forked beyond it
 * run free. */
#define PT_DBG_PROCS_MAX 256

/* The default of `set print limit`: bytes of a printed value shown. */
#define PT_DBG_PRINT_LIMIT 4096

#define PT_DBG_DISPLAY_MAX 32
#define PT_DBG_EXPR_MAX 1024

/* An expression shown at every stop (`display`). */
struct pt_dbg_display {
    uint32_t id;
    char expr[PT_DBG_EXPR_MAX];
};

struct pt_dbg {
    struct pt_inf *inf;        /* the selected program */
    struct pt_dbg_display displays[PT_DBG_DISPLAY_MAX];
    size_t ndisplays;
    uint32_t next_display;
    uint32_t print_limit;      /* evaluation results are cut to this (0: none) */
    struct pt_inf one;         /* process 1's storage; others are malloc'd */
    struct pt_inf *procs[PT_DBG_PROCS_MAX]; /* the processes, by number */
    int nprocs;
    int next_num;              /* the next process's number */
    enum pt_dbg_follow follow; /* which forked children come under the session */
    const struct pt_inf *event_inf; /* the process a ui callback is about */
    const struct pt_proto_ev_stopped *event_stop; /* its stop, during ui->process
                                                     PT_DBG_PROC_STOPPED */
    pid_t detached_child;      /* our child we detached from (follow-fork
                                  child): reaped when it ends, not reported */
    bool code_set;             /* exit_code is process 1's */
    bool remote;               /* the processes run on another host (connect) */
    int exit_code;             /* polytrace's exit code once DONE */
    const struct pt_dbg_ui *ui;
    void *ui_ctx;
    int intr_fd;               /* -1, or an fd that interrupts waiting for a reply */
    bool observe;              /* only watch (top): the program is never stopped */
    char err[PT_DBG_ERR_MAX];
};

/* ---- the session (dbg.c) ------------------------------------------------- */

/* A session with no program yet (state RUNNING until the first stop). */
void pt_dbg_init(struct pt_dbg *d, enum pt_dbg_mode mode, const struct pt_dbg_ui *ui, void *ctx);

/* Takes the tracer's connection fd (ownership too) and says hello.
 * 0, or <0 with the reason in pt_dbg_error (the fd is closed). */
int pt_dbg_open(struct pt_dbg *d, int fd, bool attached);

/* Closes the connection to the tracer (safe twice). The tracer lets the
 * program run on, as after a detach. */
void pt_dbg_close(struct pt_dbg *d);

/* The reason for the last failure ("" if already told through the ui). */
const char *pt_dbg_error(const struct pt_dbg *d);

/* Sets the reason for a failure; returns rc. */
int pt_dbg_fail(struct pt_dbg *d, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline enum pt_dbg_state pt_dbg_state(const struct pt_dbg *d) { return d->inf->state; }
static inline bool pt_dbg_stopped(const struct pt_dbg *d) { return d->inf->state == PT_DBG_STOPPED; }
static inline bool pt_dbg_done(const struct pt_dbg *d) { return d->inf->state == PT_DBG_DONE; }
static inline int pt_dbg_fd(const struct pt_dbg *d) { return d->inf->sess.fd; }

/* 0 if the program is stopped, else -EBUSY (a command that needs a stop). */
int pt_dbg_need_stopped(struct pt_dbg *d);

/* The frame an expression is evaluated in: the selected frame, or, with
 * another fiber selected, the frame the stop showed (only the stopped
 * fiber's frames can evaluate). */
static inline uint32_t pt_dbg_eval_frame(const struct pt_dbg *d)
{
    const struct pt_inf *inf = d->inf;
    return (uint32_t)(inf->sel_fiber == inf->stop_fiber ? inf->frame : inf->stop_frame);
}

/*
 * Sends a request, waits for its reply (giving up when ui->interrupted
 * says so). 0 with *reply filled; an ERROR reply gives -EPROTO with its
 * text. A transport failure ends the session (ui->ended) and returns <0.
 */
int pt_dbg_request(struct pt_dbg *d, struct pt_msg *req, struct pt_msg *reply);

/* The same request to every process but the selected one (the session
 * sets breakpoints and settings in all); a failure is told through
 * ui->error naming the process, except an ERROR reply when quiet_errors.
 * The number of failures. */
int pt_dbg_request_others(struct pt_dbg *d, struct pt_msg *req, bool quiet_errors);

/* Acts on a message that is not a reply (an event, a stray ERROR). */
void pt_dbg_handle_event(struct pt_dbg *d, struct pt_msg *m);

/* Handles every message already received or readable without blocking.
 * A closed connection ends the session. */
void pt_dbg_drain(struct pt_dbg *d);

/* Waits up to timeout_ms for the program to stop, handling events.
 * 0 once stopped; <0 (reason set) when the connection ends or the time is up. */
int pt_dbg_wait_stop(struct pt_dbg *d, int timeout_ms);

/* The connection is gone (EOF: err 0, or an error): end the session. */
void pt_dbg_connection_lost(struct pt_dbg *d, int err);

/* The same for process inf: its part of the session ends (the session
 * with it when it was the last). */
void pt_dbg_process_lost(struct pt_dbg *d, struct pt_inf *inf, int err);

/* Our child (process 1) ended with waitpid status: handle its last
 * events, close, end. */
void pt_dbg_child_exited(struct pt_dbg *d, int status);

/* ---- several processes (dbg.c) ------------------------------------------ */

/* The process numbered num, or NULL. */
struct pt_inf *pt_dbg_process(struct pt_dbg *d, int num);

/* Selects process num for the commands that follow. 0, or -ENOENT. */
int pt_dbg_select(struct pt_dbg *d, int num);

/* The selected process runs: a stopped one that waited (the first) is
 * selected instead, and told through ui->process. */
void pt_dbg_select_waiting(struct pt_dbg *d);

/* The pid of our child to reap on SIGCHLD (process 1 while it is ours, or
 * one we detached from), or 0. */
pid_t pt_dbg_child_pid(const struct pt_dbg *d);

/* waitpid said our child pid ended (or stopped: not for us) with status. */
void pt_dbg_reaped(struct pt_dbg *d, pid_t pid, int status);

/* Handles what the connection of process inf has for us: what is queued,
 * and (readable: it polled readable) what can be read without blocking. */
void pt_dbg_drain_process(struct pt_dbg *d, struct pt_inf *inf, bool readable);

/* Acts on a message from process inf that is not a reply. */
void pt_dbg_handle_event_from(struct pt_dbg *d, struct pt_inf *inf, struct pt_msg *m);

/* Which forked children come under the session from now on (all
 * processes are told). 0 or <0 with the reason. */
int pt_dbg_set_follow(struct pt_dbg *d, enum pt_dbg_follow follow);

/* "all", "parent", "child" ("none" for PT_DBG_FOLLOW_NONE). */
const char *pt_dbg_follow_name(enum pt_dbg_follow f);

/* "process 2 (pid 4242)" into buf, or "program" while only one process
 * ever was under the session. */
const char *pt_dbg_proc_name(const struct pt_dbg *d, const struct pt_inf *inf, char *buf, size_t len);

/* Tells the front end how our child ended (waitpid status), setting the
 * exit code from it; the session is over. */
void pt_dbg_report_child(struct pt_dbg *d, int status);

/* Ends the session at once with exit_code, leaving the program running. */
void pt_dbg_hangup(struct pt_dbg *d, int exit_code);

/* ---- reaching the program (dbg_start.c) ---------------------------------- */

struct pt_launch_spec;

/* Starts spec's program with the tracer preloaded and connects to it. 0,
 * or <0 with the reason (and exit_code: the program's own when it ended
 * before the tracer connected, else 1). The terminal goes to the program
 * through ui->terminal while it starts. */
int pt_dbg_launch(struct pt_dbg *d, const struct pt_launch_spec *spec);

/* Reaches a running program that loaded the tracer (checks, SIGURG,
 * connect, hello). 0 or <0 with the reason. */
int pt_dbg_attach(struct pt_dbg *d, pid_t pid);

/* Reaches a tracer already listening on the Unix socket path (one of our
 * uid). 0 or <0 with the reason. */
int pt_dbg_attach_socket(struct pt_dbg *d, const char *path);
/* A tracer listening on TCP (polytrace --listen, POLYTRACE_LISTEN). */
struct pt_dbg_remote {
    const char *addr;          /* HOST:PORT */
    const char *token;         /* answers its challenge (pt_remote.h) */
    bool tls;                  /* TLS, the server's certificate checked */
    const char *tls_ca;        /* against this PEM file; NULL: the system's */
};

/* Reaches it: TCP (TLS), authentication, hello; the program then stops
 * (reason "entry" when it waited for us, else "attach"): see
 * pt_dbg_first_stop. Forked children are not followed over TCP. 0 or <0
 * with the reason. */
int pt_dbg_connect(struct pt_dbg *d, const struct pt_dbg_remote *r);

/* Reaches a running program to watch it only (polytrace top): attached
 * without stopping it; it answers pt_dbg_stats while it runs. 0 or <0. */
int pt_dbg_observe(struct pt_dbg *d, pid_t pid);
/* Reaches a forked child c (pid set) that waits for us on its attach
 * socket, and says hello. 0 or <0 with the reason. */
int pt_dbg_reach_forked(struct pt_dbg *d, struct pt_inf *c);

/* After pt_dbg_attach: waits for the program's first stop (events before
 * it go to the ui). 0, or <0 (the session is over, exit code 1). */
int pt_dbg_first_stop(struct pt_dbg *d);

/* ---- running and stopping (dbg_exec.c) ----------------------------------- */

enum pt_dbg_resume {
    PT_DBG_STEP,       /* into */
    PT_DBG_SKIP,       /* over */
    PT_DBG_UP,         /* out */
    PT_DBG_CONTINUE
};

/* Resumes the stopped program; a step follows fiber (0: the selected one).
 * With several processes: the selected one; then a process that stopped
 * meanwhile and waits is selected (pt_dbg_select_waiting). */
int pt_dbg_resume(struct pt_dbg *d, enum pt_dbg_resume how, uint64_t fiber);

/* Asks the running program to stop; the stop comes as an event.
 * -EALREADY when it is stopped; 0 if a pause is already on its way. */
int pt_dbg_pause(struct pt_dbg *d);

/* Lets the program (every process) run on without us; the session is over
 * (exit code 0). 0 or <0. */
int pt_dbg_detach(struct pt_dbg *d);

/* After a detach: waits for a program we launched to end, reporting how
 * through ui->ended (the exit code stays 0). Nothing for other programs. */
void pt_dbg_wait_program(struct pt_dbg *d);

/* Kills the program, every process of it (through the tracer, and
 * SIGKILL), and ends the session with exit code 0. */
void pt_dbg_kill(struct pt_dbg *d);

/* ---- looking at the program (dbg_inspect.c) ------------------------------ */

/* A fiber by id or tag. 0 with *id, or -ENOENT / <0. */
int pt_dbg_resolve_fiber(struct pt_dbg *d, const char *ref, uint64_t *id);

/* The runtime's counters of the first `limit` fibers in `sort` order
 * ("cpu", "runs", "longest", "waiting", "id") among those matching filter
 * (NULL: all), with per-thread totals: *rep is a STATS reply. Also while
 * the program runs. */
int pt_dbg_stats(struct pt_dbg *d, uint32_t limit, const char *sort, const char *filter,
                 struct pt_msg *rep);

/* The fibers (at most limit; 0 all): *rep is a FIBERS reply. */
int pt_dbg_fibers(struct pt_dbg *d, uint32_t limit, struct pt_msg *rep);

/* Selects fiber id for step commands and frames; *rep is its FIBER_INFO. */
int pt_dbg_switch(struct pt_dbg *d, uint64_t id, struct pt_msg *rep);

/* Selects the fiber a Ruby expression gives, evaluated in the selected
 * frame of the stopped fiber; *rep is its FIBER_INFO. */
int pt_dbg_switch_expr(struct pt_dbg *d, const char *expr, struct pt_msg *rep);

/* The run queue of fiber's thread (0: the selected fiber's) in order,
 * each fiber with its scheduled value: *rep is a FIBERS reply. */
int pt_dbg_runqueue(struct pt_dbg *d, uint64_t fiber, struct pt_msg *rep);

/* The frames of a fiber (0: the selected one): *rep is a FRAMES reply. */
int pt_dbg_frames(struct pt_dbg *d, uint64_t fiber, struct pt_msg *rep);

/* Selects frame n of the selected fiber: *rep is the fiber's FRAMES and
 * rep->u.frames.frames[n] the frame. -ERANGE with a reason otherwise. */
int pt_dbg_select_frame(struct pt_dbg *d, long n, struct pt_msg *rep);

/* Selects the caller's frame (dir > 0) or the callee's (dir < 0), passing
 * over hidden frames (the runtime's, the tracer's, Ruby's internals); as
 * pt_dbg_select_frame otherwise. */
int pt_dbg_move_frame(struct pt_dbg *d, int dir, struct pt_msg *rep);

/* Evaluates expr in a frame of a fiber (0: the selected fiber, and then
 * frame -1 is the selected frame): *rep is a VALUE reply. */
int pt_dbg_eval(struct pt_dbg *d, uint64_t fiber, long frame, const char *expr, struct pt_msg *rep);

/* Source lines first..last of file: from the file system (as the program
 * sees it), else from the tracer. Lines in *out (free with pt_src_free).
 * -ERANGE when first is past the end. */
struct pt_src_lines;
int pt_dbg_source(struct pt_dbg *d, const char *file, int first, int last, struct pt_src_lines *out);

/* ---- breakpoints, catches, settings (dbg_break.c) ------------------------ */

/* Where a breakpoint goes: file:line, or a method. */
struct pt_dbg_bp_spec {
    const char *file;          /* NULL/"": the selected frame's file */
    long line;
    const char *method;        /* "Class#meth": a method breakpoint */
    const char *cond;          /* NULL: none */
    const char *fiber;         /* id or tag; NULL/"": any */
    const char *hit_cond;      /* NULL: every hit (see pt_proto_req_break) */
    const char *log;           /* NULL: stop; else a logpoint's text */
};

/* Sets a breakpoint: *rep is the BREAKPOINT reply. */
int pt_dbg_break(struct pt_dbg *d, const struct pt_dbg_bp_spec *spec, struct pt_msg *rep);

/* The lines in first..last of file where code starts (where a line
 * breakpoint can go), ascending, in *lines (malloc'd, *n of them). A file
 * the program has not loaded: <0 with the reason. */
int pt_dbg_code_lines(struct pt_dbg *d, const char *file, int first, int last, int **lines, size_t *n);

int pt_dbg_delete(struct pt_dbg *d, uint32_t id);

/* *rep is a BREAKPOINTS reply. */
int pt_dbg_breakpoints(struct pt_dbg *d, struct pt_msg *rep);

/* Catches exceptions of class name (a leading "::" dropped); on: catch it,
 * off: stop catching it (name NULL/"": every class). */
int pt_dbg_catch(struct pt_dbg *d, const char *name, bool on);

/* Op tracing on/off, for fiber (0: all). */
int pt_dbg_trace_ops(struct pt_dbg *d, bool on, uint64_t fiber);

/* ---- displays and watchpoints (dbg_watch.c) ------------------------------ */

/* Adds an expression shown at every stop; 0 with *id, or -ENOSPC. */
int pt_dbg_display_add(struct pt_dbg *d, const char *expr, uint32_t *id);

/* Forgets display id; 0 or -ENOENT (reason set). */
int pt_dbg_display_del(struct pt_dbg *d, uint32_t id);

/* Watches expr, evaluated in the selected frame of the stopped fiber (the
 * frame the stop showed when another fiber is selected): the program stops
 * in the fiber that changes its value. *rep is a WATCHES reply holding it. */
int pt_dbg_watch(struct pt_dbg *d, const char *expr, struct pt_msg *rep);

/* Stops watching id (0: every watch). */
int pt_dbg_unwatch(struct pt_dbg *d, uint32_t id);

/* *rep is a WATCHES reply: every watch, its value now and times changed. */
int pt_dbg_watches(struct pt_dbg *d, struct pt_msg *rep);

/* A tracer setting (fiberlock on|off|step). */
int pt_dbg_set(struct pt_dbg *d, const char *name, const char *value);

/* Arms (or with PT_DBG_HOG_OFF disarms) the loop watchdog: a fiber running
 * longer than us microseconds without yielding stops the program, or is
 * reported. */
int pt_dbg_hog(struct pt_dbg *d, enum pt_dbg_hog how, long us);

#endif
