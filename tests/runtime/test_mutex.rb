# frozen_string_literal: true

# Polyphony::Mutex: exclusion across fibers that switch inside the critical
# section, order of waiters, re-entrance, owned?/locked?, release on raise.
require 'minitest/autorun'
require 'polyphony'

class MutexTest < Minitest::Test
  def test_exclusion_across_switches
    m = Polyphony::Mutex.new
    log = []
    fibers = Array.new(3) do |i|
      spin do
        m.synchronize do
          log << [:in, i]
          snooze
          sleep 0.001
          log << [:out, i]
        end
      end
    end
    fibers.each(&:await)
    assert_equal [[:in, 0], [:out, 0], [:in, 1], [:out, 1], [:in, 2], [:out, 2]], log
  end

  def test_owned_locked_and_reentrance
    m = Polyphony::Mutex.new
    refute_predicate m, :locked?
    m.synchronize do
      assert_predicate m, :owned?
      assert_predicate m, :locked?
      assert_equal :inner, m.synchronize { :inner }
      other = spin { [m.owned?, m.locked?] }
      assert_equal [false, Fiber.current], other.await # locked? gives the holder
    end
    refute_predicate m, :locked?
  end

  def test_released_when_block_raises
    m = Polyphony::Mutex.new
    assert_raises(RuntimeError) { m.synchronize { raise 'boom' } }
    refute_predicate m, :locked?
    assert_equal :ok, spin { m.synchronize { :ok } }.await
  end

  def test_waiter_cancelled_does_not_take_lock
    m = Polyphony::Mutex.new
    holder_may_go = Polyphony::Event.new
    holder = spin { m.synchronize { holder_may_go.await } }
    snooze
    v = move_on_after(0.02, with_value: :gave_up) { m.synchronize { :got_it } }
    assert_equal :gave_up, v
    holder_may_go.signal
    holder.await
    assert_equal :got_it, m.synchronize { :got_it }
  end
end
