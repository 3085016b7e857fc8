# frozen_string_literal: true

# Polyphony::Monitor (Polyphony 1.6, where it replaces ::Monitor): here it
# is Ruby's own Monitor, so that `Monitor.new`, MonitorMixin and
# Polyphony::Monitor are one class. Ruby's Monitor is owned by a fiber, not
# a thread, and its waits (enter, and new_cond's wait) go through the
# thread's Fiber::Scheduler (polyphony/fiber_scheduler): a fiber waiting for
# a monitor another fiber holds suspends only itself, and threads contend
# as Ruby's do.
#
# One repair: under a fiber scheduler Ruby 3.1's Mutex#sleep does not tell
# a timeout from a wake-up (nor does the runtime's own wait for a thread's
# main fiber), so a condition's wait(timeout) would always give true. In a
# fiber on the runtime, wait_for_cond gives false when the wait ended at or
# after its deadline, as it does without a scheduler.
require 'monitor'

module Polyphony
  Monitor = ::Monitor

  module MonitorTimedWait
    def wait_for_cond(cond, timeout)
      return super unless timeout && on_runtime?

      deadline = Polyphony.now + timeout
      signaled = super
      signaled && Polyphony.now < deadline
    end

    private

    # Does this fiber's wait go through the runtime (the scheduler, or the
    # runtime's own waits where Ruby does not call it: polyphony/unhooked)?
    def on_runtime?
      (Fiber.scheduler && !Fiber.current.blocking?) || Polyphony::Scheduler.unhooked?
    end
  end
end

::Monitor.prepend(Polyphony::MonitorTimedWait)
