# frozen_string_literal: true

# Fiber control: await/join, Fiber.await, stop/interrupt, terminate, raise,
# restart, children ending with their parent, exceptions going to the
# parent, supervise.
require 'minitest/autorun'
require 'polyphony'

class FiberControlTest < Minitest::Test
  def teardown
    Fiber.current.shutdown_all_children
  end

  def test_await_returns_result
    f = spin { snooze; :result }
    assert_equal :result, f.await
    assert_equal :result, f.join
    assert_equal :result, f.result
  end

  def test_await_reraises_exception
    f = spin { snooze; raise ArgumentError, 'bad' }
    e = assert_raises(ArgumentError) { f.await }
    assert_equal 'bad', e.message
    assert_raises(ArgumentError) { f.await }
  end

  def test_fiber_class_await
    a = spin { sleep 0.01; 1 }
    b = spin { 2 }
    assert_equal [1, 2], Fiber.await(a, b)
    assert_equal [], Fiber.await
  end

  def test_stop_gives_value
    f = spin { sleep 1; :never }
    snooze
    f.stop(:stopped)
    assert_equal :stopped, f.await
    g = spin { suspend }
    snooze
    g.interrupt
    assert_nil g.await
  end

  def test_terminate
    ensured = false
    f = spin do
      sleep 1
    ensure
      ensured = true
    end
    snooze
    f.terminate
    assert_nil f.await
    assert ensured
    assert_equal :dead, f.state
  end

  def test_stop_before_start
    ran = false
    f = spin { ran = true }
    f.stop(:early)
    assert_equal :early, f.await
    refute ran
  end

  def test_raise_in_fiber
    f = spin { sleep 1 }
    snooze
    f.raise(IOError, 'closed')
    e = assert_raises(IOError) { f.await }
    assert_equal 'closed', e.message
  end

  def test_restart_running_fiber
    runs = []
    f = spin do |v|
      runs << v
      suspend
      :end
    end
    snooze
    f.restart(:again)
    snooze
    f.schedule
    assert_equal :end, f.await
    assert_equal [nil, :again], runs
  end

  def test_restart_dead_fiber_spins_a_new_one
    count = 0
    f = spin { count += 1 }
    f.await
    g = f.restart
    refute_same f, g
    g.await
    assert_equal 2, count
  end

  def test_children_terminated_with_parent
    grandchildren = []
    parent = spin do
      2.times { grandchildren << spin { sleep 5 } }
      snooze
      :parent_done
    end
    assert_equal :parent_done, parent.await
    assert_equal 2, grandchildren.size
    grandchildren.each { |c| assert_equal :dead, c.state }
    assert_empty parent.children
  end

  def test_children_terminated_when_parent_stopped
    child = nil
    parent = spin do
      child = spin { sleep 5 }
      sleep 5
    end
    snooze
    snooze
    parent.stop
    parent.await
    assert_equal :dead, child.state
  end

  def test_uncaught_exception_goes_to_parent
    parent = spin do
      spin { raise 'child failed' }
      sleep 1
      :not_reached
    end
    e = assert_raises(RuntimeError) { parent.await }
    assert_equal 'child failed', e.message
  end

  def test_uncaught_exception_reaches_main_fiber
    spin { raise KeyError, 'from child' }
    e = assert_raises(KeyError) { sleep 1 }
    assert_equal 'from child', e.message
  end

  def test_awaited_exception_not_sent_to_parent
    f = spin { raise 'awaited' }
    assert_raises(RuntimeError) { f.await }
    assert_equal :ok, move_on_after(0.02, with_value: :ok) { sleep 1 }
  end

  def test_when_done
    results = []
    f = spin { :r }
    f.when_done { |r| results << r }
    f.await
    assert_equal [:r], results
  end

  def test_supervise_waits_for_children
    buf = []
    spin { sleep 0.01; buf << :a }
    spin { buf << :b }
    supervise
    assert_equal %i[b a], buf
  end

  def test_supervise_restarts_on_error
    attempts = 0
    spin do
      attempts += 1
      raise 'flaky' if attempts < 3

      :ok
    end
    errors = []
    supervise(restart: :on_error, on_error: ->(_f, e) { errors << e.message })
    assert_equal 3, attempts
    assert_equal %w[flaky flaky], errors
  end
  def test_exception_knows_its_fiber
    f = spin { raise 'mine' }
    e = assert_raises(RuntimeError) { f.await }
    assert_equal f, e.source_fiber
  end

  def test_select
    slow = spin { sleep 0.05; :slow }
    fast = spin { sleep 0.01; :fast }
    assert_equal [fast, :fast], Fiber.select(slow, fast)
    assert_equal :slow, slow.await
  end
  def test_spin_loop_and_its_location
    buf = []
    f = spin_loop(:looper) { buf << :tick; snooze }
    line = __LINE__ - 1
    assert_match(/\A#{Regexp.escape(__FILE__)}:#{line}:/, f.location)
    assert_equal :looper, f.tag
    snooze
    snooze
    f.stop
    f.await
    assert_equal %i[tick tick], buf
  end

  def test_detach_and_attach_to
    child = nil
    parent = spin do
      child = spin { receive }
      suspend
    end
    snooze
    snooze
    other = spin { suspend }
    child.attach_to(other)
    assert_equal other, child.parent
    assert_includes other.children, child
    refute_includes parent.children, child
    child.detach
    assert_equal Fiber.current, child.parent
    parent.schedule
    parent.await
    refute_equal :dead, child.state
    child << :bye
    assert_equal :bye, child.await
  end
end
