/*
 * repl.c — the interactive loop. One poll() over the tracer's socket, the
 * signal self-pipe and (when polytrace owns the terminal) stdin, with GNU
 * readline's callback interface so events can arrive while the user types.
 *
 * Launch mode: while the program runs it owns the terminal; polytrace does
 * not read stdin and only waits for events and SIGCHLD. When it stops,
 * polytrace takes the terminal back and prompts. Attach mode: the program
 * has its own terminal, so polytrace keeps prompting while it runs and
 * Ctrl-C sends PAUSE.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "complete.h"
#include "ctl.h"
#include "history.h"
#include "signals.h"

#define PROMPT "(polytrace) "

static struct pt_ctl *repl_ctl;
static bool handler_on;
static bool stdin_eof;

static void on_line(char *line);

static void handler_install(void)
{
    if (!handler_on) {
        rl_callback_handler_install(PROMPT, on_line);
        handler_on = true;
    }
}

static void handler_remove(void)
{
    if (handler_on) {
        rl_callback_handler_remove();
        handler_on = false;
    }
}

static void on_line(char *line)
{
    struct pt_ctl *ctl = repl_ctl;
    /* Removing the handler here keeps readline from redrawing the prompt
     * before the command's output; the loop reinstalls it when due. */
    handler_remove();
    if (!line) {
        /* Ctrl-D: leave as 'quit' does. */
        fputs("quit\n", ctl->out);
        stdin_eof = true;
        pt_ctl_run_line(ctl, "quit");
        return;
    }
    pt_hist_add(line);
    pt_ctl_run_line(ctl, line);
    free(line);
}

/* Output that arrives while the prompt is shown: clear it, print, redraw. */
static void async_begin(void)
{
    if (handler_on)
        rl_clear_visible_line();
}

static void async_end(void)
{
    if (handler_on) {
        rl_on_new_line();
        rl_redisplay();
    }
}

/* Handles the messages of process inf: those already received, and when
 * its socket polled readable, what can be read now without blocking. */
static void handle_messages(struct pt_ctl *ctl, struct pt_inf *inf, bool readable)
{
    for (;;) {
        struct pt_sess *sess = &inf->sess;
        if (pt_dbg_done(&ctl->dbg) || inf->state == PT_DBG_DONE || sess->fd < 0)
            return;
        if (!readable && !pt_sess_pending(sess))
            return;
        readable = false;
        struct pt_msg m;
        int rc = pt_sess_next(sess, &m, 0);
        if (rc == -ETIMEDOUT || rc == -EAGAIN)
            return;
        if (rc <= 0) {
            async_begin();
            pt_dbg_process_lost(&ctl->dbg, inf, rc);
            if (pt_dbg_done(&ctl->dbg))
                handler_remove();
            else
                async_end();
            return;
        }
        /* Only what prints disturbs the prompt line. */
        bool prints = m.type == PT_EV_STOPPED || m.type == PT_EV_OP || m.type == PT_EV_FORKED ||
                      m.type == PT_EV_OUTPUT || m.type == PT_REP_ERROR;
        if (prints)
            async_begin();
        pt_dbg_handle_event_from(&ctl->dbg, inf, &m);
        pt_msg_free(&m);
        if (prints)
            async_end();
    }
}

/* The same for every process (one may end meanwhile: by number). */
static void handle_all_messages(struct pt_ctl *ctl)
{
    int last = ctl->dbg.next_num;
    for (int num = 1; num < last; num++) {
        struct pt_inf *inf = pt_dbg_process(&ctl->dbg, num);
        if (inf)
            handle_messages(ctl, inf, false);
    }
}

/*
 * Ctrl-Z while the launched program runs reaches the program (it has the
 * terminal) and stops it. Act as the rest of its job: take the terminal,
 * stop polytrace too so the shell sees the job stopped, and when continued
 * give the terminal back and continue the program.
 */
static void job_stopped(struct pt_ctl *ctl, int sig)
{
    if (sig != SIGTSTP || pt_dbg_state(&ctl->dbg) != PT_DBG_RUNNING || !pt_term_active(&ctl->term))
        return;
    pt_term_take(&ctl->term);
    fflush(ctl->out);
    pt_term_restore(&ctl->term);
    pt_sig_stop_self();
    pt_term_resume(&ctl->term);
    const struct pt_inf *one = &ctl->dbg.one;
    if (ctl->dbg.inf->state == PT_DBG_RUNNING && one->child)
        pt_term_give(&ctl->term, one->pid);
    if (!ctl->dbg.remote)   /* a pid on another host names nothing here */
        kill(-one->pid, SIGCONT);
}

static void reap_child(struct pt_ctl *ctl)
{
    pid_t pid = pt_dbg_child_pid(&ctl->dbg);
    if (!pid)
        return;
    int status;
    pid_t w = waitpid(pid, &status, WNOHANG | WUNTRACED);
    if (w != pid)
        return;
    if (WIFSTOPPED(status)) {
        job_stopped(ctl, WSTOPSIG(status));
        return;
    }
    async_begin();
    pt_dbg_reaped(&ctl->dbg, pid, status);
    if (pt_dbg_done(&ctl->dbg))
        handler_remove();
    else
        async_end();
}

/*
 * Ctrl-Z (SIGTSTP) while polytrace has the terminal: give the terminal its
 * normal modes back, stop like any job, and on SIGCONT put readline's modes
 * back and redraw the prompt with what was typed. The program stays as it
 * is meanwhile (stopped, or running in its own process group). While the
 * launched program runs it has the terminal, and Ctrl-Z goes to it instead.
 */
static void suspend(struct pt_ctl *ctl)
{
    bool prompt = handler_on;

    if (prompt) {
        rl_deprep_terminal();
        fputc('\n', ctl->out);
    }
    fflush(ctl->out);
    pt_term_restore(&ctl->term);
    pt_sig_stop_self();
    /* Continued: in the background the terminal is not ours to change. */
    pt_term_resume(&ctl->term);
    if (prompt && (!pt_term_active(&ctl->term) || tcgetpgrp(STDIN_FILENO) == getpgrp())) {
        rl_prep_terminal(0);
        rl_forced_update_display();
    }
}

static void handle_signal(struct pt_ctl *ctl, int sig)
{
    switch (sig) {
    case SIGCHLD:
        reap_child(ctl);
        break;
    case SIGINT:
        if (pt_script_pending(&ctl->script)) {
            size_t n = pt_script_clear(&ctl->script);
            async_begin();
            fprintf(ctl->out, "\nInterrupted: %zu scripted command%s not run.\n", n, n == 1 ? "" : "s");
            async_end();
        }
        if (pt_dbg_state(&ctl->dbg) == PT_DBG_RUNNING) {
            pt_ctl_run_line(ctl, "pause");
        } else if (handler_on) {
            /* Like a shell: drop the line being typed, and what was typed
             * ahead (the terminal has NOFLSH so that its own flush cannot
             * eat the prompt we print next), prompt afresh. */
            if (pt_term_active(&ctl->term))
                tcflush(ctl->term.fd, TCIFLUSH);
            rl_replace_line("", 0);
            handler_remove();
            fputc('\n', ctl->out);
            fflush(ctl->out);
        }
        break;
    case SIGWINCH:
        if (handler_on)
            rl_resize_terminal();
        break;
    case SIGTSTP:
        suspend(ctl);
        break;
    case SIGTERM:
    case SIGHUP:
    case SIGQUIT:
        /* Leave the program running (the tracer lets it run on when the
         * connection closes) and exit with the terminal restored. */
        handler_remove();
        pt_dbg_hangup(&ctl->dbg, 1);
        fprintf(ctl->out, "\npolytrace: terminated by signal %d\n", sig);
        break;
    default:
        break;
    }
}

/* Who owns the terminal follows the selected process's state (launch
 * mode: the program's processes share its process group, process 1's). */
static void sync_terminal(struct pt_ctl *ctl)
{
    const struct pt_inf *inf = ctl->dbg.inf;
    if (inf->state == PT_DBG_STOPPED) {
        pt_term_take(&ctl->term);
        if (!stdin_eof)
            handler_install();
    } else if (inf->state == PT_DBG_RUNNING) {
        if (inf->mode == PT_DBG_LAUNCHED) {
            handler_remove();
            pt_term_give(&ctl->term, ctl->dbg.one.pid);
        } else if (!stdin_eof) {
            handler_install();
        }
    }
}

int pt_repl_run(struct pt_ctl *ctl)
{
    repl_ctl = ctl;
    rl_readline_name = "polytrace";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_outstream = ctl->out;
    pt_hist_init();
    pt_complete_init(ctl);
    pt_term_resume(&ctl->term);
    struct pt_dbg *d = &ctl->dbg;
    d->intr_fd = pt_sig_fd();

    while (!pt_dbg_done(d)) {
        handle_all_messages(ctl);
        if (pt_dbg_done(d))
            break;
        pt_ctl_requeue_signals();
        /* Scripted commands (init file, -x, -ex, source) go before the prompt. */
        if (pt_dbg_stopped(d) && pt_script_pending(&ctl->script)) {
            handler_remove();
            pt_term_take(&ctl->term);
            pt_ctl_run_scripted(ctl);
            continue;
        }
        sync_terminal(ctl);
        fflush(ctl->out);

        bool want_stdin = handler_on && !stdin_eof;
        struct pollfd p[2 + PT_DBG_PROCS_MAX];
        int nums[PT_DBG_PROCS_MAX];
        int n = 0, nsess = 0;
        p[n++] = (struct pollfd){ .fd = pt_sig_fd(), .events = POLLIN };
        int in_i = -1;
        if (want_stdin) {
            in_i = n;
            p[n++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
        }
        int sess_i = n;
        for (int i = 0; i < d->nprocs; i++) {
            const struct pt_inf *inf = d->procs[i];
            if (inf->state == PT_DBG_DONE || inf->sess.fd < 0)
                continue;
            nums[nsess++] = inf->num;
            p[n++] = (struct pollfd){ .fd = inf->sess.fd, .events = POLLIN };
        }
        if (nsess == 0 && !pt_dbg_child_pid(d)) {
            /* Nothing left to wait for. */
            pt_dbg_connection_lost(d, 0);
            break;
        }
        int r = poll(p, (nfds_t)n, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            pt_ctl_error(ctl, "poll: %s", strerror(errno));
            pt_dbg_hangup(d, 1);
            break;
        }
        if (p[0].revents & POLLIN) {
            int sig;
            while ((sig = pt_sig_next()) != 0 && !pt_dbg_done(d))
                handle_signal(ctl, sig);
        }
        for (int i = 0; i < nsess && !pt_dbg_done(d); i++) {
            struct pt_inf *inf = p[sess_i + i].revents ? pt_dbg_process(d, nums[i]) : NULL;
            if (inf)
                handle_messages(ctl, inf, true);
        }
        if (!pt_dbg_done(d) && in_i >= 0 && handler_on && p[in_i].revents) {
            if (p[in_i].revents & (POLLHUP | POLLERR | POLLNVAL) && !(p[in_i].revents & POLLIN)) {
                stdin_eof = true;
                handler_remove();
                pt_ctl_run_line(ctl, "quit");
            } else {
                rl_callback_read_char();
            }
        }
    }
    handler_remove();
    size_t unrun = pt_script_clear(&ctl->script);
    if (unrun)
        fprintf(ctl->out, "%zu scripted command%s not run: the session ended.\n", unrun,
                unrun == 1 ? "" : "s");
    pt_script_free(&ctl->script);
    pt_dbg_close(d);
    pt_term_restore(&ctl->term);
    fflush(ctl->out);
    return d->exit_code;
}
