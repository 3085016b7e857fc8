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

  def test_main_fiber_sleep_lets_spun_fibers_run
    buf = []
    spin { 3.times { |i| buf << i; snooze } }
    t0 = now
    sleep 0.05
    assert_equal [0, 1, 2], buf
    assert_in_delta 0.05, now - t0, 0.04
  end

  def test_sleeps_overlap
    t0 = now
    fibers = Array.new(10) { spin { sleep 0.05 } }
    Fiber.await(*fibers)
    assert_operator now - t0, :<, 0.2
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
    assert_in_delta 0.02, now - t0, 0.05
    assert_equal :fine, cancel_after(1) { :fine }
  end

  def test_cancel_after_with_exception
    e = assert_raises(ArgumentError) { cancel_after(0.01, with_exception: [ArgumentError, 'late']) { sleep 1 } }
    assert_equal 'late', e.message
    assert_raises(IOError) { cancel_after(0.01, with_exception: IOError) { sleep 1 } }
  end

  def test_nested_timeouts
    r = move_on_after(0.2, with_value: :outer) do
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

  def test_throttled_loop_inside_move_on_after_stops_on_time
    count = 0
    t0 = now
    move_on_after(0.1) { throttled_loop(50) { count += 1 } }
    elapsed = now - t0
    assert_in_delta 0.1, elapsed, 0.05
    assert_includes 3..7, count
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
    # Cancelled from outside, it stops: at most one tick per interval fits.
    times.clear
    move_on_after(0.075) { every(0.02) { times << now } }
    assert_operator times.size, :<=, 3
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
  # the last reset however loaded the machine is (the interval is well above
  # the sleeps, so that a slow wake-up does not let it pass before a reset).
  def test_timeout_reset_postpones
    last_reset = nil
    assert_raises(Polyphony::Cancel) do
      cancel_after(0.1) do |timeout|
        sleep 0.02
        timeout.reset
        sleep 0.02
        last_reset = now
        timeout.reset
        sleep 1
      end
    end
    refute_nil last_reset
    assert_operator now - last_reset, :>=, 0.1
  end

  def test_polyphony_timer
    timer = Polyphony::Timer.new(resolution: 0.01)
    started = now
    reset_at = nil
    assert_raises(Polyphony::Cancel) do
      timer.cancel_after(0.03) do
        sleep 0.02
        reset_at = now
        timer.reset
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
