/*
 * spin_site.c — where a fiber was spun: the spinning fiber's frames at that
 * moment (what rb_profile_frames gives: instruction sequences and method
 * entries, innermost first, with their lines), for Fiber#location and the
 * debugger's async backtraces ("-- spun by fiber 1 at app.rb:12 --" and the
 * spinner's frames below a fiber's own).
 *
 * Recording must stay cheap on the spin path: one walk of the spinner's
 * stack into a buffer on the C stack, no strings. A record is a small
 * hidden Ruby object shared by every fiber spun from the same frames: a
 * fiber that spins from where it spun last (a loop spinning workers, an
 * accept loop spinning a fiber per connection) reuses its previous record,
 * so the common case allocates nothing and the garbage collector marks
 * each distinct site's frames once rather than once per fiber.
 */
#include <string.h>
#include "rt_internal.h"
#include <ruby/debug.h>

struct spin_site {
    int n;
    VALUE *frames;      /* n entries after the struct */
    int *lines;         /* n entries after frames; 0 for a C method */
};

static void site_mark(void *p)
{
    struct spin_site *s = p;
    for (int i = 0; i < s->n; i++)
        rb_gc_mark_movable(s->frames[i]);
}

static void site_compact(void *p)
{
    struct spin_site *s = p;
    for (int i = 0; i < s->n; i++)
        s->frames[i] = rb_gc_location(s->frames[i]);
}

static size_t site_size(const void *p)
{
    const struct spin_site *s = p;
    return sizeof *s + (size_t)s->n * (sizeof(VALUE) + sizeof(int));
}

static const rb_data_type_t site_type = {
    "Polyphony::SpinSite",
    { site_mark, RUBY_TYPED_DEFAULT_FREE, site_size, site_compact, { 0 } },
    NULL, NULL, RUBY_TYPED_FREE_IMMEDIATELY
};

static struct spin_site *site_of(VALUE site)
{
    return site == Qnil ? NULL : RTYPEDDATA_DATA(site);
}

static int same(const struct spin_site *s, const VALUE *frames, const int *lines, int n)
{
    return s && s->n == n && memcmp(s->frames, frames, (size_t)n * sizeof *frames) == 0 &&
           memcmp(s->lines, lines, (size_t)n * sizeof *lines) == 0;
}

VALUE rt_spin_site_record(VALUE previous)
{
    VALUE frames[RT_SPIN_FRAMES + 1], site;
    int lines[RT_SPIN_FRAMES + 1];
    int n = rb_profile_frames(0, RT_SPIN_FRAMES + 1, frames, lines);
    int skip = n > 0 && lines[0] == 0 ? 1 : 0;   /* Kernel#spin itself */
    struct spin_site *s;

    /* The bottom of a fiber's stack is no call site: the frame that runs a
     * spun fiber's block (named after Kernel#spin) and the main script's
     * outermost frame have no line. */
    while (n > skip && lines[n - 1] == 0)
        n--;
    n = n > skip ? n - skip : 0;
    if (n > RT_SPIN_FRAMES)
        n = RT_SPIN_FRAMES;
    if (same(site_of(previous), frames + skip, lines + skip, n))
        return previous;
    site = rb_data_typed_object_zalloc(0, sizeof *s + (size_t)n * (sizeof(VALUE) + sizeof(int)),
                                       &site_type);
    s = RTYPEDDATA_DATA(site);
    s->n = n;
    s->frames = (VALUE *)(s + 1);
    s->lines = (int *)(s->frames + n);
    memcpy(s->frames, frames + skip, (size_t)n * sizeof *frames);
    memcpy(s->lines, lines + skip, (size_t)n * sizeof *lines);
    return site;
}

int rt_spin_site_frames(VALUE site, const VALUE **frames, const int **lines)
{
    const struct spin_site *s = site_of(site);
    if (!s)
        return 0;
    *frames = s->frames;
    *lines = s->lines;
    return s->n;
}

int rt_spin_site_place(VALUE site, VALUE *file, int *line, VALUE *label)
{
    const struct spin_site *s = site_of(site);
    for (int i = 0; s && i < s->n; i++) {
        if (s->lines[i] > 0) {
            *file = rb_profile_frame_path(s->frames[i]);
            *line = s->lines[i];
            *label = rb_profile_frame_label(s->frames[i]);
            return 0;
        }
    }
    return -1;
}
