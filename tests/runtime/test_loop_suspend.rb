# frozen_string_literal: true

# Loop suspend/resume: time spent suspended does not count towards timers.
require 'minitest/autorun'
require 'polyphony'

class LoopSuspendTest < Minitest::Test
  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # Blocks the thread without entering the runtime, as a debugger stop does.
  def raw_wait(seconds)
    IO.select(nil, nil, nil, seconds)
  end

  # Measured from inside: the suspension lasted at least s1 - s0, and the
  # sleeper had sleep_for of running time on top of it (timers never fire
  # early), however late it woke on a loaded machine. Woken only after the
  # suspension was counted twice, it would be later than the last bound.
  def test_suspended_time_does_not_count
    sleep_for = 0.3
    armed_at = woke_at = nil
    sleeper = spin { armed_at = now; sleep sleep_for; woke_at = now }
    snooze # the sleeper's timer is armed
    backend = Thread.current.backend
    backend.loop_suspend
    assert backend.loop_suspended?
    s0 = now
    raw_wait(0.5)
    s1 = now
    backend.loop_resume
    sleeper.await
    assert_operator woke_at - armed_at, :>=, sleep_for + (s1 - s0)
    assert_operator woke_at - armed_at, :<, sleep_for + 2 * (s1 - s0)
  end

  # The runtime's clock went on only outside the suspension: by no more
  # than the wall time around it less the time measured inside it.
  def test_runtime_clock_stops
    backend = Thread.current.backend
    s0 = s1 = nil
    t0 = now
    before = backend.now
    Polyphony.loop_suspend do
      s0 = now
      raw_wait(0.1)
      s1 = now
    end
    after = backend.now
    t1 = now
    assert_operator after - before, :<=, (t1 - t0) - (s1 - s0) + 1e-6
    refute backend.loop_suspended?
  end

  def test_nesting
    backend = Thread.current.backend
    backend.loop_suspend
    backend.loop_suspend
    backend.loop_resume
    assert backend.loop_suspended?
    backend.loop_resume
    refute backend.loop_suspended?
    assert_raises(RuntimeError) { backend.loop_resume }
  end

  # Suspended for longer than the timeout, the block still ends in time:
  # 0.25 s of running time is left for it, which no loaded machine takes.
  def test_timeouts_suspended_too
    t0 = now
    r = move_on_after(0.3, with_value: :late) do
      Polyphony.loop_suspend { raw_wait(0.4) }
      sleep 0.05
      :in_time
    end
    assert_equal :in_time, r
    assert_operator now - t0, :>=, 0.45
  end
end
