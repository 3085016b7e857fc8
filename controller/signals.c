/*
 * signals.c — the self-pipe: async signal handlers only write the signal
 * number to a pipe; everything else happens in the event loop.
 */
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int pipe_fds[2] = { -1, -1 };

static const int caught[] = { SIGCHLD, SIGINT, SIGWINCH, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t r = write(pipe_fds[1], &b, 1);
    (void)r;
    errno = saved;
}

int pt_sig_init(void)
{
    if (pipe_fds[0] < 0) {
        if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0)
            return -errno;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++)
        if (sigaction(caught[i], &sa, NULL) != 0)
            return -errno;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int pt_sig_fd(void)
{
    return pipe_fds[0];
}

int pt_sig_next(void)
{
    unsigned char b;
    if (pipe_fds[0] < 0 || read(pipe_fds[0], &b, 1) != 1)
        return 0;
    return b;
}

void pt_sig_requeue(int sig)
{
    if (pipe_fds[1] >= 0)
        on_signal(sig);
}

void pt_sig_stop_self(void)
{
    struct sigaction dfl, ours;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGTSTP, &dfl, &ours);
    /* Delivered before kill returns: we stop here until SIGCONT. (In an
     * orphaned process group the kernel discards it and we go on.) */
    kill(0, SIGTSTP);
    sigaction(SIGTSTP, &ours, NULL);
}

void pt_sig_reset_child(void)
{
    for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++)
        signal(caught[i], SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTTOU, SIG_DFL);
    signal(SIGTTIN, SIG_DFL);
}
