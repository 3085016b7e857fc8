/* check_launch.c — launching a program: the environment it gets (RUBYOPT
 * prepended, POLYTRACE_SOCKET, POLYTRACE_NONSTOP), its own process group,
 * an exec failure, a program that ends without connecting, and one that
 * connects to the socket. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "suites.h"

static char base[64];
static char out_file[128];

static void setup(void)
{
    snprintf(base, sizeof base, "/tmp/pt_check_launchXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    setenv("XDG_RUNTIME_DIR", base, 1);
    snprintf(out_file, sizeof out_file, "%s/out", base);
}

static void teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    ck_assert_int_eq(system(cmd), 0);
}

static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int start(struct pt_launch *l, char **argv, bool nonstop, bool attachable)
{
    struct pt_launch_spec spec;
    pt_launch_spec_init(&spec, argv);
    spec.nonstop = nonstop;
    spec.attachable = attachable;
    return pt_launch_start(l, &spec);
}

START_TEST(test_environment_and_end_without_connecting)
{
    struct pt_launch l;
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(pt_launch_listen(&l), 0);
    struct stat st;
    ck_assert_int_eq(stat(l.sock_path, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    setenv("RUBYOPT", "-w", 1);
    char script[512];
    snprintf(script, sizeof script,
             "echo \"$RUBYOPT|$POLYTRACE_SOCKET|$POLYTRACE_NONSTOP|$(ps -o pgid= -p $$ | tr -d ' ')|$$\" > %s; exit 3",
             out_file);
    char *argv[] = { "sh", "-c", script, NULL };
    ck_assert_int_eq(start(&l, argv, true, false), 0);
    ck_assert_int_gt(l.pid, 0);
    int fd = -1, status = 0;
    ck_assert_int_eq(pt_launch_accept(&l, 10000, &fd, &status), 0);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 3);
    /* The socket is gone once we stop listening. */
    ck_assert_int_eq(l.listen_fd, -1);
    char *got = slurp(out_file);
    char want[600];
    char sock[512];
    snprintf(sock, sizeof sock, "%s/polytrace/ctl-%ld.sock", base, (long)getpid());
    snprintf(want, sizeof want, "-rpolytrace -w|%s|1|", sock);
    ck_assert_msg(strncmp(got, want, strlen(want)) == 0, "got %s want %s", got, want);
    /* Its own process group: pgid == its pid. */
    char *p = got + strlen(want);
    long pgid = strtol(p, &p, 10);
    ck_assert_int_eq(*p, '|');
    long pid = strtol(p + 1, NULL, 10);
    ck_assert_int_eq(pgid, pid);
    ck_assert_int_ne(pgid, (long)getpgrp());
}
END_TEST

START_TEST(test_exec_failure)
{
    struct pt_launch l;
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(pt_launch_listen(&l), 0);
    char *argv[] = { "/nonexistent/program-xyz", NULL };
    ck_assert_int_eq(start(&l, argv, false, false), -ENOENT);
    ck_assert_int_eq(l.exec_errno, ENOENT);
    ck_assert_int_eq(l.pid, 0);
    pt_launch_unlisten(&l);
}
END_TEST

START_TEST(test_connects)
{
    struct pt_launch l;
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(pt_launch_listen(&l), 0);
    unsetenv("POLYTRACE_NONSTOP");
    /* The launched program just sleeps; a forked helper plays the tracer
     * and connects to the socket. */
    char *argv[] = { "sleep", "5", NULL };
    ck_assert_int_eq(start(&l, argv, false, false), 0);
    pid_t connector = fork();
    if (connector == 0) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        strcpy(sa.sun_path, l.sock_path);
        _exit(connect(s, (struct sockaddr *)&sa, sizeof sa) == 0 ? 0 : 1);
    }
    int fd = -1, status = 0;
    ck_assert_int_eq(pt_launch_accept(&l, 10000, &fd, &status), 1);
    ck_assert_int_ge(fd, 0);
    close(fd);
    waitpid(connector, &status, 0);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    kill(l.pid, SIGKILL);
    waitpid(l.pid, NULL, 0);
}
END_TEST

START_TEST(test_attachable_gets_no_socket)
{
    struct pt_launch l;
    memset(&l, 0, sizeof l);
    l.listen_fd = -1;
    setenv("POLYTRACE_SOCKET", "/stale", 1);
    char script[256];
    snprintf(script, sizeof script, "echo \"[$POLYTRACE_SOCKET]\" > %s; cat > /dev/null", out_file);
    char *argv[] = { "sh", "-c", script, NULL };
    ck_assert_int_eq(start(&l, argv, true, true), 0);
    int status;
    ck_assert_int_eq(waitpid(l.pid, &status, 0), l.pid);  /* stdin is /dev/null: cat ends */
    ck_assert_str_eq(slurp(out_file), "[]\n");
}
END_TEST

static char *read_all(int fd)
{
    static char buf[3][512];
    static int k;
    char *b = buf[k++ % 3];
    size_t n = 0;
    ssize_t r;
    while (n < 511 && (r = read(fd, b + n, 511 - n)) > 0)
        n += (size_t)r;
    b[n] = '\0';
    return b;
}

/* A front end without a terminal: working directory, extra environment,
 * and the program's stdio on pipes of ours. */
START_TEST(test_spec_cwd_env_stdio)
{
    struct pt_launch l;
    memset(&l, 0, sizeof l);
    l.listen_fd = -1;
    int out[2], err[2];
    ck_assert_int_eq(pipe(out), 0);
    ck_assert_int_eq(pipe(err), 0);
    setenv("PT_KEPT", "kept", 1);
    setenv("PT_GONE", "here", 1);
    char *argv[] = { "sh", "-c", "pwd; echo \"$PT_FOO|$PT_KEPT|${PT_GONE-unset}\"; echo oops >&2; cat", NULL };
    char *env[] = { "PT_FOO=a=b", "=bogus", "PT_GONE", NULL };
    struct pt_launch_spec spec;
    pt_launch_spec_init(&spec, argv);
    spec.attachable = true;      /* no socket needed here */
    spec.cwd = base;
    spec.env = env;
    spec.stdio[1] = out[1];
    spec.stdio[2] = err[1];
    ck_assert_int_eq(pt_launch_start(&l, &spec), 0);
    close(out[1]);
    close(err[1]);
    int status;
    ck_assert_int_eq(waitpid(l.pid, &status, 0), l.pid);
    char want[128];
    snprintf(want, sizeof want, "%s\na=b|kept|unset\n", base);
    ck_assert_str_eq(read_all(out[0]), want);
    ck_assert_str_eq(read_all(err[0]), "oops\n");
    close(out[0]);
    close(err[0]);
}
END_TEST

START_TEST(test_spec_bad_cwd)
{
    struct pt_launch l;
    memset(&l, 0, sizeof l);
    l.listen_fd = -1;
    char *argv[] = { "true", NULL };
    struct pt_launch_spec spec;
    pt_launch_spec_init(&spec, argv);
    spec.attachable = true;
    spec.cwd = "/nonexistent/dir-xyz";
    ck_assert_int_eq(pt_launch_start(&l, &spec), -ENOENT);
    ck_assert_int_eq(l.pid, 0);
}
END_TEST

Suite *launch_suite(void)
{
    Suite *s = suite_create("launch");
    TCase *tc = tcase_create("launch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_environment_and_end_without_connecting);
    tcase_add_test(tc, test_exec_failure);
    tcase_add_test(tc, test_connects);
    tcase_add_test(tc, test_attachable_gets_no_socket);
    tcase_add_test(tc, test_spec_cwd_env_stdio);
    tcase_add_test(tc, test_spec_bad_cwd);
    suite_add_tcase(s, tc);
    return s;
}
