# frozen_string_literal: true

# Polyphony::Throttler (Polyphony 1.6): runs a block at most `rate` times a
# second, sleeping the calling fiber as needed. Made with a rate
# (Throttler.new(10)), or Throttler.new(rate: 10) / Throttler.new(interval:
# 0.1). A late call does not make the following ones run in a burst.
module Polyphony
  class Throttler
    attr_reader :rate

    def initialize(rate)
      @rate = rate_from(rate)
      @interval = 1.0 / @rate
      @next_time = nil
    end

    # Each call takes the next free slot before it sleeps, so fibers sharing
    # a throttler are spaced too.
    def call
      now = Polyphony.now
      slot = @next_time && @next_time > now ? @next_time : now
      @next_time = slot + @interval
      sleep(slot - now) if slot > now
      yield self
    end
    alias process call

    # Kept for Polyphony's API; a Throttler holds no resource.
    def stop; end

    private

    def rate_from(arg)
      case arg
      when Numeric then arg
      when Hash
        return 1.0 / arg[:interval] if arg[:interval]
        return arg[:rate] if arg[:rate]

        raise ArgumentError, "invalid rate #{arg.inspect}"
      else
        raise ArgumentError, "invalid rate #{arg.inspect}"
      end
    end
  end
end

module Kernel
  # throttle(rate) { ... }: a Polyphony::Throttler around the block.
  def throttle(rate, &block)
    throttler = Polyphony::Throttler.new(rate)
    block ? throttler.call(&block) : throttler
  end
end
