/* check_rendezvous.c — the socket directory, socket names and peer check
 * that the tracer and the controller share (pt_rendezvous.h). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_protocol.h"
#include "pt_rendezvous.h"

static void tmp_default(char *want, size_t len)
{
    snprintf(want, len, "/tmp/polytrace-%ld", (long)getuid());
}

START_TEST(test_sockdir_made_private)
{
    char base[] = "/tmp/pt_check_dirXXXXXX", dir[512], p[600];
    struct stat st;

    ck_assert_ptr_nonnull(mkdtemp(base));
    setenv("XDG_RUNTIME_DIR", base, 1);
    ck_assert_int_eq(pt_proto_sockdir_ensure(dir, sizeof dir), 0);
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    ck_assert_int_eq(pt_proto_attach_sock_path(dir, 42, p, sizeof p), 0);
    ck_assert_str_eq(strrchr(p, '/'), "/42.sock");
    ck_assert_int_eq(pt_proto_ctl_sock_path(dir, 7, p, sizeof p), 0);
    ck_assert_str_eq(strrchr(p, '/'), "/ctl-7.sock");
    /* A directory others may enter is refused. */
    ck_assert_int_eq(chmod(dir, 0755), 0);
    ck_assert_int_eq(pt_proto_sockdir_ensure(dir, sizeof dir), -EPERM);
    rmdir(dir);
    rmdir(base);
    unsetenv("XDG_RUNTIME_DIR");
}
END_TEST

START_TEST(test_sockdir_relative_xdg_ignored)
{
    char dir[512], want[64];

    tmp_default(want, sizeof want);
    unsetenv("XDG_RUNTIME_DIR");
    ck_assert_int_eq(pt_proto_sockdir_path(dir, sizeof dir), 0);
    ck_assert_str_eq(dir, want);
    /* The XDG spec: a relative value is to be ignored, on both sides alike. */
    setenv("XDG_RUNTIME_DIR", "relative/run", 1);
    ck_assert_int_eq(pt_proto_sockdir_path(dir, sizeof dir), 0);
    ck_assert_str_eq(dir, want);
    unsetenv("XDG_RUNTIME_DIR");
}
END_TEST

START_TEST(test_names_too_long)
{
    char small[8], big[200];
    struct sockaddr_un sa;

    ck_assert_int_eq(pt_proto_sockdir_path(small, sizeof small), -ENAMETOOLONG);
    ck_assert_int_eq(pt_proto_attach_sock_path("/tmp", 123456, small, sizeof small), -ENAMETOOLONG);
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(pt_proto_sockaddr(big, &sa), -ENAMETOOLONG);
    ck_assert_int_eq(pt_proto_sockaddr("/tmp/x.sock", &sa), 0);
    ck_assert_int_eq(sa.sun_family, AF_UNIX);
    ck_assert_str_eq(sa.sun_path, "/tmp/x.sock");
}
END_TEST

START_TEST(test_peer_check)
{
    int sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(pt_proto_peer_check(sv[0], 0), 0);
    ck_assert_int_eq(pt_proto_peer_check(sv[0], getpid()), 0);
    ck_assert_int_eq(pt_proto_peer_check(sv[0], getpid() + 1), -EACCES);
    close(sv[0]);
    close(sv[1]);
    ck_assert_int_eq(pt_proto_peer_check(-1, 0), -EBADF);
}
END_TEST

TCase *tc_rendezvous(void)
{
    TCase *tc = tcase_create("rendezvous");
    tcase_add_test(tc, test_sockdir_made_private);
    tcase_add_test(tc, test_sockdir_relative_xdg_ignored);
    tcase_add_test(tc, test_names_too_long);
    tcase_add_test(tc, test_peer_check);
    return tc;
}
