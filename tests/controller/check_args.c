/* check_args.c — argument parsing of each command, good and bad input. */
#include <errno.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "fiberview.h"
#include "suites.h"

static struct pt_cmd_call call;
static char err[512];

static int parse(const char *line)
{
    err[0] = '\0';
    return pt_cmd_parse_line(line, &call, err, sizeof err);
}

START_TEST(test_no_arg_commands)
{
    const char *ok[] = { "step", "s", "skip", "n", "next", "up", "finish", "continue", "c",
                         "upframe", "downframe", "breakpoints", "pause", "detach",
                         "quit", "kill" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_msg(parse(ok[i]) == 0, "%s: %s", ok[i], err);
        char bad[64];
        snprintf(bad, sizeof bad, "%s extra", ok[i]);
        ck_assert_int_eq(parse(bad), -EINVAL);
        ck_assert_msg(strstr(err, "takes no arguments"), "%s", err);
    }
}
END_TEST

START_TEST(test_fibers)
{
    ck_assert_int_eq(parse("fibers"), 0);
    ck_assert(!call.args.stats);
    ck_assert_int_eq(parse("fibers -s"), 0);
    ck_assert(call.args.stats);
    ck_assert_int_eq(parse("fibers -x"), -EINVAL);
    ck_assert_msg(strstr(err, "usage: fibers [-s] [-a] [-g state|location|tag] [PATTERN]"), "%s", err);
    ck_assert_int_eq(parse("fibers -a -g location worker \\d+  "), 0);
    ck_assert(call.args.all);
    ck_assert_int_eq(call.args.group, PT_FV_GROUP_LOCATION);
    ck_assert_str_eq(call.args.text, "worker \\d+");
    ck_assert_int_eq(parse("fibers -g tag"), 0);
    ck_assert_int_eq(call.args.group, PT_FV_GROUP_TAG);
    ck_assert_str_eq(call.args.text, "");
    ck_assert_int_eq(parse("fibers -g"), -EINVAL);
    ck_assert_int_eq(parse("fibers -g color"), -EINVAL);
    ck_assert_str_eq(err, "fibers: -g groups by state, location or tag, not 'color'");
    ck_assert_int_eq(parse("fibers waiting -s"), 0);     /* after the pattern: its own */
    ck_assert_str_eq(call.args.text, "waiting -s");
}
END_TEST

START_TEST(test_hog)
{
    ck_assert_int_eq(parse("hog"), 0);
    ck_assert_int_eq(call.args.mode, PT_MODE_NONE);
    ck_assert_int_eq(parse("hog 50ms"), 0);
    ck_assert_int_eq(call.args.mode, PT_MODE_ON);
    ck_assert_int_eq(call.args.number, 50000);
    ck_assert_int_eq(parse("hog 0.2s"), 0);
    ck_assert_int_eq(call.args.number, 200000);
    ck_assert_int_eq(parse("hog 75"), 0);
    ck_assert_int_eq(call.args.number, 75000);
    ck_assert_int_eq(parse("hog report 1500us"), 0);
    ck_assert_int_eq(call.args.mode, PT_MODE_REPORT);
    ck_assert_int_eq(call.args.number, 1500);
    ck_assert_int_eq(parse("hog off"), 0);
    ck_assert_int_eq(call.args.mode, PT_MODE_OFF);
    const char *bad[] = { "hog fast", "hog 0ms", "hog 999us", "hog 2h", "hog -5ms", "hog 5m",
                          "hog report", "hog report soon", "hog 50ms now", "hog off now" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(parse(bad[i]) == -EINVAL, "%s accepted", bad[i]);
}
END_TEST

START_TEST(test_switch)
{
    ck_assert_int_eq(parse("switch 3"), 0);
    ck_assert_str_eq(call.args.fiber, "3");
    ck_assert_int_eq(parse("fiber worker_1"), 0);
    ck_assert_str_eq(call.args.fiber, "worker_1");
    ck_assert_int_eq(parse("switch :ticker"), 0);
    ck_assert_str_eq(call.args.fiber, "ticker");
    ck_assert_int_eq(parse("switch"), -EINVAL);
    ck_assert_str_eq(err, "switch: needs a fiber id, tag or an expression giving a fiber");
    ck_assert_int_eq(parse("switch 0"), -EINVAL);
    ck_assert_str_eq(err, "switch: '0' is not a fiber id");
    ck_assert_int_eq(parse("switch 99999999999999999999999"), -EINVAL);
    /* Anything else is an expression for the tracer to evaluate. */
    ck_assert_int_eq(parse("switch Fiber.current.children.first "), 0);
    ck_assert_str_eq(call.args.fiber, "");
    ck_assert_str_eq(call.args.text, "Fiber.current.children.first");
    ck_assert_int_eq(parse("switch workers[1]"), 0);
    ck_assert_str_eq(call.args.text, "workers[1]");
    ck_assert_int_eq(parse("switch f1"), 0);      /* a tag first, else a local */
    ck_assert_str_eq(call.args.fiber, "f1");
    ck_assert_str_eq(call.args.text, "f1");
}
END_TEST

START_TEST(test_backtrace)
{
    ck_assert_int_eq(parse("bt"), 0);
    ck_assert_str_eq(call.args.fiber, "");
    ck_assert_int_eq(parse("backtrace 7"), 0);
    ck_assert_str_eq(call.args.fiber, "7");
    ck_assert_int_eq(parse("bt 7 8"), -EINVAL);
    ck_assert_int_eq(parse("bt $x"), -EINVAL);
}
END_TEST

START_TEST(test_frame_delete_list)
{
    ck_assert_int_eq(parse("frame 2"), 0);
    ck_assert(call.args.has_number);
    ck_assert_int_eq(call.args.number, 2);
    ck_assert_int_eq(parse("frame"), -EINVAL);
    ck_assert_int_eq(parse("frame -1"), -EINVAL);
    ck_assert_int_eq(parse("frame 1x"), -EINVAL);
    ck_assert_int_eq(parse("delete 4"), 0);
    ck_assert_int_eq(call.args.number, 4);
    ck_assert_int_eq(parse("delete"), -EINVAL);
    ck_assert_int_eq(parse("delete all"), -EINVAL);
    ck_assert_int_eq(parse("list"), 0);
    ck_assert(!call.args.has_number);
    ck_assert_int_eq(parse("l 30"), 0);
    ck_assert_int_eq(call.args.number, 30);
    ck_assert_int_eq(parse("list foo"), -EINVAL);
}
END_TEST

START_TEST(test_print)
{
    ck_assert_int_eq(parse("print @a.map { |x| x * 2 }  "), 0);
    ck_assert_str_eq(call.args.text, "@a.map { |x| x * 2 }");
    ck_assert_int_eq(parse("p"), -EINVAL);
    ck_assert_str_eq(err, "print: needs an expression");
    ck_assert_int_eq(parse("p    "), -EINVAL);
}
END_TEST

START_TEST(test_break_locations)
{
    ck_assert_int_eq(parse("break app.rb:12"), 0);
    ck_assert_str_eq(call.args.file, "app.rb");
    ck_assert_int_eq(call.args.line, 12);
    ck_assert_str_eq(call.args.method, "");
    ck_assert_int_eq(parse("b /tmp/a b/x.rb:3"), -EINVAL); /* a space splits the word */
    ck_assert_int_eq(parse("b 40"), 0);
    ck_assert_str_eq(call.args.file, "");
    ck_assert_int_eq(call.args.line, 40);
    ck_assert_int_eq(parse("b Worker#run"), 0);
    ck_assert_str_eq(call.args.method, "Worker#run");
    ck_assert_int_eq(parse("b Net::HTTP.get"), 0);
    ck_assert_str_eq(call.args.method, "Net::HTTP.get");
    ck_assert_int_eq(parse("b Foo#bar?"), 0);
    ck_assert_int_eq(parse("break"), -EINVAL);
    ck_assert_int_eq(parse("break app.rb"), -EINVAL);
    ck_assert_int_eq(parse("break app.rb:0"), -EINVAL);
    ck_assert_int_eq(parse("break app.rb:12x"), -EINVAL);
    ck_assert_int_eq(parse("break foo#bar"), -EINVAL);
    ck_assert_int_eq(parse("break work"), 0);
    ck_assert_str_eq(call.args.method, "Object#work");
    ck_assert_int_eq(parse("break ready? if x"), 0);
    ck_assert_str_eq(call.args.method, "Object#ready?");
    ck_assert_str_eq(call.args.text, "x");
    ck_assert_int_eq(parse("break wo-rk"), -EINVAL);
    ck_assert_int_eq(parse("break Foo#"), -EINVAL);
}
END_TEST

START_TEST(test_break_clauses)
{
    ck_assert_int_eq(parse("break app.rb:12 if x > 3 && y"), 0);
    ck_assert_str_eq(call.args.text, "x > 3 && y");
    ck_assert_str_eq(call.args.fiber, "");
    ck_assert_int_eq(parse("break app.rb:12 if i == 2 fiber 3"), 0);
    ck_assert_str_eq(call.args.text, "i == 2");
    ck_assert_str_eq(call.args.fiber, "3");
    ck_assert_int_eq(parse("break app.rb:12 fiber worker if i == 2"), 0);
    ck_assert_str_eq(call.args.text, "i == 2");
    ck_assert_str_eq(call.args.fiber, "worker");
    ck_assert_int_eq(parse("break app.rb:12 fiber 5"), 0);
    ck_assert_str_eq(call.args.text, "");
    ck_assert_str_eq(call.args.fiber, "5");
    ck_assert_int_eq(parse("break app.rb:12 if"), -EINVAL);
    ck_assert_str_eq(err, "break: 'if' needs a condition");
    ck_assert_int_eq(parse("break app.rb:12 fiber"), -EINVAL);
    ck_assert_int_eq(parse("break app.rb:12 when x"), -EINVAL);
    ck_assert_int_eq(parse("break app.rb:12 if x fiber @@"), -EINVAL);
    ck_assert_int_eq(parse("break app.rb:12 iffy"), -EINVAL);
}
END_TEST

START_TEST(test_trace)
{
    ck_assert_int_eq(parse("trace ops on"), 0);
    ck_assert_int_eq(call.args.mode, PT_MODE_ON);
    ck_assert_str_eq(call.args.fiber, "");
    ck_assert_int_eq(parse("trace ops off fiber 2"), 0);
    ck_assert_int_eq(call.args.mode, PT_MODE_OFF);
    ck_assert_str_eq(call.args.fiber, "2");
    ck_assert_int_eq(parse("trace"), -EINVAL);
    ck_assert_int_eq(parse("trace ops"), -EINVAL);
    ck_assert_int_eq(parse("trace ops maybe"), -EINVAL);
    ck_assert_int_eq(parse("trace ops step"), -EINVAL);
    ck_assert_int_eq(parse("trace calls on"), -EINVAL);
    ck_assert_int_eq(parse("trace ops on fiber"), -EINVAL);
    ck_assert_int_eq(parse("trace ops on fiber 2 3"), -EINVAL);
    ck_assert_int_eq(parse("trace ops on 2"), -EINVAL);
}
END_TEST

START_TEST(test_set)
{
    ck_assert_int_eq(parse("set fiberlock on"), 0);
    ck_assert_int_eq(call.args.mode, PT_MODE_ON);
    ck_assert_str_eq(call.args.text, "fiberlock");
    ck_assert_int_eq(parse("set fiberlock off"), 0);
    ck_assert_int_eq(call.args.mode, PT_MODE_OFF);
    ck_assert_int_eq(parse("set fiberlock step"), 0);
    ck_assert_int_eq(call.args.mode, PT_MODE_STEP);
    ck_assert_int_eq(parse("set"), -EINVAL);
    ck_assert_int_eq(parse("set fiberlock"), -EINVAL);
    ck_assert_int_eq(parse("set fiberlock sometimes"), -EINVAL);
    ck_assert_int_eq(parse("set width 80"), -EINVAL);
    ck_assert_str_eq(err, "set: unknown setting 'width' (known: fiberlock, print limit, follow-fork)");
    ck_assert_int_eq(parse("set follow-fork child"), 0);
    ck_assert_str_eq(call.args.text, "follow-fork");
    ck_assert_str_eq(call.args.value, "child");
    ck_assert_int_eq(parse("set follow-fork sometimes"), -EINVAL);
    ck_assert_int_eq(parse("set follow-fork all parent"), -EINVAL);
    ck_assert_int_eq(parse("set fiberlock on off"), -EINVAL);
    ck_assert_int_eq(parse("set print limit 100"), 0);
    ck_assert_str_eq(call.args.text, "print limit");
    ck_assert(call.args.has_number);
    ck_assert_int_eq(call.args.number, 100);
    ck_assert_int_eq(parse("set print limit 0"), 0);
    ck_assert_int_eq(call.args.number, 0);
    ck_assert_int_eq(parse("set print limit"), -EINVAL);
    ck_assert_str_eq(err, "set: usage: set print limit N (bytes; 0: no limit)");
    ck_assert_int_eq(parse("set print limit -1"), -EINVAL);
    ck_assert_int_eq(parse("set print limit many"), -EINVAL);
    ck_assert_int_eq(parse("set print limit 99999999999"), -EINVAL);
    ck_assert_int_eq(parse("set print width 5"), -EINVAL);
    ck_assert_int_eq(parse("set print limit 5 6"), -EINVAL);
}
END_TEST

START_TEST(test_catch)
{
    ck_assert_int_eq(parse("catch"), 0);
    ck_assert_int_eq(call.args.mode, PT_MODE_NONE);
    ck_assert_str_eq(call.args.text, "");
    ck_assert_int_eq(parse("catch Errno::ENOENT"), 0);
    ck_assert_int_eq(call.args.mode, PT_MODE_NONE);
    ck_assert_str_eq(call.args.text, "Errno::ENOENT");
    ck_assert_int_eq(parse("catch off"), 0);
    ck_assert_int_eq(call.args.mode, PT_MODE_OFF);
    ck_assert_str_eq(call.args.text, "");
    ck_assert_int_eq(parse("catch off KeyError"), 0);
    ck_assert_int_eq(call.args.mode, PT_MODE_OFF);
    ck_assert_str_eq(call.args.text, "KeyError");
    ck_assert_int_eq(parse("catch KeyError IOError"), -EINVAL);
    ck_assert_int_eq(parse("catch off KeyError IOError"), -EINVAL);
}
END_TEST

START_TEST(test_help_topic)
{
    ck_assert_int_eq(parse("help"), 0);
    ck_assert_str_eq(call.args.text, "");
    ck_assert_int_eq(parse("help bt"), 0);
    ck_assert_str_eq(call.args.text, "bt");
    ck_assert_int_eq(parse("help bt fibers"), -EINVAL);
}
END_TEST

START_TEST(test_fiber_refs)
{
    ck_assert(pt_args_is_fiber_ref("1"));
    ck_assert(pt_args_is_fiber_ref("worker"));
    ck_assert(pt_args_is_fiber_ref(":worker"));
    ck_assert(pt_args_is_fiber_ref("w_2"));
    ck_assert(!pt_args_is_fiber_ref("0"));
    ck_assert(!pt_args_is_fiber_ref(""));
    ck_assert(!pt_args_is_fiber_ref("2x"));
    ck_assert(!pt_args_is_fiber_ref("a b"));
    ck_assert(!pt_args_is_fiber_ref("@x"));
}
END_TEST

START_TEST(test_long_input_no_overflow)
{
    char line[8000];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\0';
    memcpy(line, "p ", 2);
    ck_assert_int_eq(parse(line), -EINVAL);
    ck_assert(strstr(err, "too long"));
    memcpy(line, "b ", 2);
    ck_assert_int_eq(parse(line), -EINVAL);
    ck_assert_int_eq(parse(line + 2), -EINVAL);  /* a very long unknown command */
}
END_TEST

Suite *args_suite(void)
{
    Suite *s = suite_create("args");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_no_arg_commands);
    tcase_add_test(tc, test_fibers);
    tcase_add_test(tc, test_hog);
    tcase_add_test(tc, test_switch);
    tcase_add_test(tc, test_backtrace);
    tcase_add_test(tc, test_frame_delete_list);
    tcase_add_test(tc, test_print);
    tcase_add_test(tc, test_break_locations);
    tcase_add_test(tc, test_break_clauses);
    tcase_add_test(tc, test_trace);
    tcase_add_test(tc, test_set);
    tcase_add_test(tc, test_catch);
    tcase_add_test(tc, test_help_topic);
    tcase_add_test(tc, test_fiber_refs);
    tcase_add_test(tc, test_long_input_no_overflow);
    suite_add_tcase(s, tc);
    return s;
}
