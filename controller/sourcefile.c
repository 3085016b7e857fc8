/*
 * sourcefile.c — source listing support: a file's lines in a range. Files
 * are read afresh each time (they are small and may change between runs).
 */
#include "sourcefile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pt_src_window(int line, int before, int after, int *first, int *last)
{
    if (line < 1)
        line = 1;
    *first = line - before < 1 ? 1 : line - before;
    *last = line + after;
}

void pt_src_free(struct pt_src_lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->lines[i]);
    free(l->lines);
    memset(l, 0, sizeof *l);
}

static FILE *open_source(const char *file, pid_t pid)
{
    FILE *f = fopen(file, "r");
    if (f || file[0] == '/' || pid <= 0)
        return f;
    int saved = errno;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%ld/cwd/%s", (long)pid, file);
    f = fopen(path, "r");
    if (!f)
        errno = saved;
    return f;
}

int pt_src_read(const char *file, pid_t pid, int first, int last, struct pt_src_lines *out)
{
    memset(out, 0, sizeof *out);
    if (!file || !*file)
        return -ENOENT;
    if (first < 1)
        first = 1;
    if (last < first)
        return -EINVAL;
    FILE *f = open_source(file, pid);
    if (!f)
        return -errno;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int no = 0, rc = 0;
    out->lines = calloc((size_t)(last - first + 1), sizeof *out->lines);
    if (!out->lines) {
        fclose(f);
        return -ENOMEM;
    }
    out->first = first;
    while ((len = getline(&line, &cap, f)) >= 0) {
        no++;
        if (no < first || no > last)
            continue;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        /* Tabs would break the column layout; show them as spaces. */
        for (ssize_t i = 0; i < len; i++)
            if (line[i] == '\t')
                line[i] = ' ';
        char *copy = strdup(line);
        if (!copy) {
            rc = -ENOMEM;
            break;
        }
        out->lines[out->n++] = copy;
    }
    free(line);
    fclose(f);
    out->total = no;
    if (!rc && out->n == 0)
        rc = -ERANGE;
    if (rc)
        pt_src_free(out);
    return rc;
}
