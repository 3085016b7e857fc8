/*
 * script.c — the queue of commands from the init file, -x, -ex and
 * `source` (script.h): loading a file into it (at the end, or at the front
 * for a nested `source`), taking the next line, and dropping the rest of a
 * source whose line failed. Running the lines is the REPL's business
 * (pt_ctl_run_scripted in handlers.c).
 */
#include "script.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pt_script_init(struct pt_script *s)
{
    memset(s, 0, sizeof *s);
    s->next_root = 1;
}

void pt_script_line_free(struct pt_script_line *l)
{
    free(l->text);
    free(l->origin);
    memset(l, 0, sizeof *l);
}

size_t pt_script_clear(struct pt_script *s)
{
    size_t n = s->n;
    for (size_t i = 0; i < s->n; i++)
        pt_script_line_free(&s->v[i]);
    s->n = 0;
    return n;
}

void pt_script_free(struct pt_script *s)
{
    pt_script_clear(s);
    free(s->v);
    s->v = NULL;
    s->cap = 0;
}

static int reserve(struct pt_script *s, size_t more)
{
    if (s->n + more <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 16;
    while (cap < s->n + more)
        cap *= 2;
    struct pt_script_line *v = realloc(s->v, cap * sizeof *v);
    if (!v)
        return -ENOMEM;
    s->v = v;
    s->cap = cap;
    return 0;
}

/* Lines read from one file, before they join the queue. */
struct batch {
    struct pt_script_line *v;
    size_t n, cap;
};

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        pt_script_line_free(&b->v[i]);
    free(b->v);
}

static int batch_add(struct batch *b, const char *text, size_t len, const char *origin,
                     int lineno, unsigned root, int depth)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct pt_script_line *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        b->v = v;
        b->cap = cap;
    }
    struct pt_script_line *l = &b->v[b->n];
    l->text = strndup(text, len);
    l->origin = strdup(origin);
    l->lineno = lineno;
    l->root = root;
    l->depth = depth;
    if (!l->text || !l->origin) {
        pt_script_line_free(l);
        return -ENOMEM;
    }
    b->n++;
    return 0;
}

static int read_file(const char *path, struct batch *b, unsigned root, int depth, int *bad_line)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = 0;
    errno = 0;
    while ((len = getline(&buf, &cap, f)) >= 0) {
        lineno++;
        const char *p = buf;
        while (isspace((unsigned char)*p))
            p++;
        size_t n = strlen(p);
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        if (n == 0 || p[0] == '#')
            continue;
        if (n > PT_SCRIPT_LINE_MAX || memchr(p, '\0', n)) {
            *bad_line = lineno;
            rc = -E2BIG;
            break;
        }
        if ((rc = batch_add(b, p, n, path, lineno, root, depth)) < 0)
            break;
    }
    if (rc == 0 && ferror(f))
        rc = errno ? -errno : -EIO;
    free(buf);
    fclose(f);
    return rc;
}

int pt_script_load(struct pt_script *s, const char *path, const struct pt_script_line *from,
                   int *bad_line)
{
    int depth = from ? from->depth + 1 : 0;
    unsigned root = from ? from->root : s->next_root;
    struct batch b = { 0 };
    int dummy;

    if (!bad_line)
        bad_line = &dummy;
    *bad_line = 0;
    if (depth > PT_SCRIPT_DEPTH_MAX)
        return -ELOOP;
    int rc = read_file(path, &b, root, depth, bad_line);
    if (rc == 0)
        rc = reserve(s, b.n);
    if (rc < 0) {
        batch_free(&b);
        return rc;
    }
    if (from) {
        memmove(s->v + b.n, s->v, s->n * sizeof *s->v);
        memcpy(s->v, b.v, b.n * sizeof *s->v);
    } else {
        memcpy(s->v + s->n, b.v, b.n * sizeof *s->v);
        s->next_root++;
    }
    s->n += b.n;
    free(b.v);  /* the lines now belong to the queue */
    return 0;
}

int pt_script_add_command(struct pt_script *s, const char *text)
{
    struct batch b = { 0 };
    int rc = batch_add(&b, text, strlen(text), "-ex", 0, s->next_root, 0);
    if (rc == 0)
        rc = reserve(s, 1);
    if (rc < 0) {
        batch_free(&b);
        return rc;
    }
    s->v[s->n++] = b.v[0];
    s->next_root++;
    free(b.v);
    return 0;
}

bool pt_script_pending(const struct pt_script *s)
{
    return s->n > 0;
}

bool pt_script_next(struct pt_script *s, struct pt_script_line *out)
{
    if (!s->n)
        return false;
    *out = s->v[0];
    memmove(s->v, s->v + 1, (s->n - 1) * sizeof *s->v);
    s->n--;
    return true;
}

size_t pt_script_abandon(struct pt_script *s, const struct pt_script_line *failed)
{
    /* Nested files run before the rest of their parents, so what is left
     * of the failed line's top-level source is a run at the front. */
    size_t k = 0;
    while (k < s->n && s->v[k].root == failed->root)
        pt_script_line_free(&s->v[k++]);
    memmove(s->v, s->v + k, (s->n - k) * sizeof *s->v);
    s->n -= k;
    return k;
}
