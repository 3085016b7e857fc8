# frozen_string_literal: true

# rack.input: a request body read from the connection only when the
# application asks for it, waiting in the request's fiber. What has been
# read is kept, so the input can be rewound (Rack 2 requires it); the body
# is at most max_body_size. The source is the connection
# (source.body_chunk(request)), which sends "100 Continue" first when the
# client waits for it.
module Polyphony
  module HTTP
    class Input
      # What the buffer starts as: a copy of it (+EMPTY) costs a fraction of
      # String.new(encoding:), and every request makes one.
      EMPTY = String.new(encoding: Encoding::BINARY).freeze

      # source.body_chunk(request) gives the next piece of the body, or nil
      # at its end.
      def initialize(source, request)
        @source = source
        @request = request
        @buffer = +EMPTY
        @pos = 0
        @done = false
      end

      # IO#read's contract: all that is left (possibly ""), or up to
      # `length` bytes (nil at the end).
      def read(length = nil, outbuf = nil)
        if length.nil?
          fill_all
          data = @buffer.byteslice(@pos, @buffer.bytesize - @pos)
        else
          raise ArgumentError, "negative length #{length} given" if length.negative?

          fill(@pos + length)
          if length.positive? && @pos >= @buffer.bytesize
            outbuf&.clear
            return nil
          end
          data = @buffer.byteslice(@pos, length)
        end
        @pos += data.bytesize
        outbuf ? outbuf.replace(data) : data
      end

      # The next line (with its "\n"), or nil at the end.
      def gets
        loop do
          nl = @buffer.index("\n", @pos)
          return take(nl + 1 - @pos) if nl
          break unless more
        end
        @pos < @buffer.bytesize ? take(@buffer.bytesize - @pos) : nil
      end

      def each
        while (line = gets)
          yield line
        end
      end

      def rewind
        @pos = 0
      end

      # The body is the server's: closing it is left to the server (Rack).
      def close; end

      # Everything the client sent has been received (read or not).
      def eof_reached?
        @done
      end

      # Reads and drops the rest of the body.
      def drain
        nil while more(keep: false)
      end

      private

      def take(len)
        data = @buffer.byteslice(@pos, len)
        @pos += len
        data
      end

      def fill(upto)
        nil while @buffer.bytesize < upto && more
      end

      def fill_all
        nil while more
      end

      # Pulls one piece from the source; false at the end.
      def more(keep: true)
        return false if @done

        chunk = @source.body_chunk(@request)
        if chunk
          @buffer << chunk if keep
          return true
        end
        @done = true
        false
      end
    end
  end
end
