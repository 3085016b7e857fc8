/*
 * procinfo.h — facts about another process read from /proc, for `attach`:
 * its memory map (which libruby it runs and where, an executable mapping
 * to borrow a `syscall` instruction from) and its status (owner, state,
 * tracer, caught signals). The parsers take text so they can be tested.
 */
#ifndef PT_PROCINFO_H
#define PT_PROCINFO_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

/* One line of /proc/PID/maps. */
struct pt_proc_map {
    uint64_t start, end, offset;
    char perms[5];
    unsigned long inode;
    char path[PATH_MAX];    /* "" for anonymous mappings */
};

/* Parses one maps line (no newline needed). 0 or -EINVAL. */
int pt_proc_parse_map_line(const char *line, struct pt_proc_map *m);

/* The libruby a process runs: the first mapping of a file named libruby-X.Y.so*. */
struct pt_proc_ruby {
    char path[PATH_MAX];
    int major, minor;       /* from the file name */
    uint64_t start;         /* start of its mapping at file offset 0 */
    unsigned long inode;
    uint64_t libc_text_start, libc_text_end;    /* libc's r-xp mapping, or 0 */
    uint64_t exec_start, exec_end;              /* any r-xp mapping of a file */
};

/*
 * Scans a maps text (whole file, NUL-terminated). 0 with *r filled; -ENOENT
 * when no libruby is mapped (a non-Ruby process, or a Ruby linked
 * statically, which attach does not support).
 */
int pt_proc_ruby_from_maps(const char *maps, struct pt_proc_ruby *r);

/* The same for a live process. 0, -ENOENT, or -errno reading its maps. */
int pt_proc_ruby(pid_t pid, struct pt_proc_ruby *r);

/* What /proc/PID/status says that attach cares about. */
struct pt_proc_status {
    char state;             /* 'R', 'S', 'D', 'T', 't', 'Z', ... */
    uid_t uid;              /* real uid */
    pid_t tracer;           /* TracerPid, 0 when not traced */
    uint64_t sigcgt;        /* caught signals, bit (sig - 1) */
};

int pt_proc_parse_status(const char *text, struct pt_proc_status *s);
int pt_proc_status(pid_t pid, struct pt_proc_status *s);

/*
 * From a /proc/PID/stat text: the state (field 3) and the exit status as
 * waitpid reports it (field 52, "exit_code": set once the process has
 * exited, while it is a zombie). The command name (field 2) may hold
 * spaces and parentheses: fields are counted from its last ')'. 0 or
 * -EINVAL.
 */
int pt_proc_parse_stat(const char *text, char *state, int *exit_status);
/* The same for a live (or zombie) process; -ENOENT once it is reaped. */
int pt_proc_exit_status(pid_t pid, char *state, int *exit_status);

/* /proc/PID/comm without the newline, or "?" */
void pt_proc_comm(pid_t pid, char *buf, size_t len);

/* Reads a whole /proc file into a malloc'd NUL-terminated buffer. */
int pt_proc_read_file(const char *path, char **out);

#endif
