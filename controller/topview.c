/*
 * topview.c — `polytrace top`'s screen as lines of text. Two lines of
 * totals (the process, every fiber by state, the sort and the filter), the
 * column heads, then per thread a line of its loop's figures (fibers,
 * switches, how much of the time since the last refresh its loop was idle,
 * ops in flight, timers) followed by its fibers among those the tracer sent
 * (the first in sort order across all threads, so a busy thread's fibers
 * fill the screen), and a last line: the keys, or what just happened.
 */
#include "topview.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "statfmt.h"

const char *const pt_top_sorts[] = { "cpu", "runs", "longest", "waiting", "id", NULL };

/* Lines that are not fibers: two of totals, the heads, the keys. */
#define FIXED_LINES 4

uint32_t pt_top_rows(int height)
{
    return height > FIXED_LINES + 1 ? (uint32_t)(height - FIXED_LINES - 1) : 1;
}

static void uptime(double s, char *buf, size_t len)
{
    unsigned long t = s > 0 ? (unsigned long)s : 0;

    if (t < 3600)
        snprintf(buf, len, "%lum%02lus", t / 60, t % 60);
    else if (t < 86400)
        snprintf(buf, len, "%luh%02lum", t / 3600, t / 60 % 60);
    else
        snprintf(buf, len, "%lud%02luh", t / 86400, t / 3600 % 24);
}

/* The share of the time since the last refresh thread t's loop was idle. */
static double idle_share(const struct pt_top_view *v, const struct pt_proto_thread_stats *t,
                         double now)
{
    double base_t = 0, base_idle = 0;

    for (size_t i = 0; i < v->nprev; i++)
        if (v->prev[i].id == t->id && v->prev_uptime > 0 && now > v->prev_uptime) {
            base_t = v->prev_uptime;
            base_idle = (double)v->prev[i].idle_ns;
        }
    if (now <= base_t)
        return 0;
    double share = ((double)t->idle_ns - base_idle) / 1e9 / (now - base_t) * 100.0;
    return share < 0 ? 0 : share > 100 ? 100 : share;
}

static void remember(struct pt_top_view *v, const struct pt_proto_rep_stats *st)
{
    v->nprev = 0;
    for (size_t i = 0; i < st->nthreads && v->nprev < PT_TOP_THREADS_MAX; i++) {
        v->prev[v->nprev].id = st->threads[i].id;
        v->prev[v->nprev++].idle_ns = st->threads[i].idle_ns;
    }
    v->prev_uptime = st->uptime;
}

int pt_top_render(struct pt_top_view *v, const struct pt_proto_rep_stats *st, char **lines,
                  int width, int height)
{
    char up[32], a[32], b[32], c[32], d[32], row[512];
    uint64_t runnable = 0, waiting = 0, running = 0;
    size_t w = (size_t)width + 1;
    int n = 0;

    if (height < 1 || width < 1)
        return 0;
    for (size_t i = 0; i < st->nthreads; i++) {
        runnable += st->threads[i].runnable;
        waiting += st->threads[i].waiting;
        running += st->threads[i].fibers - st->threads[i].runnable - st->threads[i].waiting;
    }
    uptime(st->uptime, up, sizeof up);
    snprintf(lines[n++], w, "polytrace top - process %ld (%s) - up %s - every %.1fs",
             (long)v->pid, v->program, up, v->delay);
    if (n < height) {
        int o = snprintf(lines[n], w, "%s fibers: %s running, %s runnable, %s waiting; %zu thread%s; sort: %s",
                         pt_fmt_count(st->total, a, sizeof a), pt_fmt_count(running, b, sizeof b),
                         pt_fmt_count(runnable, c, sizeof c), pt_fmt_count(waiting, d, sizeof d),
                         st->nthreads, st->nthreads == 1 ? "" : "s", v->sort);
        if (v->filter[0] && o > 0 && (size_t)o < w)
            snprintf(lines[n] + o, w - (size_t)o, "; filter '%s': %s match", v->filter,
                     pt_fmt_count(st->matched, a, sizeof a));
        n++;
    }
    if (n < height) {
        pt_sfmt_header(row, sizeof row);
        snprintf(lines[n++], w, "%s", row);
    }
    size_t shown = 0;
    for (size_t t = 0; t < st->nthreads && n < height - 1; t++) {
        const struct pt_proto_thread_stats *th = &st->threads[t];
        char name[80] = "";
        if (th->name && *th->name)
            snprintf(name, sizeof name, " (%s)", th->name);
        snprintf(lines[n++], w, "thread %" PRIu64 "%s: %s fibers, %s runnable; %s switches; "
                 "loop idle %.0f%%; %s ops in flight; %s timers",
                 th->id, name, pt_fmt_count(th->fibers, a, sizeof a),
                 pt_fmt_count(th->runnable, b, sizeof b), pt_fmt_count(th->switches, c, sizeof c),
                 idle_share(v, th, st->uptime), pt_fmt_count(th->ops_in_flight, d, sizeof d),
                 pt_fmt_count(th->timers, up, sizeof up));
        for (size_t i = 0; i < st->nfibers && n < height - 1; i++) {
            if (st->fibers[i].thread != th->id)
                continue;
            pt_sfmt_row(&st->fibers[i], row, sizeof row);
            snprintf(lines[n++], w, "%s", row);
            shown++;
        }
    }
    if (n < height) {
        if (v->status[0])
            snprintf(lines[n++], w, "%s", v->status);
        else if (st->matched > shown)
            snprintf(lines[n++], w, "%s more not shown - keys: c r l w i sort, / filter, "
                     "+ - interval, space refresh, q quit",
                     pt_fmt_count(st->matched - shown, a, sizeof a));
        else
            snprintf(lines[n++], w, "keys: c cpu, r runs, l longest, w waiting, i id, "
                     "/ filter, + - interval, space refresh, q quit");
    }
    remember(v, st);
    return n;
}
