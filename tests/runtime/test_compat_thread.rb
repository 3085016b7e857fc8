# frozen_string_literal: true

# Polyphony 1.6 compatibility: Thread#join / #await / #value wait in the
# calling fiber only (other fibers go on), give the value or raise the
# thread's exception, honour a timeout and can be interrupted.
require 'minitest/autorun'
require 'polyphony'

class CompatThreadTest < Minitest::Test
  def test_join_lets_other_fibers_run
    gate = Queue.new # a Ruby queue: the thread blocks for real
    ticks = 0
    ticker = spin do
      loop do
        ticks += 1
        gate << :go if ticks == 3
        sleep 0.001
      end
    end
    t = Thread.new { gate.pop; :done }
    assert_same t, t.join
    assert_operator ticks, :>=, 3 # the thread could end only after 3 ticks
    assert_equal :done, t.value
    ticker.stop
  end

  def test_await_and_exception
    t = Thread.new do
      Thread.current.report_on_exception = false
      raise 'boom'
    end
    err = assert_raises(RuntimeError) { t.await }
    assert_equal 'boom', err.message
  end

  def test_join_timeout_and_interrupt
    q = Queue.new
    t = Thread.new { q.pop }
    assert_nil t.join(0.01)
    assert_equal :moved, move_on_after(0.01, with_value: :moved) { t.join }
    q << 42
    assert_equal 42, t.value
  end

  def test_join_of_ended_thread
    t = Thread.new { 7 }
    Polyphony::ThreadJoin::RUBY_JOIN.bind_call(t) # ended before our join
    assert_same t, t.join
    assert_equal 7, t.value
  end
end
