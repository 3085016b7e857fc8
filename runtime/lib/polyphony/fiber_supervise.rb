# frozen_string_literal: true

# Fiber#supervise (Polyphony 1.6): the fiber watches the given fibers
# (default: its children), takes each one's end — an uncaught exception is
# not raised in the supervisor — and calls the block (or the handler the
# options make) with (fiber, result) for each. The fibers are moved under the
# supervisor, and any fiber it spins or that is attached to it meanwhile is
# supervised too (Fiber#spin calls __supervise_child__ while the fiber
# supervises, in C).
#
#   supervise(*fibers, restart: nil, on_done: nil, on_error: nil) { |f, r| }
#     restart: :always (or true) restarts every fiber that ends, :on_error
#     those that end with an exception; on_done is called for every end,
#     on_error for ends with an exception (with both, on_done for those
#     only, as in Polyphony).
#
# Polyphony's supervise never returns. Here it returns (the supervisor) once
# nothing could ever end another supervised fiber — none is left, and
# nothing runnable, no I/O, timer or blocking wait remains on the thread —
# so a program whose supervised fibers are all done goes on instead of
# hanging.
module Polyphony
  module Supervision
    WAKE = Object.new.freeze

    def self.handler(opts)
      block = opts[:on_done] || opts[:on_error]
      restart = opts[:restart]
      return nil unless block || restart

      error_only = opts[:on_error] ? true : false
      restart_always = [:always, true].include?(restart)
      restart_on_error = restart == :on_error
      lambda do |fiber, result|
        is_error = result.is_a?(Exception)
        block&.call(fiber, result) if !error_only || is_error
        fiber.restart if restart_always || (restart_on_error && is_error)
      end
    end
  end
end

class ::Fiber
  def supervise(*fibers, **opts, &block)
    block ||= Polyphony::Supervision.handler(opts)
    fibers = children if fibers.empty?
    @__supervised_ends__ = []
    fibers.each do |f|
      f.attach_to(self) unless f.parent.equal?(self)
      __supervise_child__(f)
    end
    self.__supervising__ = true
    loop do
      while @__supervised_ends__.empty?
        @__supervise_waiting__ = true
        woken = suspend
        @__supervise_waiting__ = false
        return self if @__supervised_ends__.empty? && !Polyphony::Supervision::WAKE.equal?(woken)
      end
      fiber, result = @__supervised_ends__.shift
      block&.call(fiber, result)
    end
  ensure
    self.__supervising__ = false
    @__supervise_waiting__ = false
  end

  # Called for each fiber the supervisor starts watching.
  def __supervise_child__(fiber)
    ends = @__supervised_ends__
    fiber.when_done(self) do |result|
      ends << [fiber, result]
      schedule(Polyphony::Supervision::WAKE) if @__supervise_waiting__
    end
  end
end
