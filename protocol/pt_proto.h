/* pt_proto.h — the PolyTrace wire protocol: message types, the C structs
 * that hold a decoded message, encode/decode, the incremental stream decoder
 * with its limits, and blocking send/recv helpers. Linked into both the
 * tracer (debuggee side) and the controller (polytrace).
 *
 * pt_proto.h: stable
 * (After the first commit this header only grows: new things are appended,
 * nothing already here changes meaning.)
 *
 * Wire format (documented in man/polytrace-protocol.7): a SOCK_STREAM carries
 * a sequence of msgpack values, one message per value, no other framing.
 * Every message is a msgpack map with string keys. Key "type" (uint) is one of
 * enum pt_msg_type; key "id" (uint32, nonzero) is present on requests and
 * replies; the other keys are the message's fields, named as the struct
 * fields below. Unknown keys are ignored; a missing required field or a field
 * of the wrong type makes the message invalid (PT_PROTO_E_BADMSG).
 *
 * Ownership: a struct pt_msg owns every string and array reachable from it.
 * Strings are malloc'd and NUL-terminated; "nullable" strings may be NULL
 * (encoded as msgpack nil), required strings decode as non-NULL (possibly "")
 * and encode as "" when left NULL. Arrays are a pointer plus a count.
 * pt_msg_free() releases everything.
 *
 * Errors: functions return 0 (or a count/flag where said) on success, and a
 * negative errno or a negative enum pt_proto_error on failure. Nothing here
 * prints. pt_proto_strerror() turns either kind into text.
 */
/* pt_proto.h: stable */
#ifndef PT_PROTO_H
#define PT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- versions and limits ------------------------------------------------ */

/* Bumped on any incompatible change of the messages below. Peers exchange
 * HELLO first; a peer that sees another version replies ERROR with code
 * PT_PROTO_ERR_VERSION (id 0) and closes. HELLO's own fields never change. */
#define PT_PROTO_VERSION 1

/* Default maximum encoded size of one message (bytes). */
#define PT_PROTO_MAX_MSG (16u * 1024u * 1024u)
/* Default maximum nesting depth of containers in one message (the top-level
 * map counts as 1). DUMP, the deepest message, needs 5. */
#define PT_PROTO_MAX_DEPTH 16u
/* Hard ceiling on the depth a decoder accepts (msgpack-c's parser stack). */
#define PT_PROTO_MAX_DEPTH_LIMIT 30u

/* The protocol version this library speaks (PT_PROTO_VERSION). */
int pt_proto_version(void);

/* ---- library error codes (negative return values) ----------------------- */

/* These values are already negative; functions return them as they are,
 * alongside negative errno values such as -ENOMEM, -EINVAL, -ETIMEDOUT, -EPIPE, -ECONNRESET.
 * "Fatal" means the stream is out of sync: the decoder stays failed and the
 * connection should be closed. "Recoverable" means the bad message was
 * consumed whole and the next message can be decoded. */
enum pt_proto_error {
    PT_PROTO_E_MALFORMED   = -1001, /* not valid msgpack (fatal) */
    PT_PROTO_E_TOOBIG      = -1002, /* message exceeds max size (fatal) */
    PT_PROTO_E_TOODEEP     = -1003, /* nesting exceeds max depth (fatal) */
    PT_PROTO_E_BADMSG      = -1004, /* not a map, missing/wrong-typed field,
                                       bad id (recoverable) */
    PT_PROTO_E_UNKNOWN_TYPE = -1005, /* well-formed, unknown "type"
                                       (recoverable) */
    PT_PROTO_E_VERSION     = -1006, /* HELLO with another version */
    PT_PROTO_E_TRUNCATED   = -1007, /* peer closed mid-message */
    PT_PROTO_E_FAILED      = -1008, /* decoder already failed earlier */
};

/* Text for a negative return value of this library (enum pt_proto_error or
 * negative errno). Never NULL; static storage. */
const char *pt_proto_strerror(int err);

/* Formats one line saying why into err (when err and errlen allow) and
 * returns rc: for the functions that take an err buffer. */
int pt_proto_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- error codes carried in an ERROR reply ------------------------------ */

enum pt_proto_errcode {
    PT_PROTO_ERR_VERSION       = 1,  /* protocol version mismatch */
    PT_PROTO_ERR_BAD_REQUEST   = 2,  /* malformed request / bad arguments */
    PT_PROTO_ERR_UNKNOWN_TYPE  = 3,  /* request type not understood */
    PT_PROTO_ERR_NO_FIBER      = 4,  /* no such fiber */
    PT_PROTO_ERR_NOT_STOPPED   = 5,  /* needs a stopped program */
    PT_PROTO_ERR_EVAL          = 6,  /* evaluation raised; message says what */
    PT_PROTO_ERR_NO_BREAKPOINT = 7,  /* no such breakpoint */
    PT_PROTO_ERR_BAD_LOCATION  = 8,  /* file/line/method not usable */
    PT_PROTO_ERR_BAD_SETTING   = 9,  /* SET: unknown name or value */
    PT_PROTO_ERR_INTERNAL      = 10, /* anything else */
    PT_PROTO_ERR_BUSY          = 11, /* another controller is attached, or
                                        the tracer has too many connections
                                        in their handshake (appended) */
    PT_PROTO_ERR_AUTH          = 12, /* a TCP peer failed authentication
                                        (appended; pt_remote.h) */
};

/* "VERSION", "BAD_REQUEST", ...; "UNKNOWN" for other values. */
const char *pt_proto_errcode_name(int code);

/* ---- message types ------------------------------------------------------ */

/* The numbers are the wire values of key "type"; they never change. */
enum pt_msg_type {
    PT_MSG_NONE = 0,          /* a zeroed / freed message; never on the wire */

    /* handshake, both directions, first message each way, no id */
    PT_MSG_HELLO = 1,

    /* requests, controller -> tracer, id required */
    PT_REQ_CONTINUE    = 16,  /* no payload */
    PT_REQ_STEP        = 17,  /* u.fiber */
    PT_REQ_SKIP        = 18,  /* u.fiber */
    PT_REQ_UP          = 19,  /* u.fiber */
    PT_REQ_PAUSE       = 20,  /* no payload */
    PT_REQ_SWITCH      = 21,  /* u.fiber        -> PT_REP_FIBER_INFO */
    PT_REQ_FIBERS      = 22,  /* u.fibers_req   -> PT_REP_FIBERS */
    PT_REQ_BACKTRACE   = 23,  /* u.backtrace    -> PT_REP_FRAMES */
    PT_REQ_EVAL        = 24,  /* u.eval         -> PT_REP_VALUE or ERROR */
    PT_REQ_SOURCE      = 25,  /* u.source       -> PT_REP_LINES */
    PT_REQ_BREAK       = 26,  /* u.brk          -> PT_REP_BREAKPOINT */
    PT_REQ_DELETE      = 27,  /* u.del          -> PT_REP_OK */
    PT_REQ_BREAKPOINTS = 28,  /* no payload     -> PT_REP_BREAKPOINTS */
    PT_REQ_TRACE_OPS   = 29,  /* u.trace_ops    -> PT_REP_OK */
    PT_REQ_SET         = 30,  /* u.set          -> PT_REP_OK or ERROR */
    PT_REQ_DETACH      = 31,  /* no payload     -> PT_REP_OK */
    PT_REQ_KILL        = 32,  /* no payload     -> PT_REP_OK */
    PT_REQ_DUMP        = 33,  /* no payload     -> PT_REP_DUMP */
    PT_REQ_VARS        = 34,  /* u.vars         -> PT_REP_VARS (appended) */
    PT_REQ_SETVAR      = 35,  /* u.setvar       -> PT_REP_VARS, one var (appended) */
    PT_REQ_RUNQUEUE    = 36,  /* u.fiber        -> PT_REP_FIBERS, queue order (appended) */
    PT_REQ_STATS       = 37,  /* u.stats_req    -> PT_REP_STATS; also while running (appended) */
    PT_REQ_WATCH       = 38,  /* u.watch        -> PT_REP_WATCHES, the new one (appended) */
    PT_REQ_UNWATCH     = 39,  /* u.watch (id)   -> PT_REP_OK (appended) */
    PT_REQ_WATCHES     = 40,  /* no payload     -> PT_REP_WATCHES (appended) */

    /* replies, tracer -> controller, id of the request (ERROR may carry 0
     * when it answers no particular request, e.g. a version mismatch) */
    PT_REP_OK          = 64,  /* no payload */
    PT_REP_ERROR       = 65,  /* u.error */
    PT_REP_FIBER_INFO  = 66,  /* u.fiber_info */
    PT_REP_FIBERS      = 67,  /* u.fibers */
    PT_REP_FRAMES      = 68,  /* u.frames */
    PT_REP_VALUE       = 69,  /* u.value */
    PT_REP_LINES       = 70,  /* u.lines */
    PT_REP_BREAKPOINT  = 71,  /* u.bp */
    PT_REP_BREAKPOINTS = 72,  /* u.bps */
    PT_REP_DUMP        = 73,  /* u.dump */
    PT_REP_VARS        = 74,  /* u.vars_rep (appended) */
    PT_REP_STATS       = 75,  /* u.stats (appended) */
    PT_REP_WATCHES     = 76,  /* u.watches (appended) */

    /* events, tracer -> controller, no id */
    PT_EV_STOPPED      = 96,  /* u.stopped */
    PT_EV_RUNNING      = 97,  /* no payload */
    PT_EV_FIBER        = 98,  /* u.fiber_event */
    PT_EV_OP           = 99,  /* u.op */
    PT_EV_OUTPUT       = 100, /* u.output */
    PT_EV_EXITED       = 101, /* u.exited */
    PT_EV_FORKED       = 102, /* u.forked (appended) */
};

enum pt_msg_kind {
    PT_KIND_INVALID = 0,
    PT_KIND_HELLO,
    PT_KIND_REQUEST,
    PT_KIND_REPLY,
    PT_KIND_EVENT,
};

/* Which family a type belongs to; PT_KIND_INVALID for unknown values. */
enum pt_msg_kind pt_msg_kind(enum pt_msg_type type);

/* Lower-case name ("hello", "step", "fibers", "stopped", ...); requests and
 * replies that share a word are told apart as "fibers" / "fibers-reply" etc.
 * Returns "unknown" for values outside the enum. */
const char *pt_msg_type_name(enum pt_msg_type type);

/* ---- records shared by several messages --------------------------------- */

/* One fiber, as FIBERS / FIBER_INFO / DUMP report it. Wire: a map with these
 * keys. */
struct pt_proto_fiber {
    uint64_t id;            /* tracer's fiber id (main fiber = 1) */
    uint64_t parent;        /* 0: none */
    char    *tag;           /* nullable */
    char    *state;         /* "running", "runnable", "waiting", "dead" */
    char    *file;          /* current location ("" if unknown) */
    int32_t  line;
    char    *method;        /* nullable */
    char    *wait_op;       /* nullable: what it waits on ("read", "sleep"...) */
    int32_t  wait_fd;       /* -1: none */
    double   wait_timeout;  /* seconds left; -1: none */
    uint64_t thread;        /* tracer's thread id */
    /* appended: the runtime's counters (optional; has_stats false when the
     * tracer does not know them). Times in nanoseconds. */
    bool     has_stats;
    uint64_t cpu_ns;        /* time spent running, the current run included */
    uint64_t runs;          /* times it was switched to */
    uint64_t longest_ns;    /* its longest single run */
    uint64_t wait_ns;       /* time spent waiting, the current wait included */
    uint64_t ops;           /* I/O ops it started */
    uint32_t ops_in_flight; /* I/O ops it waits in now (0 or 1) */
    /* appended: */
    char    *value;         /* nullable: a runnable fiber's scheduled value
                               (inspect, cut at 128 bytes) */
};

/* One Ruby thread, as FIBERS and DUMP report it (appended). Wire: a map. */
struct pt_proto_thread {
    uint64_t id;            /* tracer's thread id (main thread = 1) */
    char    *name;          /* nullable: Thread#name */
    char    *status;        /* Thread#status: "run", "sleep", "aborting", "dead" */
    char    *where;         /* "stopped" (the thread the program stopped in),
                               "loop" (idle in its event loop, suspended),
                               "ruby" (between Ruby lines: held),
                               "blocked" (in C without the GVL, outside the
                               runtime's loop: left alone),
                               "plain" (no runtime state on it) */
    char    *backend;       /* nullable: "libev", "io_uring" */
    uint64_t fibers;        /* its live fibers */
    uint64_t runnable;      /* fibers on its run queue */
    char    *at;            /* nullable: where its current fiber is, "file:line
                               in label" (the innermost frame not hidden) */
};

/* One backtrace frame. Wire: map {index, file, line, label}. */
struct pt_proto_frame {
    uint32_t index;         /* 0 = innermost */
    char    *file;
    int32_t  line;
    char    *label;         /* e.g. "block in Foo#bar" */
    /* appended: */
    bool     hidden;        /* in the runtime's or the tracer's own Ruby
                               files: left out unless every frame is asked
                               for (optional on the wire) */
    uint64_t spun_by;       /* 0: a frame of the fiber itself; else a frame
                               of fiber spun_by, recorded when it spun the
                               fiber of the frames above (async backtrace;
                               optional) */
    char    *spun_by_tag;   /* nullable: that fiber's tag */
};

/* One breakpoint. Wire: map with these keys. */
struct pt_proto_bp {
    uint32_t id;
    char    *file;          /* nullable (method breakpoints) */
    int32_t  line;          /* 0 with a method breakpoint */
    char    *method;        /* nullable: "Class#meth" or "Class.meth" */
    char    *cond;          /* nullable: Ruby expression */
    uint64_t fiber;         /* 0: any fiber */
    uint64_t hits;
    bool     pending;       /* file not loaded / method not defined yet */
    /* appended (nullable, so optional on the wire): */
    char    *hit_cond;      /* as in PT_REQ_BREAK */
    char    *log;           /* as in PT_REQ_BREAK */
};

/* One fiber of a DUMP: wire map {info: fiber, frames: [frame]}. */
struct pt_proto_dump_fiber {
    struct pt_proto_fiber  info;
    struct pt_proto_frame *frames;
    size_t                 nframes;
};

/* ---- payloads ----------------------------------------------------------- */

/* PT_MSG_HELLO. A HELLO whose version differs from ours still decodes (so the
 * mismatch can be reported): then only "version" is guaranteed and the other
 * fields are filled as far as they are present and well-typed. */
struct pt_proto_hello {
    uint32_t version;       /* PT_PROTO_VERSION of the sender */
    int64_t  pid;
    char    *ruby_version;  /* RUBY_VERSION ("" from the controller) */
    char    *backend;       /* "libev", "io_uring"; "" from the controller */
    char   **argv;          /* program argv (ARGV with $0 first) */
    size_t   argc;
    char    *program;       /* the script path ($0) */
    bool     attached;      /* true when reached by attach / breakpoint */
    /* appended (optional): the controller only watches (polytrace top): an
     * attached program is not stopped; it is asked for STATS while it runs */
    bool     observe;
    /* appended (nullable, so optional on the wire): */
    char    *follow_fork;   /* the controller's: "all", "parent" or "child"
                               when it follows forked children (the tracer's
                               follow-fork setting starts so); NULL: it does
                               not, and forked children run free */
};

/* PT_REQ_STEP, _SKIP, _UP, _SWITCH. */
struct pt_proto_req_fiber {
    uint64_t fiber;         /* 0: the fiber the program is stopped in */
    /* appended: */
    uint32_t frame;         /* STEP SKIP UP: the selected frame of that
                               fiber (0 = innermost; optional) */
    char    *expr;          /* SWITCH: nullable; a Ruby expression giving the
                               fiber, evaluated in frame `frame` of the
                               stopped fiber (then `fiber` is ignored) */
};

/* PT_REQ_FIBERS. */
struct pt_proto_req_fibers {
    uint32_t limit;         /* 0: all */
};

/* PT_REQ_BACKTRACE. */
struct pt_proto_req_backtrace {
    uint64_t fiber;         /* 0: the stopped fiber */
    uint32_t limit;         /* 0: all frames */
};

/* PT_REQ_EVAL. */
struct pt_proto_req_eval {
    uint64_t fiber;         /* 0: the stopped fiber */
    uint32_t frame;         /* frame index, 0 = innermost */
    char    *expr;
    /* appended: */
    uint32_t limit;         /* the reply's text is cut to at most this many
                               bytes (at a character boundary); 0: whole
                               (optional) */
};

/* PT_REQ_SOURCE. */
struct pt_proto_req_source {
    char    *file;
    int32_t  first;         /* 1-based, inclusive */
    int32_t  last;          /* inclusive */
    /* appended: */
    bool     code_only;     /* a line where no code starts comes back "" (a
                               line with code is never empty); ERROR
                               BAD_LOCATION for a file not loaded yet, whose
                               code the tracer cannot know (optional) */
};

/* PT_REQ_BREAK: file+line, or method. */
struct pt_proto_req_break {
    char    *file;          /* nullable */
    int32_t  line;
    char    *method;        /* nullable: "Class#meth" / "Class.meth" */
    char    *cond;          /* nullable */
    uint64_t fiber;         /* 0: any */
    /* appended (nullable, so optional on the wire): */
    char    *hit_cond;      /* "N" or "== N" (the Nth hit), ">= N", "> N",
                               "< N", "<= N", "% N" (every Nth): which hits
                               (counted after cond) stop */
    char    *log;           /* a logpoint: no stop; the text, each {expr} in
                               it replaced by the value's to_s, comes as an
                               OUTPUT event */
    /* appended: */
    uint32_t bp;            /* the number the breakpoint gets (0: the
                               tracer's next); a controller keeps one
                               number for the same breakpoint in every
                               process it debugs (optional) */
};

/* PT_REQ_DELETE. Wire key "bp". */
struct pt_proto_req_delete {
    uint32_t bp;
};

/* PT_REQ_TRACE_OPS. */
struct pt_proto_req_trace_ops {
    bool     on;
    uint64_t fiber;         /* 0: all fibers */
};

/* PT_REQ_SET, e.g. name "fiberlock", value "on" / "off" / "step". */
struct pt_proto_req_set {
    char *name;
    char *value;
};

/* PT_REP_ERROR. */
struct pt_proto_rep_error {
    int32_t code;           /* enum pt_proto_errcode (others tolerated) */
    char   *message;        /* human-readable, e.g. "NameError: ..." */
};

/* PT_REP_FIBER_INFO. Wire: {type, id, fiber: {...}}. */
struct pt_proto_rep_fiber_info {
    struct pt_proto_fiber fiber;
};

/* PT_REP_FIBERS. */
struct pt_proto_rep_fibers {
    uint64_t               total;   /* fibers alive, even if limit cut */
    struct pt_proto_fiber *fibers;
    size_t                 nfibers;
    /* appended (optional): every Ruby thread, the fibers' `thread` ids */
    struct pt_proto_thread *threads;
    size_t                  nthreads;
};

/* PT_REP_FRAMES. */
struct pt_proto_rep_frames {
    uint64_t               fiber;
    struct pt_proto_frame *frames;
    size_t                 nframes;
};

/* PT_REP_VALUE and PT_EV_OUTPUT: text that may hold NUL bytes. text_len is
 * its length; when encoding, text_len 0 means strlen(text). Decoded text is
 * still NUL-terminated. */
struct pt_proto_text {
    char  *text;
    size_t text_len;
    /* appended: */
    uint64_t full_len;      /* PT_REP_VALUE cut to a request's limit: the
                               whole text's length; 0 when not cut
                               (optional) */
};

/* PT_REP_LINES. */
struct pt_proto_rep_lines {
    char    *file;
    int32_t  first;         /* line number of lines[0] */
    char   **lines;         /* without trailing newline */
    size_t   nlines;
};

/* PT_REP_BREAKPOINT. Wire: {type, id, bp: {...}}. */
struct pt_proto_rep_bp {
    struct pt_proto_bp bp;
};

/* PT_REP_BREAKPOINTS. Wire key "bps". */
struct pt_proto_rep_bps {
    struct pt_proto_bp *bps;
    size_t              nbps;
};

/* PT_REP_DUMP. Wire key "fibers". */
struct pt_proto_rep_dump {
    struct pt_proto_dump_fiber *fibers;
    size_t                      nfibers;
    /* appended (optional) */
    struct pt_proto_thread     *threads;
    size_t                      nthreads;
};

/* PT_EV_STOPPED. */
struct pt_proto_ev_stopped {
    char    *reason;        /* "entry","breakpoint","step","pause",
                               "exception","call","attach" */
    uint64_t fiber;
    char    *tag;           /* nullable */
    uint64_t thread;
    char    *file;
    int32_t  line;
    char    *method;        /* nullable */
    uint32_t bp;            /* 0: none */
    char    *exception;     /* nullable: "RuntimeError: boom" */
    /* appended: */
    uint32_t frame;         /* the frame file/line describe: the innermost
                               one outside the runtime's and the tracer's
                               files (optional; 0) */
    char    *value;         /* nullable: reason "return": the inspect of the
                               value the frame returns */
    char    *note;          /* nullable: why the stop is where it is, when
                               that is not plain ("fiber 3 ended: back in
                               its parent") */
    uint32_t watch;         /* reason "watch": the watchpoint (optional) */
    char    *old_value;     /* nullable: reason "watch": its value before */
};

/* PT_EV_FIBER. */
struct pt_proto_ev_fiber {
    char    *what;          /* "spin", "terminate" */
    uint64_t fiber;
    uint64_t parent;
};

/* PT_EV_OP. */
struct pt_proto_ev_op {
    char    *phase;         /* "submit", "complete" */
    char    *op;            /* "read", "write", "accept", "sleep", ... */
    uint64_t fiber;
    int32_t  fd;            /* -1: none */
    int64_t  len;
    int64_t  result;        /* on complete; 0 on submit */
};

/* PT_EV_EXITED. */
struct pt_proto_ev_exited {
    int32_t status;         /* exit status, or -1 when killed */
    int32_t signal;         /* 0: not killed by a signal */
};

/* PT_EV_FORKED (appended): the program forked; pid is the child's. With
 * follow "all" or "child" the child waits (a while: see polytrace(1),
 * "FORKED CHILDREN") for the controller on its attach socket, with the
 * parent's breakpoints and settings, and runs on once it is attached; with
 * "child" the parent lets go of the controller after this event (its
 * connection closes). With "parent" the child runs free. */
struct pt_proto_ev_forked {
    int64_t  pid;
    char    *follow;        /* "all", "parent", "child" */
};

/* PT_REQ_VARS (appended): the values the stopped program holds, for a
 * variables view. scope "locals" (self first, then the frame's local
 * variables), "ivars" (self's instance variables), "globals", "eval" (one
 * var: the value of expr in the frame), or "" for the children of ref, an
 * object named by an earlier reply: array elements and hash pairs (indexed),
 * struct members and instance variables (named). start/count page through
 * the children (count 0: all). Refs hold for the stop they were made in. */
struct pt_proto_req_vars {
    uint64_t fiber;         /* 0: the stopped fiber (the only one with frames
                               to look into) */
    uint32_t frame;
    char    *scope;
    uint64_t ref;
    char    *expr;          /* nullable: scope "eval" */
    uint32_t start;
    uint32_t count;
};

/* PT_REQ_SETVAR (appended): name (in scope, or among ref's children) gets
 * the value of expr, evaluated in the frame; the reply holds the var as it
 * is now. */
struct pt_proto_req_setvar {
    uint64_t fiber;
    uint32_t frame;
    char    *scope;         /* "locals", "ivars", "globals", or "" with ref */
    uint64_t ref;
    char    *name;
    char    *expr;
};

/* One value in a PT_REP_VARS. */
struct pt_proto_var {
    char    *name;
    char    *value;         /* #inspect, cut to PT_PROTO_VAR_VALUE_MAX bytes */
    char    *type;          /* the class's name */
    uint64_t ref;           /* 0: nothing inside; else VARS scope "" ref */
    uint32_t named;         /* children by name */
    uint32_t indexed;       /* children by index */
};

/* The longest value text a PT_REP_VARS carries (bytes; "..." ends a cut one). */
#define PT_PROTO_VAR_VALUE_MAX 4096

/* PT_REP_VARS (appended). */
struct pt_proto_rep_vars {
    uint64_t             total;   /* children in all, whatever the page */
    struct pt_proto_var *vars;
    size_t               nvars;
};

/* A watchpoint (appended). Wire: a map. */
struct pt_proto_watch {
    uint32_t id;
    char    *expr;
    char    *value;         /* its value's inspect now, cut at 512 bytes */
    uint64_t hits;          /* times it changed */
};

/* PT_REQ_WATCH: expr, evaluated from now on in frame `frame` of the
 * stopped fiber; PT_REQ_UNWATCH: watch, the id (0: every one). (appended) */
struct pt_proto_req_watch {
    char    *expr;          /* WATCH: required; UNWATCH: nullable */
    uint32_t frame;
    uint32_t watch;         /* UNWATCH: the id (0: every one) */
};

/* PT_REP_WATCHES (appended). */
struct pt_proto_rep_watches {
    struct pt_proto_watch *watches;
    size_t                 nwatches;
};

struct pt_proto_watch *pt_proto_watches_push(struct pt_proto_watch **v, size_t *n);

/* Append a zeroed var (NULL: out of memory, array unchanged). */
struct pt_proto_var *pt_proto_vars_push(struct pt_proto_var **v, size_t *n);

/* PT_REQ_STATS (appended): the runtime's counters of the fibers that come
 * first in `sort` order, for `polytrace top`. */
struct pt_proto_req_stats {
    uint32_t limit;         /* fibers wanted (0: none, only the totals) */
    char    *sort;          /* "cpu", "runs", "longest", "waiting" (largest
                               first) or "id" */
    char    *filter;        /* nullable: only fibers whose id, tag, state or
                               wait op contains this text */
};

/* One thread of a PT_REP_STATS. Wire: a map with these keys. */
struct pt_proto_thread_stats {
    uint64_t id;            /* the tracer's thread id (the main thread is 1) */
    char    *name;          /* nullable: Thread#name */
    uint64_t fibers;        /* live fibers */
    uint64_t runnable;      /* ... on the run queue */
    uint64_t waiting;       /* ... waiting */
    uint64_t matched;       /* ... that pass the filter */
    uint64_t cpu_ns;        /* its fibers' time running, in all */
    uint64_t switches;      /* fiber switches so far */
    uint64_t idle_ns;       /* time its loop spent blocked waiting */
    uint64_t ops_in_flight; /* I/O ops in flight */
    uint64_t timers;        /* timers armed */
};

/* PT_REP_STATS (appended). fibers are the first `limit` matching fibers in
 * the order asked for, each with has_stats, across every thread. */
struct pt_proto_rep_stats {
    uint64_t                      total;    /* live fibers, every thread */
    uint64_t                      matched;  /* ... that pass the filter */
    double                        uptime;   /* seconds since the runtime started */
    struct pt_proto_thread_stats *threads;
    size_t                        nthreads;
    struct pt_proto_fiber        *fibers;
    size_t                        nfibers;
};

/* Append a zeroed thread record (NULL: out of memory, array unchanged). */
struct pt_proto_thread_stats *pt_proto_thread_stats_push(struct pt_proto_thread_stats **v,
                                                          size_t *n);

/* A message. Zero it (or pt_msg_init) before filling or decoding into it. */
struct pt_msg {
    enum pt_msg_type type;
    uint32_t         id;    /* requests/replies: nonzero (ERROR may be 0);
                               events, HELLO: 0 */
    union {
        struct pt_proto_hello          hello;
        struct pt_proto_req_fiber      fiber;       /* STEP SKIP UP SWITCH */
        struct pt_proto_req_fibers     fibers_req;
        struct pt_proto_req_backtrace  backtrace;
        struct pt_proto_req_eval       eval;
        struct pt_proto_req_source     source;
        struct pt_proto_req_break      brk;
        struct pt_proto_req_delete     del;
        struct pt_proto_req_trace_ops  trace_ops;
        struct pt_proto_req_set        set;
        struct pt_proto_rep_error      error;
        struct pt_proto_rep_fiber_info fiber_info;
        struct pt_proto_rep_fibers     fibers;
        struct pt_proto_rep_frames     frames;
        struct pt_proto_text           value;
        struct pt_proto_rep_lines      lines;
        struct pt_proto_rep_bp         bp;
        struct pt_proto_rep_bps        bps;
        struct pt_proto_rep_dump       dump;
        struct pt_proto_ev_stopped     stopped;
        struct pt_proto_ev_fiber       fiber_event;
        struct pt_proto_ev_op          op;
        struct pt_proto_text           output;
        struct pt_proto_ev_exited      exited;
        struct pt_proto_req_vars       vars;        /* appended */
        struct pt_proto_req_setvar     setvar;      /* appended */
        struct pt_proto_rep_vars       vars_rep;    /* appended */
        struct pt_proto_req_stats      stats_req;   /* appended */
        struct pt_proto_rep_stats      stats;       /* appended */
        struct pt_proto_req_watch      watch;       /* appended */
        struct pt_proto_rep_watches    watches;     /* appended */
        struct pt_proto_ev_forked      forked;      /* appended */
    } u;
};

/* ---- building and freeing ----------------------------------------------- */

/* Zero *m and set type and id. */
void pt_msg_init(struct pt_msg *m, enum pt_msg_type type, uint32_t id);

/* Free everything *m owns and zero it (type becomes PT_MSG_NONE). Safe on a
 * zeroed message and when called twice. */
void pt_msg_free(struct pt_msg *m);

/* Replace *dst with a malloc'd copy of s (NULL stays NULL), freeing the old
 * value. 0 or -ENOMEM (then *dst is unchanged). */
int pt_proto_set_str(char **dst, const char *s);
/* Same with an explicit length; the copy is NUL-terminated. */
int pt_proto_set_strn(char **dst, const char *s, size_t len);

/* Append a copy of s to a string array. 0 or -ENOMEM. */
int pt_proto_strv_push(char ***v, size_t *n, const char *s);

/* Append one zeroed element to an array and return it (NULL: out of memory,
 * array unchanged). The pointer is valid until the next push on the same
 * array. pt_proto_fibers_push sets wait_fd and wait_timeout to -1. */
struct pt_proto_fiber      *pt_proto_fibers_push(struct pt_proto_fiber **v, size_t *n);
struct pt_proto_frame      *pt_proto_frames_push(struct pt_proto_frame **v, size_t *n);
struct pt_proto_bp         *pt_proto_bps_push(struct pt_proto_bp **v, size_t *n);
struct pt_proto_dump_fiber *pt_proto_dump_push(struct pt_proto_dump_fiber **v, size_t *n);
struct pt_proto_thread     *pt_proto_threads_push(struct pt_proto_thread **v, size_t *n);

/* Build an ERROR reply in *m (which is first freed/initialised): id, code and
 * a printf-style message. 0 or -ENOMEM. */
int pt_proto_make_error(struct pt_msg *m, uint32_t id, int code,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Build our HELLO in *m (initialised first): version PT_PROTO_VERSION and
 * the given fields (strings copied; argv may be NULL when argc is 0).
 * 0 or -ENOMEM (then *m is freed). */
int pt_proto_make_hello(struct pt_msg *m, int64_t pid, const char *ruby_version,
                        const char *backend, const char *program,
                        const char *const *argv, size_t argc, bool attached);

/* Check a received first message. 0: a HELLO of our version.
 * PT_PROTO_E_VERSION: a HELLO of another version; if reply is non-NULL it is
 * (initialised, not freed, then) filled with the ERROR (code PT_PROTO_ERR_VERSION, id 0, message naming both
 * versions) to send before closing. PT_PROTO_E_BADMSG: not a HELLO.
 * -ENOMEM if building the reply failed. */
int pt_proto_check_hello(const struct pt_msg *peer, struct pt_msg *reply);

/* ---- encoding ----------------------------------------------------------- */

/* Append the msgpack encoding of *m to out. 0, -EINVAL (type unknown or
 * PT_MSG_NONE, request/reply without id, NULL pointer with nonzero count),
 * -EMSGSIZE (encoding longer than PT_PROTO_MAX_MSG), -ENOMEM. On error out
 * is left as it was. */
int pt_msg_encode(const struct pt_msg *m, msgpack_sbuffer *out);

/* Encode into a fresh malloc'd buffer (*buf, *len; caller frees *buf). */
int pt_msg_encode_alloc(const struct pt_msg *m, char **buf, size_t *len);

/* ---- decoding ----------------------------------------------------------- */

/* Decode exactly one complete message from buf[0..len) into *out (zeroed
 * first), using the default limits. Returns 0, or an enum pt_proto_error
 * (PT_PROTO_E_TRUNCATED when buf ends early, PT_PROTO_E_MALFORMED when bytes
 * follow the message), or -ENOMEM. On error *out holds no payload (type
 * PT_MSG_NONE), only the message's id when one could be read. */
int pt_msg_decode(const void *buf, size_t len, struct pt_msg *out);

/* An incremental stream decoder: feed it bytes as they arrive, take messages
 * out one at a time. Handles partial messages and several messages per feed.
 * Container / str / bin headers are checked against the limits before
 * msgpack-c sees them, so a hostile length claim costs no allocation. */
struct pt_proto_decoder;

/* Create a decoder. max_msg 0: PT_PROTO_MAX_MSG; max_depth 0:
 * PT_PROTO_MAX_DEPTH (values above PT_PROTO_MAX_DEPTH_LIMIT are clamped).
 * 0 or -ENOMEM. */
int pt_proto_decoder_new(struct pt_proto_decoder **out, size_t max_msg,
                         unsigned max_depth);

/* Free a decoder (NULL is fine). */
void pt_proto_decoder_free(struct pt_proto_decoder *dec);

/* Append n bytes. 0, -ENOMEM, or PT_PROTO_E_FAILED after a fatal error. */
int pt_proto_decoder_feed(struct pt_proto_decoder *dec, const void *buf,
                          size_t n);

/* Take the next message into *out (zeroed first; caller pt_msg_free()s it).
 * 1: got one; 0: need more bytes; <0: error. Recoverable errors
 * (PT_PROTO_E_BADMSG, PT_PROTO_E_UNKNOWN_TYPE) consume the bad message and
 * leave out->id set to its "id" when one could be read (so a reply can name
 * it) and out->type PT_MSG_NONE; fatal ones (MALFORMED, TOOBIG, TOODEEP)
 * leave the decoder failed: later calls return PT_PROTO_E_FAILED. */
int pt_proto_decoder_next(struct pt_proto_decoder *dec, struct pt_msg *out);

/* Bytes fed but not yet returned as messages. */
size_t pt_proto_decoder_buffered(const struct pt_proto_decoder *dec);

/* ---- blocking I/O on a stream socket (or pipe) --------------------------- */

/* timeout_ms: total time allowed for the call; -1 waits forever, 0 never
 * blocks. EINTR is retried. Sockets are written with send(MSG_NOSIGNAL), so
 * a closed peer gives -EPIPE, never SIGPIPE; other fds fall back to write(). */

/* Write all len bytes. 0, -ETIMEDOUT (some bytes may have been written; the
 * stream is then unusable), or a negative errno. */
int pt_proto_write_all(int fd, const void *buf, size_t len, int timeout_ms);

/* The same with an absolute deadline on pt_proto_now_ms's clock (-1: none),
 * for a caller that spends one deadline on several calls. */
int pt_proto_write_all_until(int fd, const void *buf, size_t len, int64_t deadline_ms);

/* Wait until fd is ready for events (or has hung up: the I/O call tells),
 * at most until deadline_ms (-1: no limit). 0, -ETIMEDOUT, -EBADF, or a
 * negative errno; EINTR is retried. */
int pt_proto_wait_fd(int fd, short events, int64_t deadline_ms);

/* Encode *m and write it whole. 0 or as pt_proto_write_all / pt_msg_encode. */
int pt_proto_send(int fd, const struct pt_msg *m, int timeout_ms);

/* Return the next message: from bytes already in dec if there is one,
 * otherwise reading fd until one is complete. 1: *out holds a message;
 * 0: the peer closed cleanly between messages; -ETIMEDOUT; an enum
 * pt_proto_error (PT_PROTO_E_TRUNCATED if the peer closed mid-message); or a
 * negative errno from poll/read. */
int pt_proto_recv(int fd, struct pt_proto_decoder *dec, struct pt_msg *out,
                  int timeout_ms);

/* ---- appended after the header was declared stable ---------------------- */

/* Flags for pt_proto_recv_flags(). */
#define PT_PROTO_RECV_EINTR 1u  /* a signal interrupting the wait returns
                                   -EINTR (pt_proto_recv retries instead), so
                                   a caller can react to SIGINT etc.; bytes
                                   already read stay in the decoder */

/* pt_proto_recv() with flags (0 behaves exactly like pt_proto_recv). */
int pt_proto_recv_flags(int fd, struct pt_proto_decoder *dec, struct pt_msg *out,
                        int timeout_ms, unsigned flags);

/* Milliseconds on CLOCK_MONOTONIC: the clock of every deadline below. */
int64_t pt_proto_now_ms(void);

/* How the I/O calls below wait for their fd, in place of their own poll():
 * wait() returns 0 once fd has one of `events` (or an error or hang-up),
 * -ETIMEDOUT when deadline_ms (on pt_proto_now_ms's clock; -1: none) has
 * passed, or any other negative value, which the I/O call returns as it is.
 * A caller uses it to stay responsive while it waits (the tracer checks
 * for signals). */
struct pt_proto_waiter {
    int (*wait)(void *ctx, int fd, short events, int64_t deadline_ms);
    void *ctx;
};

/* pt_proto_write_all, pt_proto_send and pt_proto_recv waiting through w
 * (NULL: as the plain calls). An error from w while writing leaves part of
 * the message written: the stream is then unusable. While reading, bytes
 * already read stay in the decoder, and the call can be repeated. */
int pt_proto_write_all_w(int fd, const void *buf, size_t len, int timeout_ms,
                         const struct pt_proto_waiter *w);
int pt_proto_send_w(int fd, const struct pt_msg *m, int timeout_ms,
                    const struct pt_proto_waiter *w);
int pt_proto_recv_w(int fd, struct pt_proto_decoder *dec, struct pt_msg *out,
                    int timeout_ms, const struct pt_proto_waiter *w);

/* The OP event's encoder, for a stream of them (the op trace sends one per
 * I/O op): pt_op_encode appends the same bytes as pt_msg_encode of a PT_EV_OP
 * message holding *op, at a fraction of the cost. It remembers the encoded
 * start of the message (type, phase, op) for the last few (phase, op) pairs
 * it met, so an event is one copy and its four numbers. phase and op are
 * recognised by address and then compared, so any strings will do; literals
 * hit. Zero-initialise the struct; it owns nothing; one user at a time. */
#define PT_OP_ENC_HEADS 8
#define PT_OP_ENC_HEAD_MAX 64
struct pt_op_encoder {
    struct pt_op_enc_head {
        const char *phase, *op;       /* as last given: recognised by address */
        size_t len;                   /* of bytes; 0: unused */
        size_t phase_at, phase_len;   /* where their texts lie in bytes, */
        size_t op_at, op_len;         /* compared on a hit */
        char bytes[PT_OP_ENC_HEAD_MAX];
    } head[PT_OP_ENC_HEADS];
    unsigned next;                    /* the entry a new pair replaces */
};

/* 0, -EINVAL (NULL pointer), -ENOMEM; on error out is left as it was. */
int pt_op_encode(struct pt_op_encoder *enc, const struct pt_proto_ev_op *op,
                 msgpack_sbuffer *out);

#ifdef __cplusplus
}
#endif

#endif /* PT_PROTO_H */
