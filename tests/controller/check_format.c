/* check_format.c — the text of stops, listings, fibers (and the summary for
 * 10,000 of them), frames, breakpoints, ops and exit reports. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "format.h"
#include "suites.h"

static void stop_fn(FILE *out, void *data)
{
    pt_fmt_stop(out, data);
}

START_TEST(test_stop)
{
    pt_fmt_set_base("/home/u/app");
    struct pt_proto_ev_stopped st = { 0 };
    st.reason = "breakpoint";
    st.fiber = 3;
    st.tag = "worker";
    st.file = "/home/u/app/lib/w.rb";
    st.line = 12;
    st.method = "Worker#run";
    st.bp = 2;
    char *t = capture(stop_fn, &st);
    ck_assert_str_eq(t, "Stopped in fiber 3 (worker) at lib/w.rb:12 in Worker#run (breakpoint 2)\n");
    free(t);

    st.bp = 0;
    st.reason = "entry";
    st.tag = NULL;
    st.method = NULL;
    st.file = "/elsewhere/x.rb";
    t = capture(stop_fn, &st);
    ck_assert_str_eq(t, "Stopped in fiber 3 at /elsewhere/x.rb:12 (entry)\n");
    free(t);

    st.reason = "step";
    t = capture(stop_fn, &st);
    ck_assert_str_eq(t, "Stopped in fiber 3 at /elsewhere/x.rb:12\n");
    free(t);

    st.reason = "exception";
    st.exception = "RuntimeError: boom";
    t = capture(stop_fn, &st);
    ck_assert_str_eq(t, "Exception RuntimeError: boom\nStopped in fiber 3 at /elsewhere/x.rb:12 (exception)\n");
    free(t);

    st.exception = NULL;
    st.reason = "return";
    st.value = "[1, 2]";
    t = capture(stop_fn, &st);
    ck_assert_str_eq(t, "Stopped in fiber 3 at /elsewhere/x.rb:12 (return) => [1, 2]\n");
    free(t);

    st.reason = "step";
    st.value = NULL;
    st.note = "fiber 4 ended: back in its parent";
    t = capture(stop_fn, &st);
    ck_assert_str_eq(t, "Stopped in fiber 3 at /elsewhere/x.rb:12 (fiber 4 ended: back in its parent)\n");
    free(t);

    st.reason = "watch";
    st.note = NULL;
    st.watch = 2;
    st.old_value = "[1]";
    st.value = "[1, 2]";
    t = capture(stop_fn, &st);
    ck_assert_str_eq(t, "Stopped in fiber 3 at /elsewhere/x.rb:12 (watch 2: [1] => [1, 2])\n");
    free(t);
    st.watch = 0;
    st.old_value = st.value = NULL;
    pt_fmt_set_base(NULL);
}
END_TEST

static void listing_fn(FILE *out, void *data)
{
    (void)data;
    char *lines[] = { "a = 1", "b = 2", "c = 3" };
    pt_fmt_listing(out, lines, 3, 9, 10);
}

START_TEST(test_listing)
{
    char *t = capture(listing_fn, NULL);
    ck_assert_str_eq(t, "    9  a = 1\n=> 10  b = 2\n   11  c = 3\n");
    free(t);
}
END_TEST

START_TEST(test_count)
{
    char b[32];
    ck_assert_str_eq(pt_fmt_count(0, b, sizeof b), "0");
    ck_assert_str_eq(pt_fmt_count(999, b, sizeof b), "999");
    ck_assert_str_eq(pt_fmt_count(9800, b, sizeof b), "9,800");
    ck_assert_str_eq(pt_fmt_count(1234567, b, sizeof b), "1,234,567");
}
END_TEST

static struct pt_proto_fiber mk(uint64_t id, uint64_t parent, const char *tag, const char *state,
                                const char *wait_op)
{
    struct pt_proto_fiber f = { 0 };
    f.id = id;
    f.parent = parent;
    f.tag = (char *)tag;
    f.state = (char *)state;
    f.file = "/p/app.rb";
    f.line = (int32_t)(10 + id);
    f.wait_op = (char *)wait_op;
    f.wait_fd = -1;
    f.wait_timeout = -1;
    return f;
}

struct fibers_arg {
    struct pt_proto_fiber *f;
    size_t n;
    uint64_t total;
    size_t shown;
};

static void fibers_fn(FILE *out, void *data)
{
    struct fibers_arg *a = data;
    pt_fmt_fibers(out, a->f, a->n, a->total, 1, a->shown);
}

START_TEST(test_fiber_tree)
{
    pt_fmt_set_base("/p");
    struct pt_proto_fiber f[4];
    f[0] = mk(1, 0, "main", "running", NULL);
    f[1] = mk(3, 2, "child", "waiting", "receive");   /* listed before its parent */
    f[2] = mk(2, 1, "producer", "waiting", "sleep");
    f[2].wait_timeout = 0.5;
    f[3] = mk(4, 1, NULL, "runnable", NULL);
    struct fibers_arg a = { f, 4, 4, 200 };
    char *t = capture(fibers_fn, &a);
    /* Header, then tree order: 1, its children 2 (with 3 under it) and 4. */
    const char *l1 = strstr(t, "* 1 ");
    const char *l2 = strstr(t, "    2 ");
    const char *l3 = strstr(t, "      3 ");
    const char *l4 = strstr(t, "    4 ");
    ck_assert_msg(l1 && l2 && l3 && l4, "%s", t);
    ck_assert(l1 < l2 && l2 < l3 && l3 < l4);
    ck_assert(strstr(t, "4 fibers\n"));
    ck_assert(strstr(t, "sleep (0.50s left)"));
    ck_assert(strstr(t, "app.rb:13"));
    ck_assert(strstr(t, "producer"));
    ck_assert_ptr_null(strstr(t, "more"));
    free(t);
    pt_fmt_set_base(NULL);
}
END_TEST

START_TEST(test_ten_thousand_fibers_summarised)
{
    size_t n = 10000;
    struct pt_proto_fiber *f = calloc(n, sizeof *f);
    f[0] = mk(1, 0, "main", "running", NULL);
    for (size_t i = 1; i < n; i++)
        f[i] = i % 200 == 0 ? mk(i + 1, 1, NULL, "runnable", NULL)
                            : mk(i + 1, 1, NULL, "waiting", "receive");
    struct fibers_arg a = { f, n, n, 200 };
    clock_t t0 = clock();
    char *t = capture(fibers_fn, &a);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    ck_assert_msg(secs < 0.5, "formatting took %.2fs", secs);
    size_t lines = 0;
    for (char *p = t; *p; p++)
        lines += *p == '\n';
    ck_assert_msg(lines <= 200 + 4, "%zu lines", lines);     /* count, heads, summary, hint */
    ck_assert(strstr(t, "10,000 fibers\n"));
    /* 200 rows shown: 1 + 199 children (fibers 2..200, of which 1 runnable). */
    const char *sum = strstr(t, "... and 9,800 more: 9,751 waiting on receive, 49 runnable\n");
    ck_assert_msg(sum != NULL, "summary: %s", strstr(t, "..."));
    free(t);

    /* Fewer fetched than alive: the rest is counted as not fetched. */
    struct fibers_arg b = { f, 300, 10000, 200 };
    t = capture(fibers_fn, &b);
    ck_assert_msg(strstr(t, "... and 9,800 more: 99 waiting on receive, 1 runnable, 9,700 not fetched\n"),
                  "%s", strstr(t, "..."));
    free(t);
    free(f);
}
END_TEST

static void frames_fn(FILE *out, void *data)
{
    (void)data;
    struct pt_proto_frame fr[2] = {
        { .index = 0, .file = "/p/a.rb", .line = 5, .label = "Foo#bar" },
        { .index = 1, .file = "/p/b.rb", .line = 9, .label = "<main>" },
    };
    pt_fmt_set_base("/p");
    pt_fmt_frames(out, fr, 2, 1, false);
    pt_fmt_frames(out, fr, 0, 0, false);
    pt_fmt_set_base(NULL);
}

START_TEST(test_frames)
{
    char *t = capture(frames_fn, NULL);
    ck_assert_str_eq(t, "  #0   a.rb:5 in Foo#bar\n> #1   b.rb:9 in <main>\nno frames\n");
    free(t);
}
END_TEST

/* Frames of the runtime: left out and counted, shown with "all", and
 * shown anyway when selected. */
static void hidden_frames_fn(FILE *out, void *data)
{
    long selected = *(long *)data;
    struct pt_proto_frame fr[4] = {
        { .index = 0, .file = "/p/a.rb", .line = 5, .label = "block in run" },
        { .index = 1, .file = "/rt/polyphony/g.rb", .line = 7, .label = "every", .hidden = true },
        { .index = 2, .file = "/rt/polyphony/g.rb", .line = 3, .label = "loop", .hidden = true },
        { .index = 3, .file = "/p/a.rb", .line = 2, .label = "<main>" },
    };
    pt_fmt_set_base("/p");
    pt_fmt_frames(out, fr, 4, selected, false);
    fputs("--\n", out);
    pt_fmt_frames(out, fr, 4, selected, true);
    pt_fmt_set_base(NULL);
}

/* The async part: a separator where spun_by changes, naming the spin call
 * (the segment's first frame outside the runtime). */
static void async_frames_fn(FILE *out, void *data)
{
    (void)data;
    struct pt_proto_frame fr[5] = {
        { .index = 0, .file = "/p/w.rb", .line = 9, .label = "block in work" },
        { .index = 1, .file = "/rt/polyphony/g.rb", .line = 60, .label = "Kernel#after",
          .hidden = true, .spun_by = 2, .spun_by_tag = "acceptor" },
        { .index = 2, .file = "/p/s.rb", .line = 30, .label = "Server#listen", .spun_by = 2,
          .spun_by_tag = "acceptor" },
        { .index = 3, .file = "/p/s.rb", .line = 40, .label = "Server#start", .spun_by = 1 },
        { .index = 4, .file = "/p/s.rb", .line = 50, .label = "<main>", .spun_by = 1 },
    };
    pt_fmt_set_base("/p");
    pt_fmt_frames(out, fr, 5, 0, false);
    pt_fmt_set_base(NULL);
}

START_TEST(test_async_frames)
{
    char *t = capture(async_frames_fn, NULL);
    ck_assert_str_eq(t, "> #0   w.rb:9 in block in work\n"
                        "   -- spun by fiber 2 (acceptor) at s.rb:30 --\n"
                        "  #2   s.rb:30 in Server#listen\n"
                        "   -- spun by fiber 1 at s.rb:40 --\n"
                        "  #3   s.rb:40 in Server#start\n"
                        "  #4   s.rb:50 in <main>\n"
                        "   (1 frame of the runtime or of Ruby itself hidden; 'bt all' shows them)\n");
    free(t);
}
END_TEST

START_TEST(test_hidden_frames)
{
    long sel = 0;
    char *t = capture(hidden_frames_fn, &sel);
    ck_assert_str_eq(t, "> #0   a.rb:5 in block in run\n"
                        "  #3   a.rb:2 in <main>\n"
                        "   (2 frames of the runtime or of Ruby itself hidden; 'bt all' shows them)\n"
                        "--\n"
                        "> #0   a.rb:5 in block in run\n"
                        "  #1   /rt/polyphony/g.rb:7 in every (hidden)\n"
                        "  #2   /rt/polyphony/g.rb:3 in loop (hidden)\n"
                        "  #3   a.rb:2 in <main>\n");
    free(t);
    sel = 2;
    t = capture(hidden_frames_fn, &sel);
    ck_assert(strstr(t, "> #2   /rt/polyphony/g.rb:3 in loop (hidden)\n"));
    ck_assert(strstr(t, "(1 frame of the runtime or of Ruby itself hidden;"));
    free(t);
}
END_TEST

static void bp_fn(FILE *out, void *data)
{
    (void)data;
    struct pt_proto_bp a = { .id = 1, .file = "/p/a.rb", .line = 12, .cond = "x > 3",
                             .fiber = 2, .hits = 5 };
    struct pt_proto_bp b = { .id = 2, .method = "Worker#run", .pending = true };
    struct pt_proto_bp c = { .id = 3, .file = "/p/a.rb", .line = 7, .hit_cond = ">= 2",
                             .log = "x={x}", .hits = 1 };
    pt_fmt_breakpoint(out, &a);
    pt_fmt_breakpoint(out, &b);
    pt_fmt_breakpoint(out, &c);
}

START_TEST(test_breakpoints)
{
    char *t = capture(bp_fn, NULL);
    ck_assert_str_eq(t, "#1  /p/a.rb:12 if x > 3 (fiber 2) hits 5\n#2  Worker#run (pending) hits 0\n"
                        "#3  /p/a.rb:7 (hit >= 2) (log \"x={x}\") hits 1\n");
    free(t);
}
END_TEST

static void op_fn(FILE *out, void *data)
{
    (void)data;
    struct pt_proto_ev_op a = { "submit", "read", 3, 5, 4096, 0 };
    struct pt_proto_ev_op b = { "complete", "read", 3, 5, 4096, 12 };
    struct pt_proto_ev_op c = { "submit", "sleep", 2, -1, 0, 0 };
    pt_fmt_op(out, &a);
    pt_fmt_op(out, &b);
    pt_fmt_op(out, &c);
}

START_TEST(test_ops)
{
    char *t = capture(op_fn, NULL);
    ck_assert_str_eq(t, "op: fiber 3 submit read fd 5 len 4096\n"
                        "op: fiber 3 complete read fd 5 len 4096 -> 12\n"
                        "op: fiber 2 submit sleep\n");
    free(t);
}
END_TEST

START_TEST(test_exit_reports)
{
    char b[128];
    pt_fmt_exit(3, 0, b, sizeof b);
    ck_assert_str_eq(b, "program exited with status 3");
    pt_fmt_exit(-1, SIGSEGV, b, sizeof b);
    ck_assert_str_eq(b, "program killed by signal SIGSEGV");
    /* waitpid statuses, built the way the kernel encodes them. */
    int exited7 = 7 << 8, killed9 = SIGKILL;
    ck_assert(WIFEXITED(exited7) && WIFSIGNALED(killed9));
    pt_fmt_wait_status(exited7, b, sizeof b);
    ck_assert_str_eq(b, "program exited with status 7");
    ck_assert_int_eq(pt_fmt_exit_code(exited7), 7);
    pt_fmt_wait_status(killed9, b, sizeof b);
    ck_assert_str_eq(b, "program killed by signal SIGKILL");
    ck_assert_int_eq(pt_fmt_exit_code(killed9), 137);
    ck_assert_int_eq(pt_fmt_exit_code(0), 0);
}
END_TEST

START_TEST(test_wait_text)
{
    char b[128];
    struct pt_proto_fiber f = mk(2, 1, NULL, "waiting", "read");
    f.wait_fd = 7;
    pt_fmt_wait(&f, b, sizeof b);
    ck_assert_str_eq(b, "read fd 7");
    f.wait_op = NULL;
    pt_fmt_wait(&f, b, sizeof b);
    ck_assert_str_eq(b, "-");
}
END_TEST

static void dump_fn(FILE *out, void *data)
{
    (void)data;
    struct pt_proto_frame fr[1] = { { .index = 0, .file = "/p/a.rb", .line = 5, .label = "block in <main>" } };
    struct pt_proto_dump_fiber df[1];
    df[0].info = mk(2, 1, "w", "waiting", "receive");
    df[0].frames = fr;
    df[0].nframes = 1;
    struct pt_proto_rep_dump d = { .fibers = df, .nfibers = 1 };
    pt_fmt_dump(out, &d);
}

START_TEST(test_dump)
{
    char *t = capture(dump_fn, NULL);
    ck_assert_str_eq(t, "1 fiber\n\nfiber 2 (w) waiting at /p/app.rb:12, waiting on receive\n"
                        "  #0   /p/a.rb:5 in block in <main>\n");
    free(t);
}
END_TEST

Suite *format_suite(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("text");
    tcase_add_test(tc, test_stop);
    tcase_add_test(tc, test_listing);
    tcase_add_test(tc, test_count);
    tcase_add_test(tc, test_fiber_tree);
    tcase_add_test(tc, test_ten_thousand_fibers_summarised);
    tcase_add_test(tc, test_frames);
    tcase_add_test(tc, test_hidden_frames);
    tcase_add_test(tc, test_async_frames);
    tcase_add_test(tc, test_breakpoints);
    tcase_add_test(tc, test_ops);
    tcase_add_test(tc, test_exit_reports);
    tcase_add_test(tc, test_wait_text);
    tcase_add_test(tc, test_dump);
    suite_add_tcase(s, tc);
    return s;
}
