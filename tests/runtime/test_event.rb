# frozen_string_literal: true

# Polyphony::Event: await until signal, the signal's value, a remembered
# signal, several waiters, an interrupted waiter, a signal from a thread.
require 'minitest/autorun'
require 'polyphony'

class EventTest < Minitest::Test
  def test_await_returns_signal_value
    e = Polyphony::Event.new
    f = spin { e.await }
    snooze
    assert_predicate e, :waiting?
    e.signal(:hello)
    assert_equal :hello, f.await
  end

  def test_signal_before_await_is_remembered_once
    e = Polyphony::Event.new
    e.signal(42)
    assert_predicate e, :signaled?
    assert_equal 42, e.await
    refute_predicate e, :signaled?
    v = move_on_after(0.02, with_value: :timeout) { e.await }
    assert_equal :timeout, v
  end

  def test_signal_wakes_all_waiters
    e = Polyphony::Event.new
    fibers = Array.new(5) { |i| spin { [i, e.await] } }
    snooze
    e.signal(:go)
    assert_equal Array.new(5) { |i| [i, :go] }, fibers.map(&:await)
  end

  def test_waiter_resumed_by_something_else_keeps_waiting
    e = Polyphony::Event.new
    f = spin { e.await }
    snooze
    f.schedule(:not_a_signal)
    snooze
    assert f.alive?
    e.signal(:the_signal)
    assert_equal :the_signal, f.await
  end

  def test_signal_after_waiter_left_is_remembered
    e = Polyphony::Event.new
    move_on_after(0.01) { e.await }
    e.signal(:kept)
    assert_equal :kept, e.await
  end

  def test_interrupted_waiter_leaves
    e = Polyphony::Event.new
    v = move_on_after(0.02, with_value: :gone) { e.await }
    assert_equal :gone, v
    refute_predicate e, :waiting?
  end

  def test_signal_from_another_thread
    e = Polyphony::Event.new
    waiter = spin { e.await }
    snooze
    Thread.new { e.signal(:from_thread) }.join
    assert_equal :from_thread, waiter.await
  end

  # Signals that come while the fiber they woke has not run yet are part of
  # that wake-up (Polyphony 1.6): the next await waits.
  def test_signals_coalesce_into_a_pending_wake_up
    e = Polyphony::Event.new
    waiter = spin { [e.await, move_on_after(0.05, with_value: :waited) { e.await }] }
    snooze
    # The main fiber waits with Thread.pass, not the fiber-aware join, so
    # the woken fiber cannot run between two of the thread's signals (it
    # could when the thread lost the GVL mid-way on a busy machine).
    signaler = Thread.new { 3.times { |i| e.signal(i) } }
    Thread.pass while signaler.alive?
    signaler.join
    assert_equal [0, :waited], waiter.await
    # once the woken fiber has run, a signal is remembered again
    e.signal(:later)
    assert_equal :later, e.await
  end

  def test_signal_after_a_woken_waiter_died_is_remembered
    e = Polyphony::Event.new
    waiter = spin { e.await }
    snooze
    e.signal(:first)
    waiter.kill
    waiter.join rescue nil # rubocop:disable Style/RescueModifier
    e.signal(:second)
    assert_equal :second, e.await
  end
end
