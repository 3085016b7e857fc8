# frozen_string_literal: true

# The runtime's C objects survive GC and compaction: fibers waiting on
# messages, I/O and timers while everything moves.
require 'minitest/autorun'
require 'polyphony'

class GCTest < Minitest::Test
  def teardown
    Fiber.current.shutdown_all_children
  end

  def test_compaction_with_waiting_fibers
    r, w = IO.pipe
    fibers = Array.new(200) { |i| spin(:"f#{i}") { x = receive; sleep 0.001; [i, x] } }
    reader = spin { r.gets }
    timeout = nil
    cancel_after(5) do |t|
      timeout = t
      snooze
      3.times { GC.compact }
      fibers.each_with_index { |f, i| f << "m#{i}" }
      GC.compact
      results = Fiber.await(*fibers)
      assert_equal (0...200).map { |i| [i, "m#{i}"] }, results
      w << "line\n"
      assert_equal "line\n", reader.await
      assert_equal :f7, fibers[7].tag
    end
    refute timeout.active?
  end

  def test_gc_stress
    r, w = IO.pipe
    GC.stress = true
    a = spin { 3.times { |i| w << "x#{i}\n"; snooze }; w.close; :a }
    b = spin { lines = []; while (l = r.gets); lines << l; end; lines }
    c = spin { receive }
    c << 'msg'
    moved = move_on_after(0.01, with_value: :moved) { sleep 1 }
    results = [a.await, b.await, c.await, moved]
    GC.stress = false
    assert_equal [:a, %W[x0\n x1\n x2\n], 'msg', :moved], results
  ensure
    GC.stress = false
  end
end
