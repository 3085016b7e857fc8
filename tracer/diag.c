/*
 * diag.c — the tracer's half of the concurrency diagnostics: the loop
 * watchdog's reports and stops, the deadlock stop, and the names fibers go
 * by in the runtime's messages.
 *
 * The runtime (watchdog.c, deadlock.c) finds the facts and calls the hooks
 * set here (rt_api.h's struct rt_diag_hooks). The watchdog is armed with
 * `hog DURATION` (stop in the hogging fiber at its current line, reason
 * "hog"), `hog report DURATION` (one line per occurrence when the fiber
 * finally yields: the fiber, how long it ran, its innermost frame of the
 * program's own, where the watchdog found it), `hog off`; or, for a program
 * run without a controller, POLYTRACE_HOG=DURATION, which reports. Reports
 * go to the controller as OUTPUT when one is connected, else to stderr. A
 * deadlock stops the program (reason "deadlock", the wait-for graph as the
 * stop's note) when a controller is connected; otherwise the runtime raises
 * Polyphony::Deadlock in the main fiber.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tracer.h"

#define PT_DIAG_PENDING 16      /* hogging fibers reported at once (threads) */
#define PT_DIAG_FRAMES 64

enum hog_mode { HOG_OFF, HOG_STOP, HOG_REPORT };

/* The setting in force (armed in the runtime once it is loaded). */
static enum hog_mode mode;
static uint64_t threshold_ns;
static enum hog_mode env_mode;      /* POLYTRACE_HOG's, back after a detach */
static uint64_t env_threshold_ns;

/* A hog being reported: where the watchdog found it, until it yields. */
struct pending {
    VALUE fiber;                    /* Qnil: free slot */
    char name[256];                 /* named now: it may have ended by then */
    char where[512];
};
static struct pending pending[PT_DIAG_PENDING];

void pt_diag_mark(void)
{
    for (int i = 0; i < PT_DIAG_PENDING; i++)
        rb_gc_mark(pending[i].fiber);
}

/* ---- durations ---------------------------------------------------------- */

int pt_diag_parse_duration(const char *s, uint64_t *ns)
{
    char *end;
    double v;

    while (*s == ' ')
        s++;
    if (!*s || !((*s >= '0' && *s <= '9') || *s == '.'))
        return -EINVAL;
    v = strtod(s, &end);
    if (end == s || v <= 0)
        return -EINVAL;
    if (strcmp(end, "ms") == 0 || *end == '\0')
        v *= 1e6;
    else if (strcmp(end, "s") == 0)
        v *= 1e9;
    else if (strcmp(end, "us") == 0)
        v *= 1e3;
    else
        return -EINVAL;
    if (v < 1e6 || v > 3600e9)
        return -ERANGE;
    *ns = (uint64_t)v;
    return 0;
}

/* "50 ms", "1.5 s": a threshold as the user gave it, roughly. */
static void fmt_ms(uint64_t ns, char *buf, size_t len)
{
    if (ns >= 10000000000u)
        snprintf(buf, len, "%.1f s", (double)ns / 1e9);
    else
        snprintf(buf, len, "%" PRIu64 " ms", ns / 1000000u);
}

/* ---- naming fibers -------------------------------------------------------- */

/* "fiber 4 (worker)" / "fiber 4". */
void pt_diag_fiber_name(VALUE fiber, char *buf, size_t len)
{
    const struct rt_api *rt = pt_tr.rt;
    VALUE tag = rt ? rt->fiber_tag(fiber) : Qnil, err;
    unsigned long long id = (unsigned long long)pt_fib_id(fiber);

    if (!NIL_P(tag))
        tag = pt_tr_protect_call(rb_obj_as_string, tag, &err);
    if (RB_TYPE_P(tag, T_STRING))
        snprintf(buf, len, "fiber %llu (%.*s)", id, (int)RSTRING_LEN(tag), RSTRING_PTR(tag));
    else
        snprintf(buf, len, "fiber %llu", id);
}

static int hook_fiber_name(VALUE fiber, char *buf, size_t len, void *data)
{
    (void)data;
    pt_diag_fiber_name(fiber, buf, len);
    return 0;
}

/* ---- reporting ------------------------------------------------------------- */

static void report(const char *text)
{
    if (pt_tr_connected() && !pt_tr.serving && !pt_tr.observing) {
        pt_tr_output("%s", text);
        return;
    }
    fprintf(stderr, "polytrace: %s\n", text);
    fflush(stderr);
}

/* The innermost frame of the program's own (not the runtime's, the
 * tracer's or Ruby's internals): "app.rb:12 in Worker#crunch". */
static void innermost_frame(char *buf, size_t len)
{
    VALUE frames[PT_DIAG_FRAMES];
    int lines[PT_DIAG_FRAMES], n = rb_profile_frames(0, PT_DIAG_FRAMES, frames, lines);

    snprintf(buf, len, "an unknown place");
    for (int i = 0; i < n; i++) {
        VALUE path = rb_profile_frame_path(frames[i]), label;

        if (NIL_P(path) || lines[i] <= 0 || pt_tr_is_hidden_path(path))
            continue;
        label = rb_profile_frame_full_label(frames[i]);
        if (RB_TYPE_P(label, T_STRING))
            snprintf(buf, len, "%s:%d in %.*s", StringValueCStr(path), lines[i],
                     (int)RSTRING_LEN(label), RSTRING_PTR(label));
        else
            snprintf(buf, len, "%s:%d", StringValueCStr(path), lines[i]);
        return;
    }
}

/* ---- the runtime's hooks -------------------------------------------------- */

static int on_hog(VALUE fiber, uint64_t ran_ns, void *data)
{
    char name[256], note[512], ran[32];
    struct pending *slot = NULL;

    (void)data;
    if (mode == HOG_OFF || pt_tr.serving)
        return 0;
    pt_diag_fiber_name(fiber, name, sizeof name);
    if (mode == HOG_STOP) {
        if (pt_tr.fd < 0)
            return 0;
        fmt_ms(ran_ns, ran, sizeof ran);
        snprintf(note, sizeof note, "hog: %s has run %s without yielding", name, ran);
        pt_stop_ex("hog", 0, NULL, NULL, note);
        return 0;
    }
    for (int i = 0; i < PT_DIAG_PENDING && !slot; i++)
        if (NIL_P(pending[i].fiber))
            slot = &pending[i];
    if (!slot)
        return 0;
    slot->fiber = fiber;
    snprintf(slot->name, sizeof slot->name, "%s", name);
    innermost_frame(slot->where, sizeof slot->where);
    return 1;
}

static void on_hog_end(VALUE fiber, uint64_t ran_ns, void *data)
{
    char text[1024], ran[32], limit[32];

    (void)data;
    for (int i = 0; i < PT_DIAG_PENDING; i++) {
        if (pending[i].fiber != fiber)
            continue;
        fmt_ms(ran_ns, ran, sizeof ran);
        fmt_ms(threshold_ns, limit, sizeof limit);
        snprintf(text, sizeof text, "hog: %s ran %s without yielding (over %s), at %s",
                 pending[i].name, ran, limit, pending[i].where);
        pending[i].fiber = Qnil;
        report(text);
        return;
    }
}

static int on_deadlock(const char *graph, void *data)
{
    (void)data;
    if (!pt_tr_connected() || pt_tr.serving || pt_tr.observing)
        return 0;
    pt_stop_ex("deadlock", 0, NULL, NULL, graph);
    return 1;
}

static const struct rt_diag_hooks hooks = {
    .on_hog = on_hog,
    .on_hog_end = on_hog_end,
    .on_deadlock = on_deadlock,
    .fiber_name = hook_fiber_name,
};

/* ---- arming ------------------------------------------------------------------ */

static int runtime_has_watchdog(const struct rt_api *rt)
{
    return rt && RT_API_HAS(rt, watchdog_arm);
}

/*
 * The setting becomes m/ns. Before the program has loaded the runtime it is
 * only kept (`hog 50ms` at the entry stop): pt_diag_runtime_loaded arms it.
 */
static int arm(enum hog_mode m, uint64_t ns)
{
    const struct rt_api *rt = pt_tr_rt();
    int r;

    if (rt && !runtime_has_watchdog(rt))
        return m == HOG_OFF ? 0 : -ENOSYS;
    if (rt && (r = rt->watchdog_arm(m == HOG_OFF ? 0 : ns)) < 0)
        return r;
    mode = m;
    threshold_ns = m == HOG_OFF ? 0 : ns;
    for (int i = 0; i < PT_DIAG_PENDING; i++)
        pending[i].fiber = Qnil;
    return 0;
}

int pt_diag_set_hog(const char *value, char *err, size_t errlen)
{
    enum hog_mode m = HOG_STOP;
    uint64_t ns = 0;
    int r;

    if (strcmp(value, "off") == 0) {
        m = HOG_OFF;
    } else {
        if (strncmp(value, "report ", 7) == 0) {
            m = HOG_REPORT;
            value += 7;
        }
        r = pt_diag_parse_duration(value, &ns);
        if (r == -ERANGE) {
            snprintf(err, errlen, "hog: %s is out of range (1 ms to 1 hour)", value);
            return r;
        }
        if (r < 0) {
            snprintf(err, errlen, "hog takes a duration (50ms, 0.2s), 'report DURATION' or 'off', not '%s'",
                     value);
            return r;
        }
    }
    r = arm(m, ns);
    if (r == -ENOTSUP)
        snprintf(err, errlen, "hog: the runtime's counters are off (POLYPHONY_COUNTERS=0)");
    else if (r == -ENOSYS)
        snprintf(err, errlen, "hog: the program's fiber runtime has no watchdog");
    else if (r < 0)
        snprintf(err, errlen, "hog: cannot start the watchdog: %s", strerror(-r));
    return r;
}

/* The controller is gone: POLYTRACE_HOG's setting, or off. */
void pt_diag_disconnected(void)
{
    if (mode != env_mode || threshold_ns != env_threshold_ns)
        arm(env_mode, env_threshold_ns);
}

/* A forked child has the setting but not the runtime's watchdog thread
 * (the runtime forgets its threshold at fork): arm it again. */
void pt_diag_after_fork(void)
{
    const struct rt_api *rt = pt_tr.rt;

    if (mode != HOG_OFF && runtime_has_watchdog(rt) && rt->watchdog_arm(threshold_ns) < 0)
        mode = HOG_OFF;
}

/* The runtime is there: our hooks, and the setting asked for so far. */
void pt_diag_runtime_loaded(void)
{
    const struct rt_api *rt = pt_tr.rt;

    if (!runtime_has_watchdog(rt))
        return;
    rt->diag_set(&hooks);
    if (mode != HOG_OFF && rt->watchdog_arm(threshold_ns) < 0) {
        fprintf(stderr, "polytrace: the loop watchdog cannot run (are the runtime's counters "
                "off? POLYPHONY_COUNTERS=0)\n");
        mode = HOG_OFF;
    }
}

/* At boot, before the runtime may be loaded: POLYTRACE_HOG. */
void pt_diag_init(void)
{
    const char *env = getenv("POLYTRACE_HOG");
    uint64_t ns;

    for (int i = 0; i < PT_DIAG_PENDING; i++)
        pending[i].fiber = Qnil;
    if (!env || !*env)
        return;
    if (pt_diag_parse_duration(env, &ns) < 0) {
        fprintf(stderr, "polytrace: POLYTRACE_HOG=%s is not a duration from 1ms to 1h "
                "(50ms, 0.2s); hog detection stays off\n", env);
        return;
    }
    env_mode = mode = HOG_REPORT;
    env_threshold_ns = threshold_ns = ns;
}
