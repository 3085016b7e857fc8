# frozen_string_literal: true

# Polyphony::Pipe (Polyphony 1.6): one object for both ends of a UNIX pipe,
# read from and written to like an IO. Reads use the read end, writes the
# write end; #close closes the write end (readers then see EOF) and the read
# end is closed when the pipe is collected or by #close_read.
module Polyphony
  class Pipe
    class ClosedPipeError < ::IOError; end

    def initialize
      @r, @w = ::IO.pipe
      @r.binmode
      @w.binmode
      @w.sync = true
    end

    # [read fd, write fd]
    def fds
      [@r.fileno, @w.fileno]
    end

    def __io_end__(write)
      write ? @w : @r
    end

    def close
      @w.close unless @w.closed?
      self
    end

    def closed?
      @w.closed?
    end

    def close_read
      @r.close unless @r.closed?
      self
    end

    # read(len = nil, buf = nil, buf_pos = 0): until len bytes or EOF. With
    # buf, the data replaces buf's bytes from buf_pos (-1: appended). The
    # ends are binary, but the strings read and gets return are UTF-8, as
    # Polyphony's (whose pipe reads into a UTF-8 buffer): the bytes are
    # untouched, the text compares equal to the text written.
    def read(len = nil, buf = nil, buf_pos = 0)
      data = @r.read(len)
      return data&.force_encoding(Encoding::UTF_8) unless buf
      return nil if data.nil?

      buf_pos = buf.bytesize if buf_pos.negative? || buf_pos > buf.bytesize
      buf.replace(buf.byteslice(0, buf_pos) << data)
    end

    def readpartial(len, buf = +'', buf_pos = 0, raise_on_eof = true)
      result = Polyphony.backend_read(@r, buf, len, false, buf_pos)
      raise EOFError if result.nil? && raise_on_eof

      result
    end

    def gets(*args, **opts)
      @r.gets(*args, **opts)&.force_encoding(Encoding::UTF_8)
    end

    def getc
      @r.getc
    end

    def getbyte
      @r.getbyte
    end

    def write(*strings)
      raise ClosedPipeError, 'pipe closed' if @w.closed?

      @w.write(*strings)
    end

    def <<(str)
      write(str)
      self
    end

    def puts(*args)
      @w.puts(*args)
    end

    def print(*args)
      @w.print(*args)
    end

    def read_loop(maxlen = 8192, &block)
      @r.read_loop(maxlen, &block)
    end

    def feed_loop(receiver, method = :call, &block)
      Polyphony.backend_feed_loop(@r, receiver, method, &block)
    end

    def wait_readable(timeout = nil)
      wait_end(false, timeout)
    end

    def wait_writable(timeout = nil)
      wait_end(true, timeout)
    end

    def splice_from(src, maxlen)
      Polyphony.backend_splice(src, @w, maxlen)
    end

    def tee_from(src, maxlen)
      Polyphony.backend_tee(src, @w, maxlen)
    end

    private

    def wait_end(write, timeout)
      return (Polyphony.backend_wait_io(self, write) && self) unless timeout

      move_on_after(timeout) { Polyphony.backend_wait_io(self, write) && self }
    end
  end

  def self.pipe
    Pipe.new
  end
end
