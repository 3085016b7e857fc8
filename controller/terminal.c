/*
 * terminal.c — terminal hand-over between polytrace and the program it
 * launched (tcsetpgrp plus each side's termios), as a shell does for jobs.
 */
#include "terminal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

int pt_term_init(struct pt_term *t)
{
    memset(t, 0, sizeof *t);
    t->fd = -1;
    t->own_pgrp = getpgrp();
    if (!isatty(STDIN_FILENO))
        return 0;
    /* Only a terminal we control and whose foreground we are is ours to hand over. */
    if (tcgetpgrp(STDIN_FILENO) != t->own_pgrp)
        return 0;
    t->fd = STDIN_FILENO;
    if (tcgetattr(t->fd, &t->orig_modes) == 0) {
        /* A Ctrl-C flushes the terminal's queues after signalling, which
         * can throw away the prompt polytrace has just redrawn. */
        t->have_own = true;
        t->own_modes = t->orig_modes;
        t->own_modes.c_lflag |= NOFLSH;    /* applied by take and resume */
    }
    signal(SIGTTOU, SIG_IGN);
    return 0;
}

bool pt_term_active(const struct pt_term *t)
{
    return t->fd >= 0;
}

int pt_term_give(struct pt_term *t, pid_t pgrp)
{
    if (t->fd < 0 || t->given)
        return 0;
    if (t->have_prog)
        tcsetattr(t->fd, TCSADRAIN, &t->prog_modes);
    else if (t->have_own)
        tcsetattr(t->fd, TCSADRAIN, &t->orig_modes);
    if (tcsetpgrp(t->fd, pgrp) != 0)
        return -errno;
    t->given = true;
    return 0;
}

int pt_term_take(struct pt_term *t)
{
    if (t->fd < 0 || !t->given)
        return 0;
    t->given = false;
    if (tcgetpgrp(t->fd) != t->own_pgrp) {
        if (tcgetattr(t->fd, &t->prog_modes) == 0)
            t->have_prog = true;
        if (tcsetpgrp(t->fd, t->own_pgrp) != 0)
            return -errno;
    }
    if (t->have_own)
        tcsetattr(t->fd, TCSADRAIN, &t->own_modes);
    return 0;
}

void pt_term_restore(struct pt_term *t)
{
    if (t->fd < 0)
        return;
    t->given = false;
    if (tcgetpgrp(t->fd) != t->own_pgrp)
        tcsetpgrp(t->fd, t->own_pgrp);
    if (t->have_own)
        tcsetattr(t->fd, TCSADRAIN, &t->orig_modes);
}

void pt_term_resume(struct pt_term *t)
{
    if (t->fd >= 0 && t->have_own && tcgetpgrp(t->fd) == t->own_pgrp)
        tcsetattr(t->fd, TCSADRAIN, &t->own_modes);
}
