/*
 * ctl.h — the controller's state for one debugging session, shared by the
 * event loop (repl.c), the command handlers (handlers.c), the event printer
 * (events.c) and completion: the connection, the program, who owns the
 * terminal, and what the user has selected (fiber, frame, listing position).
 */
#ifndef PT_CTL_H
#define PT_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "commands.h"
#include "script.h"
#include "session.h"
#include "terminal.h"

#define PT_CTL_CATCH_MAX 64
#define PT_CTL_CATCH_NAME_MAX 256

enum pt_ctl_mode {
    PT_CTL_LAUNCHED,   /* polytrace started the program (our child) */
    PT_CTL_ATTACHED    /* polytrace attach PID; the program has its own terminal */
};

enum pt_ctl_state {
    PT_CTL_STOPPED,    /* the program waits for commands */
    PT_CTL_RUNNING,    /* the program runs; events may arrive */
    PT_CTL_DONE        /* the session is over; exit_code says how */
};

struct pt_ctl {
    enum pt_ctl_mode mode;
    enum pt_ctl_state state;
    struct pt_sess sess;
    pid_t pid;                 /* the program */
    bool child;                /* we launched it and must reap it */
    struct pt_term term;
    FILE *out;
    int exit_code;

    /* Where the program stopped, and what the user selected since. */
    uint64_t stop_fiber;       /* fiber of the last stop */
    uint64_t sel_fiber;        /* selected fiber; step commands follow it */
    long frame;                /* selected frame of sel_fiber */
    char frame_file[4096];     /* location of the selected frame */
    int frame_line;
    char list_file[4096];      /* `list` continues here */
    int list_next;             /* first line of the next `list`; 0 = around frame_line */

    /* An empty line repeats this step command. */
    const struct pt_cmd *last_step;

    bool exited_seen;          /* an EXITED event arrived */
    int exited_status, exited_signal;
    bool pause_pending;        /* PAUSE sent while running */

    /* Exception classes caught (`catch`), as the tracer accepted them. */
    char catches[PT_CTL_CATCH_MAX][PT_CTL_CATCH_NAME_MAX];
    int ncatches;

    /* Commands from the init file, -x, -ex and `source`, run while stopped. */
    struct pt_script script;
    const struct pt_script_line *running_line;  /* the scripted line running now */
    bool cmd_failed;           /* the command running now printed an error */
};

/* Prints a one-line error for the user ("error: ...", with "FILE:LINE: "
 * first while a line of a command file runs) and marks the running command
 * as failed. */
void pt_ctl_error(struct pt_ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Handles one message that is not a reply to a request (events.c). */
void pt_ctl_handle_event(struct pt_ctl *ctl, struct pt_msg *m);

/* The connection is gone (EOF or error): decide how the session ends (events.c). */
void pt_ctl_connection_lost(struct pt_ctl *ctl, int err);

/* The program (our child) changed state: waitpid status (events.c). */
void pt_ctl_child_exited(struct pt_ctl *ctl, int status);

/* Shows source around file:line, marking line (events.c). */
void pt_ctl_show_source(struct pt_ctl *ctl, const char *file, int line, int first, int last);

/* Sends a request, waits for its reply; on failure prints why and returns <0.
 * A transport failure also ends the session via pt_ctl_connection_lost. */
int pt_ctl_request(struct pt_ctl *ctl, struct pt_msg *req, struct pt_msg *reply);

/* Runs one input line (the REPL's line handler; handlers.c). */
void pt_ctl_run_line(struct pt_ctl *ctl, const char *line);

/* Runs the next queued scripted line, echoed first; false when none is
 * queued. A failing line from a file drops the rest of its file (handlers.c). */
bool pt_ctl_run_scripted(struct pt_ctl *ctl);

/* The interactive loop until the session ends; returns the exit code (repl.c). */
int pt_repl_run(struct pt_ctl *ctl);

#endif
