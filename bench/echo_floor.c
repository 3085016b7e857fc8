/*
 * bench/echo_floor.c — the floor of the TCP echo benchmark: a plain C echo
 * server, one thread, epoll, non-blocking sockets. What the hardware and the
 * kernel allow one core to do; the runtime's echo rows are compared with it.
 *
 * Usage: echo_floor
 *
 * Listens on 127.0.0.1 on a free port, prints "READY <port>" on stdout and
 * serves until killed: each read of up to 16 KiB is written back at once;
 * what a full socket buffer does not take waits for EPOLLOUT, and the
 * connection is not read meanwhile (as the Ruby servers, which write before
 * they read again).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_BYTES 16384
#define MAX_EVENTS 256

struct conn {
    int fd;
    size_t off, len;   /* bytes of buf still to write back */
    char buf[BUF_BYTES];
};

static int listen_socket(void)
{
    struct sockaddr_in addr;
    socklen_t alen = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1024) < 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &alen) < 0) {
        close(fd);
        return -1;
    }
    printf("READY %d\n", ntohs(addr.sin_port));
    fflush(stdout);
    return fd;
}

static void drop(int ep, struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

static void accept_all(int ep, int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct epoll_event ev = { .events = EPOLLIN };
        struct conn *c;
        int one = 1;

        if (fd < 0)
            return; /* EAGAIN, or a connection gone before it was taken */
        c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->off = c->len = 0;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ev.data.ptr = c;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            close(fd);
            free(c);
        }
    }
}

/* Writes what is pending; 1 when all went, 0 when the socket is full, -1 on error. */
static int flush(struct conn *c)
{
    while (c->off < c->len) {
        ssize_t n = write(c->fd, c->buf + c->off, c->len - c->off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        c->off += (size_t)n;
    }
    c->off = c->len = 0;
    return 1;
}

static void serve(int ep, struct conn *c, unsigned events)
{
    struct epoll_event ev = { .data.ptr = c };
    int r;

    if (c->len) { /* waiting to write */
        r = flush(c);
        if (r < 0)
            drop(ep, c);
        else if (r > 0) {
            ev.events = EPOLLIN;
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
        return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    for (;;) {
        ssize_t n = read(c->fd, c->buf, sizeof c->buf);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            drop(ep, c);
            return;
        }
        c->len = (size_t)n;
        r = flush(c);
        if (r < 0) {
            drop(ep, c);
            return;
        }
        if (r == 0) {
            ev.events = EPOLLOUT;
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            return;
        }
        if ((size_t)n < sizeof c->buf)
            return; /* level-triggered: more, if any, is reported again */
    }
}

int main(void)
{
    struct epoll_event events[MAX_EVENTS], lev = { .events = EPOLLIN };
    int lfd = listen_socket();
    int ep = epoll_create1(EPOLL_CLOEXEC);

    if (lfd < 0 || ep < 0) {
        perror("echo_floor");
        return 1;
    }
    lev.data.ptr = NULL;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
        perror("echo_floor: epoll_ctl");
        return 1;
    }
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror("echo_floor: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            if (!events[i].data.ptr)
                accept_all(ep, lfd);
            else
                serve(ep, events[i].data.ptr, events[i].events);
        }
    }
}
