# frozen_string_literal: true

# Graceful termination (Polyphony 1.6): `fiber.terminate(true)` and
# `shutdown_all_children(true)` terminate as usual but first mark the fiber,
# so code in its ensure clauses can ask `Fiber.current.graceful_shutdown?`
# and finish its work (flush, say goodbye) before it ends. Also
# attach_all_children_to and dead?.
module Polyphony
  module FiberShutdown
    def terminate(graceful = false)
      @graceful_shutdown = true if graceful
      super()
    end

    def terminate_all_children(graceful = false)
      return super() unless graceful

      children.each { |c| c.terminate(true) }
      self
    end

    def shutdown_all_children(graceful = false)
      return super() unless graceful

      terminate_all_children(true)
      await_all_children
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
