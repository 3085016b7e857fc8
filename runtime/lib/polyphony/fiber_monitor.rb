# frozen_string_literal: true

# Fiber monitoring (Polyphony 1.6): `fiber.monitor(watcher)` makes the end
# of `fiber` push [fiber, result] onto `watcher.monitor_mailbox`, a
# Polyphony::Queue, until `fiber.unmonitor(watcher)`. Built on when_done.
class ::Fiber
  def monitor(watcher = Fiber.current)
    unless @__monitors__
      @__monitors__ = {}
      when_done do |result|
        @__monitors__.each_key { |w| w.monitor_mailbox << [self, result] }
      end
    end
    @__monitors__[watcher] = true
    self
  end

  def unmonitor(watcher = Fiber.current)
    @__monitors__&.delete(watcher)
    self
  end

  def monitors
    @__monitors__ ? @__monitors__.keys : []
  end

  def monitor_mailbox
    @__monitor_mailbox__ ||= Polyphony::Queue.new
  end

  # Polyphony makes the current fiber its thread's main fiber again after
  # installing a fresh backend. Here a thread keeps its one backend and main
  # fiber, so this only checks that the caller is that fiber.
  def setup_main_fiber
    unless equal?(Thread.current.main_fiber)
      raise ThreadError, 'setup_main_fiber: only the main fiber of the current thread is supported'
    end

    self
  end
end
