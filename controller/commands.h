/*
 * commands.h — the command table: every REPL command, its aliases, argument
 * synopsis, one-line and long help, argument parser, handler and completion
 * kind. `help`, tab completion, `polytrace --help` and the man page's command
 * list all come from this one table (controller/commands.c).
 */
#ifndef PT_COMMANDS_H
#define PT_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#define PT_CMD_FIBER_MAX 64
#define PT_CMD_TEXT_MAX 1024
#define PT_CMD_ALIASES_MAX 3

struct pt_ctl;

enum pt_cmd_id {
    PT_CMD_STEP, PT_CMD_SKIP, PT_CMD_UP, PT_CMD_CONTINUE, PT_CMD_SWITCH,
    PT_CMD_FIBERS, PT_CMD_RUNQUEUE, PT_CMD_PROCESSES, PT_CMD_PROCESS, PT_CMD_BACKTRACE,
    PT_CMD_FRAME, PT_CMD_UPFRAME,
    PT_CMD_DOWNFRAME, PT_CMD_LIST, PT_CMD_PRINT, PT_CMD_BREAK, PT_CMD_DELETE,
    PT_CMD_BREAKPOINTS, PT_CMD_WATCH, PT_CMD_UNWATCH, PT_CMD_DISPLAY, PT_CMD_UNDISPLAY,
    PT_CMD_CATCH, PT_CMD_TRACE, PT_CMD_SET, PT_CMD_HOG, PT_CMD_PAUSE,
    PT_CMD_DETACH,
    PT_CMD_QUIT, PT_CMD_KILL, PT_CMD_SOURCE, PT_CMD_HELP,
    PT_CMD_COUNT
};

/* What tab completion offers for a command's arguments. */
enum pt_cmd_complete {
    PT_COMPLETE_NONE,
    PT_COMPLETE_FIBER,    /* fiber ids and tags */
    PT_COMPLETE_FILE,     /* file names (break FILE:LINE) */
    PT_COMPLETE_COMMAND,  /* command names (help) */
    PT_COMPLETE_TRACE,    /* "ops", then on/off, then "fiber" */
    PT_COMPLETE_SET,      /* "fiberlock", then on/off/step; "follow-fork" ... */
    PT_COMPLETE_PROCESS,  /* process numbers */
    PT_COMPLETE_HOG,      /* "report", "off" */
    PT_COMPLETE_CATCH     /* "off" and common exception classes */
};

/* Values of pt_cmd_args.mode. */
enum pt_cmd_mode {
    PT_MODE_NONE = 0,
    PT_MODE_OFF,
    PT_MODE_ON,
    PT_MODE_STEP,
    PT_MODE_REPORT
};

/* A command's parsed arguments; which fields are set depends on the command. */
struct pt_cmd_args {
    bool has_number;
    long number;                      /* frame N, delete N */
    char fiber[PT_CMD_FIBER_MAX];     /* switch F, backtrace F, ... fiber F; "" = none */
    char file[PT_CMD_TEXT_MAX];       /* break FILE:LINE */
    long line;
    char method[PT_CMD_TEXT_MAX];     /* break Class#meth */
    char text[PT_CMD_TEXT_MAX];       /* print EXPR, break ... if COND, help TOPIC,
                                         catch CLASS, source FILE */
    enum pt_cmd_mode mode;            /* trace ops on|off, set fiberlock on|off|step,
                                         catch off [CLASS] (OFF; NONE: list or set) */
    char value[32];                   /* set follow-fork all|parent|child */
    bool all;                         /* backtrace all, fibers -a */
    bool stats;                       /* fibers -s */
    int group;                        /* fibers -g: enum pt_fv_group (0: none) */
};

/* Parses `args` (trimmed, possibly empty); 0 or -EINVAL with a message in err. */
typedef int (*pt_cmd_parse_fn)(const char *args, struct pt_cmd_args *out,
                               char *err, size_t errlen);

/* Runs a command; returns 0, or one of enum pt_cmd_result. */
typedef int (*pt_cmd_run_fn)(struct pt_ctl *ctl, const struct pt_cmd_args *args);

struct pt_cmd {
    enum pt_cmd_id id;
    const char *name;
    const char *aliases[PT_CMD_ALIASES_MAX + 1];  /* NULL-terminated */
    const char *synopsis;       /* arguments, e.g. "FILE:LINE [if COND] [fiber F]" */
    const char *summary;        /* one line */
    const char *help;           /* a paragraph or two; lines end with '\n' */
    pt_cmd_parse_fn parse;
    pt_cmd_run_fn run;
    enum pt_cmd_complete complete;
    bool while_running;         /* allowed while the program runs */
    bool repeatable;            /* an empty line repeats it (step commands) */
};

/* The table, PT_CMD_COUNT entries, in the order `help` lists them. */
extern const struct pt_cmd pt_cmd_table[PT_CMD_COUNT];

/* The command named or aliased `word` (exact match), or NULL. */
const struct pt_cmd *pt_cmd_lookup(const char *word);

/* A parsed input line. */
struct pt_cmd_call {
    const struct pt_cmd *cmd;
    struct pt_cmd_args args;
};

/*
 * Splits `line` into a command word and its arguments, looks the command up
 * and parses the arguments. 0 on success; -ENOENT for an empty line; -EINVAL
 * with a one-line message in err for an unknown command or bad arguments.
 */
int pt_cmd_parse_line(const char *line, struct pt_cmd_call *out,
                      char *err, size_t errlen);

#endif
