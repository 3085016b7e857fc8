/* check_remote.c — the TCP side of the protocol (pt_remote.h): tokens and
 * token files, the challenge and its answer (a replay fails), HOST:PORT
 * parsing, loopback-only listening, the preamble over a real loopback
 * connection, and TLS relays carrying bytes both ways at once with a
 * certificate made here. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_protocol.h"
#include "pt_proto.h"
#include "pt_remote.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

START_TEST(test_tokens)
{
    char a[80], b[80];

    ck_assert_int_eq(pt_proto_remote_token_new(a, sizeof a), 0);
    ck_assert_int_eq(pt_proto_remote_token_new(b, sizeof b), 0);
    ck_assert_uint_eq(strlen(a), 64);
    ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 64);
    ck_assert_str_ne(a, b);
    ck_assert(pt_proto_remote_token_valid(a));
    ck_assert(!pt_proto_remote_token_valid("short"));
    ck_assert(!pt_proto_remote_token_valid("has a space in the middle"));
    ck_assert_int_eq(pt_proto_remote_token_new(a, 64), -ENOSPC);
}
END_TEST

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(test_token_files)
{
    char dir[] = "/tmp/pt_check_tokXXXXXX", path[600], tok[PT_PROTO_REMOTE_TOKEN_MAX + 1], err[256];

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/token", dir);
    write_file(path, "0123456789abcdef-secret\nignored\n", 0600);
    ck_assert_int_eq(pt_proto_remote_token_read(path, tok, sizeof tok, err, sizeof err), 0);
    ck_assert_str_eq(tok, "0123456789abcdef-secret");
    /* Readable by others: refused, saying why. */
    ck_assert_int_eq(chmod(path, 0640), 0);
    ck_assert_int_eq(pt_proto_remote_token_read(path, tok, sizeof tok, err, sizeof err), -EPERM);
    ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
    write_file(path, "too short\n", 0600);
    ck_assert_int_eq(pt_proto_remote_token_read(path, tok, sizeof tok, err, sizeof err), -EINVAL);
    unlink(path);
    ck_assert_int_eq(pt_proto_remote_token_read(path, tok, sizeof tok, err, sizeof err), -ENOENT);
    rmdir(dir);
}
END_TEST

START_TEST(test_challenge_answer_and_replay)
{
    const char *token = "a-token-of-sufficient-length";
    unsigned char c1[PT_PROTO_REMOTE_CHALLENGE_LEN], c2[PT_PROTO_REMOTE_CHALLENGE_LEN];
    unsigned char m1[PT_PROTO_REMOTE_MAC_LEN], m2[PT_PROTO_REMOTE_MAC_LEN];

    ck_assert_int_eq(pt_proto_remote_challenge(c1), 0);
    ck_assert_int_eq(pt_proto_remote_challenge(c2), 0);
    ck_assert_int_eq(memcmp(c1, PT_PROTO_REMOTE_MAGIC, PT_PROTO_REMOTE_MAGIC_LEN), 0);
    ck_assert_int_ne(memcmp(c1, c2, sizeof c1), 0);
    ck_assert_int_eq(pt_proto_remote_answer(token, c1, m1), 0);
    ck_assert_int_eq(pt_proto_remote_answer(token, c2, m2), 0);
    ck_assert_int_eq(pt_proto_remote_verify(token, c1, m1), 0);
    /* Another challenge, another token, a flipped bit: refused. */
    ck_assert_int_eq(pt_proto_remote_verify(token, c2, m1), -EACCES);
    ck_assert_int_eq(pt_proto_remote_verify("another-token-of-length", c1, m1), -EACCES);
    m1[5] ^= 1;
    ck_assert_int_eq(pt_proto_remote_verify(token, c1, m1), -EACCES);
    /* Not a challenge. */
    c1[0] = 'X';
    ck_assert_int_eq(pt_proto_remote_answer(token, c1, m1), -EPROTO);
}
END_TEST

START_TEST(test_split)
{
    char h[64], p[8];

    ck_assert_int_eq(pt_proto_remote_split("127.0.0.1:4711", h, sizeof h, p, sizeof p), 0);
    ck_assert_str_eq(h, "127.0.0.1");
    ck_assert_str_eq(p, "4711");
    ck_assert_int_eq(pt_proto_remote_split("[::1]:0", h, sizeof h, p, sizeof p), 0);
    ck_assert_str_eq(h, "::1");
    ck_assert_str_eq(p, "0");
    ck_assert_int_eq(pt_proto_remote_split("localhost:65535", h, sizeof h, p, sizeof p), 0);
    ck_assert_int_eq(pt_proto_remote_split("localhost:65536", h, sizeof h, p, sizeof p), -EINVAL);
    ck_assert_int_eq(pt_proto_remote_split("localhost", h, sizeof h, p, sizeof p), -EINVAL);
    ck_assert_int_eq(pt_proto_remote_split(":80", h, sizeof h, p, sizeof p), -EINVAL);
    ck_assert_int_eq(pt_proto_remote_split("::1:80", h, sizeof h, p, sizeof p), -EINVAL);
    ck_assert_int_eq(pt_proto_remote_split("host:8x", h, sizeof h, p, sizeof p), -EINVAL);
}
END_TEST

START_TEST(test_listen_loopback_only)
{
    char bound[PT_PROTO_REMOTE_ADDR_MAX], err[512];
    int fd = -1;

    ck_assert_int_eq(pt_proto_remote_listen("0.0.0.0:0", false, &fd, bound, sizeof bound, err,
                                            sizeof err),
                     -EPERM);
    ck_assert_ptr_nonnull(strstr(err, "not a loopback address"));
    ck_assert_int_eq(pt_proto_remote_listen("127.0.0.1:0", false, &fd, bound, sizeof bound, err,
                                            sizeof err),
                     0);
    ck_assert_int_eq(strncmp(bound, "127.0.0.1:", 10), 0);
    ck_assert(pt_proto_remote_is_tcp(fd));
    close(fd);
    ck_assert_int_eq(pt_proto_remote_listen("0.0.0.0:0", true, &fd, bound, sizeof bound, err,
                                            sizeof err), 0);
    close(fd);
}
END_TEST

/* The listening socket is non-blocking: waits for a connection. */
static int accept_one(int lfd)
{
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    ck_assert_int_eq(poll(&p, 1, 5000), 1);
    int fd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(fd, 0);
    return fd;
}

/* The controller's side of the preamble against a listener played here. */
START_TEST(test_authenticate_over_loopback)
{
    const char *token = "the-shared-token-0123";
    unsigned char challenge[PT_PROTO_REMOTE_CHALLENGE_LEN], mac[PT_PROTO_REMOTE_MAC_LEN];
    char bound[PT_PROTO_REMOTE_ADDR_MAX], err[512];
    int lfd, cfd, sfd;

    ck_assert_int_eq(pt_proto_remote_listen("127.0.0.1:0", false, &lfd, bound, sizeof bound, err,
                                            sizeof err),
                     0);
    ck_assert_int_eq(pt_proto_remote_connect(bound, 5000, &cfd, err, sizeof err), 0);
    ck_assert(pt_proto_remote_is_tcp(cfd));
    int64_t deadline = pt_proto_now_ms() + 5000;
    sfd = accept_one(lfd);
    ck_assert_int_eq(pt_proto_remote_challenge(challenge), 0);
    ck_assert_int_eq(pt_proto_remote_send_all(sfd, challenge, sizeof challenge, deadline), 0);
    ck_assert_int_eq(pt_proto_remote_authenticate(cfd, token, 5000, err, sizeof err), 0);
    ck_assert_int_eq(pt_proto_remote_recv_all(sfd, mac, sizeof mac, deadline), 0);
    ck_assert_int_eq(pt_proto_remote_verify(token, challenge, mac), 0);
    /* A peer that is not a tracer. */
    close(sfd);
    close(cfd);
    ck_assert_int_eq(pt_proto_remote_connect(bound, 5000, &cfd, err, sizeof err), 0);
    sfd = accept_one(lfd);
    char http[PT_PROTO_REMOTE_CHALLENGE_LEN];
    memset(http, '.', sizeof http);
    memcpy(http, "HTTP/1.1 400 Bad Request\r\n", 26);
    ck_assert_int_eq(pt_proto_remote_send_all(sfd, http, sizeof http, deadline), 0);
    ck_assert_int_eq(pt_proto_remote_authenticate(cfd, token, 5000, err, sizeof err), -EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "not a polytrace tracer"));
    close(sfd);
    close(cfd);
    close(lfd);
}
END_TEST

/* A self-signed certificate for 127.0.0.1 and its key, as PEM files in dir. */
static void make_cert(const char *dir, char *cert, char *key, size_t len)
{
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    X509_NAME *name;
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    FILE *f;

    ck_assert_ptr_nonnull(pk);
    ck_assert_ptr_nonnull(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pk);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
    ck_assert_ptr_nonnull(ext);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ck_assert_int_gt(X509_sign(x, pk, EVP_sha256()), 0);
    snprintf(cert, len, "%s/cert.pem", dir);
    snprintf(key, len, "%s/key.pem", dir);
    ck_assert_ptr_nonnull(f = fopen(cert, "w"));
    PEM_write_X509(f, x);
    fclose(f);
    ck_assert_ptr_nonnull(f = fopen(key, "w"));
    PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(pk);
}

/* Pushes out[] into a and b[] into b at once while reading what comes
 * back on the other end of each: both directions of a relay full at the
 * same time must not deadlock. */
static void exchange(int a, int b, size_t n)
{
    char *ab = malloc(n), *ba = malloc(n), *got_b = malloc(n), *got_a = malloc(n);
    size_t wa = 0, wb = 0, ra = 0, rb = 0;

    for (size_t i = 0; i < n; i++) {
        ab[i] = (char)(i * 7);
        ba[i] = (char)(i * 13 + 1);
    }
    while (ra < n || rb < n) {
        struct pollfd p[2] = {
            { .fd = a, .events = (short)((wa < n ? POLLOUT : 0) | (ra < n ? POLLIN : 0)) },
            { .fd = b, .events = (short)((wb < n ? POLLOUT : 0) | (rb < n ? POLLIN : 0)) },
        };
        ck_assert_int_gt(poll(p, 2, 10000), 0);
        ssize_t k;
        if ((p[0].revents & POLLOUT) && (k = send(a, ab + wa, n - wa, MSG_DONTWAIT)) > 0)
            wa += (size_t)k;
        if ((p[1].revents & POLLOUT) && (k = send(b, ba + wb, n - wb, MSG_DONTWAIT)) > 0)
            wb += (size_t)k;
        if ((p[0].revents & POLLIN) && (k = recv(a, got_a + ra, n - ra, MSG_DONTWAIT)) > 0)
            ra += (size_t)k;
        if ((p[1].revents & POLLIN) && (k = recv(b, got_b + rb, n - rb, MSG_DONTWAIT)) > 0)
            rb += (size_t)k;
    }
    ck_assert_int_eq(memcmp(ab, got_b, n), 0);
    ck_assert_int_eq(memcmp(ba, got_a, n), 0);
    free(ab);
    free(ba);
    free(got_a);
    free(got_b);
}

START_TEST(test_tls_relay)
{
    char dir[] = "/tmp/pt_check_tlsXXXXXX", cert[600], key[600], err[512];
    char bound[PT_PROTO_REMOTE_ADDR_MAX];
    struct pt_proto_remote_tls *srv, *cli, *sys;
    int lfd, cfd, sfd, cplain, splain;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    make_cert(dir, cert, key, sizeof cert);
    ck_assert_int_eq(pt_proto_remote_tls_server(cert, key, &srv, err, sizeof err), 0);
    ck_assert_int_eq(pt_proto_remote_tls_server(cert, cert, &sys, err, sizeof err), -EINVAL);
    ck_assert_int_eq(pt_proto_remote_tls_client(cert, &cli, err, sizeof err), 0);
    ck_assert_int_eq(pt_proto_remote_listen("127.0.0.1:0", false, &lfd, bound, sizeof bound, err,
                                            sizeof err),
                     0);

    /* The right authority: the bytes cross both ways at once, intact. */
    ck_assert_int_eq(pt_proto_remote_connect(bound, 5000, &cfd, err, sizeof err), 0);
    sfd = accept_one(lfd);
    ck_assert_int_eq(pt_proto_remote_tls_start(srv, sfd, NULL, 0, &splain, err, sizeof err), 0);
    ck_assert_int_eq(pt_proto_remote_tls_start(cli, cfd, "127.0.0.1", 5000, &cplain, err,
                                               sizeof err), 0);
    exchange(cplain, splain, 300000);
    /* One side closes: the other sees the end. */
    close(cplain);
    char c;
    struct pollfd p = { .fd = splain, .events = POLLIN };
    ck_assert_int_eq(poll(&p, 1, 10000), 1);
    ck_assert_int_eq(recv(splain, &c, 1, 0), 0);
    close(splain);

    /* The system's authorities do not know a self-signed certificate. */
    ck_assert_int_eq(pt_proto_remote_tls_client(NULL, &sys, err, sizeof err), 0);
    ck_assert_int_eq(pt_proto_remote_connect(bound, 5000, &cfd, err, sizeof err), 0);
    sfd = accept_one(lfd);
    ck_assert_int_eq(pt_proto_remote_tls_start(srv, sfd, NULL, 0, &splain, err, sizeof err), 0);
    ck_assert_int_eq(pt_proto_remote_tls_start(sys, cfd, "127.0.0.1", 5000, &cplain, err,
                                               sizeof err),
                     -EACCES);
    ck_assert_ptr_nonnull(strstr(err, "certificate is refused"));
    p.fd = splain;
    ck_assert_int_eq(poll(&p, 1, 10000), 1);   /* the server's relay gives up */
    ck_assert_int_eq(recv(splain, &c, 1, 0), 0);
    close(splain);

    close(lfd);
    pt_proto_remote_tls_free(sys);
    pt_proto_remote_tls_free(cli);
    pt_proto_remote_tls_free(srv);
    unlink(cert);
    unlink(key);
    rmdir(dir);
}
END_TEST

TCase *tc_remote(void)
{
    TCase *tc = tcase_create("remote");
    tcase_add_test(tc, test_tokens);
    tcase_add_test(tc, test_token_files);
    tcase_add_test(tc, test_challenge_answer_and_replay);
    tcase_add_test(tc, test_split);
    tcase_add_test(tc, test_listen_loopback_only);
    tcase_add_test(tc, test_authenticate_over_loopback);
    tcase_add_test(tc, test_tls_relay);
    tcase_set_timeout(tc, 60);
    return tc;
}
