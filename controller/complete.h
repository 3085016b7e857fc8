/*
 * complete.h — tab completion for the REPL: command names and aliases in
 * first position, then what the command's table entry says (fiber ids and
 * tags, file names, on/off words, command names for help).
 */
#ifndef PT_COMPLETE_H
#define PT_COMPLETE_H

#include <stddef.h>

struct pt_ctl;

/* Installs the completer in readline; fiber ids come from ctl's tracer. */
void pt_complete_init(struct pt_ctl *ctl);

/*
 * The candidates for completing `text`, the word at [start, end) of line:
 * a malloc'd NULL-terminated array of malloc'd strings (NULL: none).
 * *files is set when readline's file name completion should be used instead.
 * fibers: NULL-terminated words offered for fiber arguments (may be NULL).
 */
char **pt_complete_candidates(const char *line, int start, const char *text,
                              const char *const *fibers, int *files);

void pt_complete_free(char **v);

#endif
