# frozen_string_literal: true

# Reads requests off one connection: bytes from the socket go into
# http_parser.rb's request parser (Debian's ruby-http-parser.rb, the
# Node.js parser), whose callbacks build Request objects. The parser is fed
# everything that arrives, so requests a client pipelines come out in
# order, each complete with its body or filling as more bytes come; the
# socket is read only when the request being served needs more, so a
# connection never holds more than one read beyond that.
#
# Limits: the request line and headers (max_header_size: 431), the body
# (max_body_size, declared or chunked: 413); time: keep_alive_timeout for
# the first byte of a request (then the connection just closes),
# header_timeout from that byte to the end of the headers, body_timeout
# between two pieces of a body (408).
require 'http_parser'

module Polyphony
  module HTTP
    class RequestReader
      READ_SIZE = 16 * 1024

      def initialize(socket, options, timer)
        @socket = socket
        @options = options
        @timer = timer
        @parser = ::HTTP::RequestParser.new(self)
        @parser.header_value_type = :mixed
        @ready = []          # requests whose headers are complete, not yet served
        @current = nil       # the request whose body is being parsed
        @in_head = false     # between a message's first byte and its last header
        @head_bytes = 0      # bytes of the current head seen so far (at least)
        @failure = nil       # the parse error, raised once the requests before it are served
        @leftover = nil      # bytes after an upgrade request, for the new protocol
        @eof = false
        @buffer = String.new(capacity: READ_SIZE, encoding: Encoding::BINARY)
      end

      # Bytes the client sent past an upgrade request (for a hijacker).
      attr_reader :leftover

      # The next request, its headers complete (its body may still be on
      # its way); nil when the client closed the connection or left it idle
      # past keep_alive_timeout. Raises HTTP::Error for a request that
      # cannot be served.
      def next_request
        deadline = nil
        loop do
          unless @ready.empty?
            req = @ready.shift
            raise req.error if req.error

            return req
          end
          raise @failure if @failure
          return nil if @eof

          if @in_head
            deadline ||= now + @options.header_timeout
            left = deadline - now
            raise RequestTimeout, 'request headers not received in time' unless left.positive?

            data = receive(left) { raise RequestTimeout, 'request headers not received in time' }
          else
            data = receive(@options.keep_alive_timeout) { return nil }
          end
          return nil unless data

          feed(data)
        end
      end

      # The next piece of req's body, or nil when it has all been read.
      # Reads the socket when nothing is waiting.
      def body_chunk(req)
        loop do
          chunk = req.take_body
          return chunk if chunk
          raise req.error if req.error
          return nil if req.complete?
          raise @failure if @failure
          raise ClientGone if @eof

          data = receive(@options.body_timeout) { raise RequestTimeout, 'request body not received in time' }
          raise ClientGone unless data

          feed(data)
        end
      end

      # Reads and drops what is left of req's body (so that the next
      # request can be read); false when it could not be (too large, bad).
      def skip_body(req)
        nil while body_chunk(req)
        true
      rescue Error, ClientGone
        false
      end

      # http_parser.rb callbacks ------------------------------------------

      def on_message_begin
        @in_head = true
        @head_bytes = 0
        @begun_in_feed = true
        nil
      end

      def on_headers_complete(headers)
        @in_head = false
        p = @parser
        req = Request.new(p.http_method, p.request_url, version(p.http_major, p.http_minor),
                          headers, p.keep_alive?, p.upgrade?)
        req.error = head_error(req)
        @current = req
        @ready << req
        nil
      end

      def on_body(chunk)
        req = @current
        req.error ||= BodyTooLarge.new unless req.add_body(chunk, @options.max_body_size)
        nil
      end

      def on_message_complete
        @current&.complete!
        @current = nil
        nil
      end

      private

      def version(major, minor)
        return 'HTTP/1.1' if major == 1 && minor == 1
        return 'HTTP/1.0' if major == 1 && minor.zero?

        "HTTP/#{major}.#{minor}"
      end

      # The runtime's clock: it stops while the loop is suspended (a stop
      # in the debugger), as the timers do.
      def now
        Polyphony.now
      end

      # One read of up to READ_SIZE bytes, waiting at most `seconds`; nil at
      # EOF. A reset or vanished client counts as EOF. The block runs when
      # the time is up.
      # The same buffer serves every read: the parser copies what it keeps.
      def receive(seconds)
        @timer.within(seconds) { @socket.readpartial(READ_SIZE, @buffer) }
      rescue Stalled
        yield
      rescue EOFError, Errno::ECONNRESET, Errno::EPIPE, Errno::ETIMEDOUT
        @eof = true
        nil
      end

      def feed(data)
        @begun_in_feed = false
        in_head_before = @in_head
        begin
          parsed = @parser << data
        rescue ::HTTP::Parser::Error
          return parse_failed(data)
        end
        if @parser.upgrade? && @current.nil? && @ready.last&.upgrade
          # The rest of the stream is another protocol: parse no further.
          @leftover = @parser.upgrade_data.dup
          @eof = true
          return
        end
        # After a complete message, http_parser.rb reports a parse error
        # later in the same data only by parsing less than it was given.
        return parse_failed(data) if parsed != data.bytesize
        count_head(data, in_head_before)
      end

      def parse_failed(data)
        @failure = @in_head && @head_bytes + data.bytesize > @options.max_header_size ? HeadersTooLarge.new : BadRequest.new
        @eof = true
      end

      # While a head is incomplete, the bytes it has taken so far: all of
      # this read when the head began before it, else an unknown part of
      # it (not counted: the parser's own cap, 80 KiB, bounds the rest).
      def count_head(data, in_head_before)
        return unless @in_head

        @head_bytes += data.bytesize if in_head_before && !@begun_in_feed
        @failure = HeadersTooLarge.new if @head_bytes > @options.max_header_size
      end

      # The size of a parsed head (request line and headers, counted as
      # sent less optional whitespace), checked against max_header_size;
      # Host; and what the body's declared size and Expect allow. One pass over
      # the headers: this runs for every request. Names are compared with
      # casecmp (ASCII case, which is what HTTP's tokens have), not casecmp?
      # (Unicode case folding, which costs two new strings a comparison).
      def head_error(req)
        size = req.url.bytesize + 16
        length = expect = nil
        hosts = 0
        req.headers.each do |k, v|
          size += k.bytesize + (v.is_a?(Array) ? v.sum { |x| x.bytesize + 4 } : v.bytesize) + 4
          case k.bytesize
          when 4 then hosts += v.is_a?(Array) ? v.size : 1 if k.casecmp('Host')&.zero?
          when 6 then expect = v if k.casecmp('Expect')&.zero?
          when 14 then length = v if k.casecmp('Content-Length')&.zero?
          end
        end
        return HeadersTooLarge.new if size > @options.max_header_size
        # RFC 9112: exactly one Host in HTTP/1.1, at most one before.
        return BadRequest.new('Host missing or repeated') if hosts > 1 || (hosts.zero? && req.version == 'HTTP/1.1')
        return BodyTooLarge.new if length.is_a?(String) && length.to_i > @options.max_body_size
        return ExpectationFailed.new if expect && !(expect.is_a?(String) && expect.casecmp('100-continue')&.zero?)

        nil
      end
    end
  end
end
