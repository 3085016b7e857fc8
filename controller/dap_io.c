/*
 * dap_io.c — DAP framing on a byte stream (see dap_io.h): header blocks
 * with Content-Length, JSON bodies parsed and written by jansson, and the
 * UTF-8 care JSON strings need.
 */
#include "dap_io.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pt_proto.h"

/* How long a write may wait for a client that does not read (ms). */
#define WRITE_TIMEOUT_MS 60000

void pt_dapio_init(struct pt_dapio *io)
{
    memset(io, 0, sizeof *io);
}

void pt_dapio_free(struct pt_dapio *io)
{
    free(io->buf);
    memset(io, 0, sizeof *io);
}

int pt_dapio_feed(struct pt_dapio *io, const void *data, size_t n)
{
    if (io->len + n > io->cap) {
        size_t cap = io->cap ? io->cap : 4096;
        while (cap < io->len + n)
            cap *= 2;
        char *b = realloc(io->buf, cap);
        if (!b)
            return -ENOMEM;
        io->buf = b;
        io->cap = cap;
    }
    memcpy(io->buf + io->len, data, n);
    io->len += n;
    return 0;
}

static void consume(struct pt_dapio *io, size_t n)
{
    memmove(io->buf, io->buf + n, io->len - n);
    io->len -= n;
}

/* The end of the header block ("\r\n\r\n"), or NULL. */
static const char *header_end(const struct pt_dapio *io)
{
    for (size_t i = 0; i + 4 <= io->len; i++)
        if (memcmp(io->buf + i, "\r\n\r\n", 4) == 0)
            return io->buf + i;
    return NULL;
}

/* Content-Length from a header block (case-insensitive name); -1 if none. */
static long content_length(const char *h, size_t n)
{
    static const char name[] = "content-length:";
    const size_t nl = sizeof name - 1;
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && h[end] != '\r' && h[end] != '\n')
            end++;
        if (end - i > nl && strncasecmp(h + i, name, nl) == 0) {
            size_t k = i + nl;
            while (k < end && h[k] == ' ')
                k++;
            long v = 0;
            size_t digits = 0;
            while (k < end && isdigit((unsigned char)h[k])) {
                /* Past the limit the value no longer matters, only that it is. */
                v = v > (long)PT_DAPIO_MAX_BODY ? v : v * 10 + (h[k] - '0');
                k++;
                digits++;
            }
            while (k < end && h[k] == ' ')
                k++;
            return digits && k == end ? v : -1;
        }
        i = end;
        while (i < n && (h[i] == '\r' || h[i] == '\n'))
            i++;
    }
    return -1;
}

int pt_dapio_next(struct pt_dapio *io, json_t **msg, char *err, size_t errlen)
{
    *msg = NULL;
    const char *end = header_end(io);
    if (!end) {
        if (io->len > PT_DAPIO_MAX_HEADER) {
            snprintf(err, errlen, "no end of the header block in %u bytes", PT_DAPIO_MAX_HEADER);
            return -EMSGSIZE;
        }
        return 0;
    }
    size_t hlen = (size_t)(end - io->buf);
    long blen = content_length(io->buf, hlen);
    if (blen < 0) {
        consume(io, hlen + 4);
        snprintf(err, errlen, "a header block without a Content-Length");
        return -EPROTO;
    }
    if ((unsigned long)blen > PT_DAPIO_MAX_BODY) {
        snprintf(err, errlen, "a message of %ld bytes (at most %u)", blen, PT_DAPIO_MAX_BODY);
        return -EMSGSIZE;
    }
    if (io->len < hlen + 4 + (size_t)blen)
        return 0;
    json_error_t jerr;
    json_t *j = json_loadb(io->buf + hlen + 4, (size_t)blen, 0, &jerr);
    consume(io, hlen + 4 + (size_t)blen);
    if (!j) {
        snprintf(err, errlen, "the message is not JSON: %s (at byte %d)", jerr.text, jerr.position);
        return -EPROTO;
    }
    *msg = j;
    return 1;
}

int pt_dapio_write(int fd, const json_t *msg)
{
    char *body = json_dumps(msg, JSON_COMPACT);
    if (!body)
        return -ENOMEM;
    size_t n = strlen(body);
    char head[64];
    int hn = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", n);
    int rc = pt_proto_write_all(fd, head, (size_t)hn, WRITE_TIMEOUT_MS);
    if (rc == 0)
        rc = pt_proto_write_all(fd, body, n, WRITE_TIMEOUT_MS);
    free(body);
    return rc;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid; -1 when
 * it may be valid but is cut off by the end. */
static int utf8_seq(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    int n;
    unsigned min;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    for (int i = 1; i < n; i++) {
        if ((size_t)i >= left)
            return -1;
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

size_t pt_dapio_utf8_complete(const char *s, size_t len)
{
    /* Only the last three bytes can start a cut-off sequence. */
    size_t from = len > 3 ? len - 3 : 0;
    for (size_t i = from; i < len; i++) {
        const unsigned char *u = (const unsigned char *)s + i;
        if (*u >= 0xC2 && *u <= 0xF4 && utf8_seq(u, len - i) < 0)
            return i;
    }
    return len;
}

json_t *pt_dapio_str(const char *s, size_t len)
{
    /* Each invalid byte becomes 3 bytes (U+FFFD). */
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        int n = utf8_seq(u + i, len - i);
        if (n > 0 && !(n == 1 && u[i] == 0)) {
            memcpy(out + o, u + i, (size_t)n);
            o += (size_t)n;
            i += (size_t)n;
        } else if (n > 0) {
            out[o++] = ' ';     /* NUL: JSON can hold it, many clients cannot */
            i++;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    json_t *j = json_stringn_nocheck(out, o);
    free(out);
    return j;
}
