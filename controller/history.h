/*
 * history.h — the REPL's GNU readline history file: $POLYTRACE_HISTORY, or
 * ~/.polytrace_history; loaded at start, each line appended as it is typed
 * (so a killed polytrace loses nothing), trimmed to PT_HIST_MAX lines.
 */
#ifndef PT_HISTORY_H
#define PT_HISTORY_H

#include <stddef.h>

#define PT_HIST_MAX 1000

/* The history file's path into buf; 0, or -ENOENT when there is no home. */
int pt_hist_path(char *buf, size_t len);

/* Loads the file (creating it mode 0600 if missing). 0 or -errno. */
int pt_hist_init(void);

/* Records a line (not empty, not a repeat of the previous one). */
void pt_hist_add(const char *line);

#endif
