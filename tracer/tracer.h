/*
 * tracer.h — the tracer's shared state and the interfaces between its files.
 *
 * The tracer lives inside the debuggee. polytrace.c sets it up; server.c,
 * listener.c and attach.c open the connection to a controller, handshake.c
 * decides who may talk to us, urg.c answers SIGURG, wait.c keeps every wait
 * responsive to signals; stop.c serves requests while
 * the program is stopped; stepper.c and breakpoint.c decide when to stop;
 * fibers.c numbers and describes fibers; eval.c evaluates in a frame;
 * watcher.c notices requests that arrive while the program runs.
 * Everything here runs on a Ruby thread holding the GVL unless it says so.
 */
#ifndef PT_TRACER_H
#define PT_TRACER_H

#include <stdint.h>
#include <sys/types.h>
#include <ruby.h>
#include <ruby/debug.h>
#include "rt_api.h"
#include "pt_proto.h"
#include "pt_rendezvous.h"

/* Who runs while the program is stepped or continued (gdb's scheduler-locking). */
enum pt_tr_lockmode {
    PT_TR_LOCK_STEP,    /* while stepping, the stepped fiber runs whenever it
                           can; others only while it waits (default) */
    PT_TR_LOCK_ON,      /* only the selected fiber runs, continue included */
    PT_TR_LOCK_OFF      /* every fiber runs */
};

/* What happens at a fork while a controller is connected (fork.c). */
enum pt_tr_follow {
    PT_TR_FOLLOW_NONE,  /* the controller follows no children: they run free */
    PT_TR_FOLLOW_ALL,   /* parent and child both stay under the controller */
    PT_TR_FOLLOW_PARENT,/* the parent stays; the child runs free */
    PT_TR_FOLLOW_CHILD  /* the child comes under the controller; the parent goes */
};

/* Who is on the other end of a connection, as its handshake said. */
struct pt_peer {
    pid_t pid;                      /* its process (SO_PEERCRED) */
    enum pt_tr_follow follow;       /* its HELLO's follow_fork */
    int observe;                    /* its HELLO asks only to watch (polytrace top) */
    int remote;                     /* came over TCP (pid: its HELLO's) */
};

struct pt_tr {
    const struct rt_api *rt;        /* NULL when the runtime is not loaded */
    VALUE mod;                      /* module PolyTrace */
    VALUE main_thread;
    int fd;                         /* controller connection, -1: none */
    pid_t fd_pid;                   /* process that opened fd (fork guard) */
    pid_t pid;                      /* this process: getpid() as of the load
                                       and of a fork (pthread_atfork), so the
                                       checks made per OP event need no
                                       system call */
    pid_t peer_pid;                 /* the controller's pid */
    int peer_remote;                /* the controller came over TCP */
    struct pt_proto_decoder *dec;
    int launched;                   /* reached through POLYTRACE_SOCKET */
    int observing;                  /* the controller only watches (top):
                                       attached without a stop */
    int stdio_pipe;                 /* stdout/stderr are the controller's pipes */
    int serving;                    /* inside the stop loop */
    enum pt_tr_lockmode lockmode;
    int trace_ops;
    uint64_t trace_ops_fiber;       /* 0: every fiber */
    char libdir[4096];              /* directory of polytrace.rb: our frames */
    size_t libdir_len;
    char rtdir[4096];               /* directory of the runtime's polyphony.rb */
    size_t rtdir_len;               /* 0 until the runtime is found */
    VALUE script;                   /* $0 as given */
    VALUE script_real;              /* its real path, or Qnil */
    VALUE ending;                   /* a signal's exception, an exit (or Qtrue:
                                       Thread#kill) met in Ruby code the tracer
                                       ran; raised again at a safe point */
    enum pt_tr_follow follow;       /* the controller's follow-fork setting */
    int adopt_waiting;              /* a wait takes the listener's connection
                                       itself (Kernel#breakpoint, a forked
                                       child): the SIGURG trap leaves it */
    int answering;                  /* a request served while the program runs */
};

extern struct pt_tr pt_tr;

/* Message timeouts (ms) for the blocking socket I/O (man/polytrace.1,
 * "ATTACHING AND ITS LIMITS"). */
#define PT_TR_SEND_TIMEOUT 10000    /* a reply, while the program is stopped */
#define PT_TR_EVENT_TIMEOUT 2000    /* an event, while the program runs */
#define PT_TR_HELLO_TIMEOUT 10000   /* launch: the controller's HELLO */

/* The attach listener's bounds (listener.c). */
#define PT_LISTEN_WINDOW_MS 10000   /* socket open after a SIGURG */
#define PT_LISTEN_SLOTS 16          /* handshakes in progress at once */
#define PT_HS_TIMEOUT_MS 3000       /* to complete a handshake */
#define PT_HS_MAX_BYTES 65536       /* sent before the handshake completes */

/* polytrace.c */
const struct rt_api *pt_tr_rt(void);        /* the runtime's table, fetched late */
int pt_tr_is_own_path(VALUE path);          /* a Ruby file of the tracer itself */
/* A Ruby file of the tracer or of the runtime, or Ruby's own ("<internal:
 * kernel>"): frames there are hidden from stops, `fibers` and backtraces
 * (unless all are asked for), and stepping never stops in them. */
int pt_tr_is_hidden_path(VALUE path);
VALUE pt_tr_protect_call(VALUE (*fn)(VALUE), VALUE arg, VALUE *err);
void pt_tr_reraise_ending(void);            /* raise pt_tr.ending, if any */
char *pt_tr_exc_message(VALUE exc);         /* "Class: message", malloc'd */
VALUE pt_tr_str_or_nil(VALUE v);            /* a String, or Qnil */

/* server.c — the connection */
int pt_tr_connect(const char *path);        /* launch: connect to the controller */
int pt_tr_send(struct pt_msg *m);           /* sends and frees *m; 0 or -errno */
/* A controller is connected, and to this process (not a forked parent's). */
int pt_tr_connected(void);
/*
 * OP events are many and small, so they are sent in batches (server.c):
 * pt_tr_send_op queues one (*op stays the caller's); the batch goes out before any
 * other message, when it holds PT_TR_OPS_BATCH bytes, when its first event
 * is PT_TR_OPS_DELAY_MS old at the next runtime event, and when the
 * program goes quiet: the runtime's loop is about to wait with nothing to
 * run and nothing ready (rt_api.h on_next_wait, asked for by the batch's
 * first event), so a wait that ends at once, as a program trading messages
 * over sockets makes all the time, sends nothing. A batch never waits for
 * the controller: what the socket does not take stays queued (and goes out
 * once the socket has room: the listener's thread watches for it and wakes
 * the loop, so even a program gone idle for good sends it), and past
 * PT_TR_OPS_MAX queued bytes (about 20,000 events) events are dropped,
 * counted, and the controller told how many in their place (an OUTPUT
 * notice), so a controller that falls behind never holds the program up.
 */
#define PT_TR_OPS_BATCH 16384
#define PT_TR_OPS_DELAY_MS 10
#define PT_TR_OPS_MAX (1024 * 1024)
int pt_tr_send_op(const struct pt_proto_ev_op *op);
int pt_tr_ops_queued(void);
void pt_tr_ops_mark(void);                  /* GC: what the backlog keeps */
void pt_tr_ops_tick(int about_to_wait);
int pt_tr_send_error(uint32_t id, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pt_tr_output(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pt_tr_disconnect(void);                /* close, clean up, run on */
/* fd (with the decoder that read its HELLO) is now the controller */
void pt_tr_adopt(int fd, struct pt_proto_decoder *dec, const struct pt_peer *peer);

/* handshake.c — who may talk to us; our HELLO */
int pt_hs_peer(int fd, pid_t *pid);         /* our uid? 0 (and its pid) or -EACCES */
/* got: a pt_proto_decoder_next / pt_proto_recv result, peer the message it
 * gave. 0: a HELLO of our version. Otherwise negative, and *reply holds the
 * ERROR to send before closing (type PT_MSG_NONE: nothing to say). */
int pt_hs_check(int got, const struct pt_msg *peer, struct pt_msg *reply);
int pt_hs_busy(struct pt_msg *reply, pid_t attached); /* "already attached by pid N" */
int pt_hs_make_hello(struct pt_msg *m, int attached); /* Ruby thread */
/* What a valid HELLO says of its sender (pid: the socket's, kept). */
void pt_hs_peer_hello(const struct pt_msg *hello, struct pt_peer *peer);

/* listener.c — the attach socket on the tracer's own thread */
int pt_listen_init(void);                   /* the pipe SIGURG writes to */
int pt_listen_start(void);                  /* Ruby thread: start or refresh */
int pt_listen_running(void);                /* async-signal-safe */
void pt_listen_poke_signal(void);           /* async-signal-safe: a SIGURG came */
void pt_listen_window(int ms);              /* listen for ms from now (0: stop) */
void pt_listen_attached(pid_t pid);         /* refuse others while set (0: none) */
int pt_listen_ready_fd(void);               /* readable: a controller is ready */
int pt_listen_take(int *fd, struct pt_proto_decoder **dec, struct pt_peer *peer);
void pt_listen_stop(void);
void pt_listen_forget(void);                /* in a forked child */
/* The op trace's backlog is stuck on fd: once it is writable, wake
 * thread's event loop (and main_thread's) once. Replaces a former request. */
void pt_listen_watch_room(int fd, VALUE thread, VALUE main_thread);
void pt_listen_unwatch_room(void);          /* withdraw it (fd may then close) */
struct pt_proto_remote_tls;
/* Serve fd, a listening TCP socket, too: connections authenticate with
 * token first, over TLS when tls is set (both kept). 0 or -EBUSY. */
int pt_listen_tcp(int fd, const char *token, struct pt_proto_remote_tls *tls, const char *addr);

/* remote.c — POLYTRACE_LISTEN: waiting for a controller over TCP */
int pt_remote_boot(void);                   /* 1: listening, entry stop armed */

/* urg.c — SIGURG */
VALUE pt_urg_gate(VALUE self);              /* PolyTrace.__urg_gate */
void pt_urg_kick_main(void);                /* any thread: run __interrupt on main */

/* wait.c — waits that keep hearing signals */
enum pt_wait_how {
    PT_WAIT_HELD,       /* keep the GVL; -EINTR as soon as Ruby has a signal
                           or an interrupt waiting */
    PT_WAIT_HELD_GRACE, /* keep the GVL; such a signal or interrupt cuts the
                           wait to PT_WAIT_GRACE_MS more, then -EINTR */
    PT_WAIT_HELD_DEAF,  /* keep the GVL; only the deadline ends the wait */
    PT_WAIT_FREE        /* let the GVL go, as any blocking call: Ruby runs
                           traps and raises (Thread#raise/kill) through it */
};
#define PT_WAIT_GRACE_MS 40
struct pt_wait {
    enum pt_wait_how how;
    VALUE thread;
    int64_t since;      /* when the pending signal was first seen, -1 */
};
void pt_wait_init(struct pt_wait *w, enum pt_wait_how how);
int pt_wait_pending(const struct pt_wait *w);   /* a signal or interrupt waits */
/* 0 when fd is ready, -ETIMEDOUT at deadline (pt_proto_now_ms; -1: none),
 * -EINTR as the mode says, or -errno. */
int pt_wait_fd(struct pt_wait *w, int fd, short events, int64_t deadline);
struct pt_proto_waiter pt_wait_waiter(struct pt_wait *w);

/* attach.c — SIGURG attach, Kernel#breakpoint without a controller */
void pt_attach_init(VALUE mod);
int pt_attach_adopt_ready(void);            /* the listener's connection: 0 or -EAGAIN */

/* fork.c — following forked children */
#define PT_FORK_WAIT_MS 10000       /* a followed child waits for the controller */
void pt_fork_init(VALUE mod);
void pt_fork_child(void);                   /* pthread_atfork, in the child */
int pt_fork_parse(const char *word, enum pt_tr_follow *out); /* 0 or -EINVAL */
const char *pt_fork_name(enum pt_tr_follow f);

/* watcher.c — notices traffic while the program runs (native thread) */
int pt_watch_start(int fd);
void pt_watch_arm(void);
void pt_watch_disarm(void);
void pt_watch_stop(void);
void pt_watch_forget(void);                /* in a forked child */

/* fibers.c */
uint64_t pt_fib_id(VALUE fiber);
VALUE pt_fib_lookup(uint64_t id);           /* Qnil when unknown or dead */
int pt_fib_dead(VALUE fiber);
void pt_fib_forget(VALUE fiber);
uint64_t pt_fib_thread_id(VALUE thread);
int pt_fib_location(VALUE loc, char **file, int32_t *line, char **label);
int pt_fib_fill(VALUE fiber, struct pt_proto_fiber *out);
/* The runtime's counters of fiber into out (has_stats), ns_per_tick from
 * the runtime's clock_scale. */
void pt_fib_fill_stats(VALUE fiber, double ns_per_tick, struct pt_proto_fiber *out);
int pt_fib_list(uint32_t limit, struct pt_msg *reply);
int pt_fib_dump(struct pt_msg *reply);
int pt_fib_runqueue(VALUE thread, struct pt_msg *reply); /* RUNQUEUE: -ENOTSUP without it */
int pt_fib_frames(VALUE fiber, uint32_t limit, struct pt_proto_frame **v, size_t *n);
/* The async backtrace alone, appended after *n frames (api.c's live stack). */
int pt_fib_async_frames(VALUE fiber, uint32_t limit, struct pt_proto_frame **v, size_t *n);
void pt_fib_init(void);
void pt_fib_runtime_hook(int on);           /* add / remove our runtime hook */
void pt_fib_forget_all(void);               /* every fiber but the main one */
void pt_fib_mark(void);

/* diag.c — the watchdog's reports and stops, the deadlock stop */
void pt_diag_init(void);
void pt_diag_runtime_loaded(void);          /* set the runtime's diagnostics hooks */
/* SET hog: "DURATION", "report DURATION" or "off"; 0, or <0 with err. */
int pt_diag_set_hog(const char *value, char *err, size_t errlen);
int pt_diag_parse_duration(const char *s, uint64_t *ns);
void pt_diag_disconnected(void);            /* back to POLYTRACE_HOG's setting */
void pt_diag_after_fork(void);              /* a child: the watchdog's thread again */
void pt_diag_fiber_name(VALUE fiber, char *buf, size_t len); /* "fiber 4 (worker)" */
void pt_diag_mark(void);

/* threads.c — every thread while stopped; threads described */
void pt_threads_hold(VALUE stopped);        /* suspend and hold the other threads */
void pt_threads_release(void);              /* ... and let them go */
VALUE pt_threads_of_fiber(VALUE fiber);     /* the thread a fiber runs on */
VALUE pt_threads_list(void);                /* every live thread, main first */
const char *pt_threads_where(VALUE thread, VALUE stopped, struct rt_thread_info *info, int *has_rt);
int pt_threads_describe(VALUE thread, VALUE stopped, uint64_t fibers, struct pt_proto_thread *out);
void pt_threads_mark(void);

/* stats.c — STATS: every fiber's counters, sorted and filtered (top) */
int pt_stats_reply(const struct pt_proto_req_stats *req, struct pt_msg *reply, char *err,
                   size_t errlen);

/* watchpoint.c — watch EXPR */
int pt_wp_active(void);
int pt_wp_add(VALUE binding, const char *expr, struct pt_proto_watch *out, char **error);
int pt_wp_delete(uint32_t id);              /* 0: all; -ENOENT */
void pt_wp_clear_all(void);
int pt_wp_list(struct pt_msg *reply);
VALUE pt_wp_list_ruby(void);                /* for PolyTrace.state */
int pt_wp_line(rb_trace_arg_t *ta, VALUE fiber); /* from the line hook; 1: stopped */
void pt_wp_mark(void);

/* api.c — PolyTrace.state, current_fiber, call_stack, fiber_lock= */
void pt_api_init(VALUE mod);

/* stop.c */
void pt_stop(const char *reason, uint32_t bp);
void pt_stop_exception(const char *reason, const char *exception);
/* A watchpoint's stop: its id, the value before and now, why here. */
void pt_stop_watch(uint32_t id, const char *old_value, const char *new_value, const char *note);
VALUE pt_stop_fiber(void);                  /* the stopped fiber, or Qnil */
VALUE pt_stop_selected(void);               /* the selected (else stopped) fiber, or Qnil */
/* A stop whose STOPPED carries exception, value (a return value) and note
 * (why the stop is here), each NULL when none. */
void pt_stop_ex(const char *reason, uint32_t bp, const char *exception, const char *value,
                const char *note);
void pt_stop_serve_running(void);           /* a request while running */
int pt_stop_location(char **file, int32_t *line, char **label); /* the frame shown */
long pt_stop_frame_count(void);             /* frames of the stopped fiber */
void pt_stop_frames_of_current(struct pt_proto_frame **v, size_t *n, uint32_t limit);
VALUE pt_stop_binding(uint32_t frame, const char **why);
void pt_stop_mark(void);

/* stepper.c */
enum pt_step_mode {
    PT_STEP_NONE, PT_STEP_ENTRY, PT_STEP_PAUSE, PT_STEP_STEP, PT_STEP_SKIP, PT_STEP_UP
};
void pt_step_init(void);
/* user_depth: the depth of the frame skip stays in and up finishes;
 * c_frame: that frame is a C method's (up waits for :c_return). */
void pt_step_start(enum pt_step_mode mode, VALUE fiber, int user_depth, int c_frame);
void pt_step_runtime_hook(int on);           /* the fiber-ended hook */
void pt_step_cancel(void);
VALUE pt_step_global_enables(VALUE self);
void pt_step_arm_entry(void);                       /* stop at $0's first line */
void pt_step_script_compiled(VALUE iseq, VALUE path); /* from the compile hook */
int pt_step_active(void);
int pt_step_depth(int *hidden);             /* frames of the current fiber */
int pt_step_consumed(rb_trace_arg_t *ta);   /* this event already stopped us */
void pt_step_consume(rb_trace_arg_t *ta, VALUE fiber); /* about to stop at this event */
void pt_step_watching(int on);              /* watchpoints set: keep the line hook on */
enum pt_step_mode pt_step_mode_now(VALUE *fiber); /* the step going on, its fiber */
void pt_step_mark(void);

/* steplock.c — "fiberlock step": the stepped fiber's priority lock */
void pt_steplock_runtime_hook(int on);
VALUE pt_steplock_start(VALUE thread, VALUE fiber); /* who locks now, or Qnil */
void pt_steplock_stop(void);
void pt_steplock_mark(void);

/* catch.c — exception stops */
int pt_catch_set(const char *value);        /* "CLASS", "off", "off CLASS" */
void pt_catch_clear_all(void);
void pt_catch_mark(void);

/* breakpoint.c */
void pt_bp_init(void);
int pt_bp_add(const struct pt_proto_req_break *req, struct pt_msg *reply, uint32_t id);
int pt_bp_delete(uint32_t bp);
int pt_bp_list(struct pt_msg *reply);
void pt_bp_clear_all(void);
void pt_bp_forget_files(void);              /* detached: drop the files' sequences */
void pt_bp_mark(void);
VALUE pt_bp_compiled(VALUE self, VALUE iseq);   /* PolyTrace.__compiled */
VALUE pt_bp_method_added(VALUE self);           /* PolyTrace.__method_added */
VALUE pt_bp_loaded_path(const char *file);      /* a loaded file ending in file */
VALUE pt_bp_code_lines(const char *file);       /* sorted lines where code starts;
                                                   Qnil: the file is not loaded */

/* vars.c — VARS and SETVAR while stopped (stopped: the stopped fiber) */
int pt_vars_reply(const struct pt_msg *req, VALUE stopped);
int pt_vars_set_reply(const struct pt_msg *req, VALUE stopped);
void pt_vars_reset(void);                   /* the program resumes: refs end */
void pt_vars_mark(void);

/* idle.c — hooks only while a controller is connected */
void pt_idle_leave(void);                   /* a controller connected */
void pt_idle_enter(void);                   /* it went: unhook, let go */
void pt_idle_runtime_loaded(void);
void pt_idle_boot(void);                    /* polytrace.rb defined COMPILED */
void pt_idle_injected(void);                /* brought in by `attach` */

/* heap.c — walks of the object space, for a tracer that arrived late */
int pt_heap_each_fiber(void (*fn)(VALUE fiber, void *data), void *data);
VALUE pt_heap_file_iseqs(int (*match)(VALUE realpath, void *arg), void *arg);

/* injected.c — the tracer brought into a running process by `attach` */
void pt_injected_init(VALUE mod);

/* eval.c */
int pt_eval(VALUE binding, const char *expr, char **text, int *is_error);
VALUE pt_eval_value(VALUE binding, const char *expr, VALUE *err);

#endif /* PT_TRACER_H */
