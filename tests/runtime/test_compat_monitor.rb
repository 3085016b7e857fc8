# frozen_string_literal: true

# Polyphony 1.6 compatibility: Polyphony::Monitor is Ruby's Monitor (so
# Monitor.new and MonitorMixin are it too), owned by a fiber: fibers of one
# thread contend for it and wait in their fiber, re-entrance is per fiber,
# new_cond's wait gives true when signalled and false on timeout, and
# threads contend as in Ruby.
require 'minitest/autorun'
require 'polyphony'

class CompatMonitorTest < Minitest::Test
  def teardown
    Fiber.current.shutdown_all_children
  end

  def test_one_class
    assert_same ::Monitor, Polyphony::Monitor
    assert_kind_of Polyphony::Monitor, Monitor.new
  end

  def test_fibers_take_turns
    m = Polyphony::Monitor.new
    log = []
    a = spin { m.synchronize { 3.times { |i| log << [:a, i]; snooze } } }
    b = spin { m.synchronize { 3.times { |i| log << [:b, i]; snooze } } }
    Fiber.await(a, b)
    assert_equal [[:a, 0], [:a, 1], [:a, 2], [:b, 0], [:b, 1], [:b, 2]], log
  end

  def test_owned_per_fiber_and_reentrant
    m = Polyphony::Monitor.new
    m.enter
    m.enter
    assert m.mon_owned?
    assert_equal [false, true], spin { [m.try_enter, m.mon_locked?] }.await
    m.exit
    assert m.mon_owned?
    m.exit
    refute m.mon_locked?
    assert_raises(ThreadError) { m.exit }
  end

  def test_cond_wait_in_fibers
    m = Polyphony::Monitor.new
    cond = m.new_cond
    ready = false
    waiter = spin { m.synchronize { cond.wait_until { ready }; :woken } }
    snooze
    m.synchronize do
      ready = true
      cond.signal
    end
    assert_equal :woken, waiter.await
    assert_equal false, m.synchronize { cond.wait(0.01) }
    assert_equal false, spin { m.synchronize { cond.wait(0.01) } }.await
    signaller = spin { m.synchronize { cond.signal } }
    assert_equal true, m.synchronize { cond.wait(1) }
    signaller.await
  end

  def test_threads_contend
    m = Polyphony::Monitor.new
    counter = 0
    threads = Array.new(4) do
      Thread.new { 100.times { m.synchronize { v = counter; Thread.pass; counter = v + 1 } } }
    end
    threads.each(&:join)
    assert_equal 400, counter
  end
end
