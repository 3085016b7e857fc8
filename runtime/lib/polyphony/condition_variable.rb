# frozen_string_literal: true

# Polyphony::ConditionVariable (Polyphony 1.6): fibers wait on a condition
# with a Polyphony::Mutex held; wait releases the mutex, suspends the fiber
# until signal (one waiter, in order) or broadcast (all), then takes the
# mutex again. Only the waiting fiber is suspended.
module Polyphony
  class ConditionVariable
    def initialize
      @waiters = []
    end

    # wait(mutex, timeout = nil): true when signaled, nil on timeout.
    def wait(mutex, timeout = nil)
      fiber = Fiber.current
      mutex.unlock
      @waiters << fiber
      signaled = Polyphony.__waiting_for(self) do
        timeout ? move_on_after(timeout) { suspend; true } : (suspend; true)
      end
      signaled || nil
    ensure
      @waiters.delete(fiber)
      mutex.lock
    end

    def signal
      @waiters.shift&.schedule
      self
    end

    def broadcast
      @waiters.shift.schedule until @waiters.empty?
      self
    end

    def waiting?
      !@waiters.empty?
    end
  end
end
