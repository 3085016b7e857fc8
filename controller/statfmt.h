/*
 * statfmt.h — per-fiber counters as text, as `polytrace top` and `fibers -s`
 * show them (controller/statfmt.c).
 */
#ifndef PT_STATFMT_H
#define PT_STATFMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pt_proto.h"

/* "0", "850ns", "12us", "3.4ms", "250ms", "1.25s", "130s", "17m", "12h": at most 6 columns. */
const char *pt_sfmt_duration(uint64_t ns, char *buf, size_t len);

/* The column heads, and one fiber's row in the same columns (no newline). */
void pt_sfmt_header(char *buf, size_t len);
void pt_sfmt_row(const struct pt_proto_fiber *f, char *buf, size_t len);

/* `fibers -s`: a count line, the heads, a row per fiber ("thread N:" above
 * each thread's fibers when there are several), "... and N more". */
void pt_sfmt_fibers(FILE *out, const struct pt_proto_fiber *f, size_t n, uint64_t total);

#endif
