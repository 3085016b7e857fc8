# frozen_string_literal: true

# Scheduling: spin, snooze, suspend, schedule, states, the fiber tree,
# mailboxes (1,000 fibers exchanging messages), cross-thread scheduling.
require 'minitest/autorun'
require 'polyphony'

class SchedulingTest < Minitest::Test
  def teardown
    Fiber.current.shutdown_all_children
  end

  def test_backend_kind_matches_environment
    wanted = ENV['POLYPHONY_BACKEND'] == 'libev' ? :libev : Thread.current.backend.kind
    assert_equal wanted, Polyphony.backend
    assert_includes %i[libev io_uring], Polyphony.backend
    assert_equal Polyphony.backend, Thread.current.backend.kind
  end

  def test_spin_runs_children_in_order_with_snooze
    buf = []
    a = spin { 3.times { |i| buf << [:a, i]; snooze } }
    b = spin { 3.times { |i| buf << [:b, i]; snooze } }
    Fiber.await(a, b)
    assert_equal [[:a, 0], [:b, 0], [:a, 1], [:b, 1], [:a, 2], [:b, 2]], buf
  end

  def test_spin_is_child_of_current_fiber
    f = spin { :x }
    assert_equal Fiber.current, f.parent
    assert_includes Fiber.current.children, f
    g = f.spin { :y } unless f.state == :dead
    f.await
    g&.await
    refute_includes Fiber.current.children, f
  end

  def test_states
    main = Fiber.current
    seen = nil
    f = spin { seen = [main.state, Fiber.current.state]; suspend }
    assert_equal :runnable, f.state
    assert_equal :running, main.state
    snooze
    assert_equal %i[runnable running], seen
    assert_equal :waiting, f.state
    f.schedule
    f.await
    assert_equal :dead, f.state
    refute f.alive?
  end

  def test_suspend_returns_scheduled_value
    main = Fiber.current
    spin { main.schedule(:hello) }
    assert_equal :hello, suspend
  end

  def test_suspend_raises_scheduled_exception
    main = Fiber.current
    spin { main.schedule(RuntimeError.new('boo')) }
    e = assert_raises(RuntimeError) { suspend }
    assert_equal 'boo', e.message
  end

  def test_thread_switch_fiber_and_schedule_fiber
    main = Fiber.current
    spin { Thread.current.schedule_fiber(main, 42) }
    assert_equal 42, Thread.current.switch_fiber
    assert_equal main, Thread.current.main_fiber
    assert_equal true, main.main?
    assert_nil spin {}.main?
  end

  def test_tag_and_location
    f = spin(:worker) { :ok }
    line = __LINE__ - 1
    assert_equal :worker, f.tag
    f.tag = :renamed
    assert_equal :renamed, f.tag
    assert_equal "#{__FILE__}:#{line}:in `test_tag_and_location'", f.location
    assert_equal '(root)', Fiber.current.location
    assert_match(/\A#<Fiber renamed:\d+ #{Regexp.escape(__FILE__)}:#{line}:in .* \(runnable\)>\z/, f.inspect)
    f.await
  end

  def test_mailbox_send_receive
    f = spin { [receive, receive] }
    f << :a
    f.send(:b)
    assert_equal %i[a b], f.await
  end

  def test_receive_all_pending
    f = spin do
      suspend
      receive_all_pending
    end
    snooze
    f << 1 << 2 << 3
    f.schedule
    assert_equal [1, 2, 3], f.await
  end

  def test_thousand_fibers_exchange_messages
    count = 1000
    collector = spin do
      got = []
      (count * 2).times { got << receive }
      got
    end
    workers = Array.new(count) do |i|
      spin do
        peer = receive
        peer << [:ping, i]
        reply = receive
        collector << [:got, i, reply]
        collector << [:done, i]
      end
    end
    workers.each_with_index { |w, i| w << workers[(i + 1) % count] }
    # Every worker pings its successor; the successor's reply slot gets it.
    got = collector.await
    workers.each { |w| w.await }
    assert_equal count * 2, got.size
    replies = got.select { |m| m[0] == :got }
    assert_equal (0...count).to_a, replies.map { |m| m[1] }.sort
    replies.each do |_, i, reply|
      assert_equal [:ping, (i - 1) % count], reply
    end
    assert_equal (0...count).to_a, got.select { |m| m[0] == :done }.map { |m| m[1] }.sort
  end

  def test_schedule_from_another_thread_wakes_the_loop
    main = Fiber.current
    ready = Queue.new
    t = Thread.new do
      ready.pop
      main << :from_thread # schedules main, waiting in receive below
    end
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    spin { ready << true }
    assert_equal :from_thread, receive
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - started, :<, 2
    t.join
  end

  def test_message_from_another_thread
    r = spin { receive }
    snooze
    Thread.new { r << :hi }.join
    assert_equal :hi, r.await
  end

  def test_other_thread_has_its_own_runtime
    result = Thread.new do
      buf = []
      f = spin { buf << :child }
      f.await
      [buf, Thread.current.backend.equal?(Thread.main.backend), Fiber.current.main?]
    end.value
    assert_equal [[:child], false, true], result
  end

  def test_busy_fibers_do_not_starve_timers
    stop = false
    busy = spin { snooze until stop }
    sleeper = spin { sleep 0.02; stop = true; :woke }
    assert_equal :woke, sleeper.await
    busy.await
  end

  # Counted in snoozes, not timed: the fairness poll comes within 64
  # switches and the backend's gap (0.1 ms at most), far fewer snoozes
  # than this bound, which only a starved waiter would reach.
  STARVED = 2_000_000

  def test_busy_fibers_do_not_starve_a_ready_socket
    a, b = UNIXSocket.pair
    got = nil
    reader = spin { got = a.read(1) }
    snooze # the reader waits on a
    b.write('x')
    snoozes = 0
    busy = spin do
      until got || snoozes >= STARVED
        snooze
        snoozes += 1
      end
    end
    assert_equal 'x', reader.await
    busy.await
    assert_operator snoozes, :<, STARVED
  ensure
    a&.close
    b&.close
  end

  # A timeout's timer is no op in flight: it fires all the same.
  def test_busy_fiber_is_stopped_by_its_timeout
    snoozes = 0
    move_on_after(0.005) do
      while snoozes < STARVED
        snooze
        snoozes += 1
      end
    end
    assert_operator snoozes, :<, STARVED
  end
  def test_suspend_returns_when_nothing_else_can_run
    values = []
    spin { values << 1 }
    spin { values << 2; suspend }
    assert_nil suspend
    assert_equal [1, 2], values
  end

  # A fiber that ends with nothing left to run hands the loop's wait to the
  # main fiber: what runs inside that wait (the idle proc here; trap
  # handlers, the debugger's stops) runs in a live fiber, not a finished one.
  def test_the_wait_after_a_fiber_ends_runs_in_the_main_fiber
    seen = []
    backend = Thread.current.backend
    backend.idle_proc = proc { seen << [Fiber.current, Fiber.current.state] }
    worker = spin { :done }
    sleep 0.001
    assert_equal :dead, worker.state
    refute_empty seen
    seen.each { |fiber, state| assert_equal [Fiber.current, :running], [fiber, state] }
  ensure
    backend.idle_proc = nil
  end

  # ... and where the main fiber is not in a wait of its own (it resumed a
  # plain fiber, which waits), the loop goes on where it is.
  def test_a_fiber_ending_while_the_main_fiber_is_not_waiting
    result = Fiber.new do
      worker = spin { :done }
      sleep 0.001
      [worker.state, worker.result]
    end.resume
    assert_equal [:dead, :done], result
    assert_equal :running, Fiber.current.state
  end

  # A plain Fiber#resume is not a switch the scheduler sees: the state of the
  # fibers on either side of it is still right.
  def test_states_across_a_plain_resume
    main = Fiber.current
    inner = Fiber.new { [Fiber.current.state, main.state] }
    assert_equal %i[running waiting], inner.resume
    assert_equal :dead, inner.state

    outer = Fiber.new do
      snooze
      r, w = IO.pipe
      spin { w << 'x' }
      [r.read(1), Fiber.current.state, main.state]
    end
    assert_equal ['x', :running, :waiting], outer.resume
    assert_equal :running, main.state
  end
end
