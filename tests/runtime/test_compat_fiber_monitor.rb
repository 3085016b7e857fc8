# frozen_string_literal: true

# Polyphony 1.6 compatibility: Fiber#monitor / #unmonitor /
# #monitor_mailbox — the end of a monitored fiber is reported to each
# watcher's monitor mailbox as [fiber, result], exceptions included.
require 'minitest/autorun'
require 'polyphony'

class CompatFiberMonitorTest < Minitest::Test
  def test_monitor_reports_result
    f = spin { receive * 2 }
    f.monitor(Fiber.current)
    assert_equal [Fiber.current], f.monitors
    f << 5
    assert_equal [f, 10], Fiber.current.monitor_mailbox.shift
  end

  def test_monitor_reports_exception_and_several_watchers
    f = spin { receive; raise 'boom' }
    watcher = spin { Fiber.current.monitor_mailbox.shift }
    f.monitor(Fiber.current)
    f.monitor(watcher)
    snooze
    begin
      f << :go
      fiber, err = Fiber.current.monitor_mailbox.shift
    rescue RuntimeError
      # whether an exception seen by when_done still goes up to the parent
      # is the core's policy, not what is tested here
      fiber, err = Fiber.current.monitor_mailbox.shift
    end
    assert_same f, fiber
    assert_kind_of RuntimeError, err
    assert_equal 'boom', err.message
    assert_equal [f, err], watcher.await
  end

  def test_unmonitor_stops_reports
    f = spin { receive }
    f.monitor
    f.unmonitor
    f << :x
    f.await
    assert_predicate Fiber.current.monitor_mailbox, :empty?
  end
end
