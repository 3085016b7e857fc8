/*
 * complete.c — readline completion driven by the command table: the first
 * word completes to command names and aliases; later words to what the
 * command's completion kind names. Fiber ids and tags are fetched from the
 * tracer when the program is stopped; process numbers are the session's.
 */
#include "complete.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/readline.h>

#include "commands.h"
#include "ctl.h"

static struct pt_ctl *the_ctl;

void pt_complete_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

struct list {
    char **v;
    size_t n, cap;
};

static void add(struct list *l, const char *word, const char *text)
{
    if (strncmp(word, text, strlen(text)) != 0)
        return;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], word) == 0)
            return;
    if (l->n + 2 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return;
        l->v = v;
        l->cap = cap;
    }
    char *copy = strdup(word);
    if (!copy)
        return;
    l->v[l->n++] = copy;
    l->v[l->n] = NULL;
}

static void add_commands(struct list *l, const char *text)
{
    for (size_t i = 0; i < PT_CMD_COUNT; i++) {
        add(l, pt_cmd_table[i].name, text);
        for (const char *const *a = pt_cmd_table[i].aliases; *a; a++)
            add(l, *a, text);
    }
}

static void add_words(struct list *l, const char *const *words, const char *text)
{
    for (; words && *words; words++)
        add(l, *words, text);
}

/* The numbers of the processes under the session. */
static void add_process_numbers(struct list *l, const char *text)
{
    if (!the_ctl)
        return;
    for (int i = 0; i < the_ctl->dbg.nprocs; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", the_ctl->dbg.procs[i]->num);
        add(l, num, text);
    }
}

/* Splits line[0..start) into words; returns how many (at most max). */
static int words_before(const char *line, int start, char words[][64], int max)
{
    int n = 0, i = 0;
    while (i < start && n < max) {
        while (i < start && isspace((unsigned char)line[i]))
            i++;
        if (i >= start)
            break;
        int k = 0;
        while (i < start && !isspace((unsigned char)line[i])) {
            if (k < 63)
                words[n][k++] = line[i];
            i++;
        }
        words[n][k] = '\0';
        n++;
    }
    return n;
}

char **pt_complete_candidates(const char *line, int start, const char *text,
                              const char *const *fibers, int *files)
{
    struct list l = { 0 };
    char words[8][64];
    *files = 0;
    int n = words_before(line, start, words, 8);
    if (n == 0) {
        add_commands(&l, text);
        return l.v;
    }
    const struct pt_cmd *c = pt_cmd_lookup(words[0]);
    if (!c)
        return NULL;
    static const char *const onoff[] = { "on", "off", NULL };
    static const char *const onoffstep[] = { "on", "off", "step", NULL };
    static const char *const ops[] = { "ops", NULL };
    static const char *const fiberkw[] = { "fiber", NULL };
    static const char *const iffiber[] = { "if", "fiber", NULL };
    static const char *const settings[] = { "fiberlock", "print", "follow-fork", NULL };
    static const char *const follows[] = { "all", "parent", "child", NULL };
    static const char *const limit[] = { "limit", NULL };
    static const char *const hogwords[] = { "report", "off", "50ms", NULL };
    static const char *const catches[] = { "off", "Exception", "StandardError", "RuntimeError",
                                           "ArgumentError", "NoMethodError", "TypeError",
                                           "KeyError", "IOError", NULL };
    const char *prev = words[n - 1];
    switch (c->complete) {
    case PT_COMPLETE_NONE:
        break;
    case PT_COMPLETE_COMMAND:
        if (n == 1)
            add_commands(&l, text);
        break;
    case PT_COMPLETE_FIBER:
        if (n == 1)
            add_words(&l, fibers, text);
        break;
    case PT_COMPLETE_FILE:
        if (strcmp(prev, "fiber") == 0)
            add_words(&l, fibers, text);
        else if (n == 1)
            *files = 1;
        else if (n >= 2 && strcmp(words[1], "if") != 0)
            add_words(&l, iffiber, text);
        break;
    case PT_COMPLETE_TRACE:
        if (n == 1)
            add_words(&l, ops, text);
        else if (n == 2)
            add_words(&l, onoff, text);
        else if (n == 3)
            add_words(&l, fiberkw, text);
        else if (n == 4 && strcmp(prev, "fiber") == 0)
            add_words(&l, fibers, text);
        break;
    case PT_COMPLETE_CATCH:
        if (n == 1 || (n == 2 && strcmp(prev, "off") == 0))
            add_words(&l, catches + (n == 2), text);
        break;
    case PT_COMPLETE_SET:
        if (n == 1)
            add_words(&l, settings, text);
        else if (n == 2 && strcmp(prev, "print") == 0)
            add_words(&l, limit, text);
        else if (n == 2 && strcmp(prev, "follow-fork") == 0)
            add_words(&l, follows, text);
        else if (n == 2)
            add_words(&l, onoffstep, text);
        break;
    case PT_COMPLETE_PROCESS:
        if (n == 1)
            add_process_numbers(&l, text);
        break;
    case PT_COMPLETE_HOG:
        if (n == 1)
            add_words(&l, hogwords, text);
        break;
    }
    return l.v;
}

/* Fiber ids and tags from the tracer (only while stopped). */
static char **fetch_fibers(void)
{
    struct pt_ctl *ctl = the_ctl;
    if (!ctl || !pt_dbg_stopped(&ctl->dbg) || pt_dbg_fd(&ctl->dbg) < 0)
        return NULL;
    struct pt_msg rep;
    if (pt_dbg_fibers(&ctl->dbg, 1000, &rep) != 0)
        return NULL;
    size_t n = rep.u.fibers.nfibers;
    char **v = calloc(2 * n + 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; v && i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "%" PRIu64, rep.u.fibers.fibers[i].id);
        v[k++] = strdup(id);
        if (rep.u.fibers.fibers[i].tag && *rep.u.fibers.fibers[i].tag)
            v[k++] = strdup(rep.u.fibers.fibers[i].tag);
    }
    pt_msg_free(&rep);
    return v;
}

static char *no_more(const char *text, int state)
{
    (void)text;
    (void)state;
    return NULL;
}

static char **attempt(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;
    int files = 0;
    char **fibers = NULL;
    const struct pt_cmd *c = NULL;
    char first[64];
    if (sscanf(rl_line_buffer, "%63s", first) == 1)
        c = pt_cmd_lookup(first);
    if (c && (c->complete == PT_COMPLETE_FIBER || c->complete == PT_COMPLETE_FILE ||
              c->complete == PT_COMPLETE_TRACE))
        fibers = fetch_fibers();
    char **cands = pt_complete_candidates(rl_line_buffer, start, text,
                                          (const char *const *)fibers, &files);
    pt_complete_free(fibers);
    if (files)
        return rl_completion_matches(text, rl_filename_completion_function);
    if (!cands)
        return NULL;
    /* readline wants the common prefix in [0], then the matches. */
    size_t n = 0;
    while (cands[n])
        n++;
    char **out = calloc(n + 2, sizeof *out);
    if (!out) {
        pt_complete_free(cands);
        return NULL;
    }
    size_t common = strlen(cands[0]);
    for (size_t i = 1; i < n; i++) {
        size_t k = 0;
        while (k < common && cands[i][k] == cands[0][k])
            k++;
        common = k;
    }
    out[0] = strndup(cands[0], common);
    if (n == 1) {
        free(out[0]);
        out[0] = cands[0];
    } else {
        for (size_t i = 0; i < n; i++)
            out[i + 1] = cands[i];
    }
    free(cands);
    return out;
}

void pt_complete_init(struct pt_ctl *ctl)
{
    the_ctl = ctl;
    rl_attempted_completion_function = attempt;
    rl_completion_entry_function = no_more;
}
