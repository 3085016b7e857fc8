# frozen_string_literal: true

# Polyphony 1.6 compatibility: graceful termination (terminate(true),
# shutdown_all_children(true), graceful_shutdown?), attach_all_children_to,
# dead?, caller, and the Fiber methods Polyphony's tests lean on (await_all_children,
# shutdown_all_children, receive_pending, mailbox_size).
require 'minitest/autorun'
require 'polyphony'

class CompatFiberTest < Minitest::Test
  def spin_recorder(log)
    spin do
      sleep
    ensure
      log << Fiber.current.graceful_shutdown?
    end
  end

  def test_terminate_graceful_flag
    log = []
    a = spin_recorder(log)
    b = spin_recorder(log)
    snooze
    a.terminate(true)
    a.await
    b.terminate
    b.await
    assert_equal [true, false], log
    assert_predicate a, :dead?
  end

  def test_shutdown_all_children_graceful
    log = []
    2.times { spin_recorder(log) }
    snooze
    Fiber.current.shutdown_all_children(true)
    assert_equal [true, true], log
    assert_empty Fiber.current.children
    2.times { spin_recorder(log) }
    snooze
    Fiber.current.shutdown_all_children
    assert_equal [true, true, false, false], log
  end

  def test_attach_all_children_to
    holder = spin { sleep }
    parent = spin do
      3.times { spin { sleep } }
      receive
    end
    snooze
    kids = parent.children
    assert_equal 3, kids.size
    parent.attach_all_children_to(holder)
    assert_empty parent.children
    assert_equal kids.sort_by(&:object_id), holder.children.sort_by(&:object_id)
    parent << :done
    parent.await
    assert kids.all?(&:alive?)
    holder.terminate_all_children
    Fiber.await(*kids)
    assert kids.all?(&:dead?)
    holder.terminate
    holder.await
  end

  def test_receive_pending_and_await_all_children
    f = spin do
      receive
      receive_pending
    end
    f << 1 << 2 << 3
    assert_equal [2, 3], f.await
    results = []
    3.times { |i| spin { results << i } }
    Fiber.current.await_all_children
    assert_equal [0, 1, 2], results.sort
  end

  def test_caller_lists_spin_locations_up_to_main
    line = __LINE__ + 1
    outer = spin { spin { sleep }; sleep }
    snooze
    inner = outer.children.first
    assert_equal 2, inner.caller.size
    assert_match(/\A#{Regexp.escape(__FILE__)}:#{line}:/, inner.caller[0])
    assert_equal outer.location, inner.caller[1]
    assert_equal [], Fiber.current.caller
  ensure
    outer&.terminate
    outer&.await
  end
end
