# frozen_string_literal: true

# Polyphony 1.6 compatibility, fibers: value and kill, restart of a dead
# fiber (same parent and tag, a first value, the monitors), terminate's
# graceful: keyword, shutting down another fiber's children, Fiber.await of
# several (terminates the rest on an exception, then raises it) and
# Fiber.select (raises), the parent told of an uncaught exception first,
# interject, parking, spin_scope, and the timer fiber a cancel_after block
# gets.
require 'minitest/autorun'
require 'polyphony'

class CompatFiberApiTest < Minitest::Test
  def teardown
    Fiber.current.shutdown_all_children
  end

  def test_value_and_kill
    f = spin { snooze; :v }
    assert_equal :v, f.value
    log = []
    g = spin do
      sleep
    ensure
      log << :ensure
    end
    snooze
    g.kill
    assert_nil g.await
    assert_equal [:ensure], log
  end

  def test_restart_of_a_dead_fiber
    parent = spin { sleep }
    log = []
    f = parent.spin(:worker) { |v| log << v; receive }
    f.monitor(Fiber.current)
    snooze
    f << :first
    f.await
    fresh = f.restart(:again)
    refute_same f, fresh
    assert_same parent, fresh.parent
    assert_equal :worker, fresh.tag
    fresh << :second
    assert_equal :second, fresh.await
    assert_equal [nil, :again], log
    assert_equal [[f, :first], [fresh, :second]], Array.new(2) { Fiber.current.monitor_mailbox.shift }
  end

  def test_terminate_graceful_keyword
    log = []
    make = lambda do
      spin do
        sleep
      ensure
        log << Fiber.current.graceful_shutdown?
      end
    end
    f = make.call
    snooze
    f.terminate(graceful: true)
    f.await
    g = make.call
    snooze
    g.terminate(graceful: false)
    g.await
    parent = spin { 2.times { make.call }; sleep }
    snooze # parent spins them
    snooze # they start (a fiber terminated before it starts never runs its block)
    parent.shutdown_all_children(graceful: true)
    assert_equal [true, false, true, true], log
  end

  def test_shutdown_all_children_of_another_fiber
    f = spin do
      5.times { spin { sleep } }
      sleep
    end
    snooze
    assert_equal 5, f.children.size
    f.shutdown_all_children
    assert_empty f.children
    assert_equal :waiting, f.state
  end

  def test_await_several_raises_after_terminating_the_others
    f1 = spin { snooze; raise 'foo' }
    f2 = spin { snooze; :bar }
    f3 = spin { sleep 3 }
    err = assert_raises(RuntimeError) { Fiber.await(f1, f2, f3) }
    assert_equal 'foo', err.message
    assert_same f1, err.source_fiber
    assert_equal %i[dead dead dead], [f1, f2, f3].map(&:state)
    # the parent took the exception in the await: nothing else raises here
    assert_equal :ok, move_on_after(0.02, with_value: :ok) { sleep 1 }
  end

  def test_await_several_in_order_and_with_an_array
    a = spin { sleep 0.02; :a }
    b = spin { :b }
    assert_equal %i[a b], Fiber.await(a, b)
    assert_equal [], Fiber.await
    c = spin { :c }
    assert_equal [:c], Fiber.join([c])
  end

  def test_select_raises_and_leaves_the_others
    f1 = spin { snooze; raise 'foo' }
    f2 = spin { sleep 3 }
    err = assert_raises(RuntimeError) { Fiber.select(f1, f2) }
    assert_same f1, err.source_fiber
    assert_equal :waiting, f2.state
    f3 = spin { :first }
    assert_equal [f3, :first], Fiber.select(f3, f2)
  end

  def test_parent_hears_of_an_uncaught_exception_before_other_fibers_run
    log = []
    spin { raise 'child' }
    spin { log << :other }
    begin
      sleep 1
    rescue RuntimeError
      log << :parent
    end
    snooze
    assert_equal %i[parent other], log
  end

  def test_interject_runs_the_block_in_the_waiting_fiber
    buf = []
    f = spin_loop { buf << [:woke, sleep] }
    snooze
    f.interject { buf << Fiber.current }
    snooze
    assert_equal [f], buf
    assert_equal :waiting, f.state
    f.interject { raise Polyphony::MoveOn }
    snooze
    assert_equal :dead, f.state
  end

  def test_interject_block_cannot_wait
    f = spin do
      sleep
    rescue RuntimeError => e
      e.message
    end
    snooze
    f.interject { sleep 0.01 }
    assert_match(/interject block cannot wait/, f.await)
  end

  def test_interject_at_a_snooze
    seen = nil
    f = spin { 3.times { snooze }; :done }
    snooze
    f.interject { seen = Fiber.current }
    assert_equal :done, f.await
    assert_same f, seen
  end

  def test_parking
    buf = []
    f = spin { 3.times { |i| snooze; buf << i } }
    assert_nil f.__parked__?
    f.__park__
    assert_equal true, f.__parked__?
    10.times { snooze }
    assert_equal [], buf
    f.schedule # a wake-up while parked waits too
    f.__unpark__
    assert_nil f.__parked__?
    10.times { snooze }
    assert_equal [0, 1, 2], buf
  end

  def test_spin_scope
    q = Polyphony::Queue.new
    got = {}
    inner = nil
    result = spin_scope do
      inner = Fiber.current
      spin { got[:a] = q.shift }
      spin { got[:b] = q.shift }
      q << 1 << 2
      :done
    end
    assert_equal :done, result
    assert_equal :dead, inner.state
    assert_equal({ a: 1, b: 2 }, got)
  end

  def test_spin_scope_with_an_exception
    err = assert_raises(RuntimeError) do
      spin_scope do
        spin { sleep }
        spin { raise 'scoped' }
      end
    end
    assert_equal 'scoped', err.message
    assert_empty Fiber.current.children
  end

  def test_cancel_after_block_gets_a_timer_fiber
    now = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }
    t0 = last_reset = now.call
    timer = nil
    # Three 0.3 s sleeps outlast the 0.6 s deadline by half only through
    # the resets. A machine that keeps one sleep 0.3 s past its time lets
    # the deadline pass: then the cancel came no earlier than 0.6 s after
    # the last reset (a reset that did nothing: 0.3 s after it).
    begin
      cancel_after(0.6) do |f|
        timer = f
        assert_kind_of Fiber, f
        assert_same Fiber.current, f.parent
        2.times do
          sleep 0.3
          f.reset
          last_reset = now.call
        end
        sleep 0.3
      end
      assert_operator now.call - t0, :>=, 0.9
    rescue Polyphony::Cancel
      assert_operator now.call - last_reset, :>=, 0.6
    end
    snooze
    refute_predicate timer, :alive?
    assert_raises(Polyphony::Cancel) { cancel_after(0.01) { |_f| sleep 1 } }
    assert_equal :v, move_on_after(0.01, with_value: :v) { |_f| sleep 1 }
  end
end
