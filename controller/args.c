/*
 * args.c — parsing of REPL command arguments. Each parser takes the text
 * after the command word, fills a struct pt_cmd_args and returns 0, or
 * -EINVAL with a one-line message naming what was wrong. No I/O here: the
 * REPL prints the message.
 */
#include "args.h"
#include "fiberview.h"
#include "strcopy.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Copies the next whitespace-separated word of *p into buf; advances *p. */
static bool next_word(const char **p, char *buf, size_t len)
{
    const char *s = *p;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return false;
    size_t n = 0;
    while (*s && !isspace((unsigned char)*s)) {
        if (n + 1 < len)
            buf[n++] = *s;
        s++;
    }
    buf[n] = '\0';
    *p = s;
    return true;
}

static const char *skip_space(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

static void trim_end(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

/* Start of the last word in [begin, end) (end excludes trailing spaces). */
static char *last_word(const char *begin, char *end)
{
    char *w = end;
    while (w > begin && !isspace((unsigned char)w[-1]))
        w--;
    return w;
}

/* Parses a whole decimal number in [min, max]. */
static bool parse_long(const char *s, long min, long max, long *out)
{
    if (!*s)
        return false;
    for (const char *c = s; *c; c++)
        if (!isdigit((unsigned char)*c))
            return false;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool pt_args_is_fiber_ref(const char *s)
{
    long id;
    if (isdigit((unsigned char)*s))
        return parse_long(s, 1, LONG_MAX, &id);
    if (*s == ':')
        s++;
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    size_t n = 0;
    for (; *s; s++, n++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-' || *s == '?' || *s == '!'))
            return false;
    return n < PT_CMD_FIBER_MAX - 1;
}

static int set_fiber(const char *word, struct pt_cmd_args *out, char *err, size_t errlen)
{
    if (!pt_args_is_fiber_ref(word))
        return fail(err, errlen, "'%s' is not a fiber id or tag", word);
    pt_str_copy(out->fiber, sizeof out->fiber, word[0] == ':' ? word + 1 : word);
    return 0;
}

int pt_args_none(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    (void)out;
    args = skip_space(args);
    if (*args)
        return fail(err, errlen, "takes no arguments (got '%s')", args);
    return 0;
}

int pt_args_fiber(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    char word[PT_CMD_TEXT_MAX], extra[PT_CMD_TEXT_MAX];
    if (!next_word(&args, word, sizeof word))
        return fail(err, errlen, "needs a fiber id or tag");
    if (next_word(&args, extra, sizeof extra))
        return fail(err, errlen, "takes one fiber, got extra '%s'", extra);
    return set_fiber(word, out, err, errlen);
}

int pt_args_opt_fiber(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    if (!*skip_space(args))
        return 0;
    return pt_args_fiber(args, out, err, errlen);
}

/* backtrace [all] [F] (either order; a fiber tagged "all" is ":all") */
int pt_args_backtrace(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    char word[PT_CMD_TEXT_MAX];
    while (next_word(&args, word, sizeof word)) {
        if (strcmp(word, "all") == 0 && !out->all) {
            out->all = true;
            continue;
        }
        if (out->fiber[0])
            return fail(err, errlen, "takes one fiber, got extra '%s'", word);
        int rc = set_fiber(word, out, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

int pt_args_number(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    char word[PT_CMD_TEXT_MAX], extra[PT_CMD_TEXT_MAX];
    if (!next_word(&args, word, sizeof word))
        return fail(err, errlen, "needs a number");
    if (next_word(&args, extra, sizeof extra))
        return fail(err, errlen, "takes one number, got extra '%s'", extra);
    if (!parse_long(word, 0, INT_MAX, &out->number))
        return fail(err, errlen, "'%s' is not a number", word);
    out->has_number = true;
    return 0;
}

int pt_args_opt_number(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    if (!*skip_space(args))
        return 0;
    return pt_args_number(args, out, err, errlen);
}

int pt_args_expr(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    args = skip_space(args);
    size_t n = strlen(args);
    while (n && isspace((unsigned char)args[n - 1]))
        n--;
    if (!n)
        return fail(err, errlen, "needs an expression");
    if (n >= sizeof out->text)
        return fail(err, errlen, "expression too long (at most %zu bytes)", sizeof out->text - 1);
    memcpy(out->text, args, n);
    out->text[n] = '\0';
    return 0;
}

int pt_args_opt_expr(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    if (!*skip_space(args))
        return 0;
    return pt_args_expr(args, out, err, errlen);
}

/* FILE:LINE, LINE (the current file), Class#meth or Class.meth. */
static int parse_location(const char *word, struct pt_cmd_args *out, char *err, size_t errlen)
{
    long line;
    if (parse_long(word, 1, INT_MAX, &line)) {
        out->file[0] = '\0';
        out->line = line;
        return 0;
    }
    const char *colon = strrchr(word, ':');
    if (colon && colon > word && colon[1] && isdigit((unsigned char)colon[1])) {
        if (!parse_long(colon + 1, 1, INT_MAX, &line))
            return fail(err, errlen, "bad line number in '%s'", word);
        size_t n = (size_t)(colon - word);
        if (n >= sizeof out->file)
            return fail(err, errlen, "file name too long");
        memcpy(out->file, word, n);
        out->file[n] = '\0';
        out->line = line;
        return 0;
    }
    const char *sep = strpbrk(word, "#.");
    if (sep && sep > word && sep[1] && isupper((unsigned char)word[0])) {
        for (const char *c = word; c < sep; c++)
            if (!(isalnum((unsigned char)*c) || *c == '_' || *c == ':'))
                return fail(err, errlen, "bad class name in '%s'", word);
        for (const char *c = sep + 1; *c; c++)
            if (!(isalnum((unsigned char)*c) || strchr("_?!=", *c)))
                return fail(err, errlen, "bad method name in '%s'", word);
        pt_str_copy(out->method, sizeof out->method, word);
        return 0;
    }
    /* A bare method name: a top-level method, which Ruby defines on Object. */
    if (islower((unsigned char)word[0]) || word[0] == '_') {
        for (const char *c = word; *c; c++)
            if (!(isalnum((unsigned char)*c) || strchr("_?!", *c)))
                return fail(err, errlen, "'%s' is not FILE:LINE, LINE, Class#method or method", word);
        snprintf(out->method, sizeof out->method, "Object#%.*s", (int)sizeof out->method - 8, word);
        return 0;
    }
    return fail(err, errlen, "'%s' is not FILE:LINE, LINE, Class#method or method", word);
}

/* break LOCATION [if COND] [fiber F]   (the two clauses in either order) */
int pt_args_break(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    char word[PT_CMD_TEXT_MAX];
    if (!next_word(&args, word, sizeof word))
        return fail(err, errlen, "needs FILE:LINE, LINE or Class#method");
    if (strlen(word) >= sizeof word - 1 - strlen("Object#"))
        return fail(err, errlen, "location too long");
    int rc = parse_location(word, out, err, errlen);
    if (rc)
        return rc;

    /* Work on a private copy of the rest, trimmed at both ends. */
    char rest[PT_CMD_TEXT_MAX];
    pt_str_copy(rest, sizeof rest, skip_space(args));
    trim_end(rest);
    char *cond = rest;

    /* A leading "fiber F". */
    const char *p = cond;
    if (next_word(&p, word, sizeof word) && strcmp(word, "fiber") == 0) {
        if (!next_word(&p, word, sizeof word))
            return fail(err, errlen, "'fiber' needs a fiber id or tag");
        if ((rc = set_fiber(word, out, err, errlen)))
            return rc;
        cond = (char *)skip_space(p);
    } else {
        /* A trailing "fiber F": the last two words. */
        char *last = last_word(cond, cond + strlen(cond));
        if (last > cond) {
            char *prev_end = last;
            while (prev_end > cond && isspace((unsigned char)prev_end[-1]))
                prev_end--;
            char *prev = last_word(cond, prev_end);
            if ((size_t)(prev_end - prev) == 5 && strncmp(prev, "fiber", 5) == 0) {
                if ((rc = set_fiber(last, out, err, errlen)))
                    return rc;
                *prev = '\0';
                trim_end(cond);
            }
        } else if (strcmp(cond, "fiber") == 0) {
            return fail(err, errlen, "'fiber' needs a fiber id or tag");
        }
    }
    if (!*cond)
        return 0;
    if (strncmp(cond, "if", 2) != 0 || (cond[2] && !isspace((unsigned char)cond[2])))
        return fail(err, errlen, "expected 'if COND' or 'fiber F' after the location, got '%s'", cond);
    cond = (char *)skip_space(cond + 2);
    if (!*cond)
        return fail(err, errlen, "'if' needs a condition");
    pt_str_copy(out->text, sizeof out->text, cond);
    return 0;
}

static int parse_mode(const char *word, bool allow_step, enum pt_cmd_mode *mode)
{
    if (strcmp(word, "on") == 0)
        *mode = PT_MODE_ON;
    else if (strcmp(word, "off") == 0)
        *mode = PT_MODE_OFF;
    else if (allow_step && strcmp(word, "step") == 0)
        *mode = PT_MODE_STEP;
    else
        return -EINVAL;
    return 0;
}

/* trace ops on|off [fiber F] */
int pt_args_trace(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    char word[PT_CMD_TEXT_MAX];
    if (!next_word(&args, word, sizeof word) || strcmp(word, "ops") != 0)
        return fail(err, errlen, "usage: trace ops on|off [fiber F]");
    if (!next_word(&args, word, sizeof word) || parse_mode(word, false, &out->mode))
        return fail(err, errlen, "usage: trace ops on|off [fiber F]");
    if (!next_word(&args, word, sizeof word))
        return 0;
    if (strcmp(word, "fiber") != 0)
        return fail(err, errlen, "unexpected '%s' (usage: trace ops on|off [fiber F])", word);
    if (!next_word(&args, word, sizeof word))
        return fail(err, errlen, "'fiber' needs a fiber id or tag");
    int rc = set_fiber(word, out, err, errlen);
    if (rc)
        return rc;
    if (next_word(&args, word, sizeof word))
        return fail(err, errlen, "unexpected '%s' after the fiber", word);
    return 0;
}

/* set fiberlock on|off|step */
/* set print limit N: N bytes of a printed value at most (0: no limit). */
static int args_print_limit(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    char word[PT_CMD_TEXT_MAX];
    if (!next_word(&args, word, sizeof word) || strcmp(word, "limit") != 0 ||
        !next_word(&args, word, sizeof word) || !parse_long(word, 0, UINT32_MAX, &out->number))
        return fail(err, errlen, "usage: set print limit N (bytes; 0: no limit)");
    if (next_word(&args, word, sizeof word))
        return fail(err, errlen, "unexpected '%s' (usage: set print limit N)", word);
    out->has_number = true;
    pt_str_copy(out->text, sizeof out->text, "print limit");
    return 0;
}

static int args_follow_fork(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    static const char usage[] = "usage: set follow-fork all|parent|child";
    char word[PT_CMD_TEXT_MAX];
    if (!next_word(&args, word, sizeof word) ||
        (strcmp(word, "all") != 0 && strcmp(word, "parent") != 0 && strcmp(word, "child") != 0))
        return fail(err, errlen, "%s", usage);
    pt_str_copy(out->value, sizeof out->value, word);
    if (next_word(&args, word, sizeof word))
        return fail(err, errlen, "unexpected '%s' (%s)", word, usage);
    pt_str_copy(out->text, sizeof out->text, "follow-fork");
    return 0;
}

int pt_args_set(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    char word[PT_CMD_TEXT_MAX];
    if (!next_word(&args, word, sizeof word))
        return fail(err, errlen, "usage: set fiberlock on|off|step, set print limit N, "
                    "or set follow-fork all|parent|child");
    if (strcmp(word, "print") == 0)
        return args_print_limit(args, out, err, errlen);
    if (strcmp(word, "follow-fork") == 0)
        return args_follow_fork(args, out, err, errlen);
    if (strcmp(word, "fiberlock") != 0)
        return fail(err, errlen, "unknown setting '%s' (known: fiberlock, print limit, follow-fork)",
                    word);
    pt_str_copy(out->text, sizeof out->text, word);
    if (!next_word(&args, word, sizeof word) || parse_mode(word, true, &out->mode))
        return fail(err, errlen, "usage: set fiberlock on|off|step");
    if (next_word(&args, word, sizeof word))
        return fail(err, errlen, "unexpected '%s' (usage: set fiberlock on|off|step)", word);
    return 0;
}

int pt_args_duration(const char *s, long *us)
{
    char *end;
    double v;

    if (!(isdigit((unsigned char)*s) || *s == '.'))
        return -EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s)
        return -EINVAL;
    if (strcmp(end, "ms") == 0 || !*end)
        v *= 1e3;
    else if (strcmp(end, "s") == 0)
        v *= 1e6;
    else if (strcmp(end, "us") != 0)
        return -EINVAL;
    if (!(v >= 1e3 && v <= 3600e6))
        return -EINVAL;
    *us = (long)v;
    return 0;
}

/* hog [DURATION | report DURATION | off] */
int pt_args_hog(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    static const char usage[] = "usage: hog [DURATION | report DURATION | off]";
    char word[PT_CMD_TEXT_MAX];

    if (!next_word(&args, word, sizeof word))
        return 0;   /* show the setting */
    if (strcmp(word, "off") == 0) {
        out->mode = PT_MODE_OFF;
    } else {
        out->mode = PT_MODE_ON;
        if (strcmp(word, "report") == 0) {
            out->mode = PT_MODE_REPORT;
            if (!next_word(&args, word, sizeof word))
                return fail(err, errlen, "'report' needs a duration (%s)", usage);
        }
        if (pt_args_duration(word, &out->number))
            return fail(err, errlen, "'%s' is not a duration from 1ms to 1h (50ms, 0.2s, 500us)", word);
        out->has_number = true;
    }
    if (next_word(&args, word, sizeof word))
        return fail(err, errlen, "unexpected '%s' (%s)", word, usage);
    return 0;
}

/* fibers [-s] */
/* fibers [-s] [-a] [-g state|location|tag] [PATTERN] */
int pt_args_fibers(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    static const char usage[] = "usage: fibers [-s] [-a] [-g state|location|tag] [PATTERN]";
    char word[PT_CMD_TEXT_MAX];
    const char *rest;

    for (;;) {
        rest = skip_space(args);
        if (!next_word(&args, word, sizeof word))
            return 0;
        if (strcmp(word, "-s") == 0) {
            out->stats = true;
        } else if (strcmp(word, "-a") == 0) {
            out->all = true;
        } else if (strcmp(word, "-g") == 0) {
            if (!next_word(&args, word, sizeof word))
                return fail(err, errlen, "-g needs state, location or tag (%s)", usage);
            if ((out->group = pt_fv_group_parse(word)) < 0)
                return fail(err, errlen, "-g groups by state, location or tag, not '%s'", word);
        } else if (word[0] == '-' && word[1] && !out->text[0]) {
            return fail(err, errlen, "unknown option '%s' (%s)", word, usage);
        } else {
            break;
        }
    }
    /* The rest of the line is the pattern (it may hold spaces). */
    pt_str_copy(out->text, sizeof out->text, rest);
    trim_end(out->text);
    return 0;
}

/* switch F|EXPR: a fiber reference, or else an expression (the whole rest). */
int pt_args_switch(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    char word[PT_CMD_TEXT_MAX];
    const char *p = args;

    pt_str_copy(out->text, sizeof out->text, skip_space(args));
    trim_end(out->text);
    if (!out->text[0])
        return fail(err, errlen, "needs a fiber id, tag or an expression giving a fiber");
    if (strlen(skip_space(args)) >= sizeof out->text - 1)
        return fail(err, errlen, "expression too long");
    bool one_word = next_word(&p, word, sizeof word) && !*skip_space(p);
    if (one_word && pt_args_is_fiber_ref(word))
        pt_str_copy(out->fiber, sizeof out->fiber, word[0] == ':' ? word + 1 : word);
    else if (one_word && word[strspn(word, "0123456789")] == '\0')
        return fail(err, errlen, "'%s' is not a fiber id", word);
    return 0;
}

/* catch [CLASS | off [CLASS]]: the tracer checks the class name. */
int pt_args_catch(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    char word[PT_CMD_TEXT_MAX], extra[PT_CMD_TEXT_MAX];
    if (!next_word(&args, word, sizeof word))
        return 0;   /* list */
    if (strcmp(word, "off") == 0) {
        out->mode = PT_MODE_OFF;
        if (!next_word(&args, word, sizeof word))
            return 0;
    }
    if (next_word(&args, extra, sizeof extra))
        return fail(err, errlen, "unexpected '%s' (usage: catch [CLASS | off [CLASS]])", extra);
    pt_str_copy(out->text, sizeof out->text, word);
    return 0;
}

/* source FILE: the rest of the line (a name may hold spaces). */
int pt_args_path(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    args = skip_space(args);
    size_t n = strlen(args);
    while (n && isspace((unsigned char)args[n - 1]))
        n--;
    if (!n)
        return fail(err, errlen, "needs a file name");
    if (n >= sizeof out->text)
        return fail(err, errlen, "file name too long");
    memcpy(out->text, args, n);
    out->text[n] = '\0';
    return 0;
}

/* help [COMMAND] */
int pt_args_topic(const char *args, struct pt_cmd_args *out, char *err, size_t errlen)
{
    char word[PT_CMD_TEXT_MAX], extra[PT_CMD_TEXT_MAX];
    if (!next_word(&args, word, sizeof word))
        return 0;
    if (next_word(&args, extra, sizeof extra))
        return fail(err, errlen, "takes at most one command name");
    pt_str_copy(out->text, sizeof out->text, word);
    return 0;
}
