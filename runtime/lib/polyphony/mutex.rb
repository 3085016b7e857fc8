# frozen_string_literal: true

# Polyphony::Mutex — mutual exclusion between fibers. A fiber waiting for the
# lock suspends; the others run. Built on a one-token Polyphony::Queue: the
# holder has taken the token, waiters wait in the queue's order. Re-entrant
# for the fiber that holds it (synchronize inside synchronize just yields).

module Polyphony
  class Mutex
    def initialize
      @store = Polyphony::Queue.new
      @store << :token
      @holding_fiber = nil
    end

    def synchronize
      return yield if @holding_fiber == Fiber.current

      lock
      begin
        yield
      ensure
        unlock
      end
    end

    def lock
      raise ThreadError, 'deadlock; recursive locking' if @holding_fiber == Fiber.current

      # Contended: the wait-for graph names this mutex and its holder.
      @store.empty? ? Polyphony.__waiting_for(self) { @store.shift } : @store.shift
      @holding_fiber = Fiber.current
      self
    end

    def unlock
      raise ThreadError, 'attempt to unlock a mutex which is not locked' unless @holding_fiber == Fiber.current

      @holding_fiber = nil
      @store << :token
      self
    end

    def try_lock
      return false if @holding_fiber || @store.empty?

      lock
      true
    end

    def owned?
      @holding_fiber == Fiber.current
    end

    # The fiber holding the lock, or nil (truthy when locked, as in Polyphony).
    def locked?
      @holding_fiber
    end
  end
end
