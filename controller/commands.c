/*
 * commands.c — THE command table. Every REPL command with its aliases,
 * argument synopsis, one-line summary, long help, argument parser, handler
 * and completion kind. `help`, tab completion, `polytrace --help` and the
 * man page's COMMANDS section are all derived from it (a check test keeps
 * man/polytrace.1 in step). Also: splitting an input line into a call.
 */
#include "commands.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "handlers.h"

const struct pt_cmd pt_cmd_table[PT_CMD_COUNT] = {
    { PT_CMD_STEP, "step", { "s", NULL }, "",
      "step into: the next line the selected fiber runs",
      "Resumes the program and stops at the next line the selected fiber\n"
      "executes, entering method calls. Other fibers may run meanwhile\n"
      "(see 'set fiberlock') but do not end the step, except by hitting a\n"
      "breakpoint. An empty line repeats the last step command.\n",
      pt_args_none, pt_hdl_step, PT_COMPLETE_NONE, false, true },
    { PT_CMD_SKIP, "skip", { "n", "next", NULL }, "",
      "step over: the fiber's next line in this frame",
      "Resumes the program and stops at the next line the selected fiber\n"
      "executes in the current frame or a shallower one: calls are run\n"
      "through, not entered. Lines run by other fibers do not count.\n",
      pt_args_none, pt_hdl_skip, PT_COMPLETE_NONE, false, true },
    { PT_CMD_UP, "up", { "finish", NULL }, "",
      "step out: until the selected frame returns",
      "Resumes the program until the selected frame of the selected fiber\n"
      "returns, and stops there, at its last line, showing the value it\n"
      "returns ('=> 45'); the next step goes on in the caller, and 'up'\n"
      "again finishes the caller. A block is a frame of its own: 'up' in\n"
      "the block of a 'loop' or 'each' stops at the end of that iteration.\n"
      "If the fiber ends first, polytrace says so with its result ('fiber 3\n"
      "(ann) finished => 45') and stops at the next line of its parent or,\n"
      "when the parent is waiting on something else, of the next fiber to\n"
      "run, saying which and why. The same goes for step and skip.\n",
      pt_args_none, pt_hdl_up, PT_COMPLETE_NONE, false, true },
    { PT_CMD_CONTINUE, "continue", { "c", NULL }, "",
      "run until a breakpoint, a pause or the end",
      "Resumes the program. It runs until it hits a breakpoint, calls\n"
      "Kernel#breakpoint, is paused (the 'pause' command, or Ctrl-C) or exits.\n",
      pt_args_none, pt_hdl_continue, PT_COMPLETE_NONE, false, false },
    { PT_CMD_SWITCH, "switch", { "fiber", NULL }, "F|EXPR",
      "select fiber F (id, tag or expression) for step commands",
      "Selects fiber F, given by its id (as 'fibers' shows it) or its tag;\n"
      "anything else is a Ruby expression evaluated in the selected frame\n"
      "that gives a fiber ('switch workers.first', 'switch\n"
      "Fiber.current.children.first'). A fiber of any thread can be\n"
      "selected. The next step, skip or up follows F: the program resumes\n"
      "and stops at the next line F executes. 'backtrace', 'list' and\n"
      "'print' then refer to F's frames.\n",
      pt_args_switch, pt_hdl_switch, PT_COMPLETE_FIBER, false, false },
    { PT_CMD_FIBERS, "fibers", { NULL }, "[-s] [-a] [-g state|location|tag] [PATTERN]",
      "the fiber tree: id, tag, state, location, wait",
      "Lists the program's fibers as a tree (children indented under the\n"
      "fiber that spun them) with id, tag, state, location and what a\n"
      "waiting fiber waits on, or, for a runnable one, the value it will be\n"
      "resumed with. '*' marks the selected fiber. With several Ruby\n"
      "threads, each thread is described (idle in its loop, blocked outside\n"
      "the runtime ...) and its fibers listed under it. Beyond a screenful,\n"
      "the first fibers are listed and the rest summarised by state; -a\n"
      "lists them all. PATTERN (a regular expression) keeps the fibers whose\n"
      "id, tag, state, location, method, wait or value match it. -g groups\n"
      "them by state, location or tag, with counts and the first fibers of\n"
      "each group. With -s, each fiber's counters too (as 'polytrace top'\n"
      "shows them): time running (cpu), times run, longest single run, time\n"
      "waiting, and I/O ops in flight / started.\n",
      pt_args_fibers, pt_hdl_fibers, PT_COMPLETE_NONE, false, false },
    { PT_CMD_RUNQUEUE, "runqueue", { NULL }, "[F]",
      "the run queue, in order, with each fiber's value",
      "Lists the run queue of the selected fiber's thread (or of fiber F's)\n"
      "in the order the fibers will run, each with the value it will be\n"
      "resumed with.\n",
      pt_args_opt_fiber, pt_hdl_runqueue, PT_COMPLETE_FIBER, false, false },
    { PT_CMD_PROCESSES, "processes", { NULL }, "",
      "the processes being debugged: number, pid, state",
      "Lists the processes polytrace debugs: the program and every forked\n"
      "child it follows (see 'set follow-fork'), each with its number, pid,\n"
      "state and, when stopped, where and why. '*' marks the selected one:\n"
      "fibers, backtrace, print, stepping and continue act on it. Breakpoints,\n"
      "catch, hog, trace and set apply to all of them.\n",
      pt_args_none, pt_hdl_processes, PT_COMPLETE_NONE, true, false },
    { PT_CMD_PROCESS, "process", { NULL }, "[N]",
      "select process N (as 'processes' numbers them)",
      "Selects process N for the commands that follow and shows where it\n"
      "stopped. A process that stops while you work in another one waits,\n"
      "announced ('process 2 (pid 4242) stopped at ...'); one that stops\n"
      "while the selected one runs is selected at once. Without N, says\n"
      "which process is selected.\n",
      pt_args_opt_number, pt_hdl_process, PT_COMPLETE_PROCESS, true, false },
    { PT_CMD_BACKTRACE, "backtrace", { "bt", NULL }, "[all] [F]",
      "frames of the selected fiber, or of fiber F",
      "Prints the call stack of the selected fiber, or of fiber F, innermost\n"
      "frame first. '>' marks the selected frame. Frames in the runtime's\n"
      "and the tracer's own Ruby files and in Ruby's own (<internal:...>)\n"
      "are left out (a last line counts them); 'backtrace all' shows every\n"
      "frame, those marked (hidden). Below a spun fiber's frames come those\n"
      "its spinner had when it spun it ('-- spun by fiber 2 (acceptor) at\n"
      "server.rb:30 --'), and so on up to the main fiber; they can be\n"
      "selected and listed, not evaluated in.\n",
      pt_args_backtrace, pt_hdl_backtrace, PT_COMPLETE_FIBER, false, false },
    { PT_CMD_FRAME, "frame", { NULL }, "N",
      "select frame N for list and print",
      "Selects frame N (0 is the innermost, as 'backtrace' numbers them);\n"
      "'list' and 'print' then work in that frame, and 'skip' and 'up'\n"
      "count from it. A stop selects the innermost frame outside the\n"
      "runtime's and the tracer's files.\n",
      pt_args_number, pt_hdl_frame, PT_COMPLETE_NONE, false, false },
    { PT_CMD_UPFRAME, "upframe", { NULL }, "",
      "select the caller's frame (outwards)",
      "Selects the frame that called the selected one, passing over\n"
      "frames of the runtime (see 'backtrace all').\n",
      pt_args_none, pt_hdl_upframe, PT_COMPLETE_NONE, false, false },
    { PT_CMD_DOWNFRAME, "downframe", { NULL }, "",
      "select the callee's frame (inwards)",
      "Selects the frame the selected one called, passing over frames of\n"
      "the runtime.\n",
      pt_args_none, pt_hdl_downframe, PT_COMPLETE_NONE, false, false },
    { PT_CMD_LIST, "list", { "l", NULL }, "[LINE]",
      "source around the selected frame (or LINE)",
      "Prints source lines around the selected frame's line; '=>' marks\n"
      "the current line. With LINE, lists around that line of the same file.\n"
      "Repeating 'list' continues with the following lines.\n",
      pt_args_opt_number, pt_hdl_list, PT_COMPLETE_NONE, false, false },
    { PT_CMD_PRINT, "print", { "p", NULL }, "EXPR",
      "evaluate Ruby EXPR in the selected frame",
      "Evaluates EXPR in the selected frame of the selected fiber and prints\n"
      "the result's #inspect, or the exception it raised. The program does\n"
      "not resume; other fibers do not run. Ctrl-C stops waiting for a slow\n"
      "answer (the evaluation itself runs on in the program).\n"
      "A long result is cut to the print limit (4096 bytes unless 'set print\n"
      "limit N' says otherwise) and followed by its whole size; 'set print\n"
      "limit 0' prints values whole.\n",
      pt_args_expr, pt_hdl_print, PT_COMPLETE_NONE, false, false },
    { PT_CMD_BREAK, "break", { "b", NULL }, "FILE:LINE|LINE|Class#meth|meth [if COND] [fiber F]",
      "set a breakpoint (conditional, per fiber)",
      "Sets a breakpoint at FILE:LINE, at LINE of the current file, or at\n"
      "the start of method Class#meth (Class.meth for a singleton method;\n"
      "a bare meth is a top-level method, Object#meth).\n"
      "With 'if COND' the program stops only when the Ruby expression COND\n"
      "is true there; with 'fiber F' only when fiber F gets there.\n"
      "A line past the end of a loaded file, or with no code, is refused\n"
      "with the nearest line that has code; a file not loaded yet keeps the\n"
      "breakpoint pending until it is.\n",
      pt_args_break, pt_hdl_break, PT_COMPLETE_FILE, false, false },
    { PT_CMD_DELETE, "delete", { NULL }, "N",
      "delete breakpoint N",
      "Deletes breakpoint number N (as 'breakpoints' lists them).\n",
      pt_args_number, pt_hdl_delete, PT_COMPLETE_NONE, false, false },
    { PT_CMD_BREAKPOINTS, "breakpoints", { NULL }, "",
      "list the breakpoints",
      "Lists the breakpoints with their number, location, condition, fiber\n"
      "and how many times each was hit.\n",
      pt_args_none, pt_hdl_breakpoints, PT_COMPLETE_NONE, false, false },
    { PT_CMD_WATCH, "watch", { NULL }, "[EXPR]",
      "stop where EXPR's value changes; list watches",
      "Watches the Ruby expression EXPR, made in the selected frame (its\n"
      "locals stay in reach after the frame returns): at every line of every\n"
      "fiber it is evaluated and compared with its last value (== and\n"
      "#hash, so a mutated Array counts), and when it changed the program\n"
      "stops in the fiber that changed it, at the line after the change,\n"
      "showing the value before and now. Without EXPR, lists the watches\n"
      "with their values and how often each changed. A watch slows every\n"
      "line of the program down while it is set (see 'make bench').\n",
      pt_args_opt_expr, pt_hdl_watch, PT_COMPLETE_NONE, false, false },
    { PT_CMD_UNWATCH, "unwatch", { NULL }, "N",
      "delete watch N",
      "Deletes watch number N (as 'watch' lists them).\n",
      pt_args_number, pt_hdl_unwatch, PT_COMPLETE_NONE, false, false },
    { PT_CMD_DISPLAY, "display", { NULL }, "[EXPR]",
      "show EXPR's value at every stop; list displays",
      "Shows the Ruby expression EXPR's value now and at every stop after\n"
      "this one, evaluated in the frame the stop selects ('1: total = 45').\n"
      "Without EXPR, shows every display's value.\n",
      pt_args_opt_expr, pt_hdl_display, PT_COMPLETE_NONE, false, false },
    { PT_CMD_UNDISPLAY, "undisplay", { NULL }, "N",
      "delete display N",
      "Deletes display number N.\n",
      pt_args_number, pt_hdl_undisplay, PT_COMPLETE_NONE, false, false },
    { PT_CMD_CATCH, "catch", { NULL }, "[CLASS | off [CLASS]]",
      "stop when an exception of CLASS is raised",
      "'catch CLASS' stops the program where an exception that is_a?(CLASS)\n"
      "is raised, rescued or not; the stop shows the exception. 'catch' lists\n"
      "the classes caught; 'catch off' forgets them all, 'catch off CLASS' one.\n"
      "An exception raised inside the runtime's own Ruby files stops once,\n"
      "shown at the program's line that called into the runtime.\n"
      "Exceptions the runtime uses for control flow (Polyphony::MoveOn,\n"
      "Cancel, Terminate, Restart, Interrupt) and StopIteration itself stop\n"
      "only when one of their own classes is named, not through Exception or\n"
      "StandardError.\n",
      pt_args_catch, pt_hdl_catch, PT_COMPLETE_CATCH, false, false },
    { PT_CMD_TRACE, "trace", { NULL }, "ops on|off [fiber F]",
      "show I/O ops as they happen (all, or fiber F)",
      "'trace ops on' prints every I/O operation the runtime submits and\n"
      "completes (read, write, accept, sleep ...) while the program runs,\n"
      "for all fibers or only fiber F. 'trace ops off' stops it. The program\n"
      "never waits for the debugger: events the debugger is too far behind\n"
      "to take (about 20,000) are dropped, and a line says how many.\n",
      pt_args_trace, pt_hdl_trace, PT_COMPLETE_TRACE, false, false },
    { PT_CMD_SET, "set", { NULL }, "fiberlock on|off|step | print limit N | follow-fork all|parent|child",
      "which fibers run while stepping; print; forks",
      "'set fiberlock step' (the default): during step, skip and up the\n"
      "selected fiber runs whenever it can; other fibers run only while it\n"
      "waits (I/O, sleep, receive, await ...), so a step over a wait on another\n"
      "fiber finishes, and no other fiber runs between two of its lines unless\n"
      "it waited in between. Every fiber runs on continue.\n"
      "'set fiberlock on': only the selected fiber runs, during steps and on\n"
      "continue, even while it waits; a step over a wait on another fiber then\n"
      "never finishes: Ctrl-C (or pause) stops the program again.\n"
      "'set fiberlock off': all fibers run while stepping.\n"
      "Events for fibers that are kept waiting are delivered later, never lost.\n"
      "'set print limit N': print shows at most N bytes of a value's inspect\n"
      "(default 4096), then how long it is in all; 0 prints values whole.\n"
      "'set follow-fork all' (the default): a child the program forks comes\n"
      "under polytrace as a new process (see 'processes') with the parent's\n"
      "breakpoints and settings, and both run on; 'parent': children run\n"
      "free; 'child': the child comes under polytrace and the parent runs on\n"
      "without it. print limit and follow-fork can be set while it runs.\n",
      pt_args_set, pt_hdl_set, PT_COMPLETE_SET, true, false },
    { PT_CMD_HOG, "hog", { NULL }, "[DURATION | report DURATION | off]",
      "catch a fiber that runs too long without yielding",
      "'hog 50ms' arms the loop watchdog: when a fiber runs longer than 50 ms\n"
      "without switching (every other fiber and timer of its thread waits\n"
      "meanwhile), the program stops in that fiber at the line it is\n"
      "executing (reason 'hog: fiber 4 (worker) has run 50 ms without\n"
      "yielding'). 'hog report 50ms' stops nothing: one line is printed per\n"
      "occurrence when the fiber finally yields, with how long it ran and\n"
      "where it was. 'hog off' disarms it; 'hog' shows the setting.\n"
      "DURATION: 50ms, 0.2s, 500us (1 ms to 1 hour; a bare number is ms).\n"
      "The watchdog is a timer on its own thread: nothing runs per line.\n",
      pt_args_hog, pt_hdl_hog, PT_COMPLETE_HOG, false, false },
    { PT_CMD_PAUSE, "pause", { NULL }, "",
      "stop the running program (also Ctrl-C)",
      "Stops the running program at its next line, or where it waits if it\n"
      "is idle. Ctrl-C at the terminal does the same.\n",
      pt_args_none, pt_hdl_pause, PT_COMPLETE_NONE, true, false },
    { PT_CMD_DETACH, "detach", { NULL }, "",
      "let the program run on without the debugger",
      "Removes breakpoints and stepping and lets the program run on unharmed.\n"
      "A program polytrace started keeps the terminal and polytrace waits\n"
      "for it to end (and exits 0); an attached program runs on and\n"
      "polytrace exits.\n",
      pt_args_none, pt_hdl_detach, PT_COMPLETE_NONE, true, false },
    { PT_CMD_QUIT, "quit", { "q", "exit", NULL }, "",
      "leave: kill a launched program, else detach",
      "Leaves polytrace. A program polytrace started is killed; an attached\n"
      "program is detached from and runs on. Ctrl-D does the same.\n",
      pt_args_none, pt_hdl_quit, PT_COMPLETE_NONE, true, false },
    { PT_CMD_KILL, "kill", { NULL }, "",
      "kill the program and leave polytrace",
      "Kills the program (SIGKILL) and leaves polytrace.\n",
      pt_args_none, pt_hdl_kill, PT_COMPLETE_NONE, true, false },
    { PT_CMD_SOURCE, "source", { NULL }, "FILE",
      "run the commands in FILE",
      "Runs the commands in FILE, one per line, as if typed at the prompt;\n"
      "blank lines and lines starting with '#' are skipped. A command that\n"
      "resumes the program (continue, step ...) lets it run, and the next\n"
      "line runs at the next stop. A command that fails stops the file (and\n"
      "any file that sourced it); the error names the file and line.\n"
      "polytrace reads ~/.polytracerc the same way at the first stop (unless\n"
      "started with -n), then the files and commands given with -x and -ex.\n",
      pt_args_path, pt_hdl_source, PT_COMPLETE_FILE, false, false },
    { PT_CMD_HELP, "help", { "h", "?", NULL }, "[COMMAND]",
      "list the commands, or describe COMMAND",
      "Without an argument, lists every command with its aliases. With a\n"
      "command name or alias, describes that command.\n",
      pt_args_topic, pt_hdl_help, PT_COMPLETE_COMMAND, true, false },
};

const struct pt_cmd *pt_cmd_lookup(const char *word)
{
    if (!word || !*word)
        return NULL;
    for (size_t i = 0; i < PT_CMD_COUNT; i++) {
        const struct pt_cmd *c = &pt_cmd_table[i];
        if (strcmp(c->name, word) == 0)
            return c;
        for (const char *const *a = c->aliases; *a; a++)
            if (strcmp(*a, word) == 0)
                return c;
    }
    return NULL;
}

int pt_cmd_parse_line(const char *line, struct pt_cmd_call *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    while (isspace((unsigned char)*line))
        line++;
    if (!*line)
        return -ENOENT;
    char word[64];
    size_t n = 0;
    while (line[n] && !isspace((unsigned char)line[n]))
        n++;
    if (n >= sizeof word) {
        snprintf(err, errlen, "unknown command '%.20s...' (try 'help')", line);
        return -EINVAL;
    }
    memcpy(word, line, n);
    word[n] = '\0';
    const struct pt_cmd *cmd = pt_cmd_lookup(word);
    if (!cmd) {
        snprintf(err, errlen, "unknown command '%s' (try 'help')", word);
        return -EINVAL;
    }
    char why[PT_CMD_TEXT_MAX];
    why[0] = '\0';
    if (cmd->parse(line + n, &out->args, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", cmd->name, why);
        return -EINVAL;
    }
    out->cmd = cmd;
    return 0;
}
