/* check_dbg.c — the session layer against a scripted tracer on a
 * socketpair: what it sends for each command (the stopped fiber as 0, a
 * selected fiber by id), the state it keeps (stop, selection, catches),
 * what it tells the front end (stopped, running, output, ended), and its
 * failures as text. Replies are queued before the request: ids start at 1. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dbg.h"
#include "suites.h"

static int peer_fd;
static struct pt_dbg dbg;
static struct pt_proto_decoder *peer_dec;

/* What the front end was told. */
static int n_stopped, n_running, n_ended;
static char told[512];
static bool told_error;

static void ui_stopped(void *ctx, const struct pt_proto_ev_stopped *st)
{
    (void)ctx;
    (void)st;
    n_stopped++;
}

static void ui_running(void *ctx)
{
    (void)ctx;
    n_running++;
}

static void ui_output(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    snprintf(told, sizeof told, "%.*s", (int)len, text);
}

static void ui_ended(void *ctx, const char *how, bool error)
{
    (void)ctx;
    n_ended++;
    snprintf(told, sizeof told, "%s", how);
    told_error = error;
}

/* What the front end was told about processes. */
static int n_proc[PT_DBG_PROC_FORKED + 1];
static int proc_num[PT_DBG_PROC_FORKED + 1];
static char proc_how[256];
static char error_told[512];

static void ui_process(void *ctx, const struct pt_inf *inf, enum pt_dbg_proc_event ev, const char *how)
{
    (void)ctx;
    n_proc[ev]++;
    proc_num[ev] = inf->num;
    snprintf(proc_how, sizeof proc_how, "%s", how ? how : "");
}

static void ui_error(void *ctx, const char *msg)
{
    (void)ctx;
    snprintf(error_told, sizeof error_told, "%s", msg);
}

static const struct pt_dbg_ui ui = {
    .stopped = ui_stopped, .running = ui_running, .output = ui_output, .ended = ui_ended,
    .process = ui_process, .error = ui_error,
};

static void setup(void)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    peer_fd = sv[1];
    pt_dbg_init(&dbg, PT_DBG_ATTACHED, &ui, NULL);
    ck_assert_int_eq(pt_sess_open(&dbg.inf->sess, sv[0]), 0);
    ck_assert_int_eq(pt_proto_decoder_new(&peer_dec, 0, 0), 0);
    n_stopped = n_running = n_ended = 0;
    told[0] = '\0';
    told_error = false;
    memset(n_proc, 0, sizeof n_proc);
    memset(proc_num, 0, sizeof proc_num);
    proc_how[0] = error_told[0] = '\0';
    dbg.one.pid = 4240;
}

static void teardown(void)
{
    pt_dbg_close(&dbg);
    if (peer_fd >= 0)
        close(peer_fd);
    pt_proto_decoder_free(peer_dec);
}

static void peer_send(struct pt_msg *m)
{
    ck_assert_int_eq(pt_proto_send(peer_fd, m, 1000), 0);
    pt_msg_free(m);
}

static void peer_ok(uint32_t id)
{
    struct pt_msg m;
    pt_msg_init(&m, PT_REP_OK, id);
    peer_send(&m);
}

static void peer_stop(uint64_t fiber)
{
    struct pt_msg m;
    pt_msg_init(&m, PT_EV_STOPPED, 0);
    pt_proto_set_str(&m.u.stopped.reason, "breakpoint");
    pt_proto_set_str(&m.u.stopped.file, "/app.rb");
    m.u.stopped.line = 12;
    m.u.stopped.fiber = fiber;
    peer_send(&m);
}

/* The next request the session sent. */
static void peer_recv(struct pt_msg *m)
{
    ck_assert_int_eq(pt_proto_recv(peer_fd, peer_dec, m, 1000), 1);
}

static void stop_at(uint64_t fiber)
{
    peer_stop(fiber);
    ck_assert_int_eq(pt_dbg_wait_stop(&dbg, 1000), 0);
}

START_TEST(test_stop_and_steps)
{
    stop_at(3);
    ck_assert_int_eq(n_stopped, 1);
    ck_assert(pt_dbg_stopped(&dbg));
    ck_assert_uint_eq(dbg.inf->sel_fiber, 3);
    ck_assert_str_eq(dbg.inf->frame_file, "/app.rb");

    /* The stopped fiber goes as 0 (the tracer knows its frames). */
    peer_ok(1);
    ck_assert_int_eq(pt_dbg_resume(&dbg, PT_DBG_SKIP, 0), 0);
    struct pt_msg m;
    peer_recv(&m);
    ck_assert_int_eq(m.type, PT_REQ_SKIP);
    ck_assert_uint_eq(m.u.fiber.fiber, 0);
    pt_msg_free(&m);
    ck_assert_int_eq(pt_dbg_state(&dbg), PT_DBG_RUNNING);
    ck_assert_int_eq(n_running, 1);

    /* Another fiber by its id. */
    stop_at(3);
    peer_ok(2);
    ck_assert_int_eq(pt_dbg_resume(&dbg, PT_DBG_STEP, 7), 0);
    peer_recv(&m);
    ck_assert_int_eq(m.type, PT_REQ_STEP);
    ck_assert_uint_eq(m.u.fiber.fiber, 7);
    pt_msg_free(&m);
}
END_TEST

START_TEST(test_running_refuses_and_error_text)
{
    ck_assert_int_eq(pt_dbg_resume(&dbg, PT_DBG_CONTINUE, 0), -EBUSY);
    ck_assert_str_eq(pt_dbg_error(&dbg), "the program is running (use 'pause' or Ctrl-C first)");
    stop_at(1);
    struct pt_msg m;
    pt_proto_make_error(&m, 1, PT_PROTO_ERR_EVAL, "NameError: undefined local variable x");
    peer_send(&m);
    struct pt_msg rep;
    ck_assert_int_eq(pt_dbg_eval(&dbg, 0, -1, "x", &rep), -EPROTO);
    ck_assert_str_eq(pt_dbg_error(&dbg), "NameError: undefined local variable x");
    ck_assert(pt_dbg_stopped(&dbg));   /* a failed command loses nothing */
}
END_TEST

START_TEST(test_catch_list)
{
    stop_at(1);
    peer_ok(1);
    peer_ok(2);
    peer_ok(3);
    peer_ok(4);
    ck_assert_int_eq(pt_dbg_catch(&dbg, "Foo", true), 0);
    ck_assert_int_eq(pt_dbg_catch(&dbg, "::Foo", true), 0);
    ck_assert_int_eq(pt_dbg_catch(&dbg, "Bar", true), 0);
    ck_assert_int_eq(pt_dbg_catch(&dbg, "Foo", false), 0);
    ck_assert_int_eq(dbg.inf->ncatches, 1);
    ck_assert_str_eq(dbg.inf->catches[0], "Bar");
    struct pt_msg m;
    for (int i = 0; i < 4; i++) {
        peer_recv(&m);
        ck_assert_int_eq(m.type, PT_REQ_SET);
        ck_assert_str_eq(m.u.set.name, "catch");
        if (i == 3)
            ck_assert_str_eq(m.u.set.value, "off Foo");
        pt_msg_free(&m);
    }
}
END_TEST

START_TEST(test_fiber_by_tag)
{
    stop_at(1);
    struct pt_msg m;
    pt_msg_init(&m, PT_REP_FIBERS, 1);
    struct pt_proto_fiber *f = pt_proto_fibers_push(&m.u.fibers.fibers, &m.u.fibers.nfibers);
    f->id = 4;
    pt_proto_set_str(&f->tag, "worker");
    pt_proto_set_str(&f->state, "waiting");
    pt_proto_set_str(&f->file, "");
    m.u.fibers.total = 1;
    peer_send(&m);
    uint64_t id = 0;
    ck_assert_int_eq(pt_dbg_resolve_fiber(&dbg, "worker", &id), 0);
    ck_assert_uint_eq(id, 4);
    ck_assert_int_eq(pt_dbg_resolve_fiber(&dbg, "12", &id), 0);  /* ids need no look-up */
    ck_assert_uint_eq(id, 12);
}
END_TEST

START_TEST(test_output_and_end)
{
    struct pt_msg m;
    pt_msg_init(&m, PT_EV_OUTPUT, 0);
    pt_proto_set_str(&m.u.output.text, "hello");
    peer_send(&m);
    pt_msg_init(&m, PT_EV_EXITED, 0);
    m.u.exited.status = 3;
    peer_send(&m);
    close(peer_fd);
    peer_fd = -1;
    pt_dbg_drain(&dbg);
    ck_assert(pt_dbg_done(&dbg));
    ck_assert_int_eq(n_ended, 1);
    ck_assert_str_eq(told, "program exited with status 3");
    ck_assert(!told_error);
    ck_assert_int_eq(dbg.exit_code, 3);
}
END_TEST

START_TEST(test_lost_connection)
{
    stop_at(1);
    close(peer_fd);
    peer_fd = -1;
    struct pt_msg rep;
    ck_assert_int_lt(pt_dbg_frames(&dbg, 0, &rep), 0);
    ck_assert_str_eq(pt_dbg_error(&dbg), "");   /* told through ended */
    ck_assert_int_eq(n_ended, 1);
    ck_assert(told_error);
    ck_assert_int_eq(dbg.exit_code, 1);
}
END_TEST

/* ---- a second process (a forked child the session took on) ------------- */

static int peer2_fd = -1;

/* Process 2, as on_forked adds it, on its own socketpair. */
static struct pt_inf *add_process(void)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct pt_inf *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    b->num = dbg.next_num++;
    b->mode = PT_DBG_LAUNCHED;
    b->state = PT_DBG_RUNNING;
    b->pid = 4242;
    b->parent = 4240;
    ck_assert_int_eq(pt_sess_open(&b->sess, sv[0]), 0);
    dbg.procs[dbg.nprocs++] = b;
    peer2_fd = sv[1];
    return b;
}

static void peer2_send(struct pt_msg *m)
{
    ck_assert_int_eq(pt_proto_send(peer2_fd, m, 1000), 0);
    pt_msg_free(m);
}

static void peer2_stop(void)
{
    struct pt_msg m;
    pt_msg_init(&m, PT_EV_STOPPED, 0);
    pt_proto_set_str(&m.u.stopped.reason, "breakpoint");
    pt_proto_set_str(&m.u.stopped.file, "/worker.rb");
    m.u.stopped.line = 5;
    m.u.stopped.fiber = 1;
    m.u.stopped.bp = 2;
    peer2_send(&m);
}

static void drain_process(struct pt_inf *inf)
{
    pt_dbg_drain_process(&dbg, inf, true);
}

START_TEST(test_other_process_stop_waits_then_is_selected)
{
    stop_at(3);
    struct pt_inf *b = add_process();
    /* The user works in process 1: process 2's stop waits, announced. */
    peer2_stop();
    drain_process(b);
    ck_assert_int_eq(n_proc[PT_DBG_PROC_STOPPED], 1);
    ck_assert_int_eq(proc_num[PT_DBG_PROC_STOPPED], 2);
    ck_assert_ptr_eq(dbg.inf, &dbg.one);
    ck_assert_int_eq(b->state, PT_DBG_STOPPED);
    ck_assert_str_eq(b->stop_reason, "breakpoint 2");
    ck_assert_str_eq(b->frame_file, "/worker.rb");
    ck_assert_int_eq(n_stopped, 1);     /* only process 1's own stop */

    /* Continuing process 1 brings process 2, which waited. */
    peer_ok(1);
    ck_assert_int_eq(pt_dbg_resume(&dbg, PT_DBG_CONTINUE, 0), 0);
    ck_assert_ptr_eq(dbg.inf, b);
    ck_assert_int_eq(n_proc[PT_DBG_PROC_SELECTED], 1);
    ck_assert_int_eq(proc_num[PT_DBG_PROC_SELECTED], 2);
    ck_assert_str_eq(proc_how, "it waited");

    /* Selecting by number; a process that is not there is refused. */
    ck_assert_int_eq(pt_dbg_select(&dbg, 1), 0);
    ck_assert_ptr_eq(dbg.inf, &dbg.one);
    ck_assert_int_eq(pt_dbg_select(&dbg, 7), -ENOENT);
    ck_assert_str_eq(pt_dbg_error(&dbg), "no process 7 (see 'processes')");

    /* While the selected one runs, a stop takes over at once. */
    struct pt_msg m;
    pt_msg_init(&m, PT_EV_RUNNING, 0);
    peer2_send(&m);
    drain_process(b);
    ck_assert_int_eq(b->state, PT_DBG_RUNNING);
    peer2_stop();
    drain_process(b);
    ck_assert_ptr_eq(dbg.inf, b);
    ck_assert_int_eq(n_proc[PT_DBG_PROC_SELECTED], 2);
    ck_assert_int_eq(n_stopped, 2);
    close(peer2_fd);
}
END_TEST

START_TEST(test_breakpoints_and_settings_go_to_every_process)
{
    stop_at(3);
    struct pt_inf *b = add_process();
    /* Replies queued first (ids start at 1 on each connection). */
    struct pt_msg m;
    pt_msg_init(&m, PT_REP_BREAKPOINT, 1);
    m.u.bp.bp.id = 4;
    peer_send(&m);
    pt_msg_init(&m, PT_REP_BREAKPOINT, 1);
    m.u.bp.bp.id = 4;
    peer2_send(&m);
    struct pt_dbg_bp_spec spec = { .file = "/app.rb", .line = 12 };
    struct pt_msg rep;
    ck_assert_int_eq(pt_dbg_break(&dbg, &spec, &rep), 0);
    pt_msg_free(&rep);
    struct pt_msg got;
    peer_recv(&got);
    ck_assert_int_eq(got.type, PT_REQ_BREAK);
    ck_assert_uint_eq(got.u.brk.bp, 0);             /* the selected one numbers it */
    pt_msg_free(&got);
    ck_assert_int_eq(pt_proto_recv(peer2_fd, peer_dec, &got, 1000), 1);
    ck_assert_int_eq(got.type, PT_REQ_BREAK);
    ck_assert_uint_eq(got.u.brk.bp, 4);             /* the others keep its number */
    ck_assert_int_eq(got.u.brk.line, 12);
    pt_msg_free(&got);

    /* A refusal elsewhere is told, naming the process; the command stands. */
    peer_ok(2);
    pt_proto_make_error(&m, 2, PT_PROTO_ERR_BAD_SETTING, "nope");
    peer2_send(&m);
    ck_assert_int_eq(pt_dbg_set(&dbg, "fiberlock", "on"), 0);
    ck_assert_str_eq(error_told, "process 2 (pid 4242): nope");
    ck_assert_int_eq(pt_proto_recv(peer2_fd, peer_dec, &got, 1000), 1);
    ck_assert_int_eq(got.type, PT_REQ_SET);
    ck_assert_str_eq(got.u.set.name, "fiberlock");
    pt_msg_free(&got);
    (void)b;
    close(peer2_fd);
}
END_TEST

START_TEST(test_process_end_reported_and_session_goes_on)
{
    stop_at(3);
    struct pt_inf *b = add_process();
    ck_assert_int_eq(pt_dbg_select(&dbg, 2), 0);
    struct pt_msg m;
    pt_msg_init(&m, PT_EV_EXITED, 0);
    m.u.exited.status = 3;
    peer2_send(&m);
    close(peer2_fd);
    drain_process(b);                   /* b is freed: its part is over */
    ck_assert_int_eq(n_proc[PT_DBG_PROC_ENDED], 1);
    ck_assert_str_eq(told, "");         /* not the session's end */
    ck_assert_int_eq(n_ended, 0);
    ck_assert_int_eq(dbg.nprocs, 1);
    ck_assert_ptr_eq(dbg.inf, &dbg.one);  /* the selected one ended: another */
    ck_assert_int_eq(n_proc[PT_DBG_PROC_SELECTED], 1);
    ck_assert(!pt_dbg_done(&dbg));

    /* The last one: the session's end, with process 1's status. */
    pt_msg_init(&m, PT_EV_EXITED, 0);
    m.u.exited.status = 5;
    peer_send(&m);
    close(peer_fd);
    peer_fd = -1;
    pt_dbg_drain(&dbg);
    ck_assert(pt_dbg_done(&dbg));
    ck_assert_str_eq(told, "process 1 (pid 4240) exited with status 5");
    ck_assert_int_eq(dbg.exit_code, 5);
}
END_TEST

Suite *dbg_suite(void)
{
    Suite *s = suite_create("dbg");
    TCase *tc = tcase_create("dbg");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_stop_and_steps);
    tcase_add_test(tc, test_running_refuses_and_error_text);
    tcase_add_test(tc, test_catch_list);
    tcase_add_test(tc, test_fiber_by_tag);
    tcase_add_test(tc, test_output_and_end);
    tcase_add_test(tc, test_lost_connection);
    tcase_add_test(tc, test_other_process_stop_waits_then_is_selected);
    tcase_add_test(tc, test_breakpoints_and_settings_go_to_every_process);
    tcase_add_test(tc, test_process_end_reported_and_session_goes_on);
    suite_add_tcase(s, tc);
    return s;
}
