# frozen_string_literal: true

# Fiber#restart / #reset, the Ruby half (Polyphony 1.6). A dead fiber's
# restart spins a new fiber in its place (C: same parent, tag and block; the
# value given is its first); here the new fiber also gets the old one's
# monitors. On the fiber standing for a cancel_after / move_on_after timer
# (see Polyphony.with_timeout) reset pushes the deadline back instead.
module Polyphony
  module FiberRestart
    def restart(value = nil)
      return @__timer__.reset if @__timer__

      fresh = super
      monitors.each { |watcher| fresh.monitor(watcher) } unless fresh.equal?(self)
      fresh
    end

    def reset(value = nil)
      restart(value)
    end

    def __timer__=(timeout)
      @__timer__ = timeout
    end
  end
end

class ::Fiber
  prepend Polyphony::FiberRestart
end
