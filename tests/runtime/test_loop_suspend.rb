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

  def test_suspended_time_does_not_count
    sleep_for = 0.3
    suspended_for = 0.5
    woke_at = nil
    sleeper = spin { sleep sleep_for; woke_at = now }
    snooze # the sleeper's timer is armed
    t0 = now
    backend = Thread.current.backend
    backend.loop_suspend
    assert backend.loop_suspended?
    raw_wait(suspended_for)
    backend.loop_resume
    resumed_at = now
    sleeper.await
    # about sleep_for of running time: not at once after resume
    assert_operator woke_at - resumed_at, :>=, sleep_for - (resumed_at - t0 - suspended_for) - 0.05
    assert_in_delta sleep_for + suspended_for, woke_at - t0, 0.15
  end

  def test_runtime_clock_stops
    backend = Thread.current.backend
    before = backend.now
    Polyphony.loop_suspend { raw_wait(0.1) }
    assert_in_delta 0, backend.now - before, 0.05
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

  def test_timeouts_suspended_too
    t0 = now
    r = move_on_after(0.1, with_value: :late) do
      Polyphony.loop_suspend { raw_wait(0.2) }
      sleep 0.05
      :in_time
    end
    assert_equal :in_time, r
    assert_operator now - t0, :>=, 0.25
  end
end
