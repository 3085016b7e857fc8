/*
 * dap_listen.c — `polytrace dap --listen ADDR`: an adapter editors connect
 * to (VS Code's debugServer, nvim-dap's server adapters), serving one
 * editor after another until told to stop. ADDR is a Unix socket path
 * (made mode 0600) or HOST:PORT on a loopback address. Whoever connects can
 * run programs as us, so every connection is checked: a Unix peer by
 * SO_PEERCRED, a TCP peer by the owner of its socket in /proc/net/tcp{,6};
 * anyone but our own uid is turned away.
 */
#include "dap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pt_rendezvous.h"
#include "signals.h"

static bool is_path(const char *addr)
{
    return strchr(addr, '/') != NULL;
}

/* Splits HOST:PORT ([V6]:PORT; a bare PORT is on 127.0.0.1). */
static int split(const char *addr, char *host, size_t hlen, char *port, size_t plen)
{
    const char *colon = strrchr(addr, ':');
    const char *h = addr, *p = colon ? colon + 1 : addr;
    size_t n = colon ? (size_t)(colon - addr) : 0;
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (!*p || strlen(p) >= plen || n >= hlen)
        return -EINVAL;
    for (const char *c = p; *c; c++)
        if (*c < '0' || *c > '9')
            return -EINVAL;
    snprintf(host, hlen, "%.*s", (int)n, n ? h : "127.0.0.1");
    snprintf(port, plen, "%s", p);
    return 0;
}

static bool loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a6) ||
               (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127);
    }
    return false;
}

static int listen_tcp(const char *addr, char *shown, size_t slen)
{
    char host[256], port[16];
    if (split(addr, host, sizeof host, port, sizeof port)) {
        fprintf(stderr, "polytrace dap: --listen takes HOST:PORT or a socket path, not '%s'\n", addr);
        return -EINVAL;
    }
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        fprintf(stderr, "polytrace dap: %s: %s\n", host, gai_strerror(rc));
        return -EINVAL;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (!loopback(ai->ai_addr)) {
            fprintf(stderr, "polytrace dap: refusing to listen on %s: only loopback addresses "
                    "(127.0.0.0/8, ::1), since whoever connects can run programs as you\n", host);
            freeaddrinfo(res);
            return -EPERM;
        }
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4) == 0)
            break;
        rc = errno;
        close(fd);
        fd = -1;
        errno = rc;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "polytrace dap: cannot listen on %s: %s\n", addr, strerror(errno));
        return -errno;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    int p = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof ip);
            p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof ip);
            p = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    snprintf(shown, slen, strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip, p);
    return fd;
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sa;
    struct stat st;
    if (pt_proto_sockaddr(path, &sa)) {
        fprintf(stderr, "polytrace dap: socket path too long: %s\n", path);
        return -ENAMETOOLONG;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            fprintf(stderr, "polytrace dap: %s exists and is not a socket\n", path);
            return -EEXIST;
        }
        /* A socket left behind, unless someone still answers on it. */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
            close(probe);
            fprintf(stderr, "polytrace dap: something already listens on %s\n", path);
            return -EADDRINUSE;
        }
        if (probe >= 0)
            close(probe);
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    mode_t old = umask(0177);  /* 0600: only we may connect */
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc != 0 || listen(fd, 4) != 0) {
        rc = -errno;
        fprintf(stderr, "polytrace dap: cannot listen on %s: %s\n", path, strerror(errno));
        close(fd);
        return rc;
    }
    return fd;
}

/* The uid owning the TCP peer of fd, from /proc/net/tcp or tcp6. */
static int tcp_peer_uid(int fd, uid_t *uid)
{
    struct sockaddr_storage peer, self;
    socklen_t pl = sizeof peer, sl = sizeof self;
    if (getpeername(fd, (struct sockaddr *)&peer, &pl) || getsockname(fd, (struct sockaddr *)&self, &sl))
        return -errno;
    char want_local[64], want_remote[64];
    const char *table;
    if (peer.ss_family == AF_INET) {
        const struct sockaddr_in *p = (struct sockaddr_in *)&peer, *s = (struct sockaddr_in *)&self;
        /* The kernel prints the raw 32-bit address and the port in host order. */
        snprintf(want_local, sizeof want_local, "%08X:%04X", (unsigned)p->sin_addr.s_addr, ntohs(p->sin_port));
        snprintf(want_remote, sizeof want_remote, "%08X:%04X", (unsigned)s->sin_addr.s_addr, ntohs(s->sin_port));
        table = "/proc/net/tcp";
    } else if (peer.ss_family == AF_INET6) {
        const struct sockaddr_in6 *p = (struct sockaddr_in6 *)&peer, *s = (struct sockaddr_in6 *)&self;
        uint32_t pw[4], sw[4];
        memcpy(pw, &p->sin6_addr, 16);
        memcpy(sw, &s->sin6_addr, 16);
        snprintf(want_local, sizeof want_local, "%08X%08X%08X%08X:%04X", pw[0], pw[1], pw[2], pw[3],
                 ntohs(p->sin6_port));
        snprintf(want_remote, sizeof want_remote, "%08X%08X%08X%08X:%04X", sw[0], sw[1], sw[2], sw[3],
                 ntohs(s->sin6_port));
        table = "/proc/net/tcp6";
    } else {
        return -EAFNOSUPPORT;
    }
    FILE *f = fopen(table, "r");
    if (!f)
        return -errno;
    char line[512];
    int rc = -ENOENT;
    while (fgets(line, sizeof line, f)) {
        char local[64], remote[64];
        unsigned long u;
        /* sl local rem st tx:rx tr:tm retrnsmt uid */
        if (sscanf(line, " %*s %63s %63s %*s %*s %*s %*s %lu", local, remote, &u) == 3 &&
            strcmp(local, want_local) == 0 && strcmp(remote, want_remote) == 0) {
            *uid = (uid_t)u;
            rc = 0;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* True if the peer of a new connection is our own uid. */
static bool peer_is_us(int fd, bool unix_socket)
{
    if (unix_socket)
        return pt_proto_peer_check(fd, 0) == 0;
    uid_t uid = (uid_t)-1;
    return tcp_peer_uid(fd, &uid) == 0 && uid == getuid();
}

int pt_dap_listen(const char *addr)
{
    char shown[300];
    bool unix_socket = is_path(addr);
    int lfd = unix_socket ? listen_unix(addr) : listen_tcp(addr, shown, sizeof shown);
    if (lfd < 0)
        return lfd == -EINVAL ? 2 : 1;
    if (unix_socket)
        snprintf(shown, sizeof shown, "%s", addr);
    fprintf(stderr, "polytrace dap: listening on %s\n", shown);
    int code = 0;
    for (;;) {
        struct pollfd p[2] = {
            { .fd = lfd, .events = POLLIN },
            { .fd = pt_sig_fd(), .events = POLLIN },
        };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        int stop = 0;
        if (p[1].revents & POLLIN) {
            int sig;
            while ((sig = pt_sig_next()) != 0)
                stop |= sig == SIGTERM || sig == SIGHUP || sig == SIGINT;
        }
        if (stop)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        if (!peer_is_us(c, unix_socket)) {
            fprintf(stderr, "polytrace dap: turned away a connection from another user\n");
            close(c);
            continue;
        }
        code = pt_dap_serve(c, c);
        close(c);
        /* A signal that ended the session ends the server too (requeued). */
        int pending = pt_sig_next();
        if (pending == SIGTERM || pending == SIGHUP || pending == SIGINT)
            break;
    }
    close(lfd);
    if (unix_socket)
        unlink(addr);
    return code;
}
