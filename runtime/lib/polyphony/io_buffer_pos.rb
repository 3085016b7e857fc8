# frozen_string_literal: true

# Polyphony 1.6's extra IO arguments: readpartial(len = 8192, buf = nil,
# buf_pos = 0, raise_on_eof = true) and read(len = nil, buf = nil,
# buf_pos = 0). buf_pos says where in buf the data goes (the bytes after it
# are dropped; -1 appends); raise_on_eof false gives nil at EOF instead of
# EOFError. Calls with Ruby's own arguments go straight to io.c. A raw
# buffer's handle (raw_buffer.rb) as buf is filled from its start, and the
# byte count returned.
module Polyphony
  module IOBufferPos
    def readpartial(len = 8192, buf = nil, buf_pos = 0, raise_on_eof = true)
      return RawBuffer.read_into(buf, len) { |max| readpartial(max, nil, 0, raise_on_eof) } if RawBuffer.raw?(buf)

      data = buf && buf_pos.zero? ? super(len, buf) : super(len)
      buf && !buf_pos.zero? ? IOBufferPos.place(buf, buf_pos, data) : data
    rescue EOFError
      raise if raise_on_eof

      nil
    end

    def read(len = nil, buf = nil, buf_pos = 0)
      return RawBuffer.read_into(buf, len) { |max| super(max) } if RawBuffer.raw?(buf)
      return super(len, buf) if buf.nil? || buf_pos.zero?

      data = super(len)
      data && IOBufferPos.place(buf, buf_pos, data)
    end

    def self.place(buf, pos, data)
      pos = buf.bytesize if pos.negative? || pos > buf.bytesize
      buf.replace(buf.byteslice(0, pos).b << data.b)
    end
  end
end

class ::IO
  prepend Polyphony::IOBufferPos
end
