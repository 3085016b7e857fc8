/* check_misc.c — attach checks, completion candidates, source reading, the
 * socket directory and the history path. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach.h"
#include "complete.h"
#include "history.h"
#include "sourcefile.h"
#include "suites.h"

START_TEST(test_maps_parsing)
{
    ck_assert(pt_attach_maps_have_tracer(
        "7f00-7f10 r-xp 0 08:01 1 /home/u/pt/build/lib/polytrace_ext.so\n"));
    ck_assert(!pt_attach_maps_have_tracer("7f00-7f10 r-xp 0 08:01 1 /usr/lib/libc.so.6\n"));
    ck_assert(!pt_attach_maps_have_tracer("7f00 r-xp 0 0 1 /x/notpolytrace_ext.so\n"));
    ck_assert(!pt_attach_maps_have_tracer("7f00 r-xp 0 0 1 /x/polytrace_ext.so.bak\n"));
}
END_TEST

START_TEST(test_attach_refusals)
{
    int e;
    ck_assert_int_eq(pt_attach_check(getpid(), &e), PT_ATTACH_SELF);
    ck_assert_int_eq(pt_attach_check(0, &e), PT_ATTACH_NO_PROCESS);
    /* A child without the tracer: refused, and never signalled. */
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    ck_assert_int_eq(pt_attach_check(child, &e), PT_ATTACH_NO_TRACER);
    char why[256];
    pt_attach_describe(PT_ATTACH_NO_TRACER, child, why, sizeof why);
    ck_assert(strstr(why, "has not loaded the polytrace tracer"));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    ck_assert_int_eq(pt_attach_check(child, &e), PT_ATTACH_NO_PROCESS);
    pt_attach_describe(PT_ATTACH_OTHER_USER, 1, why, sizeof why);
    ck_assert_str_eq(why, "process 1 belongs to another user");
}
END_TEST

static size_t count(char **v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

static int contains(char **v, const char *w)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], w) == 0)
            return 1;
    return 0;
}

START_TEST(test_completion)
{
    int files;
    const char *fibers[] = { "1", "2", "worker", NULL };
    char **v = pt_complete_candidates("s", 0, "s", fibers, &files);
    ck_assert(contains(v, "step") && contains(v, "skip") && contains(v, "switch") &&
              contains(v, "s") && contains(v, "set"));
    ck_assert(!contains(v, "continue"));
    pt_complete_free(v);

    v = pt_complete_candidates("switch w", 7, "w", fibers, &files);
    ck_assert_int_eq(count(v), 1);
    ck_assert_str_eq(v[0], "worker");
    pt_complete_free(v);

    v = pt_complete_candidates("bt ", 3, "", fibers, &files);
    ck_assert_int_eq(count(v), 3);
    pt_complete_free(v);

    v = pt_complete_candidates("set fiberlock s", 14, "s", fibers, &files);
    ck_assert_int_eq(count(v), 1);
    ck_assert_str_eq(v[0], "step");
    pt_complete_free(v);

    v = pt_complete_candidates("set print l", 10, "l", fibers, &files);
    ck_assert_int_eq(count(v), 1);
    ck_assert_str_eq(v[0], "limit");
    pt_complete_free(v);

    v = pt_complete_candidates("catch St", 6, "St", fibers, &files);
    ck_assert_int_eq(count(v), 1);
    ck_assert_str_eq(v[0], "StandardError");
    pt_complete_free(v);

    v = pt_complete_candidates("catch o", 6, "o", fibers, &files);
    ck_assert_int_eq(count(v), 1);
    ck_assert_str_eq(v[0], "off");
    pt_complete_free(v);

    v = pt_complete_candidates("catch off ", 10, "", fibers, &files);
    ck_assert(contains(v, "KeyError") && !contains(v, "off"));
    pt_complete_free(v);

    v = pt_complete_candidates("trace o", 6, "o", fibers, &files);
    ck_assert_str_eq(v[0], "ops");
    pt_complete_free(v);

    v = pt_complete_candidates("help fi", 5, "fi", fibers, &files);
    ck_assert(contains(v, "fibers") && contains(v, "finish") && contains(v, "fiber"));
    pt_complete_free(v);

    v = pt_complete_candidates("break ap", 6, "ap", fibers, &files);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(files, 1);

    v = pt_complete_candidates("break a.rb:3 fiber ", 19, "", fibers, &files);
    ck_assert_int_eq(count(v), 3);
    pt_complete_free(v);

    ck_assert_ptr_null(pt_complete_candidates("nosuch ", 7, "", fibers, &files));
    ck_assert_ptr_null(pt_complete_candidates("step ", 5, "", fibers, &files));
}
END_TEST

START_TEST(test_source_reading)
{
    char path[] = "/tmp/pt_check_srcXXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    const char *text = "one\ntwo\n\tthree\nfour\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct pt_src_lines l;
    ck_assert_int_eq(pt_src_read(path, 0, 2, 10, &l), 0);
    ck_assert_int_eq((int)l.n, 3);
    ck_assert_int_eq(l.first, 2);
    ck_assert_int_eq(l.total, 4);
    ck_assert_str_eq(l.lines[0], "two");
    ck_assert_str_eq(l.lines[1], " three");
    pt_src_free(&l);
    ck_assert_int_eq(pt_src_read(path, 0, 9, 12, &l), -ERANGE);
    ck_assert_int_eq(pt_src_read("/nonexistent/x.rb", 0, 1, 2, &l), -ENOENT);
    ck_assert_int_eq(pt_src_read("", 0, 1, 2, &l), -ENOENT);
    unlink(path);
    int first, last;
    pt_src_window(2, 5, 5, &first, &last);
    ck_assert_int_eq(first, 1);
    ck_assert_int_eq(last, 7);
}
END_TEST

START_TEST(test_history_path)
{
    char p[512];
    setenv("POLYTRACE_HISTORY", "/tmp/x_hist", 1);
    ck_assert_int_eq(pt_hist_path(p, sizeof p), 0);
    ck_assert_str_eq(p, "/tmp/x_hist");
    unsetenv("POLYTRACE_HISTORY");
    setenv("HOME", "/home/someone", 1);
    ck_assert_int_eq(pt_hist_path(p, sizeof p), 0);
    ck_assert_str_eq(p, "/home/someone/.polytrace_history");
}
END_TEST

Suite *misc_suite(void)
{
    Suite *s = suite_create("misc");
    TCase *tc = tcase_create("misc");
    tcase_add_test(tc, test_maps_parsing);
    tcase_add_test(tc, test_attach_refusals);
    tcase_add_test(tc, test_completion);
    tcase_add_test(tc, test_source_reading);
    tcase_add_test(tc, test_history_path);
    suite_add_tcase(s, tc);
    return s;
}
