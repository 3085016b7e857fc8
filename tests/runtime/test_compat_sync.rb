# frozen_string_literal: true

# Polyphony 1.6 compatibility: Polyphony::ConditionVariable with
# Polyphony::Mutex — wait releases the mutex and takes it back, signal
# wakes one waiter in order, broadcast all, a timeout gives nil; the
# mutex's locked? gives the holding fiber.
require 'minitest/autorun'
require 'polyphony'

class CompatSyncTest < Minitest::Test
  def test_wait_releases_mutex_until_signal
    lock = Polyphony::Mutex.new
    cond = Polyphony::ConditionVariable.new
    log = []
    waiter = spin do
      lock.synchronize do
        log << :waiting
        r = cond.wait(lock)
        log << [:woken, lock.owned?]
        r
      end
    end
    snooze
    refute_predicate lock, :locked? # released while waiting
    lock.synchronize do
      log << :signaling
      cond.signal
      snooze
      log << :still_holding # the waiter cannot have the mutex yet
    end
    assert_equal true, waiter.await
    assert_equal [:waiting, :signaling, :still_holding, [:woken, true]], log
  end

  def test_signal_wakes_one_in_order_broadcast_all
    lock = Polyphony::Mutex.new
    cond = Polyphony::ConditionVariable.new
    woken = []
    fibers = Array.new(3) { |i| spin { lock.synchronize { cond.wait(lock); woken << i } } }
    snooze
    cond.signal
    snooze until woken.size == 1
    assert_equal [0], woken
    assert_predicate cond, :waiting?
    cond.broadcast
    Fiber.await(*fibers)
    assert_equal [0, 1, 2], woken
    refute_predicate cond, :waiting?
  end

  def test_wait_timeout
    lock = Polyphony::Mutex.new
    cond = Polyphony::ConditionVariable.new
    r = lock.synchronize { cond.wait(lock, 0.01) }
    assert_nil r
    refute_predicate cond, :waiting?
    refute_predicate lock, :locked?
  end

  def test_locked_gives_the_holder
    m = Polyphony::Mutex.new
    assert_nil m.locked?
    assert_equal false, m.owned?
    m.lock
    assert_same Fiber.current, m.locked?
    other = spin { [m.locked?, m.owned?] }
    assert_equal [Fiber.current, false], other.await
    m.unlock
    assert_nil m.locked?
  end
end
