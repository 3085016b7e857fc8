# frozen_string_literal: true

# Polyphony 1.6 compatibility: Timeout.timeout runs on the runtime's timers
# — it interrupts only the calling fiber, with Timeout::Error or the given
# class and message, returns the block's value in time, nests, and leaves
# the runtime sound afterwards (no helper thread, no Thread#raise).
require 'minitest/autorun'
require 'polyphony'

class CompatTimeoutTest < Minitest::Test
  def test_expires_with_default_error
    t0 = Polyphony.now
    threads = Thread.list.size
    err = assert_raises(Timeout::Error) do
      Timeout.timeout(0.01) do
        assert_equal threads, Thread.list.size # no helper thread
        sleep 1
      end
    end
    assert_equal 'execution expired', err.message
    assert_operator Polyphony.now - t0, :<, 1 # the timer, not the end of the sleep
  end

  def test_value_klass_and_message
    assert_equal 0.5, Timeout.timeout(0.5) { |sec| sec }
    assert_equal :now, Timeout.timeout(nil) { :now }
    klass = Class.new(RuntimeError)
    err = assert_raises(klass) { Timeout.timeout(0.01, klass, 'too slow') { sleep 1 } }
    assert_equal 'too slow', err.message
  end

  def test_only_calling_fiber_interrupted
    other = spin { sleep 0.05; :other_done }
    r = spin do
      Timeout.timeout(0.01) { sleep 1 }
    rescue Timeout::Error
      :timed_out
    end
    assert_equal :timed_out, r.await
    assert_equal :other_done, other.await
  end

  def test_nested_inner_fires_first
    result = Timeout.timeout(5) do
      Timeout.timeout(0.01) { sleep 1 }
    rescue Timeout::Error
      :inner
    end
    assert_equal :inner, result
  end

  def test_runtime_sound_after_timeouts
    3.times { assert_raises(Timeout::Error) { Timeout.timeout(0.005) { sleep 1 } } }
    t0 = Polyphony.now
    sleep 0.02 # timers left behind would fire here
    assert_operator Polyphony.now - t0, :>=, 0.019
  end

  def test_ruby_timeout_kept
    assert_respond_to Timeout, :orig_timeout
  end
end
