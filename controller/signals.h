/*
 * signals.h — polytrace's signal handling: SIGCHLD, SIGINT, SIGWINCH,
 * SIGTERM, SIGHUP, SIGQUIT and SIGTSTP are turned into bytes on a self-pipe that the event
 * loop polls next to the socket and the terminal.
 */
#ifndef PT_SIGNALS_H
#define PT_SIGNALS_H

/* Installs the handlers; 0 or -errno. */
int pt_sig_init(void);

/* The read end of the self-pipe (non-blocking). */
int pt_sig_fd(void);

/* Reads one pending signal number; 0 when none is pending. */
int pt_sig_next(void);

/* Puts a signal number back on the pipe (one taken early, to be handled later). */
void pt_sig_requeue(int sig);

/* Job control: stops polytrace's process group as SIGTSTP's default action
 * would, and returns once continued (SIGCONT), the handler back in place. */
void pt_sig_stop_self(void);

/* Restores default dispositions (before exec in a child). */
void pt_sig_reset_child(void);

#endif
