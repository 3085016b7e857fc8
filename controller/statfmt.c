/*
 * statfmt.c — the runtime's per-fiber counters as text, one fiber per line,
 * the same for `polytrace top` and `fibers -s`: id, tag, state, what it
 * waits on, time running, times run, longest run, time waiting, and I/O ops
 * in flight / started. Writes into buffers; prints nothing.
 */
#include "statfmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "strcopy.h"

const char *pt_sfmt_duration(uint64_t ns, char *buf, size_t len)
{
    if (ns == 0)
        snprintf(buf, len, "0");
    else if (ns < 1000)
        snprintf(buf, len, "%" PRIu64 "ns", ns);
    else if (ns < 1000000)
        snprintf(buf, len, "%.0fus", (double)ns / 1e3);
    else if (ns < 100000000)
        snprintf(buf, len, "%.1fms", (double)ns / 1e6);
    else if (ns < 1000000000)
        snprintf(buf, len, "%.0fms", (double)ns / 1e6);
    else if (ns < 100000000000u)
        snprintf(buf, len, "%.2fs", (double)ns / 1e9);
    else if (ns < 1000000000000u)
        snprintf(buf, len, "%.0fs", (double)ns / 1e9);
    else if (ns < 36000000000000u)
        snprintf(buf, len, "%.0fm", (double)ns / 6e10);
    else
        snprintf(buf, len, "%.0fh", (double)ns / 3.6e12);
    return buf;
}

/* A count in at most 8 columns: 1234567 -> "1234567", then "12.3M". */
static const char *count8(uint64_t n, char *buf, size_t len)
{
    if (n < 10000000)
        snprintf(buf, len, "%" PRIu64, n);
    else if (n < 10000000000u)
        snprintf(buf, len, "%.1fM", (double)n / 1e6);
    else
        snprintf(buf, len, "%.1fG", (double)n / 1e9);
    return buf;
}

void pt_sfmt_header(char *buf, size_t len)
{
    snprintf(buf, len, "%7s %-14s %-8s %-18s %8s %8s %8s %8s %9s", "ID", "TAG", "STATE",
             "WAITS ON", "CPU", "RUNS", "LONGEST", "WAITING", "OPS");
}

void pt_sfmt_row(const struct pt_proto_fiber *f, char *buf, size_t len)
{
    char wait[128], tag[15], cpu[16], runs[16], longest[16], waiting[16], ops[32], opsn[16];

    pt_fmt_wait(f, wait, sizeof wait);
    if (strlen(wait) > 18)
        wait[18] = '\0';
    pt_str_copy(tag, sizeof tag, f->tag && *f->tag ? f->tag : "-");
    if (!f->has_stats) {
        snprintf(buf, len, "%7" PRIu64 " %-14s %-8s %-18s %8s %8s %8s %8s %9s", f->id, tag,
                 f->state ? f->state : "-", wait, "?", "?", "?", "?", "?");
        return;
    }
    snprintf(ops, sizeof ops, "%u/%s", (unsigned)f->ops_in_flight, count8(f->ops, opsn, sizeof opsn));
    snprintf(buf, len, "%7" PRIu64 " %-14s %-8s %-18s %8s %8s %8s %8s %9s", f->id, tag,
             f->state ? f->state : "-", wait, pt_sfmt_duration(f->cpu_ns, cpu, sizeof cpu),
             count8(f->runs, runs, sizeof runs), pt_sfmt_duration(f->longest_ns, longest, sizeof longest),
             pt_sfmt_duration(f->wait_ns, waiting, sizeof waiting), ops);
}

void pt_sfmt_fibers(FILE *out, const struct pt_proto_fiber *f, size_t n, uint64_t total)
{
    char line[256], num[32];
    uint64_t thread = 0;
    bool threads = false;

    for (size_t i = 1; i < n; i++)
        if (f[i].thread != f[0].thread)
            threads = true;
    fprintf(out, "%s fiber%s\n", pt_fmt_count(total, num, sizeof num), total == 1 ? "" : "s");
    pt_sfmt_header(line, sizeof line);
    fprintf(out, "%s\n", line);
    for (size_t i = 0; i < n; i++) {
        if (threads && (i == 0 || f[i].thread != thread)) {
            thread = f[i].thread;
            fprintf(out, "thread %" PRIu64 ":\n", thread);
        }
        pt_sfmt_row(&f[i], line, sizeof line);
        fprintf(out, "%s\n", line);
    }
    if (total > n)
        fprintf(out, "... and %s more\n", pt_fmt_count(total - n, num, sizeof num));
}
