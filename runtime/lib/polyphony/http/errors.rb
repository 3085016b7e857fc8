# frozen_string_literal: true

# Why the HTTP server gives up on a request before the application sees it:
# each error carries the status the client is answered with, after which
# the connection is closed. A client that goes away or stalls while idle is
# not an error: its connection just ends.
module Polyphony
  module HTTP
    class Error < StandardError
      attr_reader :status

      def initialize(status, message)
        @status = status
        super(message)
      end
    end

    # Malformed request line, headers or chunked body.
    class BadRequest < Error
      def initialize(message = 'malformed request')
        super(400, message)
      end
    end

    # The client took longer than a timeout allows while sending a request.
    class RequestTimeout < Error
      def initialize(message = 'request not received in time')
        super(408, message)
      end
    end

    # The request body is larger than max_body_size.
    class BodyTooLarge < Error
      def initialize(message = 'request body too large')
        super(413, message)
      end
    end

    # The request line and headers are larger than max_header_size.
    class HeadersTooLarge < Error
      def initialize(message = 'request headers too large')
        super(431, message)
      end
    end

    # The client closed its connection in the middle of a request body
    # (rack.input raises it; the server then closes quietly).
    class ClientGone < EOFError
      def initialize(message = 'client closed the connection in the middle of a request body')
        super
      end
    end

    # Expect: with anything but 100-continue.
    class ExpectationFailed < Error
      def initialize(message = 'expectation not supported')
        super(417, message)
      end
    end
  end
end
