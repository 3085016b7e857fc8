# frozen_string_literal: true

# The fiber lock: while held only its fiber runs; what is scheduled for
# others meanwhile is kept, in order, and runs after release.
require 'minitest/autorun'
require 'polyphony'

class FiberLockTest < Minitest::Test
  def teardown
    Fiber.current.shutdown_all_children
  end

  def test_lock_defers_others_and_loses_nothing
    log = []
    others = Array.new(3) { |i| spin { log << [:start, i]; v = suspend; log << [:got, i, v] } }
    snooze # all three wait in suspend
    Thread.current.fiber_lock do
      others.each_with_index { |f, i| f.schedule(i * 10) }
      3.times { snooze } # only the lock holder runs
      log << :locked_done
      assert_equal Fiber.current, Thread.current.fiber_lock_owner
    end
    assert_nil Thread.current.fiber_lock_owner
    Fiber.await(*others)
    assert_equal [[:start, 0], [:start, 1], [:start, 2], :locked_done,
                  [:got, 0, 0], [:got, 1, 10], [:got, 2, 20]], log
  end

  # A fiber held out by the lock whose fd became ready: its readiness must
  # not end every wait of the loop at once (a loop spinning while the
  # holder sleeps). Counted in polls, not timed.
  def test_ready_fd_of_a_held_out_fiber_does_not_spin_the_loop
    r, w = IO.pipe
    reader = spin { r.read(1) }
    snooze # the reader waits on r
    backend = Thread.current.backend
    polls = nil
    Thread.current.fiber_lock do
      w << 'x'
      before = backend.stats[:poll_count]
      sleep 0.05
      polls = backend.stats[:poll_count] - before
    end
    assert_equal 'x', reader.await
    assert_operator polls, :<, 20
  end

  def test_lock_holder_can_wait_on_io_and_timers
    r, w = IO.pipe
    ran = []
    Thread.current.fiber_lock do
      spin { ran << :other }
      writer = spin { w << 'x' }
      move_on_after(0.03) { r.read(1) } # the writer cannot run: timeout
      assert_empty ran
      refute_equal :dead, writer.state
      sleep 0.01
      assert_empty ran
    end
    snooze
    assert_equal [:other], ran
    assert_equal 'x', r.read(1)
  end

  def test_lock_for_another_fiber
    log = []
    a = spin { 3.times { |i| log << [:a, i]; snooze } }
    b = spin { 3.times { |i| log << [:b, i]; snooze } }
    Thread.current.fiber_lock(b) do
      suspend_main = Fiber.current
      spin { suspend_main.schedule } # kept until b ends and releases
      b.await
    end
    a.await
    assert_equal [[:b, 0], [:b, 1], [:b, 2]], log.first(3)
    assert_equal [[:a, 0], [:a, 1], [:a, 2]], log.last(3)
  end

  def test_lock_released_when_holder_ends
    f = spin { :done }
    Thread.current.fiber_lock(f)
    f.await
    assert_nil Thread.current.fiber_lock_owner
  ensure
    Thread.current.fiber_unlock
  end

  def test_cross_thread_events_kept_while_locked
    main = Fiber.current
    waiter = spin { suspend }
    snooze
    Thread.current.fiber_lock do
      Thread.new { waiter.schedule(:from_thread) }.join
      snooze
      assert_equal :runnable, waiter.state
    end
    assert_equal :from_thread, waiter.await
    assert_equal main, Fiber.current
  end
end
