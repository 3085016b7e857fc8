/* check_commands.c — the command table: names, aliases, help text, line
 * parsing, and that --help and man/polytrace.1 name every command. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "help.h"
#include "suites.h"

START_TEST(test_table_ids_in_order)
{
    for (size_t i = 0; i < PT_CMD_COUNT; i++)
        ck_assert_int_eq(pt_cmd_table[i].id, (int)i);
}
END_TEST

START_TEST(test_every_name_and_alias_resolves)
{
    for (size_t i = 0; i < PT_CMD_COUNT; i++) {
        const struct pt_cmd *c = &pt_cmd_table[i];
        ck_assert_ptr_eq(pt_cmd_lookup(c->name), c);
        for (const char *const *a = c->aliases; *a; a++)
            ck_assert_msg(pt_cmd_lookup(*a) == c, "alias %s of %s", *a, c->name);
    }
}
END_TEST

START_TEST(test_names_unique)
{
    const char *all[PT_CMD_COUNT * (PT_CMD_ALIASES_MAX + 1)];
    size_t n = 0;
    for (size_t i = 0; i < PT_CMD_COUNT; i++) {
        all[n++] = pt_cmd_table[i].name;
        for (const char *const *a = pt_cmd_table[i].aliases; *a; a++)
            all[n++] = *a;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            ck_assert_msg(strcmp(all[i], all[j]) != 0, "'%s' used twice", all[i]);
}
END_TEST

START_TEST(test_help_text_present)
{
    for (size_t i = 0; i < PT_CMD_COUNT; i++) {
        const struct pt_cmd *c = &pt_cmd_table[i];
        ck_assert_msg(c->summary && strlen(c->summary) > 10, "%s summary", c->name);
        ck_assert_msg(c->help && strlen(c->help) > 20, "%s help", c->name);
        ck_assert_msg(c->help[strlen(c->help) - 1] == '\n', "%s help ends with newline", c->name);
        ck_assert_ptr_nonnull(c->synopsis);
        ck_assert_ptr_nonnull(c->parse);
        ck_assert_ptr_nonnull(c->run);
    }
}
END_TEST

START_TEST(test_design_aliases)
{
    /* The aliases DESIGN.md promises. */
    static const char *pairs[][2] = {
        { "s", "step" }, { "n", "skip" }, { "next", "skip" }, { "finish", "up" },
        { "c", "continue" }, { "fiber", "switch" }, { "bt", "backtrace" },
        { "l", "list" }, { "p", "print" }, { "b", "break" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const struct pt_cmd *c = pt_cmd_lookup(pairs[i][0]);
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(c->name, pairs[i][1]);
    }
    ck_assert_ptr_null(pt_cmd_lookup("stepp"));
    ck_assert_ptr_null(pt_cmd_lookup(""));
    ck_assert_ptr_null(pt_cmd_lookup(NULL));
}
END_TEST

START_TEST(test_parse_line)
{
    struct pt_cmd_call call;
    char err[256];
    ck_assert_int_eq(pt_cmd_parse_line("   ", &call, err, sizeof err), -ENOENT);
    ck_assert_int_eq(pt_cmd_parse_line("  n  ", &call, err, sizeof err), 0);
    ck_assert_str_eq(call.cmd->name, "skip");
    ck_assert_int_eq(pt_cmd_parse_line("p 1 + 2", &call, err, sizeof err), 0);
    ck_assert_str_eq(call.cmd->name, "print");
    ck_assert_str_eq(call.args.text, "1 + 2");
    ck_assert_int_eq(pt_cmd_parse_line("frobnicate 3", &call, err, sizeof err), -EINVAL);
    ck_assert_str_eq(err, "unknown command 'frobnicate' (try 'help')");
    ck_assert_int_eq(pt_cmd_parse_line("step 3", &call, err, sizeof err), -EINVAL);
    ck_assert_msg(strncmp(err, "step: takes no arguments", 24) == 0, "%s", err);
    ck_assert_int_eq(pt_cmd_parse_line("frame x", &call, err, sizeof err), -EINVAL);
    ck_assert_str_eq(err, "frame: 'x' is not a number");
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(test_step_commands_repeatable)
{
    ck_assert(pt_cmd_lookup("step")->repeatable);
    ck_assert(pt_cmd_lookup("skip")->repeatable);
    ck_assert(pt_cmd_lookup("up")->repeatable);
    ck_assert(!pt_cmd_lookup("continue")->repeatable);
    ck_assert(!pt_cmd_lookup("print")->repeatable);
    ck_assert(pt_cmd_lookup("pause")->while_running);
    ck_assert(!pt_cmd_lookup("print")->while_running);
}
END_TEST

static void usage(FILE *out, void *data)
{
    (void)data;
    pt_help_usage(out);
}

static void cmd_list(FILE *out, void *data)
{
    (void)data;
    pt_help_commands(out);
}

static void one(FILE *out, void *data)
{
    pt_help_command(out, data);
}

/* word appears in text delimited by non-word characters. */
static int has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; (p = strstr(p, word)); p++) {
        int before_ok = p == text || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z'));
        char a = p[n];
        int after_ok = !(a == '_' || (a >= 'a' && a <= 'z'));
        if (before_ok && after_ok)
            return 1;
    }
    return 0;
}

START_TEST(test_help_lists_every_command)
{
    char *text = capture(usage, NULL);
    char *list = capture(cmd_list, NULL);
    for (size_t i = 0; i < PT_CMD_COUNT; i++) {
        const struct pt_cmd *c = &pt_cmd_table[i];
        ck_assert_msg(has_word(text, c->name), "--help lacks %s", c->name);
        ck_assert_msg(strstr(list, c->summary), "help lacks summary of %s", c->name);
        for (const char *const *a = c->aliases; *a; a++)
            ck_assert_msg(strstr(text, *a), "--help lacks alias %s", *a);
        char *detail = capture(one, (void *)c);
        ck_assert_msg(strstr(detail, c->help), "help %s lacks its long text", c->name);
        free(detail);
    }
    ck_assert(strstr(text, "--nonstop") && strstr(text, "--detach") && strstr(text, "--version"));
    ck_assert(strstr(text, "-x FILE") && strstr(text, "-ex CMD") && strstr(text, ".polytracerc"));
    ck_assert(strstr(text, "attach PID") && strstr(text, "dump PID"));
    ck_assert(strstr(text, "--listen HOST:PORT") && strstr(text, "connect [--tls") &&
              strstr(text, "--token-file FILE") && strstr(text, "--tls-cert FILE") &&
              strstr(text, "--listen-any") && strstr(text, "POLYTRACE_TOKEN"));
    ck_assert(strstr(text, "POLYTRACE_HISTORY"));
    /* Fits an 80-column terminal. */
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        ck_assert_msg(len < 80, "--help line too long: %.*s", (int)len, line);
        line += len + (nl ? 1 : 0);
    }
    free(text);
    free(list);
}
END_TEST

/* True if a ".B", ".BI" or ".BR" line of text starts with word. */
static int man_entry(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; (p = strstr(p, "\n.B")); p++) {
        const char *q = p + 3;
        while (*q == 'I' || *q == 'R')
            q++;
        if (*q != ' ')
            continue;
        q++;
        if (*q == '"')
            q++;
        if (strncmp(q, word, n) == 0 && (q[n] == ' ' || q[n] == '"' || q[n] == '\n'))
            return 1;
    }
    return 0;
}

/* The man page's COMMANDS section names each command (".B name") and alias. */
START_TEST(test_man_page_lists_every_command)
{
    FILE *f = fopen("man/polytrace.1", "r");
    ck_assert_msg(f != NULL, "man/polytrace.1 missing (run from the repository root)");
    char *man = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&man, &cap, '\0', f);
    fclose(f);
    ck_assert(n > 0);
    const char *cmds = strstr(man, ".SH COMMANDS");
    ck_assert_ptr_nonnull(cmds);
    for (size_t i = 0; i < PT_CMD_COUNT; i++) {
        const struct pt_cmd *c = &pt_cmd_table[i];
        ck_assert_msg(man_entry(cmds, c->name), "man page lacks command %s", c->name);
        for (const char *const *a = c->aliases; *a; a++)
            ck_assert_msg(has_word(cmds, *a), "man page lacks alias %s", *a);
    }
    const char *sections[] = { ".SH SYNOPSIS", ".SH ENVIRONMENT", ".SH EXIT STATUS",
                               ".SH EXAMPLES", "POLYTRACE_HISTORY", "\\-\\-nonstop",
                               "\\-\\-detach", "\\-\\-version", "fiberlock" };
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        ck_assert_msg(strstr(man, sections[i]), "man page lacks %s", sections[i]);
    free(man);
}
END_TEST

Suite *commands_suite(void)
{
    Suite *s = suite_create("commands");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, test_table_ids_in_order);
    tcase_add_test(tc, test_every_name_and_alias_resolves);
    tcase_add_test(tc, test_names_unique);
    tcase_add_test(tc, test_help_text_present);
    tcase_add_test(tc, test_design_aliases);
    tcase_add_test(tc, test_parse_line);
    tcase_add_test(tc, test_step_commands_repeatable);
    tcase_add_test(tc, test_help_lists_every_command);
    tcase_add_test(tc, test_man_page_lists_every_command);
    suite_add_tcase(s, tc);
    return s;
}
