/*
 * ctl.h — the REPL front end's state, shared by the event loop (repl.c),
 * the command handlers (handlers.c), the session callbacks that print
 * (events.c) and completion: the session (dbg.h), who owns the terminal,
 * and the listing position.
 */
#ifndef PT_CTL_H
#define PT_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "commands.h"
#include "dbg.h"
#include "script.h"
#include "terminal.h"

/*
 * The REPL front end: the session it drives (what commands mean lives in
 * dbg*.c), the terminal, where output goes, and what only a line-oriented
 * user interface needs (the listing position, the step an empty line
 * repeats).
 */
struct pt_ctl {
    struct pt_dbg dbg;
    struct pt_term term;
    FILE *out;

    char list_file[4096];      /* `list` continues here */
    int list_next;             /* first line of the next `list`; 0 = around the frame's line */

    /* An empty line repeats this step command. */
    const struct pt_cmd *last_step;

    /* Commands from the init file, -x, -ex and `source`, run while stopped. */
    struct pt_script script;
    const struct pt_script_line *running_line;  /* the scripted line running now */
    bool cmd_failed;           /* the command running now printed an error */
};

/* Prints a one-line error for the user ("error: ...", with "FILE:LINE: "
 * first while a line of a command file runs) and marks the running command
 * as failed. */
void pt_ctl_error(struct pt_ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the session's last failure as pt_ctl_error does (nothing if it
 * was already told, e.g. the session ended). */
void pt_ctl_report(struct pt_ctl *ctl);

/* Starts the session for ctl: the session's callbacks print to ctl->out
 * and hand the terminal over (events.c). */
void pt_ctl_init(struct pt_ctl *ctl, enum pt_dbg_mode mode);

/* Shows the displays' values (only: one of them; 0: all) (events.c). */
void pt_ctl_show_displays(struct pt_ctl *ctl, size_t only);
/* "prefork.rb:14 in handle (breakpoint 1)": where process inf stopped (ctl.c). */
void pt_ctl_where_stopped(struct pt_ctl *ctl, const struct pt_inf *inf);

/* Shows source around file:line, marking line (ctl.c). */
void pt_ctl_show_source(struct pt_ctl *ctl, const char *file, int line, int first, int last);

/* The session's ui->interrupted: Ctrl-C gives up waiting for a reply;
 * other signals read meanwhile are kept (ctl.c) ... */
bool pt_ctl_interrupted(void *ctx);

/* ... and go back on the signal pipe for the loop here. */
void pt_ctl_requeue_signals(void);

/* Runs one input line (the REPL's line handler; handlers.c). */
void pt_ctl_run_line(struct pt_ctl *ctl, const char *line);

/* Runs the next queued scripted line, echoed first; false when none is
 * queued. A failing line from a file drops the rest of its file (handlers.c). */
bool pt_ctl_run_scripted(struct pt_ctl *ctl);

/* The interactive loop until the session ends; returns the exit code (repl.c). */
int pt_repl_run(struct pt_ctl *ctl);

#endif
