/*
 * top.h — `polytrace top PID`: the live view of a running program's fibers
 * (controller/top.c).
 */
#ifndef PT_TOP_H
#define PT_TOP_H

#include <stdbool.h>
#include <sys/types.h>

struct pt_top_opt {
    pid_t pid;
    double delay;         /* seconds between refreshes (default 1) */
    const char *sort;     /* "cpu" (default), "runs", "longest", "waiting", "id" */
    const char *filter;   /* NULL: every fiber */
    bool batch;           /* print screens instead of drawing one */
    long count;           /* batch: how many screens (0: until the program ends) */
};

/* Runs top; returns polytrace's exit code (errors printed). */
int pt_top_run(const struct pt_top_opt *o);

#endif
