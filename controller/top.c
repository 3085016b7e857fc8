/*
 * top.c — `polytrace top PID`: a live view of a running program's fibers,
 * refreshed every second, with the program never stopped.
 *
 * It attaches as a watcher (the HELLO says "observe": the tracer does not
 * stop the program and never will while we are connected), asks STATS at
 * every refresh for as many fibers as the screen shows, in the chosen
 * order, and draws them with curses (topview.c makes the lines). Keys: c r
 * l w i sort by cpu, runs, longest run, waiting time or id; / types a
 * filter (Enter applies, Esc or an empty one clears); + and - change the
 * interval; space refreshes now; q (or Ctrl-C) detaches and leaves the
 * program running as it was. With -b it prints a screen per refresh
 * instead (for scripts and benchmarks), -n times or until the program ends.
 */
#include "top.h"

#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "dbg.h"
#include "strcopy.h"
#include "topview.h"

#define TOP_MAX_WIDTH 400
#define TOP_MAX_HEIGHT 500

static volatile sig_atomic_t quit_signal;

static void on_quit_signal(int sig)
{
    quit_signal = sig;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct top {
    struct pt_dbg dbg;
    struct pt_top_view view;
    char ended[256];            /* how the session ended, when it did */
    char *lines[TOP_MAX_HEIGHT];
    bool editing;
    char edit[PT_TOP_FILTER_MAX];
};

static void on_ended(void *ctx, const char *how, bool error)
{
    struct top *t = ctx;
    (void)error;
    pt_str_copy(t->ended, sizeof t->ended, how);
}

static const struct pt_dbg_ui top_ui = { .ended = on_ended };

/* One refresh: the tracer's STATS, as lines. Returns the count, or <0. */
static int fetch(struct top *t, int width, int height)
{
    struct pt_msg rep;
    int n;

    pt_dbg_drain(&t->dbg);
    if (pt_dbg_done(&t->dbg))
        return -ENOTCONN;
    if (pt_dbg_stats(&t->dbg, pt_top_rows(height), t->view.sort, t->view.filter, &rep)) {
        if (pt_dbg_done(&t->dbg))
            return -ENOTCONN;
        snprintf(t->view.status, sizeof t->view.status, "error: %s", pt_dbg_error(&t->dbg));
        return -EPROTO;
    }
    n = pt_top_render(&t->view, &rep.u.stats, t->lines, width, height);
    pt_msg_free(&rep);
    return n;
}

static void draw(struct top *t, int n)
{
    erase();
    for (int i = 0; i < n; i++) {
        if (i == 2)
            attron(A_REVERSE);
        mvaddstr(i, 0, t->lines[i]);
        if (i == 2)
            attroff(A_REVERSE);
    }
    if (t->editing)
        mvprintw(LINES - 1, 0, "filter: %s", t->edit);
    refresh();
}

/* A key in the view. Returns 1 to refresh now, -1 to leave, 0 else. */
static int key(struct top *t, int ch)
{
    t->view.status[0] = '\0';
    if (t->editing) {
        size_t len = strlen(t->edit);
        if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            t->editing = false;
            pt_str_copy(t->view.filter, sizeof t->view.filter, t->edit);
            return 1;
        }
        if (ch == 27) {
            t->editing = false;
            return 1;
        }
        if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && len)
            t->edit[len - 1] = '\0';
        else if (ch >= 32 && ch < 127 && len + 1 < sizeof t->edit)
            t->edit[len] = (char)ch, t->edit[len + 1] = '\0';
        return 0;
    }
    switch (ch) {
    case 'q': case 'Q': case 3: /* Ctrl-C, in raw mode */
        return -1;
    case 'c': case 'r': case 'l': case 'w': case 'i':
        for (int i = 0; pt_top_sorts[i]; i++)
            if (pt_top_sorts[i][0] == ch)
                pt_str_copy(t->view.sort, sizeof t->view.sort, pt_top_sorts[i]);
        snprintf(t->view.status, sizeof t->view.status, "sorted by %s", t->view.sort);
        return 1;
    case '/': case 'f':
        t->editing = true;      /* a new filter; Enter on nothing clears it */
        t->edit[0] = '\0';
        return 0;
    case '+':
        t->view.delay = t->view.delay < 60 ? t->view.delay * 2 : t->view.delay;
        snprintf(t->view.status, sizeof t->view.status, "every %.1fs", t->view.delay);
        return 1;
    case '-':
        t->view.delay = t->view.delay > 0.2 ? t->view.delay / 2 : t->view.delay;
        snprintf(t->view.status, sizeof t->view.status, "every %.1fs", t->view.delay);
        return 1;
    case ' ': case KEY_RESIZE:
        return 1;
    default:
        return 0;
    }
}

static int run_screen(struct top *t)
{
    double next = 0;
    int n = 0;

    initscr();
    raw();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    for (;;) {
        double now = now_s();
        if (now >= next) {
            int w = COLS < TOP_MAX_WIDTH ? COLS : TOP_MAX_WIDTH;
            int h = LINES < TOP_MAX_HEIGHT ? LINES : TOP_MAX_HEIGHT;
            n = fetch(t, w, h);
            if (n == -ENOTCONN)
                break;
            if (n < 0) {
                n = 1;
                pt_str_copy(t->lines[0], TOP_MAX_WIDTH + 1, t->view.status);
            }
            next = now + t->view.delay;
            draw(t, n);
        }
        int wait = (int)((next - now_s()) * 1000);
        timeout(wait < 10 ? 10 : wait > 200 ? 200 : wait);
        int ch = getch();
        if (quit_signal)
            break;
        if (ch == ERR)
            continue;
        int k = key(t, ch);
        if (k < 0)
            break;
        if (k > 0)
            next = 0;
        else
            draw(t, n);
    }
    endwin();
    return 0;
}

static int run_batch(struct top *t, long count)
{
    struct winsize ws;
    int w = 200, h = 60;

    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
        w = ws.ws_col < TOP_MAX_WIDTH ? ws.ws_col : TOP_MAX_WIDTH;
        h = ws.ws_row < TOP_MAX_HEIGHT ? ws.ws_row : TOP_MAX_HEIGHT;
    }
    for (long i = 0; count <= 0 || i < count; i++) {
        double started = now_s();
        int n = fetch(t, w, h);
        if (n == -ENOTCONN)
            break;
        if (n < 0) {
            fprintf(stderr, "polytrace: %s\n", t->view.status);
            return 1;
        }
        for (int k = 0; k < n; k++)
            printf("%s\n", t->lines[k]);
        printf("\n");
        fflush(stdout);
        if (count > 0 && i + 1 == count)
            break;
        /* Sleep the rest of the interval; a signal ends it. */
        double left = started + t->view.delay - now_s();
        while (left > 0 && !quit_signal) {
            struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
            if (nanosleep(&ts, NULL) == 0)
                break;
            left = started + t->view.delay - now_s();
        }
        if (quit_signal)
            break;
    }
    return 0;
}

int pt_top_run(const struct pt_top_opt *o)
{
    static struct top t;
    int code = 0;

    memset(&t, 0, sizeof t);
    for (int i = 0; i < TOP_MAX_HEIGHT; i++) {
        t.lines[i] = calloc(1, TOP_MAX_WIDTH + 1);
        if (!t.lines[i]) {
            fprintf(stderr, "polytrace: out of memory\n");
            return 1;
        }
    }
    t.view.pid = o->pid;
    t.view.delay = o->delay > 0 ? o->delay : 1.0;
    pt_str_copy(t.view.sort, sizeof t.view.sort, o->sort ? o->sort : "cpu");
    pt_str_copy(t.view.filter, sizeof t.view.filter, o->filter ? o->filter : "");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_quit_signal);
    signal(SIGHUP, on_quit_signal);
    if (o->batch)
        signal(SIGINT, on_quit_signal);
    pt_dbg_init(&t.dbg, PT_DBG_ATTACHED, &top_ui, &t);
    if (pt_dbg_observe(&t.dbg, o->pid)) {
        fprintf(stderr, "polytrace: %s\n", pt_dbg_error(&t.dbg));
        code = 1;
        goto out;
    }
    {
        const struct pt_proto_hello *h = &t.dbg.inf->sess.peer_hello.u.hello;
        const char *prog = h->program && *h->program ? h->program : "?";
        const char *slash = strrchr(prog, '/');
        pt_str_copy(t.view.program, sizeof t.view.program, slash ? slash + 1 : prog);
    }
    code = o->batch ? run_batch(&t, o->count) : run_screen(&t);
    if (!pt_dbg_done(&t.dbg))
        pt_dbg_detach(&t.dbg);
    pt_dbg_close(&t.dbg);
    if (t.ended[0])
        printf("%s\n", t.ended);
    else if (code == 0 && !o->batch)
        printf("polytrace: left process %ld running\n", (long)o->pid);
out:
    for (int i = 0; i < TOP_MAX_HEIGHT; i++)
        free(t.lines[i]);
    return code;
}
