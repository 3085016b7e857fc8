/* check_fiberview.c — `fibers PATTERN` and `fibers -g`: which fibers match
 * a pattern (and a bad pattern's error), groups by state, location and tag
 * with counts, largest first, and their first fibers; and how threads,
 * groups, scheduled values and the run queue look. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fiberview.h"
#include "format.h"
#include "suites.h"

static struct pt_proto_fiber fib(uint64_t id, const char *tag, const char *state, const char *wait,
                                 int line, uint64_t thread)
{
    struct pt_proto_fiber f = { 0 };
    f.id = id;
    f.parent = id == 1 ? 0 : 1;
    f.tag = (char *)tag;
    f.state = (char *)state;
    f.file = "/p/app.rb";
    f.line = line;
    f.wait_op = (char *)wait;
    f.wait_fd = -1;
    f.wait_timeout = -1;
    f.thread = thread;
    return f;
}

static struct pt_proto_fiber set[8];

static void fill(void)
{
    set[0] = fib(1, "main", "running", NULL, 5, 1);
    set[1] = fib(2, "worker1", "waiting", "receive", 9, 1);
    set[2] = fib(3, "worker2", "waiting", "receive", 9, 1);
    set[3] = fib(4, "worker3", "waiting", "receive", 9, 1);
    set[4] = fib(5, NULL, "runnable", "suspend", 12, 1);
    set[4].value = ":go";
    set[5] = fib(6, "ticker", "waiting", "sleep", 20, 1);
    set[6] = fib(7, "main", "waiting", "await", 30, 2);
    set[6].parent = 0;                  /* thread 2's main fiber */
    set[7] = fib(8, "t2", "waiting", "receive", 31, 2);
    set[7].parent = 7;
}

START_TEST(test_filter)
{
    size_t *idx, n;
    char err[128];
    fill();
    ck_assert_int_eq(pt_fv_filter(set, 8, "worker", &idx, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(idx[0], 1);
    free(idx);
    ck_assert_int_eq(pt_fv_filter(set, 8, "receive", &idx, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 4);
    free(idx);
    ck_assert_int_eq(pt_fv_filter(set, 8, "app\\.rb:(9|20)$", &idx, &n, err, sizeof err), -0);
    free(idx);
    ck_assert_int_eq(pt_fv_filter(set, 8, ":go", &idx, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(idx[0], 4);
    free(idx);
    ck_assert_int_eq(pt_fv_filter(set, 8, NULL, &idx, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 8);
    free(idx);
    ck_assert_int_eq(pt_fv_filter(set, 8, "worker[", &idx, &n, err, sizeof err), -EINVAL);
    ck_assert_ptr_null(idx);
    ck_assert_msg(strstr(err, "bad pattern 'worker['"), "%s", err);
}
END_TEST

START_TEST(test_group)
{
    size_t all[8] = { 0, 1, 2, 3, 4, 5, 6, 7 }, nrows;
    struct pt_fv_group_row *rows;
    fill();
    pt_fmt_set_base("/p");
    ck_assert_int_eq(pt_fv_group(set, all, 8, PT_FV_GROUP_STATE, &rows, &nrows), 0);
    ck_assert_uint_eq(nrows, 5);
    ck_assert_str_eq(rows[0].key, "waiting on receive");
    ck_assert_uint_eq(rows[0].count, 4);
    ck_assert_uint_eq(rows[0].nfirst, 4);
    ck_assert_str_eq(rows[1].key, "running");       /* ties: in the order met */
    ck_assert_str_eq(rows[2].key, "runnable");      /* not "on suspend": it is not waiting */
    free(rows);
    ck_assert_int_eq(pt_fv_group(set, all, 8, PT_FV_GROUP_LOCATION, &rows, &nrows), 0);
    ck_assert_str_eq(rows[0].key, "app.rb:9");
    ck_assert_uint_eq(rows[0].count, 3);
    free(rows);
    ck_assert_int_eq(pt_fv_group(set, all, 8, PT_FV_GROUP_TAG, &rows, &nrows), 0);
    ck_assert_str_eq(rows[0].key, "main");
    ck_assert_uint_eq(rows[0].count, 2);
    ck_assert_int_eq(pt_fv_group_parse("loc"), PT_FV_GROUP_LOCATION);
    ck_assert_int_eq(pt_fv_group_parse("colour"), -1);
    free(rows);
    pt_fmt_set_base(NULL);
}
END_TEST

/* 10,000 fibers group at once (the order of the key, not of n squared). */
START_TEST(test_group_many)
{
    size_t n = 10000, nrows;
    struct pt_proto_fiber *f = calloc(n, sizeof *f);
    size_t *idx = calloc(n, sizeof *idx);
    struct pt_fv_group_row *rows;
    for (size_t i = 0; i < n; i++) {
        f[i] = fib(i + 1, NULL, i % 100 ? "waiting" : "runnable", i % 100 ? "receive" : NULL,
                   (int)(i % 7), 1);
        idx[i] = i;
    }
    ck_assert_int_eq(pt_fv_group(f, idx, n, PT_FV_GROUP_STATE, &rows, &nrows), 0);
    ck_assert_uint_eq(nrows, 2);
    ck_assert_uint_eq(rows[0].count, 9900);
    ck_assert_uint_eq(rows[1].count, 100);
    ck_assert_uint_eq(f[rows[1].first[1]].id, 101);
    free(rows);
    free(idx);
    free(f);
}
END_TEST

struct threads_arg {
    struct pt_proto_thread *t;
    size_t nt;
};

static void threads_fn(FILE *out, void *data)
{
    struct threads_arg *a = data;
    struct pt_fmt_fibers_opts o = { .threads = a->t, .nthreads = a->nt, .selected = 1, .shown = 50 };
    pt_fmt_set_base("/p");
    pt_fmt_fibers_ex(out, set, 8, 8, &o);
    pt_fmt_runqueue(out, set + 4, 1, 1);
    pt_fmt_set_base(NULL);
}

START_TEST(test_threads_and_values)
{
    struct pt_proto_thread t[3] = {
        { .id = 1, .status = "run", .where = "stopped", .backend = "io_uring", .fibers = 6 },
        { .id = 2, .name = "worker", .status = "sleep", .where = "loop", .backend = "libev", .fibers = 2 },
        { .id = 3, .name = "blocker", .status = "sleep", .where = "blocked",
          .at = "/p/app.rb:40 in call" },
    };
    struct threads_arg a = { t, 3 };
    fill();
    char *s = capture(threads_fn, &a);
    ck_assert_msg(strstr(s, "8 fibers in 3 threads\n"
                            "  thread 1 (main): 6 fibers, io_uring, run; the program stopped in it\n"
                            "  thread 2 (worker): 2 fibers, libev, sleep; idle in its event loop: "
                            "suspended, its fibers held\n"
                            "  thread 3 (blocker): 0 fibers, sleep; blocked outside the runtime (in C, "
                            "without the GVL): left alone, at app.rb:40 in call\n"), "%s", s);
    ck_assert_msg(strstr(s, "  -- thread 1 --\n* 1 "), "%s", s);
    ck_assert_msg(strstr(s, "  -- thread 2 (worker) --\n  7 "), "%s", s);
    ck_assert_msg(strstr(s, "\n    8        t2 "), "%s", s);
    ck_assert_msg(strstr(s, "runnable  app.rb:12 value :go\n"), "%s", s);
    ck_assert_msg(strstr(s, "Run queue of thread 1: 1 fiber, in the order they run\n"
                            "    1. fiber 5      -            app.rb:12                      value :go\n"),
                  "%s", s);
    free(s);
}
END_TEST

Suite *fiberview_suite(void)
{
    Suite *s = suite_create("fiberview");
    TCase *tc = tcase_create("fiberview");
    tcase_add_test(tc, test_filter);
    tcase_add_test(tc, test_group);
    tcase_add_test(tc, test_group_many);
    tcase_add_test(tc, test_threads_and_values);
    suite_add_tcase(s, tc);
    return s;
}
