# frozen_string_literal: true

# Polyphony 1.6 scheduling calls: Queue#flush_waiters, Thread#fiber_unschedule,
# Thread#schedule_and_wakeup; scheduling a runnable fiber again moves it to
# the back of the run queue (the front when prioritized), but never replaces
# an interrupt already scheduled; sleep and Backend#wait_event without an
# argument wait even when nothing else could wake them.
require 'minitest/autorun'
require 'polyphony'

class CompatSchedulingApiTest < Minitest::Test
  def teardown
    Fiber.current.shutdown_all_children
  end

  def test_flush_waiters_raises_an_exception_in_every_shift_waiter
    q = Polyphony::Queue.new
    got = []
    fibers = Array.new(3) do |i|
      spin do
        q.shift
      rescue RuntimeError => e
        got << [i, e.message]
      end
    end
    snooze
    assert_equal 3, q.num_waiting
    q.flush_waiters(RuntimeError.new('flushed'))
    Fiber.await(*fibers)
    assert_equal [[0, 'flushed'], [1, 'flushed'], [2, 'flushed']], got
    assert_equal 0, q.num_waiting
  end

  def test_flush_waiters_with_a_value_makes_waiters_wait_again
    q = Polyphony::Queue.new
    f = spin { q.shift }
    snooze
    q.flush_waiters(:not_an_item)
    snooze
    assert_equal :waiting, f.state
    q << :item
    assert_equal :item, f.await
  end

  def test_fiber_unschedule_takes_a_fiber_off_the_run_queue
    ran = false
    f = spin { suspend; ran = true }
    snooze
    f.schedule(:go)
    assert_equal :runnable, f.state
    Thread.current.fiber_unschedule(f)
    snooze
    refute ran
    assert_equal 0, Thread.current.runqueue_size
    f.schedule
    f.await
    assert ran
  end

  def test_schedule_and_wakeup_runs_the_fiber_first
    order = []
    f = spin { order << [:f, suspend] }
    spin { order << :other }
    snooze
    order.clear
    spin { order << :later }
    Thread.current.schedule_and_wakeup(f, :v)
    order << :caller
    assert_equal [:f, :v], order.first
    assert_includes order, :caller
    f.await
  end

  def test_schedule_and_wakeup_from_another_thread_wakes_the_loop
    q = Polyphony::Queue.new
    f = spin { q << suspend }
    snooze
    main = Thread.current
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    Thread.new { main.schedule_and_wakeup(f, :from_thread) }
    # the main fiber waits in the loop (a queue wait) until the thread wakes it
    assert_equal :from_thread, q.shift
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0, :<, 1
  end

  def test_scheduling_a_runnable_fiber_again_moves_it_to_the_back
    log = []
    a = spin { log << [:a, suspend] }
    b = spin { log << [:b, suspend] }
    c = spin { log << [:c, suspend] }
    snooze # all three wait in suspend
    a.schedule(1)
    b.schedule(2)
    c.schedule(3)
    a.schedule(4) # a goes behind c
    Thread.current.schedule_fiber_with_priority(c, 5) # c goes first
    snooze
    assert_equal [[:c, 5], [:b, 2], [:a, 4]], log
  end

  def test_rescheduling_never_replaces_a_scheduled_interrupt
    f = spin do
      suspend
    rescue RuntimeError => e
      e.message
    end
    other = spin { suspend }
    snooze
    f.raise(RuntimeError, 'boom')
    other.schedule
    f.schedule(:plain)
    assert_equal 'boom', f.await
  end

  def test_sleep_without_argument_waits_though_nothing_could_wake_it
    r, w = IO.pipe
    pid = fork do
      r.close
      trap('USR1') { w << 'woken'; w.close; exit!(0) }
      w << 'ready'
      sleep # nothing else runs: Polyphony's sleep waits (for the signal) anyway
      w << 'returned'
      w.close
      exit!(1)
    end
    w.close
    assert_equal 'ready', r.readpartial(5)
    Process.kill('USR1', pid)
    assert_equal 'woken', r.read
    assert_equal 0, Process.wait2(pid).last.exitstatus
  end

  def test_wait_event_waits_until_scheduled
    main = Fiber.current
    spin { main.schedule(:event) }
    assert_equal :event, Thread.current.backend.wait_event
    spin { main.schedule(RuntimeError.new('e')) }
    assert_raises(RuntimeError) { Polyphony.backend_wait_event(true) }
    spin { main.schedule(RuntimeError.new('f')) }
    assert_equal 'f', Thread.current.backend.wait_event(false).message
  end
end
