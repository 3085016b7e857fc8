/*
 * proto_remote.c — tokens, the authentication preamble of a TCP connection
 * and TCP addresses (pt_remote.h). The MAC is OpenSSL's HMAC-SHA256; the
 * randomness is the kernel's (getrandom).
 */
#include "pt_remote.h"
#include "pt_proto.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* What the MAC covers besides the nonce: names the scheme and its version. */
static const char mac_label[] = "polytrace auth 1\n";

static int random_bytes(unsigned char *buf, size_t len)
{
    while (len) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- tokens ---------------------------------------------------------------- */

int pt_proto_remote_token_new(char *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[32];
    int r;

    if (len < 2 * sizeof raw + 1)
        return -ENOSPC;
    if ((r = random_bytes(raw, sizeof raw)) < 0)
        return r;
    for (size_t i = 0; i < sizeof raw; i++) {
        buf[2 * i] = hex[raw[i] >> 4];
        buf[2 * i + 1] = hex[raw[i] & 15];
    }
    buf[2 * sizeof raw] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

bool pt_proto_remote_token_valid(const char *text)
{
    size_t n = strlen(text);

    if (n < PT_PROTO_REMOTE_TOKEN_MIN || n > PT_PROTO_REMOTE_TOKEN_MAX)
        return false;
    for (const char *c = text; *c; c++)
        if (!isgraph((unsigned char)*c))
            return false;
    return true;
}

int pt_proto_remote_token_read(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
    char text[PT_PROTO_REMOTE_TOKEN_MAX + 2];
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

    if (fd < 0)
        return pt_proto_errf(err, errlen, -errno, "cannot open the token file %s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return pt_proto_errf(err, errlen, -EINVAL, "the token file %s is not a regular file", path);
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077)) {
        close(fd);
        return pt_proto_errf(err, errlen, -EPERM, "the token file %s must be yours and readable by you "
                             "only (chmod 600)", path);
    }
    n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n < 0)
        return pt_proto_errf(err, errlen, -errno, "cannot read the token file %s: %s", path, strerror(errno));
    text[n] = '\0';
    text[strcspn(text, "\r\n")] = '\0';
    if (!pt_proto_remote_token_valid(text)) {
        OPENSSL_cleanse(text, sizeof text);
        return pt_proto_errf(err, errlen, -EINVAL, "the token in %s must be one line of %d to %d printable "
                             "characters", path, PT_PROTO_REMOTE_TOKEN_MIN, PT_PROTO_REMOTE_TOKEN_MAX);
    }
    if (strlen(text) >= len) {
        OPENSSL_cleanse(text, sizeof text);
        return pt_proto_errf(err, errlen, -ENOSPC, "the token in %s is too long", path);
    }
    memcpy(buf, text, strlen(text) + 1);
    OPENSSL_cleanse(text, sizeof text);
    return 0;
}

/* ---- the preamble ---------------------------------------------------------- */

int pt_proto_remote_challenge(unsigned char out[PT_PROTO_REMOTE_CHALLENGE_LEN])
{
    memcpy(out, PT_PROTO_REMOTE_MAGIC, PT_PROTO_REMOTE_MAGIC_LEN);
    return random_bytes(out + PT_PROTO_REMOTE_MAGIC_LEN, PT_PROTO_REMOTE_NONCE_LEN);
}

int pt_proto_remote_answer(const char *token,
                           const unsigned char challenge[PT_PROTO_REMOTE_CHALLENGE_LEN],
                           unsigned char mac[PT_PROTO_REMOTE_MAC_LEN])
{
    unsigned char data[sizeof mac_label - 1 + PT_PROTO_REMOTE_NONCE_LEN];
    unsigned int maclen = 0;

    if (memcmp(challenge, PT_PROTO_REMOTE_MAGIC, PT_PROTO_REMOTE_MAGIC_LEN) != 0)
        return -EPROTO;
    memcpy(data, mac_label, sizeof mac_label - 1);
    memcpy(data + sizeof mac_label - 1, challenge + PT_PROTO_REMOTE_MAGIC_LEN,
           PT_PROTO_REMOTE_NONCE_LEN);
    if (!HMAC(EVP_sha256(), token, (int)strlen(token), data, sizeof data, mac, &maclen) ||
        maclen != PT_PROTO_REMOTE_MAC_LEN)
        return -EIO;
    return 0;
}

int pt_proto_remote_verify(const char *token,
                           const unsigned char challenge[PT_PROTO_REMOTE_CHALLENGE_LEN],
                           const unsigned char mac[PT_PROTO_REMOTE_MAC_LEN])
{
    unsigned char want[PT_PROTO_REMOTE_MAC_LEN];
    int r = pt_proto_remote_answer(token, challenge, want);

    if (r == 0 && CRYPTO_memcmp(want, mac, sizeof want) != 0)
        r = -EACCES;
    OPENSSL_cleanse(want, sizeof want);
    return r < 0 ? -EACCES : 0;
}

/* ---- addresses ------------------------------------------------------------- */

int pt_proto_remote_split(const char *text, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon, *h = text;
    size_t hl;

    if (!text)
        return -EINVAL;
    if (*text == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        h = text + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || memchr(text, ':', (size_t)(colon - text)))
            return -EINVAL;     /* no port, or a bare IPv6 address */
        hl = (size_t)(colon - text);
    }
    if (hl == 0 || hl >= hostlen)
        return -EINVAL;
    const char *p = colon + 1;
    size_t pl = strlen(p);
    if (pl == 0 || pl > 5 || pl >= portlen || strspn(p, "0123456789") != pl || atol(p) > 65535)
        return -EINVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, p, pl + 1);
    return 0;
}

static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

static void name_of(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];

    if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(buf, buflen, "?");
        return;
    }
    snprintf(buf, buflen, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

static int resolve(const char *text, bool passive, struct addrinfo **res, char *host, size_t hostlen,
                   char *err, size_t errlen)
{
    char port[8];
    struct addrinfo hints;
    int g;

    if (pt_proto_remote_split(text, host, hostlen, port, sizeof port) < 0)
        return pt_proto_errf(err, errlen, -EINVAL, "'%s' is not HOST:PORT", text);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    g = getaddrinfo(host, port, &hints, res);
    if (g == EAI_SYSTEM)
        return pt_proto_errf(err, errlen, -errno, "cannot resolve %s: %s", host, strerror(errno));
    if (g != 0)
        return pt_proto_errf(err, errlen, -EHOSTUNREACH, "cannot resolve %s: %s", host, gai_strerror(g));
    return 0;
}

int pt_proto_remote_listen(const char *text, bool any_host, int *fd, char *bound, size_t boundlen,
                           char *err, size_t errlen)
{
    char host[PT_PROTO_REMOTE_ADDR_MAX];
    struct addrinfo *res = NULL, *ai;
    int r, s = -1, one = 1;

    if ((r = resolve(text, true, &res, host, sizeof host, err, errlen)) < 0)
        return r;
    for (ai = res; ai && !any_host; ai = ai->ai_next) {
        if (!is_loopback(ai->ai_addr)) {
            char name[PT_PROTO_REMOTE_ADDR_MAX];
            name_of(ai->ai_addr, ai->ai_addrlen, name, sizeof name);
            freeaddrinfo(res);
            return pt_proto_errf(err, errlen, -EPERM, "%s is not a loopback address: listening there lets "
                                 "anyone who can reach it and holds the token run any code as this "
                                 "process; say so with --listen-any (POLYTRACE_LISTEN_ANY=1)", name);
        }
    }
    r = -EADDRNOTAVAIL;
    for (ai = res; ai; ai = ai->ai_next) {
        s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (s < 0) {
            r = -errno;
            continue;
        }
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s, 16) == 0)
            break;
        r = -errno;
        close(s);
        s = -1;
    }
    freeaddrinfo(res);
    if (s < 0)
        return pt_proto_errf(err, errlen, r, "cannot listen on %s: %s", text, strerror(-r));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(s, (struct sockaddr *)&ss, &sl) == 0)
        name_of((struct sockaddr *)&ss, sl, bound, boundlen);
    else
        snprintf(bound, boundlen, "%s", text);
    *fd = s;
    return 0;
}

int pt_proto_remote_connect(const char *text, int timeout_ms, int *fd, char *err, size_t errlen)
{
    char host[PT_PROTO_REMOTE_ADDR_MAX];
    struct addrinfo *res = NULL, *ai;
    int64_t deadline = pt_proto_now_ms() + timeout_ms;
    int r, s = -1, one = 1;

    if ((r = resolve(text, false, &res, host, sizeof host, err, errlen)) < 0)
        return r;
    r = -EHOSTUNREACH;
    for (ai = res; ai; ai = ai->ai_next) {
        s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (s < 0) {
            r = -errno;
            continue;
        }
        if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
            r = 0;
        } else if (errno == EINPROGRESS) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            r = pt_proto_wait_fd(s, POLLOUT, deadline);
            if (r == 0 && getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
                r = -soerr;
        } else {
            r = -errno;
        }
        if (r == 0)
            break;
        close(s);
        s = -1;
        if (r == -ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    if (s < 0) {
        if (r == -ETIMEDOUT)
            return pt_proto_errf(err, errlen, r, "cannot connect to %s: no answer within %d s", text,
                                 timeout_ms / 1000);
        return pt_proto_errf(err, errlen, r, "cannot connect to %s: %s", text, strerror(-r));
    }
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *fd = s;
    return 0;
}

void pt_proto_remote_peer_name(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;

    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        name_of((struct sockaddr *)&ss, sl, buf, len);
    else
        snprintf(buf, len, "?");
}

bool pt_proto_remote_is_tcp(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;

    return getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
           (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
}

int pt_proto_remote_send_all(int fd, const void *buf, size_t len, int64_t deadline_ms)
{
    return pt_proto_write_all_until(fd, buf, len, deadline_ms);
}

int pt_proto_remote_recv_all(int fd, void *buf, size_t len, int64_t deadline_ms)
{
    char *p = buf;

    while (len) {
        ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = pt_proto_wait_fd(fd, POLLIN, deadline_ms);
            if (r < 0)
                return r;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ECONNRESET;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int pt_proto_remote_authenticate(int fd, const char *token, int timeout_ms, char *err,
                                 size_t errlen)
{
    unsigned char challenge[PT_PROTO_REMOTE_CHALLENGE_LEN], mac[PT_PROTO_REMOTE_MAC_LEN];
    int64_t deadline = pt_proto_now_ms() + timeout_ms;
    int r = pt_proto_remote_recv_all(fd, challenge, sizeof challenge, deadline);

    if (r == -ETIMEDOUT)
        return pt_proto_errf(err, errlen, r, "the peer sent no challenge within %d s (is it a polytrace "
                             "tracer? with --tls on one side, it takes --tls on both)", timeout_ms / 1000);
    if (r < 0)
        return pt_proto_errf(err, errlen, r, "the connection closed before authentication (%s)",
                             r == -ECONNRESET ? "refused, or TLS on one side only" : strerror(-r));
    if ((r = pt_proto_remote_answer(token, challenge, mac)) == -EPROTO)
        return pt_proto_errf(err, errlen, r, "the peer is not a polytrace tracer listening on TCP "
                             "(with --tls on one side, it takes --tls on both)");
    if (r < 0)
        return pt_proto_errf(err, errlen, r, "cannot compute the answer: %s", strerror(-r));
    r = pt_proto_remote_send_all(fd, mac, sizeof mac, deadline);
    OPENSSL_cleanse(mac, sizeof mac);
    if (r < 0)
        return pt_proto_errf(err, errlen, r, "cannot send the answer: %s", strerror(-r));
    return 0;
}
