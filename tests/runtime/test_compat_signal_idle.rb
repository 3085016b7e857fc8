# frozen_string_literal: true

# Polyphony 1.6 compatibility: Polyphony.emit_signal_exception raises the
# exception in the main fiber wherever it waits (from a trap handler),
# Thread#on_idle sets the backend's idle work, Thread#idle_gc_period= its
# idle GCs.
require 'minitest/autorun'
require 'polyphony'

class CompatSignalIdleTest < Minitest::Test
  def test_emit_signal_exception_from_trap
    old = trap('USR1') { Polyphony.emit_signal_exception(Interrupt.new('usr1')) }
    r, w = IO.pipe
    t = Thread.new do
      r.gets
      Process.kill('USR1', Process.pid)
    end
    spin { w.puts 'waiting' } # runs once the main fiber sleeps
    t0 = Polyphony.now
    err = assert_raises(Interrupt) { sleep 30 }
    assert_equal 'usr1', err.message
    assert_operator Polyphony.now - t0, :<, 20 # the signal, not the end of the sleep
    t.join
  ensure
    trap('USR1', old || 'DEFAULT')
  end

  def test_emit_signal_exception_to_a_child_fiber
    child = spin do
      sleep
    rescue RuntimeError => e
      e.message
    end
    snooze
    Polyphony.emit_signal_exception(RuntimeError.new('to child'), child)
    assert_equal 'to child', child.await
  end

  def test_on_idle_runs_when_the_loop_waits
    count = 0
    Thread.current.on_idle { count += 1 }
    3.times { snooze }
    assert_equal 0, count
    sleep 0.001
    assert_operator count, :>=, 1
  ensure
    Thread.current.on_idle
  end

  # The idle GC collects also when the program disabled the GC (Polyphony's
  # reason for it), and leaves the GC as it found it.
  def test_idle_gc_runs_with_the_gc_disabled
    GC.disable
    count = GC.count
    Thread.current.idle_gc_period = 0.01
    snooze
    assert_equal count, GC.count, 'a snooze is no idle time'
    50.times do
      sleep 0.005
      break if GC.count > count
    end
    assert_operator GC.count, :>, count
    assert GC.enable, 'the GC was left enabled'
    GC.disable
    Thread.current.idle_gc_period = 0
    count = GC.count
    5.times { sleep 0.005 }
    assert_equal count, GC.count
  ensure
    Thread.current.idle_gc_period = 0
    GC.enable
  end
end
