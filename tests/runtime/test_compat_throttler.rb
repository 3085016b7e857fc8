# frozen_string_literal: true

# Polyphony 1.6 compatibility: Polyphony::Throttler and Kernel#throttle —
# calls spaced by 1/rate on the runtime clock, the first one immediate,
# rate given as a number, rate: or interval:, no burst after a late call.
require 'minitest/autorun'
require 'polyphony'

class CompatThrottlerTest < Minitest::Test
  def test_calls_are_spaced
    t = Polyphony::Throttler.new(100)
    times = []
    5.times { t.call { times << Polyphony.now } }
    # call i runs no earlier than i intervals after the first (a late timer
    # does not push the later slots back)
    offsets = times.map { |t1| t1 - times.first }
    offsets.each_with_index { |o, i| assert_operator o, :>=, (i * 0.01) - 0.0005, offsets.inspect }
    # spaced by the rate's 10 ms, not by seconds (how much later than its
    # slot a call comes depends on the machine's load)
    assert_operator times.last - times.first, :<, 1
  end

  def test_first_call_is_immediate_and_yields_throttler
    t = Polyphony::Throttler.new(interval: 10)
    t0 = Polyphony.now
    yielded = nil
    t.process { |x| yielded = x }
    assert_same t, yielded
    assert_operator Polyphony.now - t0, :<, 1
  end

  def test_rate_arguments
    assert_equal 20, Polyphony::Throttler.new(rate: 20).rate
    assert_in_delta 4.0, Polyphony::Throttler.new(interval: 0.25).rate
    assert_raises(ArgumentError) { Polyphony::Throttler.new(foo: 1) }
    assert_raises(ArgumentError) { Polyphony::Throttler.new('x') }
  end

  def test_no_burst_after_late_call
    t = Polyphony::Throttler.new(50)
    t.call {}
    sleep 0.1 # late by several intervals
    t.call {}
    t0 = Polyphony.now
    t.call {}
    assert_operator Polyphony.now - t0, :>=, 0.015
  end

  def test_throttle_in_fibers_shares_rate
    t = throttle(200)
    count = 0
    fibers = Array.new(3) { spin { 3.times { t.call { count += 1 } } } }
    t0 = Polyphony.now
    Fiber.await(*fibers)
    assert_equal 9, count
    assert_operator Polyphony.now - t0, :>=, 0.035
  end
end
