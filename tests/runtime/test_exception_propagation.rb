# frozen_string_literal: true

# Where a fiber's uncaught exception goes (Polyphony 1.6): up to its parent,
# wherever the parent waits, unless the parent itself takes the fiber's end
# (it awaits it, monitors it, supervises or selects it). Someone else
# awaiting, monitoring or registering when_done does not keep the parent
# from getting it.
require 'minitest/autorun'
require 'polyphony'

class ExceptionPropagationTest < Minitest::Test
  def teardown
    Fiber.current.shutdown_all_children
  end

  # A parent that sleeps and reports what reached it.
  def sleeping_parent(got)
    spin do
      sleep 1
      got << :slept
    rescue RuntimeError => e
      got << [:parent, e.message]
    end
  end

  # Waits in the main fiber until the given fibers (each takes the
  # exception itself, or ends after its own long sleep) have ended; records
  # an exception reaching the main fiber instead. Awaited rather than
  # timed: with a fixed sleep, a machine stalled past both deadlines
  # resumed the main fiber before the parent had the exception.
  def main_waits(got, *fibers)
    fibers.each(&:await)
  rescue RuntimeError => e
    got << [:main, e.message]
  end

  def test_child_spun_on_parent_from_another_fiber_raises_in_parent
    got = []
    parent = sleeping_parent(got)
    spin { snooze; parent.spin { raise 'x' }; sleep 0.2 }
    main_waits(got, parent)
    assert_equal [[:parent, 'x']], got
  end

  def test_child_spun_on_parent_from_main_raises_in_parent
    got = []
    parent = sleeping_parent(got)
    snooze
    child = parent.spin { raise 'x' }
    assert_same parent, child.parent
    main_waits(got, parent)
    assert_equal [[:parent, 'x']], got
  end

  def test_when_done_listener_does_not_stop_propagation
    got = []
    parent = spin do
      c = spin { sleep 0.01; raise 'y' }
      c.when_done { |r| got << [:done, r.class] }
      sleep 1
    rescue RuntimeError => e
      got << [:parent, e.message]
    end
    main_waits(got, parent)
    assert_equal [[:done, RuntimeError], [:parent, 'y']], got
    refute parent.alive?
  end

  def test_monitor_by_another_fiber_does_not_stop_propagation
    got = []
    watcher = spin { Fiber.current.monitor_mailbox.shift }
    parent = spin do
      c = spin { receive; raise 'm' }
      c.monitor(watcher)
      c << :go
      sleep 1
    rescue RuntimeError => e
      got << [:parent, e.message]
    end
    main_waits(got, parent)
    assert_equal [[:parent, 'm']], got
    fiber, err = watcher.await
    assert_equal 'm', err.message
    refute fiber.alive?
    refute parent.alive?
  end

  def test_monitor_by_parent_takes_the_exception_instead
    got = []
    c = spin { receive; raise 'p' }
    c.monitor(Fiber.current)
    c << :go
    fiber = err = nil
    begin
      fiber, err = Fiber.current.monitor_mailbox.shift
      snooze # an exception sent on the heels of the message lands here
    rescue RuntimeError => e
      got << [:main, e.message]
    end
    assert_empty got
    assert_same c, fiber
    assert_equal 'p', err.message
  end

  def test_await_by_another_fiber_does_not_stop_propagation
    got = []
    c = nil
    parent = spin do
      c = spin { sleep 0.02; raise 'a' }
      sleep 1
    rescue RuntimeError => e
      got << [:parent, e.message]
    end
    snooze
    awaiter = spin do
      c.await
    rescue RuntimeError => e
      got << [:awaiter, e.message]
    end
    main_waits(got, parent, awaiter)
    assert_equal [[:awaiter, 'a'], [:parent, 'a']].sort, got.sort
    refute parent.alive?
    refute awaiter.alive?
  end

  def test_await_by_parent_raises_once
    c = spin { sleep 0.01; raise 'once' }
    e = assert_raises(RuntimeError) { c.await }
    assert_equal 'once', e.message
    assert_equal :ok, move_on_after(0.05, with_value: :ok) { sleep 1 }
  end

  def test_supervise_and_select_take_the_exception
    errors = []
    spin { raise 's' }
    supervise(on_error: ->(_f, e) { errors << e.message })
    assert_equal ['s'], errors
    f = spin { sleep 0.01; raise 'sel' }
    err = assert_raises(RuntimeError) { Fiber.select(f, spin { sleep 1 }) }
    assert_same f, err.source_fiber
    assert_equal 'sel', err.message
    assert_equal :ok, move_on_after(0.05, with_value: :ok) { sleep 1 }
  end
end
