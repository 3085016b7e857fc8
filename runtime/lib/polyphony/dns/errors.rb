# frozen_string_literal: true

# Why a DNS lookup has no answer: the name does not exist (NotFound), the
# servers answered with an error (ServerFailure, with the response code),
# or none answered in time (Timeout). Each is a Polyphony::DNS::Error.
module Polyphony
  module DNS
    class Error < StandardError; end

    # NXDOMAIN: the name does not exist (a name that exists with no record
    # of the type asked for is an empty answer instead).
    class NotFound < Error; end

    # Every server answered with an error code (SERVFAIL, REFUSED ...), or
    # with something that was not an answer to the question.
    class ServerFailure < Error
      attr_reader :rcode

      def initialize(message, rcode = nil)
        @rcode = rcode
        super(message)
      end
    end

    # No server answered within the timeout, in any of the attempts.
    class Timeout < Error; end
  end
end
