/*
 * fiberview.h — which fibers `fibers` shows and how it groups them, over a
 * FIBERS reply: a PATTERN filter (a POSIX extended regular expression
 * matched against a fiber's id, tag, state, location, method, what it waits
 * on and its scheduled value) and -g groups (by state, location or tag)
 * with counts. Pure functions: nothing here talks or prints.
 */
#ifndef PT_FIBERVIEW_H
#define PT_FIBERVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "pt_proto.h"

enum pt_fv_group {
    PT_FV_GROUP_NONE,
    PT_FV_GROUP_STATE,      /* "waiting on receive", "runnable", ... */
    PT_FV_GROUP_LOCATION,   /* "app.rb:12" */
    PT_FV_GROUP_TAG         /* the tag, "-" for none */
};

/* "state", "location", "tag" -> the group; -1 for another word. */
int pt_fv_group_parse(const char *word);
const char *pt_fv_group_name(enum pt_fv_group g);

/*
 * The fibers matching pattern (NULL: all), as indices into f (*idx, n of
 * them; free it). 0, -ENOMEM, or -EINVAL with the regular expression's
 * complaint in err.
 */
int pt_fv_filter(const struct pt_proto_fiber *f, size_t n, const char *pattern,
                 size_t **idx, size_t *nidx, char *err, size_t errlen);

struct pt_fv_group_row {
    char key[256];
    uint64_t count;
    size_t first[5];        /* indices of the first fibers in it */
    size_t nfirst;
};

/*
 * The fibers idx[0..n) grouped by g, the largest groups first (ties in the
 * order met). *rows (free it), *nrows. 0 or -ENOMEM.
 */
int pt_fv_group(const struct pt_proto_fiber *f, const size_t *idx, size_t n, enum pt_fv_group g,
                struct pt_fv_group_row **rows, size_t *nrows);

/* A fiber's key under g, into buf. */
void pt_fv_key(const struct pt_proto_fiber *f, enum pt_fv_group g, char *buf, size_t len);

#endif
