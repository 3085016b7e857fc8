/*
 * watcher.c — the socket-watching native thread.
 *
 * While the program runs, requests (PAUSE, DETACH, KILL) or the controller's
 * disappearance can arrive at any time, and the program may be busy or idle
 * in the event loop. A native thread, holding no GVL and never touching
 * Ruby, polls the connection while it is "armed"; on traffic it disarms
 * itself and kicks the main thread with SIGURG (urg.c). The tracer's SIGURG
 * trap (attach.c) then reads the request there, where stopping is possible.
 * While the program is stopped the stop loop owns the socket and the
 * watcher sleeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include "tracer.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_t thread;
static int started, armed, quit, watch_fd = -1;
static int wake[2] = { -1, -1 };
static pid_t owner;

static void *watch(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        struct pollfd p[2];

        while (!armed && !quit)
            pthread_cond_wait(&cv, &mu);
        if (quit)
            break;
        p[0] = (struct pollfd){ .fd = watch_fd, .events = POLLIN };
        p[1] = (struct pollfd){ .fd = wake[0], .events = POLLIN };
        pthread_mutex_unlock(&mu);
        while (poll(p, 2, -1) < 0 && errno == EINTR)
            ;
        pthread_mutex_lock(&mu);
        if (p[1].revents) {
            char buf[64];
            while (read(wake[0], buf, sizeof buf) > 0)
                ;
        }
        if (armed && !quit && p[0].revents) {
            armed = 0;
            pt_urg_kick_main();
        }
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void poke(void)
{
    ssize_t r = write(wake[1], "", 1);
    (void)r;
}

int pt_watch_start(int fd)
{
    sigset_t all, old;
    int r;

    pt_watch_stop();
    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    watch_fd = fd;
    armed = 0;
    quit = 0;
    /* Signals go to Ruby's threads, never to this one. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    r = pthread_create(&thread, NULL, watch, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        close(wake[0]);
        close(wake[1]);
        wake[0] = wake[1] = -1;
        return -r;
    }
    started = 1;
    owner = getpid();
    return 0;
}

void pt_watch_arm(void)
{
    if (!started)
        return;
    pthread_mutex_lock(&mu);
    armed = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

void pt_watch_disarm(void)
{
    if (!started)
        return;
    pthread_mutex_lock(&mu);
    armed = 0;
    pthread_mutex_unlock(&mu);
    poke();
}

/* In a forked child: the thread is not there, only its pipe and state. */
void pt_watch_forget(void)
{
    if (!started)
        return;
    started = 0;
    armed = 0;
    pthread_mutex_init(&mu, NULL);
    pthread_cond_init(&cv, NULL);
    close(wake[0]);
    close(wake[1]);
    wake[0] = wake[1] = -1;
    watch_fd = -1;
}

void pt_watch_stop(void)
{
    if (!started)
        return;
    if (owner != getpid()) {
        pt_watch_forget();
        return;
    }
    started = 0;
    pthread_mutex_lock(&mu);
    quit = 1;
    armed = 0;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    poke();
    pthread_join(thread, NULL);
    close(wake[0]);
    close(wake[1]);
    wake[0] = wake[1] = -1;
    watch_fd = -1;
}
