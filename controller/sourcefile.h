/*
 * sourcefile.h — reading source lines for `list` and stop locations, from
 * the file system (relative paths resolved against the program's working
 * directory through /proc/PID/cwd).
 */
#ifndef PT_SOURCEFILE_H
#define PT_SOURCEFILE_H

#include <stddef.h>
#include <sys/types.h>

struct pt_src_lines {
    char **lines;   /* without newlines */
    size_t n;
    int first;      /* line number of lines[0] */
    int total;      /* lines in the file */
};

/*
 * Reads lines first..last (1-based, clipped to the file) of file. A
 * relative file is looked up under /proc/<pid>/cwd when pid > 0. 0, or
 * -errno (-ERANGE when first is past the end). Free with pt_src_free.
 */
int pt_src_read(const char *file, pid_t pid, int first, int last, struct pt_src_lines *out);

void pt_src_free(struct pt_src_lines *l);

/* The window around line: [line - before, line + after], clipped at 1. */
void pt_src_window(int line, int before, int after, int *first, int *last);

#endif
