# frozen_string_literal: true

module Polyphony
  # A resettable timer in Polyphony's style: cancel_after / move_on_after
  # deadlines that #reset pushes back for the calling fiber, plus after,
  # every and sleep. Each deadline is a C Polyphony::Timeout.
  class Timer
    attr_reader :tag

    def initialize(tag = nil, resolution: nil)
      @tag = tag
      @resolution = resolution
      @timeouts = {}.compare_by_identity
      @fibers = []
    end

    def sleep(duration)
      Kernel.sleep(duration)
    end

    def after(interval, &block)
      f = spin do
        Kernel.sleep interval
        block.call
      end
      @fibers << f
      f
    end

    def every(interval, &block)
      Kernel.instance_method(:every).bind_call(self, interval, &block)
    end

    def cancel_after(interval, with_exception: Polyphony::Cancel)
      exception = Polyphony.cancel_exception(with_exception)
      track(Polyphony::Timeout.new(interval, exception)) { yield }
    end

    def move_on_after(interval, with_value: nil)
      move_on = Polyphony::MoveOn.new(with_value)
      track(Polyphony::Timeout.new(interval, move_on)) { yield }
    rescue Polyphony::MoveOn => e
      raise unless e.equal?(move_on)

      e.value
    end

    # Restarts the calling fiber's deadlines from now.
    def reset(fiber = Fiber.current)
      @timeouts[fiber]&.each(&:reset)
      self
    end

    def stop
      @timeouts.each_value { |list| list.each(&:stop) }
      @timeouts.clear
      @fibers.each(&:stop)
      @fibers.clear
      self
    end

    private

    def track(timeout)
      fiber = Fiber.current
      (@timeouts[fiber] ||= []) << timeout
      yield
    ensure
      timeout.stop
      list = @timeouts[fiber]
      list&.delete(timeout)
      @timeouts.delete(fiber) if list&.empty?
    end
  end
end
