/*
 * bench/echo_client.c — load generator for the TCP echo benchmark.
 *
 * Usage: echo_client HOST PORT CONNECTIONS SECONDS [MSG_BYTES]
 *
 * Opens CONNECTIONS TCP connections to the echo server, then on each one
 * repeatedly sends MSG_BYTES (default 64) and waits for all of them to come
 * back before sending again (one message in flight per connection), for
 * SECONDS after every connection is up. One thread, epoll, non-blocking
 * sockets: written in C so that the client costs little CPU next to the Ruby
 * server it measures. Prints:
 *   BENCH rate=<round trips per second> trips=<count> wall=<seconds>
 * Exits 1 with a message on stderr if a connection fails or closes early.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    size_t got;     /* bytes of the current echo received so far */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_conn(const char *host, int port)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;

    if (fd < 0)
        return -1;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: echo_client HOST PORT CONNECTIONS SECONDS [MSG_BYTES]\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    int nconn = atoi(argv[3]);
    double seconds = atof(argv[4]);
    size_t msg = argc > 5 ? (size_t)atol(argv[5]) : 64;
    char out[65536], in[65536];
    struct conn *conns = calloc((size_t)nconn, sizeof *conns);
    int ep = epoll_create1(0);
    long trips = 0;

    if (!conns || ep < 0 || msg == 0 || msg > sizeof out) {
        fprintf(stderr, "echo_client: bad arguments or out of memory\n");
        return 1;
    }
    memset(out, 'e', msg);
    for (int i = 0; i < nconn; i++) {
        conns[i].fd = open_conn(host, port);
        if (conns[i].fd < 0) {
            fprintf(stderr, "echo_client: connection %d: %s\n", i, strerror(errno));
            return 1;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &conns[i] };
        epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    }

    double started = now(), deadline = started + seconds;
    for (int i = 0; i < nconn; i++)
        if (send(conns[i].fd, out, msg, MSG_NOSIGNAL) != (ssize_t)msg) {
            fprintf(stderr, "echo_client: send: %s\n", strerror(errno));
            return 1;
        }

    struct epoll_event events[256];
    while (now() < deadline) {
        int n = epoll_wait(ep, events, 256, 100);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "echo_client: epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int e = 0; e < n; e++) {
            struct conn *c = events[e].data.ptr;
            ssize_t r = recv(c->fd, in, sizeof in, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                fprintf(stderr, "echo_client: server closed a connection\n");
                return 1;
            }
            if (r < 0)
                continue;
            c->got += (size_t)r;
            if (c->got < msg)
                continue;
            c->got -= msg;
            trips++;
            if (send(c->fd, out, msg, MSG_NOSIGNAL) != (ssize_t)msg) {
                fprintf(stderr, "echo_client: send: %s\n", strerror(errno));
                return 1;
            }
        }
    }
    double wall = now() - started;
    printf("BENCH rate=%.1f trips=%ld wall=%.6f\n", (double)trips / wall, trips, wall);
    for (int i = 0; i < nconn; i++)
        close(conns[i].fd);
    free(conns);
    close(ep);
    return 0;
}
