/*
 * help.c — help texts. The command lists are generated from the command
 * table so they cannot drift from what the REPL accepts; man/polytrace.1
 * carries the same names (a unit test checks it).
 */
#include "help.h"

#include <string.h>

#include "pt_proto.h"
#include "strcopy.h"

/* "skip, n, next" */
static void names(FILE *out, const struct pt_cmd *c)
{
    fputs(c->name, out);
    for (const char *const *a = c->aliases; *a; a++)
        fprintf(out, ", %s", *a);
}

void pt_help_commands(FILE *out)
{
    fputs("Commands (an empty line repeats the last step, skip or up):\n", out);
    for (size_t i = 0; i < PT_CMD_COUNT; i++) {
        const struct pt_cmd *c = &pt_cmd_table[i];
        char left[160];
        size_t o = pt_str_copy(left, sizeof left, c->name);
        for (const char *const *a = c->aliases; *a && o < sizeof left; a++)
            o += (size_t)snprintf(left + o, sizeof left - o, ", %s", *a);
        if (*c->synopsis && o < sizeof left)
            snprintf(left + o, sizeof left - o, " %s", c->synopsis);
        if (strlen(left) > 24 || strlen(left) + strlen(c->summary) > 72)
            fprintf(out, "  %s\n      %s\n", left, c->summary);
        else
            fprintf(out, "  %-24s  %s\n", left, c->summary);
    }
    fputs("Ctrl-C stops the running program; Ctrl-D quits. 'help COMMAND' says more.\n", out);
}

void pt_help_command(FILE *out, const struct pt_cmd *c)
{
    fprintf(out, "%s%s%s\n", c->name, *c->synopsis ? " " : "", c->synopsis);
    if (c->aliases[0]) {
        fputs("  names: ", out);
        names(out, c);
        fputc('\n', out);
    }
    fprintf(out, "  %s\n\n%s", c->summary, c->help);
}

void pt_help_usage(FILE *out)
{
    fputs("usage: polytrace [OPTIONS] [--] PROGRAM [ARGS...]\n"
          "       polytrace [-n] [-x FILE] [-ex CMD] attach PID\n"
          "       polytrace dump PID\n"
          "       polytrace --listen HOST:PORT [LISTEN OPTIONS] [--nonstop] [--] PROGRAM\n"
          "                 [ARGS...]\n"
          "       polytrace [-n] [-x FILE] [-ex CMD] connect [--tls [--tls-ca FILE]]\n"
          "                 [--token-file FILE] HOST:PORT\n"
          "       polytrace dap [--listen HOST:PORT | --listen PATH]\n"
          "       polytrace top [-d SECS] [-s KEY] [-f TEXT] [-b [-n COUNT]] PID\n"
          "       polytrace -h | --help | --version\n"
          "\n"
          "An interactive, fiber-aware debugger for Ruby programs on the Polyphony\n"
          "fiber runtime. PROGRAM is usually 'ruby app.rb' (a PROGRAM ending in .rb\n"
          "is run with ruby); polytrace preloads the tracer, stops at the first line\n"
          "of the script and prompts '(polytrace)'.\n"
          "\n"
          "Modes:\n"
          "  PROGRAM ARGS     launch PROGRAM under the debugger\n"
          "  attach PID       attach to a running Ruby program; one started without\n"
          "                   the tracer (Ruby 3.1, x86-64) gets it loaded first\n"
          "                   through ptrace: same user, ptrace permitted (Yama\n"
          "                   ptrace_scope 0 or CAP_SYS_PTRACE), no other tracer\n"
          "  dump PID         print every fiber's backtrace and state, then detach\n"
          "  --listen HOST:PORT PROGRAM\n"
          "                   run PROGRAM (in polytrace's place: same pid) waiting\n"
          "                   for a debugger on TCP before its first line (with\n"
          "                   --nonstop it runs, and a debugger that connects stops\n"
          "                   it where it is); the port stays open for the next one.\n"
          "                   Loopback addresses only, unless --listen-any. A token\n"
          "                   is printed on stderr (or read from --token-file);\n"
          "                   5 failed authentications close the port\n"
          "  connect HOST:PORT  debug a program listening on TCP (--listen, or\n"
          "                   POLYTRACE_LISTEN); the token comes from --token-file,\n"
          "                   POLYTRACE_TOKEN or a prompt. Forked children are not\n"
          "                   followed over TCP. See docs/remote.md\n"
          "  dap              a Debug Adapter Protocol server on stdin/stdout for\n"
          "                   editors (VS Code, nvim-dap, Emacs dap-mode): they launch\n"
          "                   or attach; each fiber, a forked child's too, is a\n"
          "                   thread; see docs/editors.md\n"
          "  dap --listen ADDR  the same on a socket editors connect to, one after\n"
          "                   another: HOST:PORT on a loopback address (port 0: any;\n"
          "                   the address is printed on stderr) or a Unix socket PATH;\n"
          "                   connections from other users are turned away\n"
          "  top PID          a live view of every fiber's counters (time running,\n"
          "                   runs, longest run, time waiting, ops), refreshed every\n"
          "                   second; the program is never stopped. Keys: c r l w i\n"
          "                   sort by cpu, runs, longest, waiting, id; / filter;\n"
          "                   + - interval; space refresh; q leave (it runs on)\n"
          "\n"
          "Options of --listen (before PROGRAM):\n"
          "  --listen-any     allow an address that is not loopback (0.0.0.0, a LAN\n"
          "                   address): whoever reaches it with the token can run\n"
          "                   any code as the program\n"
          "  --token-file FILE  the token: FILE's first line (16 to 256 printable\n"
          "                   characters), FILE yours and mode 600; default: a\n"
          "                   random one, printed\n"
          "  --tls-cert FILE, --tls-key FILE\n"
          "                   TLS with this PEM certificate (chain) and key\n"
          "\n"
          "Options of connect (after it):\n"
          "  --token-file FILE  the token, from FILE (yours, mode 600)\n"
          "  --tls            TLS, the certificate checked against the system's\n"
          "                   authorities and for HOST\n"
          "  --tls-ca FILE    with --tls: against the PEM certificates in FILE (a\n"
          "                   self-signed certificate: the certificate itself)\n"
          "\n"
          "Options of top (before or after PID):\n"
          "  -d SECS          seconds between refreshes (default 1; 0.1 to 3600)\n"
          "  -s KEY           sort: cpu (default), runs, longest, waiting or id\n"
          "  -f TEXT          only fibers whose id, tag, state or wait contains TEXT\n"
          "  -b               print a screen per refresh instead of drawing one\n"
          "  -n COUNT         with -b: this many screens, then leave\n"
          "\n"
          "Options (before PROGRAM, attach or dump):\n"
          "  --nonstop        do not stop at the first line; run until a breakpoint,\n"
          "                   Kernel#breakpoint, Ctrl-C or the end\n"
          "  --detach         with --nonstop: start the program with the tracer loaded,\n"
          "                   print its PID and return; attach later\n"
          "  -x FILE          run the commands in FILE at the first stop (see 'source')\n"
          "  -ex CMD          run the command CMD at the first stop; -x and -ex may be\n"
          "                   repeated and run in the order given, after ~/.polytracerc\n"
          "  -n               do not read ~/.polytracerc\n"
          "  -h, --help       this text\n"
          "  --version        polytrace's version and protocol version\n"
          "\n", out);
    pt_help_commands(out);
    fputs("\n"
          "Environment:\n"
          "  HOME               where .polytracerc is: commands run at the first stop\n"
          "  POLYTRACE_HISTORY  history file (default ~/.polytrace_history)\n"
          "  XDG_RUNTIME_DIR    if absolute, sockets go in $XDG_RUNTIME_DIR/polytrace\n"
          "                     (else /tmp/polytrace-UID), a directory of mode 0700\n"
          "  POLYTRACE_TOKEN    connect: the token of the program listening\n"
          "  POLYTRACE_LISTEN   in a program run with -rpolytrace: HOST:PORT to listen\n"
          "                     on, as --listen (and POLYTRACE_LISTEN_ANY=1,\n"
          "                     POLYTRACE_TOKEN_FILE, POLYTRACE_TLS_CERT,\n"
          "                     POLYTRACE_TLS_KEY, POLYTRACE_NONSTOP=1 as its options)\n"
          "  POLYTRACE_HOG      in a program run with -rpolytrace, with or without\n"
          "                     polytrace: a duration (50ms) arming the loop watchdog\n"
          "                     in report mode ('hog report'); reports go to stderr\n"
          "                     when no debugger is attached\n"
          "\n"
          "Exit status: the program's own exit status when it exits (0 after detach,\n"
          "quit or kill), 128+N when it dies of signal N, 2 for a usage error,\n"
          "1 for any other error (attach refused, connection lost).\n"
          "See polytrace(1).\n", out);
}

void pt_help_version(FILE *out)
{
    fprintf(out, "polytrace %s (protocol %d)\n", PT_VERSION, PT_PROTO_VERSION);
}
