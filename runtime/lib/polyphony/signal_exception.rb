# frozen_string_literal: true

# Polyphony.emit_signal_exception (Polyphony 1.6): for trap handlers, which
# run in whatever fiber the main thread is in when the signal arrives. The
# exception is raised in `fiber` (default: the main thread's main fiber),
# ahead of every fiber already runnable, wherever that fiber is waiting.
module Polyphony
  def self.emit_signal_exception(exception, fiber = Thread.main.main_fiber)
    fiber.thread.schedule_fiber_with_priority(fiber, exception)
    fiber.thread.backend.wakeup unless fiber.thread == Thread.current
    fiber.thread
  end
end
