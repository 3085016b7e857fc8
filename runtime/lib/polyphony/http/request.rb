# frozen_string_literal: true

# One HTTP request as the parser saw it: the request line, the headers, and
# its body as it arrives, chunk by chunk. The RequestReader fills it; the
# connection serves it; rack.input (Input) drains its body on demand.
module Polyphony
  module HTTP
    class Request
      attr_reader :method, :url, :version, :headers, :keep_alive, :upgrade, :body_bytes
      # An HTTP::Error found while parsing it (too large), answered instead
      # of calling the application.
      attr_accessor :error

      def initialize(method, url, version, headers, keep_alive, upgrade)
        @method = method
        @url = url
        @version = version
        @headers = headers
        @keep_alive = keep_alive
        @upgrade = upgrade
        @chunks = []
        @body_bytes = 0
        @complete = false
        @error = nil
      end

      # Appends a piece of the body; false when the body is now larger than
      # `limit` (the piece is then dropped).
      def add_body(chunk, limit)
        @body_bytes += chunk.bytesize
        return false if @body_bytes > limit

        @chunks << chunk
        true
      end

      # The next piece of the body received and not yet taken, or nil.
      def take_body
        @chunks.shift
      end

      def complete!
        @complete = true
      end

      # The whole body has been parsed (taken or not).
      def complete?
        @complete
      end

      # A header's value by name, any case; several values joined by ", ".
      def [](name)
        v = @headers[name]
        unless v
          key = @headers.each_key.find { |k| k.casecmp?(name) }
          v = key && @headers[key]
        end
        v.is_a?(Array) ? v.join(', ') : v
      end

      # Expect: 100-continue (HTTP/1.1): the client waits for our go-ahead
      # before it sends the body.
      def expects_continue?
        @version == 'HTTP/1.1' && !@complete && self['Expect']&.casecmp?('100-continue')
      end
    end
  end
end
