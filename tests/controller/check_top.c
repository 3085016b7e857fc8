/* check_top.c — `polytrace top`'s screen (topview.c) and the counters'
 * columns (statfmt.c): totals, a thread's loop line with its idle share
 * between two refreshes, fibers grouped by thread in the order sent, what
 * is not shown, and a screen too small or too narrow. */
#include <stdlib.h>
#include <string.h>

#include "statfmt.h"
#include "suites.h"
#include "topview.h"

#define W 120
#define H 40

static char *lines[H];

static void setup(void)
{
    for (int i = 0; i < H; i++)
        lines[i] = calloc(1, W + 1);
}

static void teardown(void)
{
    for (int i = 0; i < H; i++)
        free(lines[i]);
}

static void add_fiber(struct pt_proto_rep_stats *st, uint64_t id, uint64_t thread, const char *tag,
                      uint64_t cpu_ns, uint64_t runs)
{
    struct pt_proto_fiber *f = pt_proto_fibers_push(&st->fibers, &st->nfibers);
    ck_assert_ptr_nonnull(f);
    f->id = id;
    f->thread = thread;
    pt_proto_set_str(&f->tag, tag);
    pt_proto_set_str(&f->state, "waiting");
    pt_proto_set_str(&f->wait_op, "receive");
    f->has_stats = true;
    f->cpu_ns = cpu_ns;
    f->runs = runs;
    f->longest_ns = 2500000;
    f->wait_ns = 3000000000u;
    f->ops = 12;
}

static void add_thread(struct pt_proto_rep_stats *st, uint64_t id, const char *name,
                       uint64_t fibers, uint64_t idle_ns)
{
    struct pt_proto_thread_stats *t = pt_proto_thread_stats_push(&st->threads, &st->nthreads);
    ck_assert_ptr_nonnull(t);
    t->id = id;
    if (name)
        pt_proto_set_str(&t->name, name);
    t->fibers = fibers;
    t->waiting = fibers - 1;
    t->switches = 123456;
    t->idle_ns = idle_ns;
    t->ops_in_flight = 3;
    t->timers = 2;
}

static int find(int n, const char *text)
{
    for (int i = 0; i < n; i++)
        if (strstr(lines[i], text))
            return i;
    return -1;
}

START_TEST(test_screen)
{
    struct pt_top_view v;
    struct pt_msg m;

    memset(&v, 0, sizeof v);
    v.pid = 4242;
    strcpy(v.program, "app.rb");
    v.delay = 1;
    strcpy(v.sort, "cpu");
    pt_msg_init(&m, PT_REP_STATS, 1);
    struct pt_proto_rep_stats *st = &m.u.stats;
    st->total = st->matched = 10003;
    st->uptime = 65;
    add_thread(st, 1, "main", 10001, 10000000000u);
    add_thread(st, 2, NULL, 2, 0);
    add_fiber(st, 5, 1, "worker", 1500000000u, 4567);
    add_fiber(st, 9, 2, "pool", 900000000u, 12);
    add_fiber(st, 1, 1, "main", 45000000u, 12345678);

    int n = pt_top_render(&v, st, lines, W, H);
    ck_assert_int_eq(n, 9);
    ck_assert_str_eq(lines[0], "polytrace top - process 4242 (app.rb) - up 1m05s - every 1.0s");
    ck_assert_str_eq(lines[1], "10,003 fibers: 2 running, 0 runnable, 10,001 waiting; 2 threads; sort: cpu");
    ck_assert_msg(strstr(lines[2], "ID TAG") && strstr(lines[2], "OPS"), "%s", lines[2]);
    /* Thread 1, idle 10 s of 65: 15 %; its fibers in the order sent. */
    ck_assert_msg(strstr(lines[3], "thread 1 (main): 10,001 fibers, 0 runnable; 123,456 switches; "
                                   "loop idle 15%; 3 ops in flight; 2 timers"), "%s", lines[3]);
    ck_assert_int_eq(find(n, " worker "), 4);
    ck_assert_int_eq(find(n, " main  "), 5);
    ck_assert_int_eq(find(n, "thread 2:"), 6);
    ck_assert_int_eq(find(n, " pool "), 7);
    ck_assert_msg(strstr(lines[4], "1.50s") && strstr(lines[4], "4567") && strstr(lines[4], "2.5ms") &&
                  strstr(lines[4], "3.00s") && strstr(lines[4], "0/12"), "%s", lines[4]);
    ck_assert_msg(strstr(lines[5], "12.3M"), "%s", lines[5]);
    ck_assert_msg(strstr(lines[8], "10,000 more not shown"), "%s", lines[8]);

    /* The next refresh: 1 s later, 0.5 s of it idle: 50 %. */
    st->uptime = 66;
    st->threads[0].idle_ns = 10500000000u;
    v.filter[0] = '\0';
    strcpy(v.filter, "work");
    st->matched = 1;
    n = pt_top_render(&v, st, lines, W, H);
    ck_assert_msg(strstr(lines[3], "loop idle 50%"), "%s", lines[3]);
    ck_assert_msg(strstr(lines[1], "; filter 'work': 1 match"), "%s", lines[1]);
    ck_assert_msg(strstr(lines[n - 1], "keys:"), "%s", lines[n - 1]);

    /* A short screen: never more lines than asked, the keys line last. */
    n = pt_top_render(&v, st, lines, 30, 5);
    ck_assert_int_eq(n, 5);
    for (int i = 0; i < n; i++)
        ck_assert_int_le(strlen(lines[i]), 30);
    ck_assert_uint_eq(pt_top_rows(5), 1);
    ck_assert_uint_eq(pt_top_rows(40), 35);
    pt_msg_free(&m);
}
END_TEST

START_TEST(test_durations)
{
    char b[32];
    ck_assert_str_eq(pt_sfmt_duration(0, b, sizeof b), "0");
    ck_assert_str_eq(pt_sfmt_duration(850, b, sizeof b), "850ns");
    ck_assert_str_eq(pt_sfmt_duration(12345, b, sizeof b), "12us");
    ck_assert_str_eq(pt_sfmt_duration(3400000, b, sizeof b), "3.4ms");
    ck_assert_str_eq(pt_sfmt_duration(250000000, b, sizeof b), "250ms");
    ck_assert_str_eq(pt_sfmt_duration(1250000000, b, sizeof b), "1.25s");
    ck_assert_str_eq(pt_sfmt_duration(130000000000u, b, sizeof b), "130s");
    ck_assert_str_eq(pt_sfmt_duration(900000000000u, b, sizeof b), "900s");
    ck_assert_str_eq(pt_sfmt_duration(1020000000000u, b, sizeof b), "17m");
    ck_assert_str_eq(pt_sfmt_duration(43200000000000u, b, sizeof b), "12h");
}
END_TEST

Suite *top_suite(void)
{
    Suite *s = suite_create("top");
    TCase *tc = tcase_create("view");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_screen);
    tcase_add_test(tc, test_durations);
    suite_add_tcase(s, tc);
    return s;
}
