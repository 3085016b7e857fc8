/* check_options.c — polytrace's command line. */
#include <errno.h>
#include <string.h>

#include "options.h"
#include "suites.h"

static struct pt_opt o;
static char err[256];

#define PARSE(...) parse((char *[]){ "polytrace", __VA_ARGS__, NULL })

/* argv is copied to static storage: o.prog_argv points into it afterwards,
 * while the compound literal PARSE builds dies with the assertion's block. */
static char *store[32];

static int parse(char **argv)
{
    int argc = 0;
    while (argc < 31 && argv[argc]) {
        store[argc] = argv[argc];
        argc++;
    }
    store[argc] = NULL;
    err[0] = '\0';
    return pt_opt_parse(argc, store, &o, err, sizeof err);
}

START_TEST(test_launch)
{
    ck_assert_int_eq(PARSE("ruby", "app.rb", "--nonstop"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_LAUNCH);
    ck_assert(!o.nonstop);
    ck_assert_int_eq(o.prog_argc, 3);
    ck_assert_str_eq(o.prog_argv[0], "ruby");
    ck_assert_str_eq(o.prog_argv[2], "--nonstop");  /* the program's own argument */

    ck_assert_int_eq(PARSE("--nonstop", "--", "ruby", "-w", "app.rb"), 0);
    ck_assert(o.nonstop);
    ck_assert_int_eq(o.prog_argc, 3);
    ck_assert_str_eq(o.prog_argv[1], "-w");

    ck_assert_int_eq(PARSE("--nonstop", "--detach", "ruby", "app.rb"), 0);
    ck_assert(o.detach && o.nonstop);

    ck_assert_int_eq(PARSE("--", "attach", "3"), 0);  /* a program named attach */
    ck_assert_int_eq(o.mode, PT_OPT_LAUNCH);
    ck_assert_str_eq(o.prog_argv[0], "attach");
}
END_TEST

START_TEST(test_modes)
{
    ck_assert_int_eq(PARSE("attach", "1234"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_ATTACH);
    ck_assert_int_eq(o.pid, 1234);
    ck_assert_int_eq(PARSE("dump", "77"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_DUMP);
    ck_assert_int_eq(o.pid, 77);
    ck_assert_int_eq(PARSE("-h"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_HELP);
    ck_assert_int_eq(PARSE("--help", "ruby"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_HELP);
    ck_assert_int_eq(PARSE("--version"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_VERSION);
    /* each mode's own --help prints the usage */
    ck_assert_int_eq(PARSE("dap", "--help"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_HELP);
    ck_assert_int_eq(PARSE("top", "-b", "-h"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_HELP);
    ck_assert_int_eq(PARSE("attach", "--help"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_HELP);
    ck_assert_int_eq(PARSE("connect", "--help"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_HELP);
    ck_assert_int_eq(PARSE("dump", "-h"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_HELP);
    /* a program's own --help is the program's */
    ck_assert_int_eq(PARSE("ruby", "--help"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_LAUNCH);
    ck_assert_int_eq(PARSE("--", "dap", "--help"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_LAUNCH);
}
END_TEST

START_TEST(test_usage_errors)
{
    ck_assert_int_eq(parse((char *[]){ "polytrace", NULL }), -EINVAL);
    ck_assert(strstr(err, "no program"));
    ck_assert_int_eq(PARSE("--nonstop"), -EINVAL);
    ck_assert_int_eq(PARSE("--frobnicate", "ruby"), -EINVAL);
    ck_assert_str_eq(err, "unknown option '--frobnicate' (see polytrace --help)");
    ck_assert_int_eq(PARSE("--detach", "ruby", "a.rb"), -EINVAL);
    ck_assert_str_eq(err, "--detach needs --nonstop");
    ck_assert_int_eq(PARSE("attach"), -EINVAL);
    ck_assert_int_eq(PARSE("attach", "abc"), -EINVAL);
    ck_assert_int_eq(PARSE("attach", "0"), -EINVAL);
    ck_assert_int_eq(PARSE("attach", "-5"), -EINVAL);
    ck_assert_int_eq(PARSE("attach", "12", "13"), -EINVAL);
    ck_assert_int_eq(PARSE("dump", "99999999999"), -EINVAL);
    ck_assert_int_eq(PARSE("--nonstop", "attach", "12"), -EINVAL);
}
END_TEST

START_TEST(test_scripts)
{
    ck_assert_int_eq(PARSE("-x", "a.pt", "-ex", "break 3", "-n", "-x", "b.pt", "ruby", "app.rb",
                           "-x", "c"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_LAUNCH);
    ck_assert(o.no_init);
    ck_assert_int_eq(o.nscripts, 3);
    ck_assert(o.scripts[0].is_file);
    ck_assert_str_eq(o.scripts[0].text, "a.pt");
    ck_assert(!o.scripts[1].is_file);
    ck_assert_str_eq(o.scripts[1].text, "break 3");
    ck_assert_str_eq(o.scripts[2].text, "b.pt");
    ck_assert_int_eq(o.prog_argc, 4);            /* the program's own -x stays its own */
    ck_assert_str_eq(o.prog_argv[2], "-x");

    ck_assert_int_eq(PARSE("-ex", "fibers", "attach", "12"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_ATTACH);
    ck_assert_int_eq(o.nscripts, 1);
    ck_assert(!o.no_init);

    ck_assert_int_eq(PARSE("-x"), -EINVAL);
    ck_assert_str_eq(err, "'-x' needs a file name");
    ck_assert_int_eq(PARSE("ruby", "-ex"), 0);        /* after the program: its argument */
    ck_assert_int_eq(PARSE("-ex"), -EINVAL);
    ck_assert_str_eq(err, "'-ex' needs a command");
    ck_assert_int_eq(PARSE("-ex", "bt", "dump", "12"), -EINVAL);
    ck_assert(strstr(err, "not dump"));
    ck_assert_int_eq(PARSE("-n", "dump", "12"), -EINVAL);
    ck_assert_int_eq(PARSE("-ex", "c", "--nonstop", "--detach", "ruby"), -EINVAL);
}
END_TEST

START_TEST(test_pid)
{
    pid_t p;
    ck_assert_int_eq(pt_opt_parse_pid("42", &p), 0);
    ck_assert_int_eq(p, 42);
    ck_assert_int_eq(pt_opt_parse_pid("", &p), -EINVAL);
    ck_assert_int_eq(pt_opt_parse_pid(NULL, &p), -EINVAL);
    ck_assert_int_eq(pt_opt_parse_pid("4 2", &p), -EINVAL);
    ck_assert_int_eq(pt_opt_parse_pid("+42", &p), -EINVAL);
}
END_TEST

START_TEST(test_dap)
{
    ck_assert_int_eq(PARSE("dap"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_DAP);
    ck_assert_ptr_null(o.listen);
    ck_assert_int_eq(PARSE("dap", "--listen", "127.0.0.1:4711"), 0);
    ck_assert_str_eq(o.listen, "127.0.0.1:4711");
    ck_assert_int_eq(PARSE("dap", "--listen=/tmp/x.sock"), 0);
    ck_assert_str_eq(o.listen, "/tmp/x.sock");
    ck_assert_int_eq(PARSE("dap", "--listen"), -EINVAL);
    ck_assert_msg(strstr(err, "HOST:PORT"), "%s", err);
    ck_assert_int_eq(PARSE("dap", "extra"), -EINVAL);
    ck_assert_int_eq(PARSE("--nonstop", "dap"), -EINVAL);
    ck_assert_int_eq(PARSE("--", "dap"), 0);      /* a program named dap */
    ck_assert_int_eq(o.mode, PT_OPT_LAUNCH);
}
END_TEST

START_TEST(test_top)
{
    ck_assert_int_eq(PARSE("top", "123"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_TOP);
    ck_assert_int_eq(o.top.pid, 123);
    ck_assert(o.top.delay == 1.0);
    ck_assert_str_eq(o.top.sort, "cpu");
    ck_assert_ptr_null(o.top.filter);
    ck_assert(!o.top.batch);
    ck_assert_int_eq(PARSE("top", "-d", "0.5", "-s", "longest", "-f", "work", "-b", "-n", "3", "77"), 0);
    ck_assert(o.top.delay == 0.5);
    ck_assert_str_eq(o.top.sort, "longest");
    ck_assert_str_eq(o.top.filter, "work");
    ck_assert(o.top.batch);
    ck_assert_int_eq(o.top.count, 3);
    ck_assert_int_eq(o.top.pid, 77);
    ck_assert_int_eq(PARSE("top", "77", "-s", "id"), 0);   /* options after the pid */
    ck_assert_str_eq(o.top.sort, "id");
    const char *bad[][4] = {
        { "top", NULL }, { "top", "-s", "speed", "1" }, { "top", "-d", "0", "1" },
        { "top", "-n", "2", "1" }, { "top", "1", "2" }, { "top", "-z", "1" },
        { "top", "x1" }, { "top", "-d" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[6] = { "polytrace" };
        int k = 1;
        for (int j = 0; j < 4 && bad[i][j]; j++)
            argv[k++] = (char *)bad[i][j];
        argv[k] = NULL;
        ck_assert_msg(parse(argv) == -EINVAL, "accepted: top %s %s", bad[i][1] ? bad[i][1] : "",
                      bad[i][2] ? bad[i][2] : "");
    }
    ck_assert_int_eq(PARSE("--nonstop", "top", "1"), -EINVAL);
}
END_TEST

START_TEST(test_remote)
{
    ck_assert_int_eq(PARSE("--listen", "127.0.0.1:4711", "--token-file", "t", "--tls-cert", "c",
                           "--tls-key", "k", "--nonstop", "ruby", "app.rb"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_LISTEN);
    ck_assert_str_eq(o.listen, "127.0.0.1:4711");
    ck_assert_str_eq(o.token_file, "t");
    ck_assert_str_eq(o.tls_cert, "c");
    ck_assert_str_eq(o.tls_key, "k");
    ck_assert(o.nonstop && !o.listen_any);
    ck_assert_str_eq(o.prog_argv[0], "ruby");
    ck_assert_int_eq(PARSE("--listen", "0.0.0.0:1", "--listen-any", "app.rb"), 0);
    ck_assert(o.listen_any);

    ck_assert_int_eq(PARSE("-ex", "bt", "connect", "--tls", "--tls-ca", "ca.pem", "h:1",
                           "--token-file", "t"), 0);
    ck_assert_int_eq(o.mode, PT_OPT_CONNECT);
    ck_assert_str_eq(o.addr, "h:1");
    ck_assert(o.tls);
    ck_assert_str_eq(o.tls_ca, "ca.pem");
    ck_assert_str_eq(o.token_file, "t");
    ck_assert_int_eq(o.nscripts, 1);

    ck_assert_int_eq(PARSE("connect"), -EINVAL);
    ck_assert_int_eq(PARSE("connect", "a:1", "b:2"), -EINVAL);
    ck_assert_int_eq(PARSE("connect", "--tls-ca", "x", "a:1"), -EINVAL);
    ck_assert_int_eq(PARSE("connect", "--frob", "a:1"), -EINVAL);
    ck_assert_int_eq(PARSE("--nonstop", "connect", "a:1"), -EINVAL);
    ck_assert_int_eq(PARSE("--listen", "a:1", "connect", "a:1"), -EINVAL);
    ck_assert_int_eq(PARSE("--listen", "a:1", "attach", "12"), -EINVAL);
    ck_assert_int_eq(PARSE("--listen", "a:1", "dap"), -EINVAL);
    ck_assert_int_eq(PARSE("--listen", "a:1", "--nonstop", "--detach", "ruby"), -EINVAL);
    ck_assert_int_eq(PARSE("--listen", "a:1", "-ex", "bt", "ruby"), -EINVAL);
    ck_assert_int_eq(PARSE("--listen", "a:1", "--tls-key", "k", "ruby"), -EINVAL);
    ck_assert_int_eq(PARSE("--listen-any", "ruby"), -EINVAL);
    ck_assert_int_eq(PARSE("--listen"), -EINVAL);
}
END_TEST

Suite *options_suite(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("argv");
    tcase_add_test(tc, test_launch);
    tcase_add_test(tc, test_modes);
    tcase_add_test(tc, test_usage_errors);
    tcase_add_test(tc, test_scripts);
    tcase_add_test(tc, test_pid);
    tcase_add_test(tc, test_dap);
    tcase_add_test(tc, test_top);
    tcase_add_test(tc, test_remote);
    suite_add_tcase(s, tc);
    return s;
}
