/* proto_catalog.c — the message catalog: for every message type its wire
 * name, its family and the fields of its payload, as tables that the encoder,
 * the decoder and pt_msg_free() walk. Adding a message = adding a payload
 * struct in pt_proto.h and a few lines here. */
#include <stdatomic.h>
#include <stdlib.h>
#include "proto_catalog.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define FLD(key, kind, type, member) \
    { key, kind, offsetof(type, member), 0, NULL, false }
#define CNT(key, kind, type, member, count) \
    { key, kind, offsetof(type, member), offsetof(type, count), NULL, false }
#define SUB(key, type, member, rec) \
    { key, PT_FK_REC, offsetof(type, member), 0, &rec, false }
#define SUBV(key, type, member, count, rec) \
    { key, PT_FK_RECV, offsetof(type, member), offsetof(type, count), &rec, false }
/* Fields added after the first release: an older peer does not send them,
 * so absence reads as zero, false, nil or an empty array. */
#define OPT(key, kind, type, member) \
    { key, kind, offsetof(type, member), 0, NULL, true }
#define SUBVOPT(key, type, member, count, rec) \
    { key, PT_FK_RECV, offsetof(type, member), offsetof(type, count), &rec, true }
#define REC(name, type, fields) \
    static const struct pt_proto_rec name = { sizeof(type), fields, ARRAY_LEN(fields) }

/* ---- shared records ---- */

static const struct pt_proto_field fiber_fields[] = {
    FLD("id",           PT_FK_U64,  struct pt_proto_fiber, id),
    FLD("parent",       PT_FK_U64,  struct pt_proto_fiber, parent),
    FLD("tag",          PT_FK_NSTR, struct pt_proto_fiber, tag),
    FLD("state",        PT_FK_STR,  struct pt_proto_fiber, state),
    FLD("file",         PT_FK_STR,  struct pt_proto_fiber, file),
    FLD("line",         PT_FK_I32,  struct pt_proto_fiber, line),
    FLD("method",       PT_FK_NSTR, struct pt_proto_fiber, method),
    FLD("wait_op",      PT_FK_NSTR, struct pt_proto_fiber, wait_op),
    FLD("wait_fd",      PT_FK_I32,  struct pt_proto_fiber, wait_fd),
    FLD("wait_timeout", PT_FK_DBL,  struct pt_proto_fiber, wait_timeout),
    FLD("thread",       PT_FK_U64,  struct pt_proto_fiber, thread),
    OPT("has_stats",    PT_FK_BOOL, struct pt_proto_fiber, has_stats),
    OPT("cpu_ns",       PT_FK_U64,  struct pt_proto_fiber, cpu_ns),
    OPT("runs",         PT_FK_U64,  struct pt_proto_fiber, runs),
    OPT("longest_ns",   PT_FK_U64,  struct pt_proto_fiber, longest_ns),
    OPT("wait_ns",      PT_FK_U64,  struct pt_proto_fiber, wait_ns),
    OPT("ops",          PT_FK_U64,  struct pt_proto_fiber, ops),
    OPT("ops_in_flight", PT_FK_U32, struct pt_proto_fiber, ops_in_flight),
    FLD("value",        PT_FK_NSTR, struct pt_proto_fiber, value),
};
REC(fiber_rec, struct pt_proto_fiber, fiber_fields);

static const struct pt_proto_field frame_fields[] = {
    FLD("index", PT_FK_U32, struct pt_proto_frame, index),
    FLD("file",  PT_FK_STR, struct pt_proto_frame, file),
    FLD("line",  PT_FK_I32, struct pt_proto_frame, line),
    FLD("label", PT_FK_STR, struct pt_proto_frame, label),
    OPT("hidden", PT_FK_BOOL, struct pt_proto_frame, hidden),
    OPT("spun_by", PT_FK_U64, struct pt_proto_frame, spun_by),
    FLD("spun_by_tag", PT_FK_NSTR, struct pt_proto_frame, spun_by_tag),
};
REC(frame_rec, struct pt_proto_frame, frame_fields);

static const struct pt_proto_field bp_fields[] = {
    FLD("id",      PT_FK_U32,  struct pt_proto_bp, id),
    FLD("file",    PT_FK_NSTR, struct pt_proto_bp, file),
    FLD("line",    PT_FK_I32,  struct pt_proto_bp, line),
    FLD("method",  PT_FK_NSTR, struct pt_proto_bp, method),
    FLD("cond",    PT_FK_NSTR, struct pt_proto_bp, cond),
    FLD("fiber",   PT_FK_U64,  struct pt_proto_bp, fiber),
    FLD("hits",    PT_FK_U64,  struct pt_proto_bp, hits),
    FLD("pending", PT_FK_BOOL, struct pt_proto_bp, pending),
    FLD("hit_cond", PT_FK_NSTR, struct pt_proto_bp, hit_cond),
    FLD("log",     PT_FK_NSTR, struct pt_proto_bp, log),
};
REC(bp_rec, struct pt_proto_bp, bp_fields);

static const struct pt_proto_field thread_fields[] = {
    FLD("id",       PT_FK_U64,  struct pt_proto_thread, id),
    FLD("name",     PT_FK_NSTR, struct pt_proto_thread, name),
    FLD("status",   PT_FK_STR,  struct pt_proto_thread, status),
    FLD("where",    PT_FK_STR,  struct pt_proto_thread, where),
    FLD("backend",  PT_FK_NSTR, struct pt_proto_thread, backend),
    FLD("fibers",   PT_FK_U64,  struct pt_proto_thread, fibers),
    FLD("runnable", PT_FK_U64,  struct pt_proto_thread, runnable),
    FLD("at",       PT_FK_NSTR, struct pt_proto_thread, at),
};
REC(thread_rec, struct pt_proto_thread, thread_fields);

static const struct pt_proto_field watch_fields[] = {
    FLD("id",    PT_FK_U32,  struct pt_proto_watch, id),
    FLD("expr",  PT_FK_STR,  struct pt_proto_watch, expr),
    FLD("value", PT_FK_NSTR, struct pt_proto_watch, value),
    FLD("hits",  PT_FK_U64,  struct pt_proto_watch, hits),
};
REC(watch_rec, struct pt_proto_watch, watch_fields);

static const struct pt_proto_field req_watch_fields[] = {
    FLD("expr",  PT_FK_NSTR, struct pt_proto_req_watch, expr),
    OPT("frame", PT_FK_U32,  struct pt_proto_req_watch, frame),
    OPT("watch", PT_FK_U32,  struct pt_proto_req_watch, watch),
};
REC(req_watch_rec, struct pt_proto_req_watch, req_watch_fields);

static const struct pt_proto_field rep_watches_fields[] = {
    SUBV("watches", struct pt_proto_rep_watches, watches, nwatches, watch_rec),
};
REC(rep_watches_rec, struct pt_proto_rep_watches, rep_watches_fields);

static const struct pt_proto_field dump_fiber_fields[] = {
    SUB("info", struct pt_proto_dump_fiber, info, fiber_rec),
    SUBV("frames", struct pt_proto_dump_fiber, frames, nframes, frame_rec),
};
REC(dump_fiber_rec, struct pt_proto_dump_fiber, dump_fiber_fields);

/* ---- payloads ---- */

static const struct pt_proto_field hello_fields[] = {
    FLD("version",      PT_FK_U32,  struct pt_proto_hello, version),
    FLD("pid",          PT_FK_I64,  struct pt_proto_hello, pid),
    FLD("ruby_version", PT_FK_STR,  struct pt_proto_hello, ruby_version),
    FLD("backend",      PT_FK_STR,  struct pt_proto_hello, backend),
    CNT("argv",         PT_FK_STRV, struct pt_proto_hello, argv, argc),
    FLD("program",      PT_FK_STR,  struct pt_proto_hello, program),
    FLD("attached",     PT_FK_BOOL, struct pt_proto_hello, attached),
    OPT("observe",      PT_FK_BOOL, struct pt_proto_hello, observe),
    FLD("follow_fork",  PT_FK_NSTR, struct pt_proto_hello, follow_fork),
};
REC(hello_rec, struct pt_proto_hello, hello_fields);

static const struct pt_proto_field req_fiber_fields[] = {
    FLD("fiber", PT_FK_U64, struct pt_proto_req_fiber, fiber),
    OPT("frame", PT_FK_U32, struct pt_proto_req_fiber, frame),
    FLD("expr",  PT_FK_NSTR, struct pt_proto_req_fiber, expr),
};
REC(req_fiber_rec, struct pt_proto_req_fiber, req_fiber_fields);

static const struct pt_proto_field req_fibers_fields[] = {
    FLD("limit", PT_FK_U32, struct pt_proto_req_fibers, limit),
};
REC(req_fibers_rec, struct pt_proto_req_fibers, req_fibers_fields);

static const struct pt_proto_field req_backtrace_fields[] = {
    FLD("fiber", PT_FK_U64, struct pt_proto_req_backtrace, fiber),
    FLD("limit", PT_FK_U32, struct pt_proto_req_backtrace, limit),
};
REC(req_backtrace_rec, struct pt_proto_req_backtrace, req_backtrace_fields);

static const struct pt_proto_field req_eval_fields[] = {
    FLD("fiber", PT_FK_U64, struct pt_proto_req_eval, fiber),
    FLD("frame", PT_FK_U32, struct pt_proto_req_eval, frame),
    FLD("expr",  PT_FK_STR, struct pt_proto_req_eval, expr),
    OPT("limit", PT_FK_U32, struct pt_proto_req_eval, limit),
};
REC(req_eval_rec, struct pt_proto_req_eval, req_eval_fields);

static const struct pt_proto_field req_source_fields[] = {
    FLD("file",  PT_FK_STR, struct pt_proto_req_source, file),
    FLD("first", PT_FK_I32, struct pt_proto_req_source, first),
    FLD("last",  PT_FK_I32, struct pt_proto_req_source, last),
    OPT("code_only", PT_FK_BOOL, struct pt_proto_req_source, code_only),
};
REC(req_source_rec, struct pt_proto_req_source, req_source_fields);

static const struct pt_proto_field req_break_fields[] = {
    FLD("file",   PT_FK_NSTR, struct pt_proto_req_break, file),
    FLD("line",   PT_FK_I32,  struct pt_proto_req_break, line),
    FLD("method", PT_FK_NSTR, struct pt_proto_req_break, method),
    FLD("cond",   PT_FK_NSTR, struct pt_proto_req_break, cond),
    FLD("fiber",  PT_FK_U64,  struct pt_proto_req_break, fiber),
    FLD("hit_cond", PT_FK_NSTR, struct pt_proto_req_break, hit_cond),
    FLD("log",    PT_FK_NSTR, struct pt_proto_req_break, log),
    OPT("bp",     PT_FK_U32,  struct pt_proto_req_break, bp),
};
REC(req_break_rec, struct pt_proto_req_break, req_break_fields);

static const struct pt_proto_field req_delete_fields[] = {
    FLD("bp", PT_FK_U32, struct pt_proto_req_delete, bp),
};
REC(req_delete_rec, struct pt_proto_req_delete, req_delete_fields);

static const struct pt_proto_field req_trace_ops_fields[] = {
    FLD("on",    PT_FK_BOOL, struct pt_proto_req_trace_ops, on),
    FLD("fiber", PT_FK_U64,  struct pt_proto_req_trace_ops, fiber),
};
REC(req_trace_ops_rec, struct pt_proto_req_trace_ops, req_trace_ops_fields);

static const struct pt_proto_field req_set_fields[] = {
    FLD("name",  PT_FK_STR, struct pt_proto_req_set, name),
    FLD("value", PT_FK_STR, struct pt_proto_req_set, value),
};
REC(req_set_rec, struct pt_proto_req_set, req_set_fields);

static const struct pt_proto_field rep_error_fields[] = {
    FLD("code",    PT_FK_I32, struct pt_proto_rep_error, code),
    FLD("message", PT_FK_STR, struct pt_proto_rep_error, message),
};
REC(rep_error_rec, struct pt_proto_rep_error, rep_error_fields);

static const struct pt_proto_field rep_fiber_info_fields[] = {
    SUB("fiber", struct pt_proto_rep_fiber_info, fiber, fiber_rec),
};
REC(rep_fiber_info_rec, struct pt_proto_rep_fiber_info, rep_fiber_info_fields);

static const struct pt_proto_field rep_fibers_fields[] = {
    FLD("total", PT_FK_U64, struct pt_proto_rep_fibers, total),
    SUBV("fibers", struct pt_proto_rep_fibers, fibers, nfibers, fiber_rec),
    SUBVOPT("threads", struct pt_proto_rep_fibers, threads, nthreads, thread_rec),
};
REC(rep_fibers_rec, struct pt_proto_rep_fibers, rep_fibers_fields);

static const struct pt_proto_field rep_frames_fields[] = {
    FLD("fiber", PT_FK_U64, struct pt_proto_rep_frames, fiber),
    SUBV("frames", struct pt_proto_rep_frames, frames, nframes, frame_rec),
};
REC(rep_frames_rec, struct pt_proto_rep_frames, rep_frames_fields);

static const struct pt_proto_field text_fields[] = {
    CNT("text", PT_FK_TEXT, struct pt_proto_text, text, text_len),
    OPT("full_len", PT_FK_U64, struct pt_proto_text, full_len),
};
REC(text_rec, struct pt_proto_text, text_fields);

static const struct pt_proto_field rep_lines_fields[] = {
    FLD("file",  PT_FK_STR,  struct pt_proto_rep_lines, file),
    FLD("first", PT_FK_I32,  struct pt_proto_rep_lines, first),
    CNT("lines", PT_FK_STRV, struct pt_proto_rep_lines, lines, nlines),
};
REC(rep_lines_rec, struct pt_proto_rep_lines, rep_lines_fields);

static const struct pt_proto_field rep_bp_fields[] = {
    SUB("bp", struct pt_proto_rep_bp, bp, bp_rec),
};
REC(rep_bp_rec, struct pt_proto_rep_bp, rep_bp_fields);

static const struct pt_proto_field rep_bps_fields[] = {
    SUBV("bps", struct pt_proto_rep_bps, bps, nbps, bp_rec),
};
REC(rep_bps_rec, struct pt_proto_rep_bps, rep_bps_fields);

static const struct pt_proto_field rep_dump_fields[] = {
    SUBV("fibers", struct pt_proto_rep_dump, fibers, nfibers, dump_fiber_rec),
    SUBVOPT("threads", struct pt_proto_rep_dump, threads, nthreads, thread_rec),
};
REC(rep_dump_rec, struct pt_proto_rep_dump, rep_dump_fields);

static const struct pt_proto_field ev_stopped_fields[] = {
    FLD("reason",    PT_FK_STR,  struct pt_proto_ev_stopped, reason),
    FLD("fiber",     PT_FK_U64,  struct pt_proto_ev_stopped, fiber),
    FLD("tag",       PT_FK_NSTR, struct pt_proto_ev_stopped, tag),
    FLD("thread",    PT_FK_U64,  struct pt_proto_ev_stopped, thread),
    FLD("file",      PT_FK_STR,  struct pt_proto_ev_stopped, file),
    FLD("line",      PT_FK_I32,  struct pt_proto_ev_stopped, line),
    FLD("method",    PT_FK_NSTR, struct pt_proto_ev_stopped, method),
    FLD("bp",        PT_FK_U32,  struct pt_proto_ev_stopped, bp),
    FLD("exception", PT_FK_NSTR, struct pt_proto_ev_stopped, exception),
    OPT("frame",     PT_FK_U32,  struct pt_proto_ev_stopped, frame),
    FLD("value",     PT_FK_NSTR, struct pt_proto_ev_stopped, value),
    FLD("note",      PT_FK_NSTR, struct pt_proto_ev_stopped, note),
    OPT("watch",     PT_FK_U32,  struct pt_proto_ev_stopped, watch),
    FLD("old_value", PT_FK_NSTR, struct pt_proto_ev_stopped, old_value),
};
REC(ev_stopped_rec, struct pt_proto_ev_stopped, ev_stopped_fields);

static const struct pt_proto_field ev_fiber_fields[] = {
    FLD("what",   PT_FK_STR, struct pt_proto_ev_fiber, what),
    FLD("fiber",  PT_FK_U64, struct pt_proto_ev_fiber, fiber),
    FLD("parent", PT_FK_U64, struct pt_proto_ev_fiber, parent),
};
REC(ev_fiber_rec, struct pt_proto_ev_fiber, ev_fiber_fields);

static const struct pt_proto_field ev_op_fields[] = {
    FLD("phase",  PT_FK_STR, struct pt_proto_ev_op, phase),
    FLD("op",     PT_FK_STR, struct pt_proto_ev_op, op),
    FLD("fiber",  PT_FK_U64, struct pt_proto_ev_op, fiber),
    FLD("fd",     PT_FK_I32, struct pt_proto_ev_op, fd),
    FLD("len",    PT_FK_I64, struct pt_proto_ev_op, len),
    FLD("result", PT_FK_I64, struct pt_proto_ev_op, result),
};
REC(ev_op_rec, struct pt_proto_ev_op, ev_op_fields);

static const struct pt_proto_field ev_exited_fields[] = {
    FLD("status", PT_FK_I32, struct pt_proto_ev_exited, status),
    FLD("signal", PT_FK_I32, struct pt_proto_ev_exited, signal),
};
REC(ev_exited_rec, struct pt_proto_ev_exited, ev_exited_fields);

static const struct pt_proto_field ev_forked_fields[] = {
    FLD("pid",    PT_FK_I64, struct pt_proto_ev_forked, pid),
    FLD("follow", PT_FK_STR, struct pt_proto_ev_forked, follow),
};
REC(ev_forked_rec, struct pt_proto_ev_forked, ev_forked_fields);

static const struct pt_proto_field req_vars_fields[] = {
    FLD("fiber", PT_FK_U64,  struct pt_proto_req_vars, fiber),
    FLD("frame", PT_FK_U32,  struct pt_proto_req_vars, frame),
    FLD("scope", PT_FK_STR,  struct pt_proto_req_vars, scope),
    FLD("ref",   PT_FK_U64,  struct pt_proto_req_vars, ref),
    FLD("expr",  PT_FK_NSTR, struct pt_proto_req_vars, expr),
    FLD("start", PT_FK_U32,  struct pt_proto_req_vars, start),
    FLD("count", PT_FK_U32,  struct pt_proto_req_vars, count),
};
REC(req_vars_rec, struct pt_proto_req_vars, req_vars_fields);

static const struct pt_proto_field req_setvar_fields[] = {
    FLD("fiber", PT_FK_U64, struct pt_proto_req_setvar, fiber),
    FLD("frame", PT_FK_U32, struct pt_proto_req_setvar, frame),
    FLD("scope", PT_FK_STR, struct pt_proto_req_setvar, scope),
    FLD("ref",   PT_FK_U64, struct pt_proto_req_setvar, ref),
    FLD("name",  PT_FK_STR, struct pt_proto_req_setvar, name),
    FLD("expr",  PT_FK_STR, struct pt_proto_req_setvar, expr),
};
REC(req_setvar_rec, struct pt_proto_req_setvar, req_setvar_fields);

static const struct pt_proto_field var_fields[] = {
    FLD("name",    PT_FK_STR, struct pt_proto_var, name),
    FLD("value",   PT_FK_STR, struct pt_proto_var, value),
    FLD("type",    PT_FK_STR, struct pt_proto_var, type),
    FLD("ref",     PT_FK_U64, struct pt_proto_var, ref),
    FLD("named",   PT_FK_U32, struct pt_proto_var, named),
    FLD("indexed", PT_FK_U32, struct pt_proto_var, indexed),
};
REC(var_rec, struct pt_proto_var, var_fields);

static const struct pt_proto_field rep_vars_fields[] = {
    FLD("total", PT_FK_U64, struct pt_proto_rep_vars, total),
    SUBV("vars", struct pt_proto_rep_vars, vars, nvars, var_rec),
};
REC(rep_vars_rec, struct pt_proto_rep_vars, rep_vars_fields);

static const struct pt_proto_field req_stats_fields[] = {
    FLD("limit",  PT_FK_U32,  struct pt_proto_req_stats, limit),
    FLD("sort",   PT_FK_STR,  struct pt_proto_req_stats, sort),
    FLD("filter", PT_FK_NSTR, struct pt_proto_req_stats, filter),
};
REC(req_stats_rec, struct pt_proto_req_stats, req_stats_fields);

static const struct pt_proto_field thread_stats_fields[] = {
    FLD("id",            PT_FK_U64,  struct pt_proto_thread_stats, id),
    FLD("name",          PT_FK_NSTR, struct pt_proto_thread_stats, name),
    FLD("fibers",        PT_FK_U64,  struct pt_proto_thread_stats, fibers),
    FLD("runnable",      PT_FK_U64,  struct pt_proto_thread_stats, runnable),
    FLD("waiting",       PT_FK_U64,  struct pt_proto_thread_stats, waiting),
    FLD("matched",       PT_FK_U64,  struct pt_proto_thread_stats, matched),
    FLD("cpu_ns",        PT_FK_U64,  struct pt_proto_thread_stats, cpu_ns),
    FLD("switches",      PT_FK_U64,  struct pt_proto_thread_stats, switches),
    FLD("idle_ns",       PT_FK_U64,  struct pt_proto_thread_stats, idle_ns),
    FLD("ops_in_flight", PT_FK_U64,  struct pt_proto_thread_stats, ops_in_flight),
    FLD("timers",        PT_FK_U64,  struct pt_proto_thread_stats, timers),
};
REC(thread_stats_rec, struct pt_proto_thread_stats, thread_stats_fields);

static const struct pt_proto_field rep_stats_fields[] = {
    FLD("total",   PT_FK_U64, struct pt_proto_rep_stats, total),
    FLD("matched", PT_FK_U64, struct pt_proto_rep_stats, matched),
    FLD("uptime",  PT_FK_DBL, struct pt_proto_rep_stats, uptime),
    SUBV("threads", struct pt_proto_rep_stats, threads, nthreads, thread_stats_rec),
    SUBV("fibers",  struct pt_proto_rep_stats, fibers, nfibers, fiber_rec),
};
REC(rep_stats_rec, struct pt_proto_rep_stats, rep_stats_fields);

/* ---- the catalog ---- */

static const struct pt_proto_msgdesc catalog[] = {
    { PT_MSG_HELLO,        "hello",             PT_KIND_HELLO,   &hello_rec },
    { PT_REQ_CONTINUE,     "continue",          PT_KIND_REQUEST, NULL },
    { PT_REQ_STEP,         "step",              PT_KIND_REQUEST, &req_fiber_rec },
    { PT_REQ_SKIP,         "skip",              PT_KIND_REQUEST, &req_fiber_rec },
    { PT_REQ_UP,           "up",                PT_KIND_REQUEST, &req_fiber_rec },
    { PT_REQ_PAUSE,        "pause",             PT_KIND_REQUEST, NULL },
    { PT_REQ_SWITCH,       "switch",            PT_KIND_REQUEST, &req_fiber_rec },
    { PT_REQ_FIBERS,       "fibers",            PT_KIND_REQUEST, &req_fibers_rec },
    { PT_REQ_BACKTRACE,    "backtrace",         PT_KIND_REQUEST, &req_backtrace_rec },
    { PT_REQ_EVAL,         "eval",              PT_KIND_REQUEST, &req_eval_rec },
    { PT_REQ_SOURCE,       "source",            PT_KIND_REQUEST, &req_source_rec },
    { PT_REQ_BREAK,        "break",             PT_KIND_REQUEST, &req_break_rec },
    { PT_REQ_DELETE,       "delete",            PT_KIND_REQUEST, &req_delete_rec },
    { PT_REQ_BREAKPOINTS,  "breakpoints",       PT_KIND_REQUEST, NULL },
    { PT_REQ_TRACE_OPS,    "trace_ops",         PT_KIND_REQUEST, &req_trace_ops_rec },
    { PT_REQ_SET,          "set",               PT_KIND_REQUEST, &req_set_rec },
    { PT_REQ_DETACH,       "detach",            PT_KIND_REQUEST, NULL },
    { PT_REQ_KILL,         "kill",              PT_KIND_REQUEST, NULL },
    { PT_REQ_DUMP,         "dump",              PT_KIND_REQUEST, NULL },
    { PT_REQ_VARS,         "vars",              PT_KIND_REQUEST, &req_vars_rec },
    { PT_REQ_SETVAR,       "setvar",            PT_KIND_REQUEST, &req_setvar_rec },
    { PT_REQ_RUNQUEUE,     "runqueue",          PT_KIND_REQUEST, &req_fiber_rec },
    { PT_REQ_WATCH,        "watch",             PT_KIND_REQUEST, &req_watch_rec },
    { PT_REQ_UNWATCH,      "unwatch",           PT_KIND_REQUEST, &req_watch_rec },
    { PT_REQ_WATCHES,      "watches",           PT_KIND_REQUEST, NULL },
    { PT_REP_OK,           "ok",                PT_KIND_REPLY,   NULL },
    { PT_REP_ERROR,        "error",             PT_KIND_REPLY,   &rep_error_rec },
    { PT_REP_FIBER_INFO,   "fiber_info",        PT_KIND_REPLY,   &rep_fiber_info_rec },
    { PT_REP_FIBERS,       "fibers-reply",      PT_KIND_REPLY,   &rep_fibers_rec },
    { PT_REP_FRAMES,       "frames",            PT_KIND_REPLY,   &rep_frames_rec },
    { PT_REP_VALUE,        "value",             PT_KIND_REPLY,   &text_rec },
    { PT_REP_LINES,        "lines",             PT_KIND_REPLY,   &rep_lines_rec },
    { PT_REP_BREAKPOINT,   "breakpoint",        PT_KIND_REPLY,   &rep_bp_rec },
    { PT_REP_BREAKPOINTS,  "breakpoints-reply", PT_KIND_REPLY,   &rep_bps_rec },
    { PT_REP_DUMP,         "dump-reply",        PT_KIND_REPLY,   &rep_dump_rec },
    { PT_REP_VARS,         "vars-reply",        PT_KIND_REPLY,   &rep_vars_rec },
    { PT_REQ_STATS,        "stats",             PT_KIND_REQUEST, &req_stats_rec },
    { PT_REP_STATS,        "stats-reply",       PT_KIND_REPLY,   &rep_stats_rec },
    { PT_REP_WATCHES,      "watches-reply",     PT_KIND_REPLY,   &rep_watches_rec },
    { PT_EV_STOPPED,       "stopped",           PT_KIND_EVENT,   &ev_stopped_rec },
    { PT_EV_RUNNING,       "running",           PT_KIND_EVENT,   NULL },
    { PT_EV_FIBER,         "fiber_event",       PT_KIND_EVENT,   &ev_fiber_rec },
    { PT_EV_OP,            "op",                PT_KIND_EVENT,   &ev_op_rec },
    { PT_EV_OUTPUT,        "output",            PT_KIND_EVENT,   &text_rec },
    { PT_EV_EXITED,        "exited",            PT_KIND_EVENT,   &ev_exited_rec },
    { PT_EV_FORKED,        "forked",            PT_KIND_EVENT,   &ev_forked_rec },
};

/*
 * The entry last found: a stream of one kind of message (OP events, a
 * trace's many) looks the same entry up several times per message (encode,
 * free, kind) without the scan. Any thread; a stale guess is only a miss.
 */
static _Atomic(const struct pt_proto_msgdesc *) last_found;

const struct pt_proto_msgdesc *pt_proto_msgdesc(enum pt_msg_type type)
{
    const struct pt_proto_msgdesc *d = atomic_load_explicit(&last_found, memory_order_relaxed);

    if (d && d->type == type)
        return d;
    for (size_t i = 0; i < ARRAY_LEN(catalog); i++) {
        if (catalog[i].type == type) {
            atomic_store_explicit(&last_found, &catalog[i], memory_order_relaxed);
            return &catalog[i];
        }
    }
    return NULL;
}

enum pt_msg_kind pt_msg_kind(enum pt_msg_type type)
{
    const struct pt_proto_msgdesc *d = pt_proto_msgdesc(type);
    return d ? d->kind : PT_KIND_INVALID;
}

const char *pt_msg_type_name(enum pt_msg_type type)
{
    const struct pt_proto_msgdesc *d = pt_proto_msgdesc(type);
    return d ? d->name : "unknown";
}

void pt_proto_rec_free(const struct pt_proto_rec *rec, void *p)
{
    char *base = p;
    for (size_t i = 0; i < rec->nfields; i++) {
        const struct pt_proto_field *f = &rec->fields[i];
        switch (f->kind) {
        case PT_FK_STR:
        case PT_FK_NSTR:
        case PT_FK_TEXT:
            free(*(char **)(base + f->off));
            break;
        case PT_FK_STRV: {
            char **v = *(char ***)(base + f->off);
            size_t n = *(size_t *)(base + f->count_off);
            for (size_t j = 0; v && j < n; j++)
                free(v[j]);
            free(v);
            break;
        }
        case PT_FK_REC:
            pt_proto_rec_free(f->rec, base + f->off);
            break;
        case PT_FK_RECV: {
            char *v = *(char **)(base + f->off);
            size_t n = *(size_t *)(base + f->count_off);
            for (size_t j = 0; v && j < n; j++)
                pt_proto_rec_free(f->rec, v + j * f->rec->size);
            free(v);
            break;
        }
        default:
            break;
        }
    }
}
