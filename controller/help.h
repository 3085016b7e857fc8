/*
 * help.h — the text of `help`, `help COMMAND`, `polytrace --help` and
 * `polytrace --version`, all generated from the command table.
 */
#ifndef PT_HELP_H
#define PT_HELP_H

#include <stdio.h>

#include "commands.h"

#define PT_VERSION "0.1.0"

/* Every command: name, aliases, synopsis, summary. */
void pt_help_commands(FILE *out);

/* One command: usage line, aliases, long help. */
void pt_help_command(FILE *out, const struct pt_cmd *c);

/* `polytrace --help`: usage, options, modes, commands, environment, exit status. */
void pt_help_usage(FILE *out);

/* `polytrace --version`. */
void pt_help_version(FILE *out);

#endif
