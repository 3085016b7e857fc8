/*
 * handlers.h — the REPL commands: the pt_cmd_run_fn functions the command
 * table points at (controller/handlers.c). They hand their arguments to the
 * session layer (dbg.h), which decides what a command means, and print the
 * outcome through format.c.
 */
#ifndef PT_HANDLERS_H
#define PT_HANDLERS_H

#include "commands.h"

int pt_hdl_step(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_skip(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_up(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_continue(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_switch(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_runqueue(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_fibers(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_processes(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_process(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_backtrace(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_frame(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_upframe(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_downframe(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_list(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_print(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_break(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_delete(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_breakpoints(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_watch(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_unwatch(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_display(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_undisplay(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_catch(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_trace(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_set(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_hog(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_pause(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_detach(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_quit(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_kill(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_source(struct pt_ctl *ctl, const struct pt_cmd_args *a);
int pt_hdl_help(struct pt_ctl *ctl, const struct pt_cmd_args *a);

#endif
