/* check_script.c — the queue of scripted commands: files and -ex in order,
 * nested `source` running first, a failing line dropping the rest of its
 * top-level source and nothing else, bad files refused whole. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "script.h"
#include "suites.h"

static char dir[] = "/tmp/pt_check_script_XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[4][256];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    strcpy(dir, "/tmp/pt_check_script_XXXXXX");
}

/* Takes the next line and checks its text and line number. */
static void expect_next(struct pt_script *s, const char *text, int lineno)
{
    struct pt_script_line l;
    ck_assert(pt_script_next(s, &l));
    ck_assert_str_eq(l.text, text);
    ck_assert_int_eq(l.lineno, lineno);
    pt_script_line_free(&l);
}

START_TEST(test_order_and_comments)
{
    struct pt_script s;
    pt_script_init(&s);
    const char *a = write_file("a.pt", "# a comment\n  break 3  \n\n\tcontinue\n");
    ck_assert_int_eq(pt_script_load(&s, a, NULL, NULL), 0);
    ck_assert_int_eq(pt_script_add_command(&s, "p x"), 0);
    expect_next(&s, "break 3", 2);
    expect_next(&s, "continue", 4);
    struct pt_script_line l;
    ck_assert(pt_script_next(&s, &l));
    ck_assert_str_eq(l.origin, "-ex");
    ck_assert_int_eq(l.lineno, 0);
    pt_script_line_free(&l);
    ck_assert(!pt_script_pending(&s));
    ck_assert(!pt_script_next(&s, &l));
    pt_script_free(&s);
}
END_TEST

START_TEST(test_nested_source_runs_first)
{
    struct pt_script s;
    pt_script_init(&s);
    const char *inner = write_file("inner.pt", "i1\ni2\n");
    const char *outer = write_file("outer.pt", "o1\nsource inner.pt\no3\n");
    ck_assert_int_eq(pt_script_load(&s, outer, NULL, NULL), 0);
    ck_assert_int_eq(pt_script_add_command(&s, "after"), 0);
    expect_next(&s, "o1", 1);
    struct pt_script_line src;
    ck_assert(pt_script_next(&s, &src));
    ck_assert_str_eq(src.text, "source inner.pt");
    ck_assert_int_eq(pt_script_load(&s, inner, &src, NULL), 0);
    pt_script_line_free(&src);
    expect_next(&s, "i1", 1);
    expect_next(&s, "i2", 2);
    expect_next(&s, "o3", 3);
    expect_next(&s, "after", 0);
    pt_script_free(&s);
}
END_TEST

START_TEST(test_failure_drops_its_source_only)
{
    struct pt_script s;
    pt_script_init(&s);
    const char *inner = write_file("inner.pt", "bad\ni2\n");
    const char *outer = write_file("outer.pt", "source inner.pt\no2\n");
    const char *other = write_file("other.pt", "x1\n");
    ck_assert_int_eq(pt_script_load(&s, outer, NULL, NULL), 0);
    ck_assert_int_eq(pt_script_load(&s, other, NULL, NULL), 0);
    struct pt_script_line src, bad;
    ck_assert(pt_script_next(&s, &src));
    ck_assert_int_eq(pt_script_load(&s, inner, &src, NULL), 0);
    ck_assert(pt_script_next(&s, &bad));
    ck_assert_str_eq(bad.text, "bad");
    /* i2 and o2 go; other.pt, a source of its own, stays. */
    ck_assert_int_eq(pt_script_abandon(&s, &bad), 2);
    expect_next(&s, "x1", 1);
    ck_assert(!pt_script_pending(&s));
    pt_script_line_free(&src);
    pt_script_line_free(&bad);
    pt_script_free(&s);
}
END_TEST

START_TEST(test_bad_files)
{
    struct pt_script s;
    pt_script_init(&s);
    int bad = 0;
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nope.pt", dir);
    ck_assert_int_eq(pt_script_load(&s, missing, NULL, &bad), -ENOENT);
    ck_assert_int_eq(pt_script_load(&s, dir, NULL, &bad), -EISDIR);

    char *big = malloc(PT_SCRIPT_LINE_MAX + 16);
    memset(big, 'x', PT_SCRIPT_LINE_MAX + 10);
    strcpy(big + PT_SCRIPT_LINE_MAX + 10, "\n");
    char *text = malloc(PT_SCRIPT_LINE_MAX + 64);
    snprintf(text, PT_SCRIPT_LINE_MAX + 64, "ok\n%s", big);
    const char *f = write_file("long.pt", text);
    ck_assert_int_eq(pt_script_load(&s, f, NULL, &bad), -E2BIG);
    ck_assert_int_eq(bad, 2);
    ck_assert(!pt_script_pending(&s));  /* nothing of it queued */
    free(big);
    free(text);

    /* A file sourcing itself ends at the depth limit. */
    const char *loop = write_file("loop.pt", "source loop.pt\n");
    ck_assert_int_eq(pt_script_load(&s, loop, NULL, NULL), 0);
    int rc = 0, rounds = 0;
    struct pt_script_line l;
    while (rc == 0 && pt_script_next(&s, &l)) {
        rc = pt_script_load(&s, loop, &l, NULL);
        pt_script_line_free(&l);
        rounds++;
    }
    ck_assert_int_eq(rc, -ELOOP);
    ck_assert_int_eq(rounds, PT_SCRIPT_DEPTH_MAX + 1);
    ck_assert_int_eq(pt_script_clear(&s), 0);
    pt_script_free(&s);
}
END_TEST

Suite *script_suite(void)
{
    Suite *s = suite_create("script");
    TCase *tc = tcase_create("queue");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_order_and_comments);
    tcase_add_test(tc, test_nested_source_runs_first);
    tcase_add_test(tc, test_failure_drops_its_source_only);
    tcase_add_test(tc, test_bad_files);
    suite_add_tcase(s, tc);
    return s;
}
