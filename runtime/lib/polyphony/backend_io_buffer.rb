# frozen_string_literal: true

# IO::Buffer arguments to Backend#read and #write (Polyphony 1.6 on Ruby
# >= 3.1). read(io, buffer, len, to_eof, pos) fills the buffer from pos
# (pos < 0: 0) and returns the byte count, 0 at EOF; write(io, buffer)
# writes the whole buffer. The bytes go through a String: the C ops take
# Strings only. A raw buffer's handle (raw_buffer.rb) is read into from its
# start (read and recv give the byte count, nil at EOF); written, it stands
# for its bytes (that part is in io.c).
module Polyphony
  module BackendIOBuffer
    def read(io, buf, len, to_eof = false, pos = -1)
      return RawBuffer.read_into(buf, len) { |max| super(io, nil, max, to_eof, -1) } if RawBuffer.raw?(buf)
      return super unless defined?(::IO::Buffer) && buf.is_a?(::IO::Buffer)

      pos = 0 if pos.negative?
      len = [len, buf.size - pos].min
      data = super(io, nil, len, to_eof, -1)
      return 0 unless data

      buf.set_string(data, pos)
      data.bytesize
    end

    def recv(io, buf, len, pos = -1)
      return super unless RawBuffer.raw?(buf)

      RawBuffer.read_into(buf, len) { |max| super(io, nil, max, -1) }
    end

    def write(io, *args)
      return super unless defined?(::IO::Buffer) && args.any?(::IO::Buffer)

      super(io, *args.map { |a| a.is_a?(::IO::Buffer) ? a.get_string : a })
    end
  end

  class Backend
    prepend BackendIOBuffer
  end
end
