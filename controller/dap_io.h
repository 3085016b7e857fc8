/*
 * dap_io.h — the Debug Adapter Protocol's base protocol on a byte stream:
 * each message a "Content-Length: N" header block, a blank line, then N
 * bytes of JSON (jansson). Reading is incremental: feed what the fd gave,
 * take whole messages out. Writing sends one framed message. Also: JSON
 * strings from bytes that need not be UTF-8 (program output, paths).
 * Returns 0 or a negative errno; never prints.
 */
#ifndef PT_DAP_IO_H
#define PT_DAP_IO_H

#include <stddef.h>

#include <jansson.h>

/* The largest message accepted, and the largest header block. */
#define PT_DAPIO_MAX_BODY (64u * 1024u * 1024u)
#define PT_DAPIO_MAX_HEADER 8192u

struct pt_dapio {
    char *buf;
    size_t len, cap;
};

void pt_dapio_init(struct pt_dapio *io);
void pt_dapio_free(struct pt_dapio *io);

/* Appends bytes read from the stream. 0 or -ENOMEM. */
int pt_dapio_feed(struct pt_dapio *io, const void *data, size_t n);

/*
 * The next message. 1: *msg holds it (the caller json_decref()s it); 0: a
 * message is not complete yet; -EPROTO: a whole message whose body is not a
 * JSON value (or a header block without a usable Content-Length): it was
 * dropped, err says why, the next one can be read; -EMSGSIZE: a header or
 * body beyond the limits: the stream cannot be followed any more.
 */
int pt_dapio_next(struct pt_dapio *io, json_t **msg, char *err, size_t errlen);

/* Encodes msg and writes it, framed, whole. 0, -ENOMEM, or -errno (-EPIPE:
 * the reader is gone; -ETIMEDOUT: it stopped reading). */
int pt_dapio_write(int fd, const json_t *msg);

/* A JSON string holding s[0..len) with every byte that is not part of
 * valid UTF-8 replaced by U+FFFD. NULL only when out of memory. */
json_t *pt_dapio_str(const char *s, size_t len);

/* The longest prefix of s[0..len) that does not end inside a UTF-8
 * sequence (the rest waits for more bytes). */
size_t pt_dapio_utf8_complete(const char *s, size_t len);

#endif
