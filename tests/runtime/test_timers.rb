# frozen_string_literal: true

# Timers and cancellation: sleep in every fiber, move_on_after,
# cancel_after, throttled_loop, every, after, Polyphony::Timer, and a
# cancel_after timer reset a million times.
require 'minitest/autorun'
require 'polyphony'

class TimersTest < Minitest::Test
  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def teardown
    Fiber.current.shutdown_all_children
  end

  # Timers never fire early; how late depends on the machine's load, so the
  # upper bounds below only say that the timer, not something slower (a
  # whole second), ended the wait.
  def test_main_fiber_sleep_lets_spun_fibers_run
    buf = []
    spin { 3.times { |i| buf << i; snooze } }
    t0 = now
    sleep 0.05
    assert_equal [0, 1, 2], buf
    assert_operator now - t0, :>=, 0.05
    assert_operator now - t0, :<, 1
  end

  # Overlapping, not timed: every sleeper started sleeping before any of
  # them woke (one after the other, the first would wake first).
  def test_sleeps_overlap
    log = []
    fibers = Array.new(10) { |i| spin { log << [:slept, i]; sleep 0.05; log << [:woke, i] } }
    Fiber.await(*fibers)
    assert_equal Array.new(10) { |i| [:slept, i] }, log.first(10)
    assert_equal 10, log.count { |kind, _| kind == :woke }
  end

  def test_move_on_after_value
    assert_equal :timeout, move_on_after(0.01, with_value: :timeout) { sleep 1 }
    assert_nil move_on_after(0.01) { sleep 1 }
    assert_equal :done, move_on_after(1, with_value: :timeout) { :done }
  end

  def test_move_on_after_stops_timer_when_block_ends
    move_on_after(0.01) { :quick }
    sleep 0.03 # the expired timer must not interrupt this
    assert_equal 0, Thread.current.backend.stats[:pending_timers]
  end

  def test_cancel_after_raises
    t0 = now
    assert_raises(Polyphony::Cancel) { cancel_after(0.02) { sleep 1 } }
    assert_operator now - t0, :>=, 0.02
    assert_operator now - t0, :<, 1 # the timer, not the end of the sleep
    assert_equal :fine, cancel_after(1) { :fine }
  end

  def test_cancel_after_with_exception
    e = assert_raises(ArgumentError) { cancel_after(0.01, with_exception: [ArgumentError, 'late']) { sleep 1 } }
    assert_equal 'late', e.message
    assert_raises(IOError) { cancel_after(0.01, with_exception: IOError) { sleep 1 } }
  end

  # The outer deadline is far: were both due at one poll (a machine stalled
  # past both), the later one would win, as in Polyphony.
  def test_nested_timeouts
    r = move_on_after(5, with_value: :outer) do
      move_on_after(0.01, with_value: :inner) { sleep 1 }
    end
    assert_equal :inner, r
    r = move_on_after(0.01, with_value: :outer) do
      move_on_after(1, with_value: :inner) { sleep 1 }
    end
    assert_equal :outer, r
  end

  def test_exception_classes
    assert_operator Polyphony::MoveOn, :<, Polyphony::Interrupt
    assert_operator Polyphony::Cancel, :<, Polyphony::BaseException
    assert_operator Polyphony::Terminate, :<, Polyphony::BaseException
    assert_operator Polyphony::Restart, :<, Polyphony::BaseException
    assert_equal 5, Polyphony::MoveOn.new(5).value
  end

  # Calls are at least 1/rate apart (never more than fit in the time the
  # loop really ran, however late the timers came), and more than the first
  # one came before the timeout.
  def test_throttled_loop_inside_move_on_after_stops_on_time
    count = 0
    t0 = now
    move_on_after(0.3) { throttled_loop(50) { count += 1 } }
    elapsed = now - t0
    assert_operator elapsed, :>=, 0.3
    assert_operator elapsed, :<, 2
    assert_operator count, :>=, 2
    assert_operator count, :<=, ((elapsed + 0.001) / 0.02).floor + 1
  end

  def test_throttled_loop_count
    count = 0
    throttled_loop(1000, count: 5) { count += 1 }
    assert_equal 5, count
  end

  def test_every
    # Tick k comes no earlier than start + k * interval (no drift, never
    # early); how much later depends on the machine, so that is not asserted.
    times = []
    t0 = now
    every(0.02) { times << now; break if times.size == 3 }
    times.each_with_index do |t, k|
      assert_operator t - t0, :>=, (k + 1) * 0.02 - 0.001, "tick #{k + 1} came early"
    end
    # Cancelled from outside, it stops; no tick came before its time, so no
    # more came than intervals fit in the time it ran.
    times.clear
    t0 = now
    move_on_after(0.075) { every(0.02) { times << now } }
    assert_operator times.size, :<=, ((now - t0 + 0.001) / 0.02).floor
  end

  # A block that outlasts the interval: each late tick comes after a snooze
  # (Polyphony 1.6), so the other fibers run between any two ticks and a
  # timeout can stop the loop. Counted in turns, not timed.
  def test_every_with_a_slow_block_lets_others_run
    turns = 0
    other = spin { loop { turns += 1; snooze } }
    seen = []
    move_on_after(0.05) do
      every(0.001) do
        seen << turns
        flunk "every kept the thread for #{seen.size} ticks" if seen.size > 1000
        t0 = now
        nil while now - t0 < 0.003
      end
    end
    other.stop
    seen.each_cons(2) { |a, b| assert_operator b, :>, a, 'two ticks with no other fiber between them' }
  end

  # An interval that is not a positive number is refused before the first
  # tick (no tick could ever pass a zero one: the loop would spin for good).
  def test_every_refuses_an_interval_that_is_not_positive
    [0, -1, 0.0, Float::NAN, nil, '1'].each do |bad|
      ticks = 0
      err = assert_raises(ArgumentError) { every(bad) { ticks += 1 } }
      assert_match(/interval must be a positive number of seconds/, err.message)
      assert_equal 0, ticks
    end
  end

  def test_after
    buf = []
    f = after(0.01) { buf << :fired }
    assert_empty buf
    f.await
    assert_equal [:fired], buf
  end

  def test_timeout_reset_a_million_times
    GC.start
    rss_before = File.read('/proc/self/status')[/VmRSS:\s+(\d+)/, 1].to_i
    cancel_after(5) do |timeout|
      1_000_000.times { timeout.reset }
      assert_equal 1, Thread.current.backend.stats[:pending_timers]
    end
    GC.start
    rss_after = File.read('/proc/self/status')[/VmRSS:\s+(\d+)/, 1].to_i
    assert_operator rss_after - rss_before, :<, 20_000 # kB
    assert_equal 0, Thread.current.backend.stats[:pending_timers]
  end

  # Timers never fire early, so the cancel comes at least the interval after
  # the last reset however loaded the machine is; a reset that did nothing
  # would let it come 0.06 s after the second one. (A machine too busy to
  # end a 0.02 s sleep within 0.1 s lets the deadline pass before a reset:
  # then it comes at least the interval after the start.)
  def test_timeout_reset_postpones
    started = now
    last_reset = nil
    assert_raises(Polyphony::Cancel) do
      cancel_after(0.1) do |timeout|
        2.times do
          sleep 0.02
          timeout.reset
          last_reset = now
        end
        sleep 1
      end
    end
    assert_operator now - (last_reset || started), :>=, 0.1
  end

  def test_polyphony_timer
    timer = Polyphony::Timer.new(resolution: 0.01)
    started = now
    reset_at = nil
    assert_raises(Polyphony::Cancel) do
      timer.cancel_after(0.03) do
        sleep 0.02
        timer.reset
        reset_at = now
        sleep 1
      end
    end
    # Never early: 0.03 s after the last (re)start. On a loaded machine the
    # sleep may outlast the deadline, and the reset then comes too late.
    assert_operator now - (reset_at || started), :>=, 0.03
    assert_equal :v, timer.move_on_after(0.01, with_value: :v) { sleep 1 }
    buf = []
    timer.after(0.01) { buf << 1 }.await
    assert_equal [1], buf
  ensure
    timer&.stop
  end

  def test_sleep_without_argument_waits_until_scheduled
    main = Fiber.current
    spin { main.schedule }
    sleep
    pass
  end
  def test_sleep_returns_resume_value
    main = Fiber.current
    spin { main.schedule(:early) }
    assert_equal :early, sleep(1)
    assert_nil sleep(0.001)
  end

  def test_blockless_move_on_after_and_cancel_after
    f = move_on_after(0.01, with_value: 'foo')
    assert_equal Fiber.current, f.parent
    assert_equal 'foo', sleep(1)
    cancel_after(0.01)
    assert_raises(Polyphony::Cancel) { sleep 1 }
  end
  def test_backend_timeout
    backend = Thread.current.backend
    assert_raises(Polyphony::Cancel) { backend.timeout(0.01, Polyphony::Cancel) { sleep 1 } }
    assert_equal :late, backend.timeout(0.01, Polyphony::MoveOn, :late) { sleep 1 }
    assert_equal :in_time, backend.timeout(1) { :in_time }
  end
  def test_backend_timeout_nil_exception_moves_on
    assert_equal 42, Thread.current.backend.timeout(0.01, nil, 42) { sleep 1 }
    assert_raises(Polyphony::TimeoutException) do
      Thread.current.backend.timeout(0.01, Polyphony::TimeoutException) { sleep 1 }
    end
  end

  def test_idle_proc_runs_before_blocking
    counter = 0
    backend = Thread.current.backend
    backend.idle_proc = proc { counter += 1 }
    3.times { snooze }
    assert_equal 0, counter
    sleep 0.01
    assert_equal 1, counter
  ensure
    backend.idle_proc = nil
  end
end
