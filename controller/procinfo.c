/*
 * procinfo.c — reading another process's /proc entries for `attach`: the
 * memory map (libruby, libc's code) and the status fields (owner, state,
 * tracer, caught signals). The text parsers are separate from the file
 * reading so the check suite can feed them samples.
 */
#include "procinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strcopy.h"

int pt_proc_read_file(const char *path, char **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            close(fd);
            return -ENOMEM;
        }
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                free(buf);
            buf = nb;
            cap *= 2;
            continue;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return -e;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    *out = buf;
    return 0;
}

int pt_proc_parse_map_line(const char *line, struct pt_proc_map *m)
{
    unsigned dmaj, dmin;
    int pos = 0;
    memset(m, 0, sizeof *m);
    if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %lu%n", &m->start, &m->end,
               m->perms, &m->offset, &dmaj, &dmin, &m->inode, &pos) != 7)
        return -EINVAL;
    const char *p = line + pos;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, "\n");
    if (n >= sizeof m->path)
        n = sizeof m->path - 1;
    memcpy(m->path, p, n);
    m->path[n] = '\0';
    return 0;
}

/* "libruby-3.1.so.3.1.2" -> 3, 1 */
static int ruby_version_of(const char *path, int *major, int *minor)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return sscanf(base, "libruby-%d.%d.so", major, minor) == 2 ? 0 : -1;
}

static int is_libc(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, "libc.so", 7) == 0 || strncmp(base, "libc-", 5) == 0;
}

int pt_proc_ruby_from_maps(const char *maps, struct pt_proc_ruby *r)
{
    int found = 0;
    memset(r, 0, sizeof *r);
    for (const char *line = maps; line && *line;) {
        const char *nl = strchr(line, '\n');
        struct pt_proc_map m;
        if (pt_proc_parse_map_line(line, &m) == 0 && m.path[0] == '/') {
            int maj, min;
            if (!found && m.offset == 0 && ruby_version_of(m.path, &maj, &min) == 0) {
                found = 1;
                pt_str_copy(r->path, sizeof r->path, m.path);
                r->major = maj;
                r->minor = min;
                r->start = m.start;
                r->inode = m.inode;
            }
            if (strcmp(m.perms, "r-xp") == 0) {
                if (!r->libc_text_start && is_libc(m.path)) {
                    r->libc_text_start = m.start;
                    r->libc_text_end = m.end;
                }
                if (!r->exec_start) {
                    r->exec_start = m.start;
                    r->exec_end = m.end;
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return found ? 0 : -ENOENT;
}

int pt_proc_ruby(pid_t pid, struct pt_proc_ruby *r)
{
    char path[64], *maps;
    snprintf(path, sizeof path, "/proc/%ld/maps", (long)pid);
    int rc = pt_proc_read_file(path, &maps);
    if (rc)
        return rc;
    rc = pt_proc_ruby_from_maps(maps, r);
    free(maps);
    return rc;
}

int pt_proc_parse_status(const char *text, struct pt_proc_status *s)
{
    int have = 0;
    memset(s, 0, sizeof *s);
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        unsigned long v;
        long t;
        char c;
        if (sscanf(line, "State: %c", &c) == 1) {
            s->state = c;
            have |= 1;
        } else if (sscanf(line, "Uid: %lu", &v) == 1) {
            s->uid = (uid_t)v;
            have |= 2;
        } else if (sscanf(line, "TracerPid: %ld", &t) == 1) {
            s->tracer = (pid_t)t;
            have |= 4;
        } else if (sscanf(line, "SigCgt: %" SCNx64, &s->sigcgt) == 1) {
            have |= 8;
        }
        line = nl ? nl + 1 : NULL;
    }
    return have == 15 ? 0 : -EINVAL;
}

int pt_proc_status(pid_t pid, struct pt_proc_status *s)
{
    char path[64], *text;
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    int rc = pt_proc_read_file(path, &text);
    if (rc)
        return rc;
    rc = pt_proc_parse_status(text, s);
    free(text);
    return rc;
}

void pt_proc_comm(pid_t pid, char *buf, size_t len)
{
    char path[64], *text;
    snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
    if (pt_proc_read_file(path, &text) != 0) {
        pt_str_copy(buf, len, "?");
        return;
    }
    text[strcspn(text, "\n")] = '\0';
    pt_str_copy(buf, len, text);
    free(text);
}

int pt_proc_parse_stat(const char *text, char *state, int *exit_status)
{
    const char *p = strrchr(text, ')');
    if (!p || p[1] != ' ' || !p[2])
        return -EINVAL;
    *state = p[2];
    /* Fields 3.. follow ") "; the exit code is field 52. */
    p += 2;
    for (int field = 3; field < 52; field++) {
        p = strchr(p, ' ');
        if (!p)
            return -EINVAL;
        p++;
    }
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p)
        return -EINVAL;
    *exit_status = (int)v;
    return 0;
}

int pt_proc_exit_status(pid_t pid, char *state, int *exit_status)
{
    char path[64], *text = NULL;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int rc = pt_proc_read_file(path, &text);
    if (rc < 0)
        return rc;
    rc = pt_proc_parse_stat(text, state, exit_status);
    free(text);
    return rc;
}
