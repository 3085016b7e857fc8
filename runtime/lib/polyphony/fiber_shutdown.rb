# frozen_string_literal: true

# Graceful termination (Polyphony 1.6): `fiber.terminate(graceful: true)`
# and `shutdown_all_children(graceful: true)` (or the flag as a positional
# argument) terminate as usual but first mark the fiber,
# so code in its ensure clauses can ask `Fiber.current.graceful_shutdown?`
# and finish its work (flush, say goodbye) before it ends. Also
# attach_all_children_to and dead?.
module Polyphony
  module FiberShutdown
    # terminate(graceful = false) or terminate(graceful: false)
    def terminate(graceful_arg = false, graceful: graceful_arg)
      @graceful_shutdown = graceful ? true : false
      super()
    end

    def terminate_all_children(graceful_arg = false, graceful: graceful_arg)
      return super() unless graceful

      children.each { |c| c.terminate(graceful: true) }
      self
    end

    def shutdown_all_children(graceful_arg = false, graceful: graceful_arg)
      return super() unless graceful

      terminate_all_children(graceful: true)
      await_all_children
      self
    end
  end
end

class ::Fiber
  prepend Polyphony::FiberShutdown

  attr_writer :graceful_shutdown

  def graceful_shutdown?
    @graceful_shutdown ? true : false
  end

  def attach_all_children_to(fiber)
    children.each { |c| c.attach_to(fiber) }
    self
  end

  def dead?
    !alive?
  end
end
