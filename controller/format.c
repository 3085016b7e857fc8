/*
 * format.c — turning the tracer's records into what the user reads. Kept
 * apart from the REPL so unit tests can check the text exactly (they write
 * into a memory stream).
 */
#include "format.h"
#include "fiberview.h"
#include "strcopy.h"

#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char base_dir[4096];

void pt_fmt_set_base(const char *base)
{
    pt_str_copy(base_dir, sizeof base_dir, base ? base : "");
}

const char *pt_fmt_count(uint64_t n, char *buf, size_t len)
{
    char digits[32];
    int d = snprintf(digits, sizeof digits, "%" PRIu64, n);
    size_t o = 0;
    for (int i = 0; i < d && o + 1 < len; i++) {
        if (i > 0 && (d - i) % 3 == 0 && o + 2 < len)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

const char *pt_fmt_path(const char *file, const char *base)
{
    if (!file)
        return "?";
    if (!base)
        base = base_dir;
    size_t n = strlen(base);
    if (n && strncmp(file, base, n) == 0 && file[n] == '/' && file[n + 1])
        return file + n + 1;
    return file;
}

void pt_fmt_stop(FILE *out, const struct pt_proto_ev_stopped *st)
{
    const char *reason = st->reason ? st->reason : "";
    if (strcmp(reason, "exception") == 0 && st->exception)
        fprintf(out, "Exception %s\n", st->exception);
    fprintf(out, "Stopped in fiber %" PRIu64, st->fiber);
    if (st->tag && *st->tag)
        fprintf(out, " (%s)", st->tag);
    fprintf(out, " at %s:%d", pt_fmt_path(st->file, NULL), (int)st->line);
    if (st->method && *st->method)
        fprintf(out, " in %s", st->method);
    /* A note of several lines (a deadlock's wait-for graph) follows the
     * stop line; one line goes in it. */
    bool block = st->note && strchr(st->note, '\n');
    if (st->bp)
        fprintf(out, " (breakpoint %u)", (unsigned)st->bp);
    else if (st->watch)
        fprintf(out, " (watch %u: %s => %s%s%s)", (unsigned)st->watch,
                st->old_value ? st->old_value : "?", st->value ? st->value : "?",
                st->note && *st->note && !block ? "; " : "", st->note && !block ? st->note : "");
    else if (st->note && *st->note && !block)
        fprintf(out, " (%s)", st->note);
    else if (*reason && strcmp(reason, "step") != 0)
        fprintf(out, " (%s)", reason);
    if (st->value && !st->watch)
        fprintf(out, " => %s", st->value);
    fputc('\n', out);
    if (block)
        fprintf(out, "%s\n", st->note);
}

void pt_fmt_listing(FILE *out, char *const *lines, size_t n, int first, int current)
{
    int last = first + (int)n - 1;
    int width = snprintf(NULL, 0, "%d", last > 0 ? last : 1);
    for (size_t i = 0; i < n; i++) {
        int no = first + (int)i;
        fprintf(out, "%s %*d  %s\n", no == current ? "=>" : "  ", width, no,
                lines[i] ? lines[i] : "");
    }
}

void pt_fmt_wait(const struct pt_proto_fiber *f, char *buf, size_t len)
{
    if (!f->wait_op || !*f->wait_op) {
        snprintf(buf, len, "-");
        return;
    }
    size_t o = (size_t)pt_str_copy(buf, len, f->wait_op);
    if (o < len && f->wait_fd >= 0)
        o += (size_t)snprintf(buf + o, len - o, " fd %d", (int)f->wait_fd);
    if (o < len && f->wait_timeout >= 0)
        snprintf(buf + o, len - o, " (%.2fs left)", f->wait_timeout);
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

static void location(const struct pt_proto_fiber *f, char *loc, size_t len)
{
    if (f->file && *f->file)
        snprintf(loc, len, "%s:%d", pt_fmt_path(f->file, NULL), (int)f->line);
    else
        snprintf(loc, len, "-");
}

static void fiber_row(FILE *out, const struct pt_proto_fiber *f, int depth, bool selected, int locw)
{
    char id[32], loc[512], wait[128];
    if (depth > 8)
        depth = 8;
    snprintf(id, sizeof id, "%*s%" PRIu64, depth * 2, "", f->id);
    location(f, loc, sizeof loc);
    pt_fmt_wait(f, wait, sizeof wait);
    if (f->value)   /* runnable: what it will be resumed with */
        snprintf(wait, sizeof wait, "value %.100s", f->value);
    fprintf(out, "%c %-10s %-12s %-9s %-*s %s\n", selected ? '*' : ' ', id, or_dash(f->tag),
            or_dash(f->state), locw, loc, wait);
}

void pt_fmt_fiber_line(FILE *out, const struct pt_proto_fiber *f)
{
    char wait[128];
    pt_fmt_wait(f, wait, sizeof wait);
    fprintf(out, "fiber %" PRIu64, f->id);
    if (f->tag && *f->tag)
        fprintf(out, " (%s)", f->tag);
    fprintf(out, " %s", or_dash(f->state));
    if (f->file && *f->file)
        fprintf(out, " at %s:%d", pt_fmt_path(f->file, NULL), (int)f->line);
    if (f->value)
        fprintf(out, ", to be resumed with %s", f->value);
    else if (strcmp(wait, "-") != 0)
        fprintf(out, ", waiting on %s", wait);
    fputc('\n', out);
}

/* Tree order: index arrays built once, so 10,000 fibers cost O(n log n). */
struct node {
    size_t idx;
    uint64_t parent;
};

static int by_parent(const void *a, const void *b)
{
    const struct node *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

struct id_idx {
    uint64_t id;
    size_t idx;
};

static int by_id(const void *a, const void *b)
{
    const struct id_idx *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Summary of the rows not shown, grouped by state and wait op. */
struct group {
    char key[96];
    uint64_t count;
};

static void summarise(FILE *out, const struct pt_proto_fiber *f, const size_t *order,
                      size_t from, size_t n, uint64_t total)
{
    struct group groups[16];
    size_t ngroups = 0;
    uint64_t other = 0;
    for (size_t i = from; i < n; i++) {
        const struct pt_proto_fiber *x = &f[order[i]];
        char key[96];
        if (x->wait_op && *x->wait_op && x->state && strcmp(x->state, "waiting") == 0)
            snprintf(key, sizeof key, "%s on %s", or_dash(x->state), x->wait_op);
        else
            pt_str_copy(key, sizeof key, or_dash(x->state));
        size_t g = 0;
        while (g < ngroups && strcmp(groups[g].key, key) != 0)
            g++;
        if (g == ngroups) {
            if (ngroups == sizeof groups / sizeof groups[0]) {
                other++;
                continue;
            }
            pt_str_copy(groups[ngroups].key, sizeof groups[ngroups].key, key);
            groups[ngroups++].count = 0;
        }
        groups[g].count++;
    }
    /* Largest groups first. */
    for (size_t i = 1; i < ngroups; i++)
        for (size_t j = i; j > 0 && groups[j].count > groups[j - 1].count; j--) {
            struct group t = groups[j];
            groups[j] = groups[j - 1];
            groups[j - 1] = t;
        }
    char num[32];
    uint64_t hidden = total > from ? total - from : (uint64_t)(n - from);
    fprintf(out, "... and %s more:", pt_fmt_count(hidden, num, sizeof num));
    for (size_t g = 0; g < ngroups; g++)
        fprintf(out, "%s %s %s", g ? "," : "", pt_fmt_count(groups[g].count, num, sizeof num),
                groups[g].key);
    if (other)
        fprintf(out, "%s %s other", ngroups ? "," : "", pt_fmt_count(other, num, sizeof num));
    uint64_t unlisted = total > n ? total - n : 0;
    if (unlisted)
        fprintf(out, "%s %s not fetched", ngroups || other ? "," : "",
                pt_fmt_count(unlisted, num, sizeof num));
    fputc('\n', out);
}

/* How a thread is while the program is stopped, from its `where`. */
static const char *thread_where(const char *where)
{
    if (!where)
        return "";
    if (strcmp(where, "stopped") == 0)
        return "the program stopped in it";
    if (strcmp(where, "loop") == 0)
        return "idle in its event loop: suspended, its fibers held";
    if (strcmp(where, "ruby") == 0)
        return "between lines of Ruby: held";
    if (strcmp(where, "blocked") == 0)
        return "blocked outside the runtime (in C, without the GVL): left alone";
    if (strcmp(where, "plain") == 0)
        return "no runtime on it";
    return where;
}

void pt_fmt_thread_line(FILE *out, const struct pt_proto_thread *t)
{
    char num[32];
    fprintf(out, "thread %" PRIu64, t->id);
    if (t->name && *t->name)
        fprintf(out, " (%s)", t->name);
    else if (t->id == 1)
        fputs(" (main)", out);
    fprintf(out, ": %s fiber%s", pt_fmt_count(t->fibers, num, sizeof num), t->fibers == 1 ? "" : "s");
    if (t->backend && *t->backend)
        fprintf(out, ", %s", t->backend);
    fprintf(out, ", %s; %s", t->status ? t->status : "?", thread_where(t->where));
    if (t->at && *t->at)
        fprintf(out, ", at %s", pt_fmt_path(t->at, NULL));
    fputc('\n', out);
}

static const struct pt_proto_thread *thread_of(const struct pt_fmt_fibers_opts *o, uint64_t id)
{
    for (size_t i = 0; o && i < o->nthreads; i++)
        if (o->threads[i].id == id)
            return &o->threads[i];
    return NULL;
}

void pt_fmt_fibers(FILE *out, const struct pt_proto_fiber *f, size_t n, uint64_t total,
                   uint64_t selected, size_t shown)
{
    struct pt_fmt_fibers_opts o = { .selected = selected, .shown = shown };
    pt_fmt_fibers_ex(out, f, n, total, &o);
}

void pt_fmt_fibers_ex(FILE *out, const struct pt_proto_fiber *f, size_t n, uint64_t total,
                      const struct pt_fmt_fibers_opts *opts)
{
    char num[32];
    uint64_t selected = opts->selected;
    size_t shown = opts->shown;
    bool by_thread = opts->nthreads > 1;
    if (total < n)
        total = n;
    if (opts->title)
        fprintf(out, "%s\n", opts->title);
    else
        fprintf(out, "%s fiber%s", pt_fmt_count(total, num, sizeof num), total == 1 ? "" : "s");
    if (!opts->title && by_thread)
        fprintf(out, " in %zu threads", opts->nthreads);
    if (!opts->title)
        fputc('\n', out);
    for (size_t i = 0; by_thread && i < opts->nthreads; i++) {
        fputs("  ", out);
        pt_fmt_thread_line(out, &opts->threads[i]);
    }
    if (!n)
        return;
    /* The location column is as wide as the widest shown (within reason). */
    int locw = 8;
    for (size_t i = 0; i < n && i < shown * 4; i++) {
        char loc[512];
        location(&f[i], loc, sizeof loc);
        int w = (int)strlen(loc);
        if (w > locw)
            locw = w > 60 ? 60 : w;
    }
    fprintf(out, "  %-10s %-12s %-9s %-*s %s\n", "ID", "TAG", "STATE", locw, "LOCATION", "WAITING ON");

    struct id_idx *ids = malloc(n * sizeof *ids);
    struct node *nodes = malloc(n * sizeof *nodes);
    size_t *order = malloc(n * sizeof *order);
    int *depth = malloc(n * sizeof *depth);
    size_t *stack = malloc(n * sizeof *stack);
    bool *done = calloc(n, sizeof *done);
    if (!ids || !nodes || !order || !depth || !stack || !done) {
        for (size_t i = 0; i < n && i < shown; i++)
            fiber_row(out, &f[i], 0, f[i].id == selected, locw);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ids[i] = (struct id_idx){ f[i].id, i };
        nodes[i] = (struct node){ i, f[i].parent };
    }
    qsort(ids, n, sizeof *ids, by_id);
    /* A parent that is not in the list makes its children roots (parent 0). */
    for (size_t i = 0; i < n; i++) {
        struct id_idx key = { nodes[i].parent, 0 };
        if (nodes[i].parent == f[i].id ||
            !bsearch(&key, ids, n, sizeof *ids, by_id))
            nodes[i].parent = 0;
    }
    qsort(nodes, n, sizeof *nodes, by_parent);

    /* Depth-first walk: push children of a node in reverse so they come out in order. */
    size_t norder = 0, sp = 0;
    size_t roots_end = 0;
    while (roots_end < n && nodes[roots_end].parent == 0)
        roots_end++;
    for (size_t r = roots_end; r-- > 0;) {
        stack[sp++] = nodes[r].idx;
        depth[nodes[r].idx] = 0;
    }
    for (;;) {
        while (sp) {
            size_t i = stack[--sp];
            if (done[i])
                continue;
            done[i] = true;
            order[norder++] = i;
            /* Children of f[i]: the run of nodes whose parent is f[i].id. */
            struct node key = { 0, f[i].id };
            size_t lo = 0, hi = n;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (nodes[mid].parent < key.parent)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            size_t end = lo;
            while (end < n && nodes[end].parent == key.parent)
                end++;
            for (size_t c = end; c-- > lo;) {
                if (!done[nodes[c].idx] && sp < n) {
                    depth[nodes[c].idx] = depth[i] + 1;
                    stack[sp++] = nodes[c].idx;
                }
            }
        }
        /* Cycles have no root: list what is left flat. */
        size_t left = 0;
        while (left < n && done[left])
            left++;
        if (left == n)
            break;
        depth[left] = 0;
        stack[sp++] = left;
    }
    size_t rows = norder < shown ? norder : shown;
    for (size_t k = 0; k < rows; k++) {
        if (by_thread && (k == 0 || f[order[k]].thread != f[order[k - 1]].thread)) {
            const struct pt_proto_thread *t = thread_of(opts, f[order[k]].thread);
            fprintf(out, "  -- thread %" PRIu64, f[order[k]].thread);
            if (t && t->name && *t->name)
                fprintf(out, " (%s)", t->name);
            fputs(" --\n", out);
        }
        fiber_row(out, &f[order[k]], depth[order[k]], f[order[k]].id == selected, locw);
    }
    if (norder > shown || total > n) {
        summarise(out, f, order, rows, norder, total);
        fputs("   ('fibers -a' lists every one, 'fibers -g state|location|tag' groups them, "
              "'fibers PATTERN' picks)\n", out);
    }
out:
    free(ids);
    free(nodes);
    free(order);
    free(depth);
    free(stack);
    free(done);
}

/* "-- spun by fiber 2 (acceptor) at app.rb:30 --" before the frames fiber
 * 2 had when it spun the one above; the place is the segment's first frame
 * outside the runtime (its spin call). */
static void spin_separator(FILE *out, const struct pt_proto_frame *fr, size_t n, size_t i)
{
    size_t at = i;
    for (size_t k = i; k < n && fr[k].spun_by == fr[i].spun_by; k++) {
        if (!fr[k].hidden) {
            at = k;
            break;
        }
    }
    fprintf(out, "   -- spun by fiber %" PRIu64, fr[i].spun_by);
    if (fr[i].spun_by_tag && *fr[i].spun_by_tag)
        fprintf(out, " (%s)", fr[i].spun_by_tag);
    fprintf(out, " at %s:%d --\n", pt_fmt_path(fr[at].file, NULL), (int)fr[at].line);
}

void pt_fmt_frames(FILE *out, const struct pt_proto_frame *fr, size_t n, long selected, bool all)
{
    size_t hidden = 0;
    if (!n) {
        fprintf(out, "no frames\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        bool sel = (long)fr[i].index == selected;
        if (fr[i].spun_by && (i == 0 || fr[i - 1].spun_by != fr[i].spun_by) && n > 1)
            spin_separator(out, fr, n, i);
        if (fr[i].hidden && !all && !sel) {
            hidden++;
            continue;
        }
        fprintf(out, "%c #%-3u %s:%d", sel ? '>' : ' ',
                (unsigned)fr[i].index, pt_fmt_path(fr[i].file, NULL), (int)fr[i].line);
        if (fr[i].label && *fr[i].label)
            fprintf(out, " in %s", fr[i].label);
        if (fr[i].hidden)
            fputs(" (hidden)", out);
        fputc('\n', out);
    }
    if (hidden)
        fprintf(out, "   (%zu frame%s of the runtime or of Ruby itself hidden; 'bt all' shows them)\n",
                hidden, hidden == 1 ? "" : "s");
}

void pt_fmt_bp_where(FILE *out, const struct pt_proto_bp *bp)
{
    if (bp->method && *bp->method)
        fprintf(out, "%s", bp->method);
    else
        fprintf(out, "%s:%d", pt_fmt_path(bp->file, NULL), (int)bp->line);
    if (bp->cond && *bp->cond)
        fprintf(out, " if %s", bp->cond);
    if (bp->fiber)
        fprintf(out, " (fiber %" PRIu64 ")", bp->fiber);
    if (bp->hit_cond && *bp->hit_cond)
        fprintf(out, " (hit %s)", bp->hit_cond);
    if (bp->log && *bp->log)
        fprintf(out, " (log \"%s\")", bp->log);
    if (bp->pending)
        fprintf(out, " (pending)");
}

void pt_fmt_breakpoint(FILE *out, const struct pt_proto_bp *bp)
{
    fprintf(out, "#%u  ", (unsigned)bp->id);
    pt_fmt_bp_where(out, bp);
    fprintf(out, " hits %" PRIu64 "\n", bp->hits);
}

void pt_fmt_op(FILE *out, const struct pt_proto_ev_op *op)
{
    fprintf(out, "op: fiber %" PRIu64 " %s %s", op->fiber, or_dash(op->phase), or_dash(op->op));
    if (op->fd >= 0)
        fprintf(out, " fd %d", (int)op->fd);
    if (op->len)
        fprintf(out, " len %" PRId64, op->len);
    if (op->phase && strcmp(op->phase, "complete") == 0)
        fprintf(out, " -> %" PRId64, op->result);
    fputc('\n', out);
}

void pt_fmt_dump(FILE *out, const struct pt_proto_rep_dump *d)
{
    char num[32];
    fprintf(out, "%s fiber%s\n", pt_fmt_count(d->nfibers, num, sizeof num),
            d->nfibers == 1 ? "" : "s");
    for (size_t i = 0; i < d->nfibers; i++) {
        fputc('\n', out);
        pt_fmt_fiber_line(out, &d->fibers[i].info);
        pt_fmt_frames(out, d->fibers[i].frames, d->fibers[i].nframes, -1, false);
    }
}

static const char *signame(int sig, char *buf, size_t len)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(buf, len, "SIG%s", abbrev);
    else
        snprintf(buf, len, "%d", sig);
    return buf;
}

void pt_fmt_exit(int exit_status, int sig, char *buf, size_t len)
{
    if (sig > 0) {
        char name[32];
        snprintf(buf, len, "program killed by signal %s", signame(sig, name, sizeof name));
    } else {
        snprintf(buf, len, "program exited with status %d", exit_status);
    }
}

void pt_fmt_wait_status(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        pt_fmt_exit(-1, WTERMSIG(status), buf, len);
    else
        pt_fmt_exit(WEXITSTATUS(status), 0, buf, len);
}

int pt_fmt_exit_code(int status)
{
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

void pt_fmt_fiber_groups(FILE *out, const struct pt_proto_fiber *f,
                         const struct pt_fv_group_row *rows, size_t nrows, const char *title,
                         const char *heading, size_t shown)
{
    char num[32];
    fprintf(out, "%s\n", title);
    if (!nrows)
        return;
    fprintf(out, "  %9s  %-40s %s\n", "COUNT", heading, "FIBERS");
    size_t n = nrows < shown ? nrows : shown;
    for (size_t i = 0; i < n; i++) {
        const struct pt_fv_group_row *r = &rows[i];
        fprintf(out, "  %9s  %-40s ", pt_fmt_count(r->count, num, sizeof num), r->key);
        for (size_t k = 0; k < r->nfirst; k++)
            fprintf(out, "%s%" PRIu64, k ? ", " : "", f[r->first[k]].id);
        if (r->count > r->nfirst)
            fputs(", ...", out);
        fputc('\n', out);
    }
    if (nrows > n)
        fprintf(out, "  ... and %s more group%s\n", pt_fmt_count(nrows - n, num, sizeof num),
                nrows - n == 1 ? "" : "s");
}

void pt_fmt_runqueue(FILE *out, const struct pt_proto_fiber *f, size_t n, uint64_t thread)
{
    char num[32];
    fprintf(out, "Run queue of thread %" PRIu64 ": %s fiber%s", thread, pt_fmt_count(n, num, sizeof num),
            n == 1 ? "" : "s");
    fputs(n ? ", in the order they run\n" : "\n", out);
    for (size_t i = 0; i < n; i++) {
        char loc[512];
        location(&f[i], loc, sizeof loc);
        fprintf(out, "  %3zu. fiber %-6" PRIu64 " %-12s %-30s value %s\n", i + 1, f[i].id,
                or_dash(f[i].tag), loc, f[i].value ? f[i].value : "?");
    }
}
