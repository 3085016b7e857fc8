# frozen_string_literal: true

# The one timer of an HTTP connection: armed around each socket read or
# write the server does for that connection, never while the application
# runs, so a stalled client costs its own fiber a bounded wait and nothing
# else. One Polyphony::Timeout per connection, re-armed in place, so a
# request costs no allocation for its deadlines.
module Polyphony
  module HTTP
    # What a wait past its deadline raises out of StallTimer#within.
    class Stalled < StandardError; end

    class StallTimer
      # Delivered by the timer; an Interrupt, so no `rescue => e` between
      # the wait and #within can take it for an ordinary error.
      class Expired < Polyphony::Interrupt; end

      # Made in the connection's fiber: the timer resumes that fiber.
      def initialize
        @expired = Expired.new
        @timeout = Polyphony::Timeout.new(3600, @expired)
        @timeout.stop
        @armed = false
      end

      # Runs the block (one wait); raises Stalled if it is still waiting
      # after `seconds`.
      def within(seconds)
        @timeout.reset(seconds)
        @armed = true
        yield
      rescue Expired => e
        raise unless e.equal?(@expired)

        raise Stalled, "no progress in #{seconds} s"
      ensure
        @armed = false
        @timeout.stop
      end

      # Ends the current wait now, as if its time were up (a server that
      # shuts down closes idle connections this way); nothing when the
      # connection is not waiting.
      def expire
        @timeout.reset(0) if @armed
      end
    end
  end
end
