/*
 * args.h — argument parsers for the REPL commands, one per argument shape
 * (none, a fiber, a number, an expression, a breakpoint spec ...). Each has
 * the pt_cmd_parse_fn signature and is named in the command table.
 */
#ifndef PT_ARGS_H
#define PT_ARGS_H

#include "commands.h"

int pt_args_none(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_fiber(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_opt_fiber(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_backtrace(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_number(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_opt_number(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_expr(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_break(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_trace(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_set(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_hog(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_fibers(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);

/* "50ms", "0.2s", "500us", "50" (ms): microseconds, 1 ms to 1 hour. 0 or -EINVAL. */
int pt_args_duration(const char *s, long *us);
int pt_args_catch(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_switch(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_opt_expr(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_path(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);
int pt_args_topic(const char *args, struct pt_cmd_args *out, char *err, size_t errlen);

/* True if s names a fiber: a positive id, or a tag (optionally ":tag"). */
bool pt_args_is_fiber_ref(const char *s);

#endif
