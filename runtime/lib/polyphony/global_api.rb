# frozen_string_literal: true

# Polyphony's global API (Kernel methods and Fiber#supervise) composed from
# the C primitives: spin, sleep, snooze, suspend and Polyphony::Timeout.
module Polyphony
  # What Backend#timeout and others raise by default in Polyphony's tests.
  class TimeoutException < ::RuntimeError; end

  # Time on the runtime clock of the current thread (stops while the loop is
  # suspended), in seconds.
  def self.now
    Thread.current.backend.now
  end

  # The exception cancel_after raises, from what with_exception: gave.
  def self.cancel_exception(spec)
    case spec
    when Class then spec.new
    when Array then spec[0].new(spec[1])
    when Exception then spec
    else RuntimeError.new(spec.to_s)
    end
  end

  # Runs the block; the Timeout resumes this fiber with `exception` if the
  # block is still running after `interval`. A block that takes an argument
  # gets, as in Polyphony, a child fiber standing for the timer: its
  # `reset` (or `restart`) pushes the deadline back (re-arming the Timeout
  # in place, without allocating), and it ends with the block.
  def self.with_timeout(interval, exception, block)
    timeout = Polyphony::Timeout.new(interval, exception)
    return block.call unless block.arity.positive?

    begin
      timer = spin { sleep }
      timer.__timer__ = timeout
      block.call(timer)
    ensure
      timer&.kill
    end
  ensure
    timeout.stop
  end
end

module Kernel
  def move_on_after(interval, with_value: nil, &block)
    unless block
      # Polyphony's blockless form: the current fiber is scheduled with the
      # value later, by a child fiber (returned).
      fiber = Fiber.current
      return spin { sleep interval; fiber.schedule(with_value) }
    end
    move_on = Polyphony::MoveOn.new(with_value)
    Polyphony.with_timeout(interval, move_on, block)
  rescue Polyphony::MoveOn => e
    raise unless e.equal?(move_on)

    e.value
  end

  def cancel_after(interval, with_exception: Polyphony::Cancel, &block)
    unless block
      fiber = Fiber.current
      return spin { sleep interval; fiber.schedule(Polyphony.cancel_exception(with_exception)) }
    end
    Polyphony.with_timeout(interval, Polyphony.cancel_exception(with_exception), block)
  end

  # Runs the block in a new child fiber and waits for it and every fiber it
  # spun to end; returns the block's value. An exception in any of them ends
  # the scope (the others are terminated) and is raised here.
  def spin_scope
    raise ArgumentError, 'spin_scope needs a block' unless block_given?

    spin do
      result = yield
      Fiber.current.await_all_children
      result
    end.await
  end

  def after(interval, &block)
    f = spin do
      sleep interval
      block.call
    end
    f.__spin_location__ = caller_locations(1, 1).first
    f
  end

  # Runs the block every `interval` seconds, without drifting. A tick that
  # is due already (the block or the machine was slow) comes after a snooze,
  # so the other fibers and due timers still get their turn, and the ticks
  # missed meanwhile are skipped rather than made up in a burst (as
  # Polyphony 1.6's timer_loop).
  def every(interval)
    # A tick at no interval would never be passed: the loop below would spin.
    raise ArgumentError, "interval must be a positive number of seconds, not #{interval.inspect}" unless
      interval.is_a?(Numeric) && interval.positive?

    next_time = Polyphony.now + interval
    loop do
      now = Polyphony.now
      if next_time > now
        sleep(next_time - now)
      else
        snooze
      end
      yield
      next_time += interval
      next_time += interval while next_time <= now
    end
  end

  # Runs the block at most `rate` times a second (or every `interval`
  # seconds), `count` times if given.
  def throttled_loop(rate = nil, count: nil, interval: nil)
    interval ||= 1.0 / rate
    next_time = Polyphony.now
    done = 0
    loop do
      yield
      done += 1
      break if count && done >= count

      next_time += interval
      delay = next_time - Polyphony.now
      if delay.positive?
        sleep delay
      else
        next_time = Polyphony.now
        snooze
      end
    end
  end

  # `break` in the block ends the loop (and the fiber, with break's value):
  # the block comes from another fiber, so Ruby reports it as LocalJumpError.
  def spin_loop(tag = nil, rate: nil, interval: nil, &block)
    f = spin(tag) do
      if rate || interval
        throttled_loop(rate, interval: interval, &block)
      else
        loop(&block)
      end
    rescue LocalJumpError => e
      raise unless e.reason == :break

      e.exit_value
    end
    f.__spin_location__ = caller_locations(1, 1).first
    f
  end

  def supervise(*fibers, **opts, &block)
    Fiber.current.supervise(*fibers, **opts, &block)
  end
end

module Polyphony
  # Ruby 3.1 calls Process._fork for every fork: the child starts its
  # runtime afresh (Backend#post_fork) with the forking fiber as main fiber.
  module ForkHook
    def _fork
      pid = super
      Thread.current.backend.post_fork if pid.zero?
      pid
    end
  end
end
Process.singleton_class.prepend(Polyphony::ForkHook)


module Polyphony
  class Backend
    # Polyphony's Backend#timeout: a MoveOn gives move_on_value back, any
    # other exception (class or instance) is raised in the block.
    def timeout(interval, exception = Polyphony::Cancel, move_on_value = nil, &block)
      if exception.nil? || (exception.is_a?(Class) && exception <= Polyphony::MoveOn)
        move_on_after(interval, with_value: move_on_value, &block)
      else
        cancel_after(interval, with_exception: exception, &block)
      end
    end

    def timer_loop(interval, &block)
      every(interval, &block)
    end

    def accept_loop(server, socket_class)
      loop { yield accept(server, socket_class) }
    end

    def read_loop(io, maxlen = 8192)
      buf = nil
      yield buf while (buf = read(io, nil, maxlen, false, -1))
    end
  end
end
