/*
 * terminal.h — who owns the terminal. While the program runs its process
 * group is the terminal's foreground group; while it is stopped polytrace's
 * is. Each side keeps its own terminal modes across the hand-overs, and
 * polytrace's original modes are restored on every exit path.
 */
#ifndef PT_TERMINAL_H
#define PT_TERMINAL_H

#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>

struct pt_term {
    int fd;                    /* the controlling terminal (stdin), or -1 */
    pid_t own_pgrp;            /* polytrace's process group */
    bool have_own;             /* own_modes and orig_modes saved */
    struct termios orig_modes; /* the terminal's modes at startup */
    struct termios own_modes;  /* polytrace's: orig_modes plus NOFLSH, so that
                                  Ctrl-C at the prompt never discards the
                                  fresh prompt polytrace writes */
    bool have_prog;
    struct termios prog_modes; /* the program's modes when it last stopped */
    bool given;                /* the program has the terminal now */
};

/* Looks at stdin; if it is a terminal, saves its modes and ignores SIGTTOU
 * (so tcsetpgrp works from the background). Always 0. */
int pt_term_init(struct pt_term *t);

/* True if polytrace has a terminal to hand over. */
bool pt_term_active(const struct pt_term *t);

/* Gives the terminal to process group pgrp (restoring that program's
 * modes from its last stop). Only the first call after a take acts, so the
 * program's own mode changes while it runs are left alone. 0 or -errno. */
int pt_term_give(struct pt_term *t, pid_t pgrp);

/* Takes the terminal back for polytrace, saving the program's modes and
 * restoring polytrace's; a no-op unless the program has it (so readline's
 * modes at the prompt are left alone). 0 or -errno. */
int pt_term_take(struct pt_term *t);

/* Restores the terminal's original modes (exit paths, suspend). */
void pt_term_restore(struct pt_term *t);

/* polytrace's modes if it is in the foreground (the REPL's start, after a
 * suspend). */
void pt_term_resume(struct pt_term *t);

#endif
