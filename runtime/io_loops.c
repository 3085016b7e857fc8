/*
 * io_loops.c — IO#read_loop and IO#gets_loop: one C loop each that reads
 * through the thread's backend (Backend#read, which also drains what Ruby
 * buffered) and yields every chunk or line until EOF. `break` leaves the
 * loop, and StopIteration ends it with its result (rt_loop_run). gets_loop
 * splits lines itself and, however the loop ends, gives the bytes it read
 * past the last line back to the IO's buffer, so a later gets or read sees
 * them.
 */
#include <string.h>
#include <ruby/encoding.h>
#include "surface.h"

#define IO_LOOP_CHUNK 8192

static ID id_read;

/* The next chunk of at most len bytes, or nil at EOF. */
static VALUE read_chunk(VALUE backend, VALUE io, long len)
{
    VALUE args[3] = { io, Qnil, LONG2NUM(len) };

    return rb_funcallv(backend, id_read, 3, args);
}

struct read_loop {
    VALUE io, backend;
    long maxlen;
};

static VALUE read_loop_body(VALUE arg)
{
    struct read_loop *r = (struct read_loop *)arg;
    VALUE chunk;

    while ((chunk = read_chunk(r->backend, r->io, r->maxlen)) != Qnil)
        rb_yield(chunk);
    return Qnil;
}

/* read_loop(maxlen = 8192) { |data| }: nil at EOF. */
static VALUE io_read_loop(int argc, VALUE *argv, VALUE io)
{
    struct read_loop r;
    VALUE maxlen;

    rb_scan_args(argc, argv, "01", &maxlen);
    rb_need_block();
    r.io = io;
    r.backend = rb_funcall(rb_thread_current(), rb_intern("backend"), 0);
    r.maxlen = NIL_P(maxlen) ? IO_LOOP_CHUNK : NUM2LONG(maxlen);
    if (r.maxlen <= 0)
        rb_raise(rb_eArgError, "maxlen must be positive");
    return rt_loop_run(read_loop_body, (VALUE)&r);
}

struct gets_loop {
    VALUE io, backend;
    VALUE buf;     /* bytes read, from pos on not yet yielded */
    VALUE sep;     /* String, or nil: yield whole chunks */
    long pos;
    int chomp;
};

static VALUE line_of(struct gets_loop *g, long start, long len)
{
    VALUE line = rb_str_substr(g->buf, start, len);

    rb_enc_associate(line, rb_default_external_encoding());
    return line;
}

static VALUE gets_loop_body(VALUE arg)
{
    struct gets_loop *g = (struct gets_loop *)arg;

    for (;;) {
        const char *p = RSTRING_PTR(g->buf);
        long len = RSTRING_LEN(g->buf);
        long slen = NIL_P(g->sep) ? 0 : RSTRING_LEN(g->sep);
        const char *hit = NULL;

        if (slen > 0 && g->pos < len)
            hit = memmem(p + g->pos, (size_t)(len - g->pos), RSTRING_PTR(g->sep), (size_t)slen);
        if (hit) {
            long start = g->pos, end = (long)(hit - p) + slen;

            g->pos = end;
            rb_yield(line_of(g, start, (g->chomp ? end - slen : end) - start));
            continue;
        }
        if (g->pos > 0) {
            g->buf = rb_str_substr(g->buf, g->pos, len - g->pos);
            g->pos = 0;
        }
        VALUE chunk = read_chunk(g->backend, g->io, IO_LOOP_CHUNK);
        if (NIL_P(chunk)) {
            if (RSTRING_LEN(g->buf) > 0) {
                VALUE last = line_of(g, 0, RSTRING_LEN(g->buf));

                g->pos = RSTRING_LEN(g->buf);
                rb_yield(last);
            }
            return Qnil;
        }
        rb_str_cat(g->buf, RSTRING_PTR(chunk), RSTRING_LEN(chunk));
        if (slen == 0) {
            VALUE all = g->buf;

            g->buf = rb_str_buf_new(0);
            rb_yield(all);
        }
    }
}

static VALUE gets_loop_run(VALUE arg)
{
    return rt_loop_run(gets_loop_body, arg);
}

/* Whatever was read but not yielded goes back to the IO's buffer. */
static VALUE gets_loop_giveback(VALUE arg)
{
    struct gets_loop *g = (struct gets_loop *)arg;
    long left = RSTRING_LEN(g->buf) - g->pos;

    if (left > 0 && !RTEST(rb_funcall(g->io, rb_intern("closed?"), 0)))
        rb_io_ungetbyte(g->io, rb_str_substr(g->buf, g->pos, left));
    return Qnil;
}

/* gets_loop(sep = $/, chomp: false) { |line| }: nil at EOF. */
static VALUE io_gets_loop(int argc, VALUE *argv, VALUE io)
{
    struct gets_loop g;
    VALUE sep, opts;

    rb_scan_args(argc, argv, "01:", &sep, &opts);
    rb_need_block();
    if (argc == 0 || (argc == 1 && !NIL_P(opts)))
        sep = rb_rs;
    if (!NIL_P(sep)) {
        sep = rb_str_new_frozen(StringValue(sep));
        if (RSTRING_LEN(sep) == 0)
            sep = rb_str_new_cstr("\n\n");
    }
    g.io = io;
    g.backend = rb_funcall(rb_thread_current(), rb_intern("backend"), 0);
    g.buf = rb_str_buf_new(IO_LOOP_CHUNK);
    g.sep = sep;
    g.pos = 0;
    g.chomp = !NIL_P(opts) && RTEST(rb_hash_aref(opts, ID2SYM(rb_intern("chomp"))));
    VALUE result = rb_ensure(gets_loop_run, (VALUE)&g, gets_loop_giveback, (VALUE)&g);
    RB_GC_GUARD(g.buf);
    RB_GC_GUARD(g.sep);
    return result;
}

void rt_io_loops_init(VALUE mPolyphony)
{
    (void)mPolyphony;
    id_read = rb_intern("read");
    rb_define_method(rb_cIO, "read_loop", io_read_loop, -1);
    rb_define_method(rb_cIO, "gets_loop", io_gets_loop, -1);
}
