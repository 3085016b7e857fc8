/*
 * topview.h — what `polytrace top` shows, as lines of text: from a STATS
 * reply and the view's settings to a screen of `height` lines at most
 * `width` wide (controller/topview.c). No terminal here: top.c draws the
 * lines with curses, or prints them (batch mode), and the tests read them.
 */
#ifndef PT_TOPVIEW_H
#define PT_TOPVIEW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pt_proto.h"

#define PT_TOP_SORT_MAX 16
#define PT_TOP_FILTER_MAX 128
#define PT_TOP_THREADS_MAX 256

/* A thread's loop idle time at the previous refresh, for its idle share. */
struct pt_top_prev {
    uint64_t id;
    uint64_t idle_ns;
};

struct pt_top_view {
    pid_t pid;
    char program[256];          /* the program's script */
    double delay;               /* seconds between refreshes */
    char sort[PT_TOP_SORT_MAX];   /* "cpu", "runs", "longest", "waiting", "id" */
    char filter[PT_TOP_FILTER_MAX];
    char status[256];           /* a line of feedback, "" for the key help */
    /* the previous refresh: its uptime and each thread's idle time */
    double prev_uptime;
    struct pt_top_prev prev[PT_TOP_THREADS_MAX];
    size_t nprev;
};

/* The sort keys in the order the keys c, r, l, w, i pick them. */
extern const char *const pt_top_sorts[];

/* Fibers worth asking for on a screen of `height` lines. */
uint32_t pt_top_rows(int height);

/*
 * Renders st into at most height lines of at most width bytes each (each
 * NUL-terminated, in lines[0..], every line width + 1 bytes long). Returns
 * how many lines were written. Remembers this refresh's idle times in v.
 */
int pt_top_render(struct pt_top_view *v, const struct pt_proto_rep_stats *st, char **lines,
                  int width, int height);

#endif
