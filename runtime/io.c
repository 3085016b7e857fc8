/*
 * io.c — IO#read, #readpartial, #write, #gets, #wait_readable and
 * #wait_writable on the backend, so that they suspend only the calling fiber
 * (the main one too) instead of blocking the thread. Also the Backend
 * methods of the same kind (read, write, wait_io, accept, connect ...).
 *
 * Bytes Ruby already holds in the IO's read buffer (e.g. pushed back by
 * #gets, which reads ahead) are consumed before the fd is read. Pipes and
 * sockets are made non-blocking; terminals and other fds keep their flags
 * (the terminal is shared with the debugger) and are waited on for
 * readiness before a read instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <ruby/io.h>
#include "rt_internal.h"

#define RT_READ_CHUNK 65536
#define RT_GETS_CHUNK 8192

static ID id_io_mode, id_for_fd, id_written;

/* What writing obj sends: an Integer may be a raw buffer's handle
 * (raw_buffer.rb), which stands for the buffer's bytes; anything else is
 * written as Ruby writes it. */
static VALUE written(VALUE obj)
{
    if (!RB_INTEGER_TYPE_P(obj))
        return obj;
    VALUE raw = rb_path2class("Polyphony::RawBuffer");
    return rb_funcall(raw, id_written, 1, obj);
}


/* How reads on this IO's fd go; decided once per IO and fd. */
static enum rt_io_mode io_mode(VALUE io, int fd)
{
    VALUE cached = rb_attr_get(io, id_io_mode);
    if (cached != Qnil && (FIX2INT(cached) >> 2) == fd)
        return (enum rt_io_mode)(FIX2INT(cached) & 3);

    struct stat st;
    enum rt_io_mode mode = RT_IO_MODE_PLAIN;
    if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
        int flags = fcntl(fd, F_GETFL);
        if (flags >= 0 && !(flags & O_NONBLOCK))
            fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        mode = RT_IO_MODE_NONBLOCK;
    } else if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode)) {
        int flags = fcntl(fd, F_GETFL);
        mode = (flags >= 0 && (flags & O_NONBLOCK)) ? RT_IO_MODE_NONBLOCK : RT_IO_MODE_WAIT_FIRST;
    }
    if (!OBJ_FROZEN(io))
        rb_ivar_set(io, id_io_mode, INT2FIX((fd << 2) | (int)mode));
    return mode;
}

static rb_io_t *readable_fptr(VALUE io)
{
    rb_io_t *fptr;
    io = rb_io_get_io(io);
    GetOpenFile(io, fptr);
    rb_io_check_byte_readable(fptr);
    return fptr;
}

static long take_buffered(rb_io_t *fptr, char *dst, long n)
{
    long k = fptr->rbuf.len < n ? fptr->rbuf.len : n;
    if (k <= 0)
        return 0;
    memcpy(dst, fptr->rbuf.ptr + fptr->rbuf.off, (size_t)k);
    fptr->rbuf.off += (int)k;
    fptr->rbuf.len -= (int)k;
    return k;
}

/*
 * One read of at most n bytes into dst: Ruby's buffer first, else the fd.
 * Returns bytes read, 0 at EOF; raises on error.
 */
static long read_some(struct rt_thread *t, VALUE io, char *dst, long n)
{
    rb_io_t *fptr = readable_fptr(io);
    long k = take_buffered(fptr, dst, n);
    if (k > 0)
        return k;
    int fd = fptr->fd;
    if (io_mode(io, fd) == RT_IO_MODE_WAIT_FIRST)
        rt_ops(t)->wait_io(t->be, fd, RT_IO_READ);
    ssize_t r = rt_ops(t)->read(t->be, fd, dst, (size_t)n);
    if (r < 0)
        rb_syserr_fail_str((int)-r, rb_inspect(io));
    return (long)r;
}

/* A private string to read into: heap-allocated, never seen by others. */
static VALUE read_buffer(long capa)
{
    return rb_str_buf_new(capa);
}

static VALUE into_user_buffer(VALUE buf, VALUE data)
{
    if (buf == Qnil)
        return data;
    StringValue(buf);
    rb_str_replace(buf, data);
    return buf;
}

/* Reads len bytes (all until EOF when len < 0). */
static VALUE read_len(struct rt_thread *t, VALUE io, long len)
{
    long chunk = len < 0 ? RT_READ_CHUNK : (len < RT_READ_CHUNK ? len : RT_READ_CHUNK);
    VALUE tmp = read_buffer(chunk);
    VALUE result = rb_str_buf_new(len < 0 ? 0 : len);

    while (len < 0 || RSTRING_LEN(result) < len) {
        long want = len < 0 ? chunk : len - RSTRING_LEN(result);
        if (want > chunk)
            want = chunk;
        long n = read_some(t, io, RSTRING_PTR(tmp), want);
        if (n == 0)
            break;
        rb_str_cat(result, RSTRING_PTR(tmp), n);
    }
    RB_GC_GUARD(tmp);
    return result;
}

/* What Ruby's read-all and gets tag their strings with: the IO's external
 * encoding (ASCII-8BIT after binmode), else the default external one. */
static rb_encoding *read_encoding(VALUE io)
{
    rb_io_t *fptr = RFILE(rb_io_get_io(io))->fptr;
    return fptr && fptr->encs.enc ? fptr->encs.enc : rb_default_external_encoding();
}

static VALUE io_read(int argc, VALUE *argv, VALUE io)
{
    VALUE vlen, buf;
    struct rt_thread *t = rt_thread_current();
    rb_scan_args(argc, argv, "02", &vlen, &buf);

    if (vlen == Qnil) {
        VALUE data = read_len(t, io, -1);
        rb_enc_associate(data, read_encoding(io));
        return into_user_buffer(buf, data);
    }
    long len = NUM2LONG(vlen);
    if (len < 0)
        rb_raise(rb_eArgError, "negative length %ld given", len);
    if (len == 0)
        return into_user_buffer(buf, rb_str_new(0, 0));
    VALUE data = read_len(t, io, len);
    if (RSTRING_LEN(data) == 0) {
        if (buf != Qnil)
            rb_str_set_len(StringValue(buf), 0);
        return Qnil;
    }
    return into_user_buffer(buf, data);
}

/*
 * Spare buffers for readpartial, per thread: a read of up to
 * RT_SPARE_BUF_SIZE bytes goes into one, and the result is a string of the
 * size read. A fresh string of the size asked for each time (a server's
 * readpartial(16_384) answered with 64 bytes) cost a 16 KB malloc per
 * read, pages the kernel faulted in as it copied, and GC pressure from the
 * malloc'd bytes. A buffer is taken off the list for the whole read (an
 * io_uring read fills it while the fiber waits); one not given back (the
 * read raised) is left to the GC. At most RT_SPARE_BUFS are kept.
 */
#define RT_SPARE_BUF_SIZE 16384
#define RT_SPARE_BUFS 256

static VALUE spare_buffer_take(struct rt_thread *t)
{
    if (t->read_buffers != Qnil && RARRAY_LEN(t->read_buffers) > 0)
        return rb_ary_pop(t->read_buffers);
    VALUE buf = rb_str_buf_new(RT_SPARE_BUF_SIZE);
    rb_obj_hide(buf);
    return buf;
}

static void spare_buffer_give(struct rt_thread *t, VALUE buf)
{
    if (t->read_buffers == Qnil) {
        t->read_buffers = rb_ary_new();
        rb_obj_hide(t->read_buffers);
    }
    if (RARRAY_LEN(t->read_buffers) < RT_SPARE_BUFS)
        rb_ary_push(t->read_buffers, buf);
}

static VALUE io_readpartial(int argc, VALUE *argv, VALUE io)
{
    VALUE vlen, buf;
    struct rt_thread *t = rt_thread_current();
    rb_scan_args(argc, argv, "11", &vlen, &buf);
    long len = NUM2LONG(vlen);
    if (len < 0)
        rb_raise(rb_eArgError, "negative length %ld given", len);
    if (len == 0)
        return into_user_buffer(buf, rb_str_new(0, 0));
    if (len <= RT_SPARE_BUF_SIZE) {
        VALUE spare = spare_buffer_take(t);
        long n = read_some(t, io, RSTRING_PTR(spare), len);
        VALUE data = n > 0 ? rb_str_new(RSTRING_PTR(spare), n) : Qnil;
        spare_buffer_give(t, spare);
        RB_GC_GUARD(spare);
        if (n == 0)
            rb_eof_error();
        return into_user_buffer(buf, data);
    }
    VALUE tmp = read_buffer(len);
    long n = read_some(t, io, RSTRING_PTR(tmp), len);
    if (n == 0)
        rb_eof_error();
    rb_str_set_len(tmp, n);
    return into_user_buffer(buf, tmp);
}

static long find(VALUE hay, long from, VALUE needle)
{
    long hlen = RSTRING_LEN(hay), nlen = RSTRING_LEN(needle);
    const char *h = RSTRING_PTR(hay), *n = RSTRING_PTR(needle);
    if (from < 0)
        from = 0;
    for (long i = from; i + nlen <= hlen; i++)
        if (memcmp(h + i, n, (size_t)nlen) == 0)
            return i;
    return -1;
}

/*
 * gets(sep = $/, limit = nil, chomp: false): reads ahead in chunks and gives
 * back to Ruby's read buffer whatever follows the line.
 */
static VALUE io_gets(int argc, VALUE *argv, VALUE io)
{
    VALUE sep, limit, opts, chomp = Qfalse;
    struct rt_thread *t = rt_thread_current();
    rb_scan_args(argc, argv, "02:", &sep, &limit, &opts);
    if (argc == 0 || (argc == 1 && opts != Qnil))
        sep = rb_rs;
    if (argc >= 1 && FIXNUM_P(sep) && limit == Qnil) {
        limit = sep;
        sep = rb_rs;
    }
    if (opts != Qnil)
        chomp = rb_hash_aref(opts, ID2SYM(rb_intern("chomp")));
    if (sep != Qnil) {
        StringValue(sep);
        if (RSTRING_LEN(sep) == 0)
            sep = rb_str_new_cstr("\n\n");
    }
    long max = limit == Qnil ? -1 : NUM2LONG(limit);
    if (max == 0)
        return rb_str_new(0, 0);

    VALUE line = rb_str_buf_new(0);
    VALUE tmp = read_buffer(RT_GETS_CHUNK);
    long scanned = 0, end = -1;
    for (;;) {
        if (sep != Qnil) {
            long at = find(line, scanned - RSTRING_LEN(sep) + 1, sep);
            if (at >= 0) {
                end = at + RSTRING_LEN(sep);
                break;
            }
        }
        scanned = RSTRING_LEN(line);
        if (max >= 0 && scanned >= max) {
            end = max;
            break;
        }
        long n = read_some(t, io, RSTRING_PTR(tmp), RT_GETS_CHUNK);
        if (n == 0)
            break;
        rb_str_cat(line, RSTRING_PTR(tmp), n);
    }
    RB_GC_GUARD(tmp);
    if (end < 0 && max >= 0 && RSTRING_LEN(line) > max)
        end = max;
    if (end >= 0 && end < RSTRING_LEN(line)) {
        rb_io_ungetbyte(io, rb_str_new(RSTRING_PTR(line) + end, RSTRING_LEN(line) - end));
        rb_str_set_len(line, end);
    }
    if (RSTRING_LEN(line) == 0) {
        rb_gv_set("$_", Qnil);
        return Qnil;
    }
    rb_enc_associate(line, read_encoding(io));
    if (RTEST(chomp) && sep != Qnil && end >= RSTRING_LEN(sep) &&
        find(line, RSTRING_LEN(line) - RSTRING_LEN(sep), sep) == RSTRING_LEN(line) - RSTRING_LEN(sep))
        rb_str_set_len(line, RSTRING_LEN(line) - RSTRING_LEN(sep));
    rb_gv_set("$_", line);
    return line;
}

static long write_str(struct rt_thread *t, VALUE io, VALUE str)
{
    rb_io_t *fptr;
    VALUE wio = rb_io_get_write_io(rb_io_get_io(io));
    GetOpenFile(wio, fptr);
    rb_io_check_writable(fptr);
    if (fptr->wbuf.len > 0)
        rb_io_flush(wio);
    /* A frozen copy: another fiber may change the string while we wait. */
    str = rb_str_new_frozen(rb_obj_as_string(written(str)));
    long len = RSTRING_LEN(str);
    if (len == 0)
        return 0;
    io_mode(wio, fptr->fd);
    ssize_t r = rt_ops(t)->write(t->be, fptr->fd, RSTRING_PTR(str), (size_t)len);
    RB_GC_GUARD(str);
    if (r < 0)
        rb_syserr_fail_str((int)-r, rb_inspect(io));
    return (long)r;
}

/*
 * IO#write(*objects). Several objects are joined and written as one op:
 * a write may suspend the fiber (on io_uring every write does), and
 * `puts` passes the line and its newline separately, so writing them one
 * by one would let another fiber's output land between them.
 */
static VALUE io_write(int argc, VALUE *argv, VALUE io)
{
    struct rt_thread *t = rt_thread_current();
    if (argc == 1)
        return LONG2NUM(write_str(t, io, argv[0]));
    /* Joined as bytes: Ruby's own write accepts strings of incompatible
     * encodings side by side (e.g. binary and UTF-8). */
    VALUE joined = rb_str_buf_new(0);
    for (int i = 0; i < argc; i++) {
        VALUE s = rb_obj_as_string(written(argv[i]));
        rb_str_buf_cat(joined, RSTRING_PTR(s), RSTRING_LEN(s));
    }
    return LONG2NUM(write_str(t, io, joined));
}

static int fd_of(VALUE io)
{
    rb_io_t *fptr;
    io = rb_io_get_io(io);
    GetOpenFile(io, fptr);
    return fptr->fd;
}

int rt_io_fd(VALUE io)
{
    return fd_of(io);
}

enum rt_io_mode rt_io_read_mode(VALUE io, int fd)
{
    return io_mode(io, fd);
}

/* Bytes Ruby holds for the IO already: a wait for readability is over. */
static int read_pending(VALUE io)
{
    rb_io_t *fptr;
    io = rb_io_get_io(io);
    GetOpenFile(io, fptr);
    return rb_io_read_pending(fptr);
}

struct wait_args {
    struct rt_thread *t;
    int fd, events, ready;
};

static VALUE do_wait(VALUE arg)
{
    struct wait_args *a = (struct wait_args *)arg;
    a->ready = rt_ops(a->t)->wait_io(a->t->be, a->fd, a->events);
    return Qtrue;
}

int rt_io_wait_fd(struct rt_thread *t, int fd, int events, VALUE timeout)
{
    struct wait_args a = { t, fd, events, 0 };
    int timed_out = 0;

    if (RB_UNLIKELY(t->nested))
        return rt_blocking_wait_fd(fd, events, timeout == Qnil ? -1.0 : NUM2DBL(timeout));
    if (timeout == Qnil) {
        do_wait((VALUE)&a);
        return a.ready;
    }
    rt_with_timeout(NUM2DBL(timeout), do_wait, (VALUE)&a, &timed_out);
    return timed_out ? 0 : a.ready;
}

/* wait_readable/wait_writable: the IO, or nil when `timeout` expires first. */
static VALUE wait_with_timeout(VALUE io, VALUE timeout, int events)
{
    if ((events & RT_IO_READ) && read_pending(io))
        return io;
    return rt_io_wait_fd(rt_thread_current(), fd_of(io), events, timeout) ? io : Qnil;
}

static VALUE io_wait_readable(int argc, VALUE *argv, VALUE io)
{
    VALUE timeout;
    rb_scan_args(argc, argv, "01", &timeout);
    return wait_with_timeout(io, timeout, RT_IO_READ);
}

static VALUE io_wait_writable(int argc, VALUE *argv, VALUE io)
{
    VALUE timeout;
    rb_scan_args(argc, argv, "01", &timeout);
    return wait_with_timeout(io, timeout, RT_IO_WRITE);
}

/* io/wait's :read, :w, :read_write ... as RUBY_IO_* events, 0 if not one. */
static int wait_mode(VALUE sym)
{
    const char *m = rb_id2name(SYM2ID(sym));

    if (!strcmp(m, "r") || !strcmp(m, "read") || !strcmp(m, "readable"))
        return RUBY_IO_READABLE;
    if (!strcmp(m, "w") || !strcmp(m, "write") || !strcmp(m, "writable"))
        return RUBY_IO_WRITABLE;
    if (!strcmp(m, "rw") || !strcmp(m, "read_write") || !strcmp(m, "readable_writable"))
        return RUBY_IO_READABLE | RUBY_IO_WRITABLE;
    rb_raise(rb_eArgError, "unsupported mode: %"PRIsVALUE, sym);
    return 0;
}

int rt_io_events_from_ruby(int ruby_events)
{
    return ((ruby_events & (RUBY_IO_READABLE | RUBY_IO_PRIORITY)) ? RT_IO_READ : 0) |
           ((ruby_events & RUBY_IO_WRITABLE) ? RT_IO_WRITE : 0);
}

int rt_io_events_to_ruby(int ready, int asked)
{
    int out = ((ready & RT_IO_READ) ? (asked & (RUBY_IO_READABLE | RUBY_IO_PRIORITY)) : 0) |
              ((ready & RT_IO_WRITE) ? (asked & RUBY_IO_WRITABLE) : 0);
    return out ? out : asked;
}

/*
 * IO#wait as io/wait has it: wait(events, timeout) returns the ready
 * events (an Integer) or nil on timeout; wait(timeout = nil, mode = :read)
 * (symbols for the mode, in any order) returns the IO or nil.
 */
static VALUE io_wait(int argc, VALUE *argv, VALUE io)
{
    VALUE timeout = Qnil;
    int events = 0, return_io = 0, ready;

    rb_check_arity(argc, 0, 2);
    if (argc != 2 || RB_SYMBOL_P(argv[0]) || RB_SYMBOL_P(argv[1])) {
        return_io = 1;
        for (int i = 0; i < argc; i++) {
            if (RB_SYMBOL_P(argv[i]))
                events |= wait_mode(argv[i]);
            else
                timeout = argv[i];
        }
        if (!events)
            events = RUBY_IO_READABLE;
    } else {
        events = NUM2INT(argv[0]);
        timeout = argv[1];
    }
    if ((events & RUBY_IO_READABLE) && read_pending(io))
        return return_io ? io : INT2NUM(RUBY_IO_READABLE);
    ready = rt_io_wait_fd(rt_thread_current(), fd_of(io), rt_io_events_from_ruby(events), timeout);
    if (!ready)
        return Qnil;
    return return_io ? io : INT2NUM(rt_io_events_to_ruby(ready, events));
}

/* --- Backend methods ------------------------------------------------------- */

static struct rt_thread *be_t(VALUE self)
{
    struct rt_thread *t = rt_thread_from_backend(self);
    if (t->thread != rb_thread_current())
        rb_raise(rb_eThreadError, "a backend is used by its own thread only");
    return t;
}

/*
 * The result of Backend#read/#recv: data itself when no buffer was given,
 * else buf with data placed at pos (pos < 0 or past the end: appended), as
 * Polyphony's buffer-position argument has it.
 */
static VALUE into_buffer(VALUE buf, VALUE vpos, VALUE data)
{
    if (buf == Qnil)
        return data;
    StringValue(buf);
    long pos = vpos == Qnil ? -1 : NUM2LONG(vpos);
    if (pos < 0 || pos > RSTRING_LEN(buf))
        pos = RSTRING_LEN(buf);
    rb_str_set_len(buf, pos);
    rb_str_cat(buf, RSTRING_PTR(data), RSTRING_LEN(data));
    return buf;
}

/*
 * Backend#read(io, buf, len, to_eof = false, pos = -1): one read of at most
 * len bytes (to_eof: reads until len bytes or EOF) put in buf at pos (-1:
 * appended); buf, or nil at EOF.
 */
static VALUE be_read(int argc, VALUE *argv, VALUE self)
{
    VALUE io, buf, vlen, to_eof, vpos;
    struct rt_thread *t = be_t(self);
    rb_scan_args(argc, argv, "32", &io, &buf, &vlen, &to_eof, &vpos);
    long len = NUM2LONG(vlen);
    VALUE data;
    if (RTEST(to_eof)) {
        data = read_len(t, io, len); /* until len bytes or EOF */
    } else {
        data = read_buffer(len);
        long n = read_some(t, io, RSTRING_PTR(data), len);
        rb_str_set_len(data, n);
    }
    if (RSTRING_LEN(data) == 0)
        return Qnil;
    return into_buffer(buf, vpos, data);
}

static VALUE be_write(int argc, VALUE *argv, VALUE self)
{
    if (argc < 1)
        rb_raise(rb_eArgError, "write(io, *strings)");
    be_t(self);
    return io_write(argc - 1, argv + 1, argv[0]);
}

static VALUE be_wait_io(VALUE self, VALUE io, VALUE write)
{
    struct rt_thread *t = be_t(self);
    int ready = rt_ops(t)->wait_io(t->be, fd_of(io), RTEST(write) ? RT_IO_WRITE : RT_IO_READ);
    return INT2NUM(ready);
}

/* Backend#recv(io, buf, len, pos = -1): buf, or nil at EOF. */
static VALUE be_recv(int argc, VALUE *argv, VALUE self)
{
    VALUE io, buf, vlen, vpos;
    struct rt_thread *t = be_t(self);
    rb_scan_args(argc, argv, "31", &io, &buf, &vlen, &vpos);
    long len = NUM2LONG(vlen);
    VALUE data = read_buffer(len);
    int fd = fd_of(io);
    io_mode(io, fd);
    rb_io_t *fptr = readable_fptr(io);
    long n = take_buffered(fptr, RSTRING_PTR(data), len);
    if (n == 0) {
        ssize_t r = rt_ops(t)->recv(t->be, fd, RSTRING_PTR(data), (size_t)len, 0);
        if (r < 0)
            rb_syserr_fail_str((int)-r, rb_inspect(io));
        n = (long)r;
    }
    if (n == 0)
        return Qnil;
    rb_str_set_len(data, n);
    return into_buffer(buf, vpos, data);
}

static VALUE be_send(VALUE self, VALUE io, VALUE msg, VALUE vflags)
{
    struct rt_thread *t = be_t(self);
    int fd = fd_of(io);
    msg = written(msg);
    VALUE str = rb_str_new_frozen(StringValue(msg));
    ssize_t r = rt_ops(t)->send(t->be, fd, RSTRING_PTR(str), (size_t)RSTRING_LEN(str),
                             vflags == Qnil ? 0 : NUM2INT(vflags));
    RB_GC_GUARD(str);
    if (r < 0)
        rb_syserr_fail_str((int)-r, rb_inspect(io));
    return LONG2NUM((long)r);
}

/* Backend#accept(server, socket_class): a socket_class for the new connection. */
static VALUE be_accept(VALUE self, VALUE server, VALUE klass)
{
    struct rt_thread *t = be_t(self);
    int fd = fd_of(server);
    struct sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    io_mode(server, fd);
    int conn = rt_ops(t)->accept(t->be, fd, (struct sockaddr *)&addr, &len);
    if (conn < 0)
        rb_syserr_fail_str(-conn, rb_inspect(server));
    VALUE sock = rb_funcall(klass, id_for_fd, 1, INT2NUM(conn));
    rb_io_t *fptr;
    GetOpenFile(sock, fptr);
    rb_io_synchronized(fptr);
    rb_io_ascii8bit_binmode(sock);
    return sock;
}

static VALUE socket_error_class(void)
{
    ID id = rb_intern("SocketError");
    return rb_const_defined(rb_cObject, id) ? rb_const_get(rb_cObject, id) : rb_eRuntimeError;
}

/* Blocking name resolution: fine for literal addresses and /etc/hosts. */
static struct addrinfo *resolve(VALUE host, VALUE port, int family)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    VALUE sport = rb_obj_as_string(port);
    const char *h = host == Qnil ? NULL : StringValueCStr(host);
    int rc = getaddrinfo(h, StringValueCStr(sport), &hints, &res);
    if (rc != 0)
        rb_raise(socket_error_class(), "getaddrinfo: %s", gai_strerror(rc));
    return res;
}

/* Backend#connect(socket, host, port): connects an existing socket. */
static VALUE be_connect(VALUE self, VALUE sock, VALUE host, VALUE port)
{
    struct rt_thread *t = be_t(self);
    int fd = fd_of(sock);
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    int family = getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 ? ss.ss_family : AF_UNSPEC;
    struct addrinfo *res = resolve(host, port, family), *ai;
    int rc = -ECONNREFUSED;
    io_mode(sock, fd);
    for (ai = res; ai; ai = ai->ai_next) {
        rc = rt_ops(t)->connect(t->be, fd, ai->ai_addr, ai->ai_addrlen);
        if (rc == 0)
            break;
    }
    freeaddrinfo(res);
    if (rc < 0)
        rb_syserr_fail_str(-rc, rb_sprintf("connect(2) for %"PRIsVALUE":%"PRIsVALUE, host, port));
    return sock;
}

struct tcp_connect {
    struct rt_thread *t;
    struct addrinfo *res;
    int fd;
};

static VALUE tcp_connect_body(VALUE arg)
{
    struct tcp_connect *c = (struct tcp_connect *)arg;
    int rc = -ECONNREFUSED;
    for (struct addrinfo *ai = c->res; ai; ai = ai->ai_next) {
        c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
            rc = -errno;
            continue;
        }
        rc = rt_ops(c->t)->connect(c->t->be, c->fd, ai->ai_addr, ai->ai_addrlen);
        if (rc == 0)
            return INT2NUM(c->fd);
        close(c->fd);
        c->fd = -1;
    }
    return INT2NUM(rc);
}

/* Frees the address list and, when interrupted, the half-made socket. */
static VALUE tcp_connect_cleanup(VALUE arg)
{
    struct tcp_connect *c = (struct tcp_connect *)arg;
    freeaddrinfo(c->res);
    c->res = NULL;
    return Qnil;
}

/* Backend#tcp_connect(host, port): the fd of a new connected TCP socket. */
static VALUE be_tcp_connect(VALUE self, VALUE host, VALUE port)
{
    struct tcp_connect c = { be_t(self), NULL, -1 };
    c.res = resolve(host, port, AF_UNSPEC);
    int state = 0;
    VALUE r = rb_protect(tcp_connect_body, (VALUE)&c, &state);
    tcp_connect_cleanup((VALUE)&c);
    if (state) {
        if (c.fd >= 0)
            close(c.fd);
        rb_jump_tag(state);
    }
    int rc = NUM2INT(r);
    if (rc < 0)
        rb_syserr_fail_str(-rc, rb_sprintf("connect(2) for %"PRIsVALUE":%"PRIsVALUE, host, port));
    return r;
}

void rt_io_init(VALUE mPolyphony)
{
    VALUE cIO = rb_cIO;
    VALUE cBackend = rb_const_get(mPolyphony, rb_intern("Backend"));

    id_io_mode = rb_intern("__polyphony_io_mode__");
    id_for_fd = rb_intern("for_fd");
    id_written = rb_intern("written");

    rb_define_method(cIO, "read", io_read, -1);
    rb_define_method(cIO, "readpartial", io_readpartial, -1);
    rb_define_method(cIO, "write", io_write, -1);
    rb_define_method(cIO, "gets", io_gets, -1);
    rb_define_method(cIO, "wait_readable", io_wait_readable, -1);
    rb_define_method(cIO, "wait_writable", io_wait_writable, -1);
    rb_define_method(cIO, "wait", io_wait, -1);

    rb_define_method(cBackend, "read", be_read, -1);
    rb_define_method(cBackend, "write", be_write, -1);
    rb_define_method(cBackend, "wait_io", be_wait_io, 2);
    rb_define_method(cBackend, "recv", be_recv, -1);
    rb_define_method(cBackend, "send", be_send, 3);
    rb_define_method(cBackend, "accept", be_accept, 2);
    rb_define_method(cBackend, "connect", be_connect, 3);
    rb_define_method(cBackend, "tcp_connect", be_tcp_connect, 2);
}
