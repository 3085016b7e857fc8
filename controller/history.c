/*
 * history.c — persistent command history through GNU readline's history
 * library.
 */
#include "history.h"
#include "strcopy.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>

static char hist_file[4096];

int pt_hist_path(char *buf, size_t len)
{
    const char *env = getenv("POLYTRACE_HISTORY");
    if (env && *env) {
        pt_str_copy(buf, len, env);
        return 0;
    }
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home)
        return -ENOENT;
    snprintf(buf, len, "%s/.polytrace_history", home);
    return 0;
}

int pt_hist_init(void)
{
    using_history();
    stifle_history(PT_HIST_MAX);
    int rc = pt_hist_path(hist_file, sizeof hist_file);
    if (rc) {
        hist_file[0] = '\0';
        return rc;
    }
    int fd = open(hist_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        hist_file[0] = '\0';
        return rc;
    }
    close(fd);
    history_truncate_file(hist_file, PT_HIST_MAX);
    read_history(hist_file);
    return 0;
}

void pt_hist_add(const char *line)
{
    if (!line || !*line || line[strspn(line, " \t")] == '\0')
        return;
    HIST_ENTRY *prev = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
    if (prev && prev->line && strcmp(prev->line, line) == 0)
        return;
    add_history(line);
    if (hist_file[0])
        append_history(1, hist_file);
}
