/*
 * script.h — commands that do not come from the keyboard: the init file
 * (~/.polytracerc), `-x FILE` and `-ex CMD` from the command line, and
 * `source FILE` at the prompt. They wait in one queue, in order, and run
 * one at a time whenever the program is stopped (so a `continue` in a file
 * lets the program run, and the next line runs at the next stop).
 *
 * Each file (and each -ex) is a "source". A line that fails stops the rest
 * of its file and of every file that sourced it; other sources go on.
 * The queue itself never prints: pt_script_load reports by return value.
 */
#ifndef PT_SCRIPT_H
#define PT_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

/* How deep `source` may nest (a file sourcing itself ends here). */
#define PT_SCRIPT_DEPTH_MAX 16
/* The longest command line a file may hold. */
#define PT_SCRIPT_LINE_MAX 4096

struct pt_script_line {
    char *text;        /* the command, trimmed */
    char *origin;      /* the file as named, or "-ex" */
    int lineno;        /* 0 for -ex */
    unsigned root;     /* the top-level source this came from */
    int depth;         /* 0 for a top-level source */
};

struct pt_script {
    struct pt_script_line *v;   /* v[0] runs next */
    size_t n, cap;
    unsigned next_root;
};

void pt_script_init(struct pt_script *s);
void pt_script_free(struct pt_script *s);

/*
 * Queues the commands of file `path`: at the end as a new top-level source
 * when `from` is NULL, else (a `source` command run from the line `from`)
 * at the front, so that they run next, as part of from's source. Blank
 * lines and lines starting with '#' are skipped. 0, or -errno from opening
 * or reading it, -ELOOP past PT_SCRIPT_DEPTH_MAX, -E2BIG when a line is
 * longer than PT_SCRIPT_LINE_MAX (*bad_line says which); nothing is queued
 * on error.
 */
int pt_script_load(struct pt_script *s, const char *path, const struct pt_script_line *from,
                   int *bad_line);

/* Queues one -ex command as its own top-level source. 0 or -ENOMEM. */
int pt_script_add_command(struct pt_script *s, const char *text);

bool pt_script_pending(const struct pt_script *s);

/* Takes the next line into *out (the caller frees it with
 * pt_script_line_free). false when the queue is empty. */
bool pt_script_next(struct pt_script *s, struct pt_script_line *out);

/* The line `failed` failed: drops what is left of its top-level source.
 * Returns how many lines were dropped. */
size_t pt_script_abandon(struct pt_script *s, const struct pt_script_line *failed);

/* Drops every queued line; returns how many. */
size_t pt_script_clear(struct pt_script *s);

void pt_script_line_free(struct pt_script_line *l);

#endif
