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
    snooze # the fiber standing for the timer was stopped with the block
    refute timeout.alive?
    assert_equal 0, Thread.current.backend.stats[:pending_timers]
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

  # The scheduler remembers fiber states (run queue entries, the current
  # fiber's) instead of looking them up: they must stay right while the
  # fibers move and after fibers die and are collected.
  def test_compaction_while_switching
    log = []
    fibers = Array.new(3) do |i|
      spin(:"s#{i}") do
        5.times do |n|
          log << [i, n]
          GC.compact if i == 0
          snooze
        end
        Fiber.current.tag
      end
    end
    assert_equal %i[s0 s1 s2], Fiber.await(*fibers)
    assert_equal (0...5).flat_map { |n| (0...3).map { |i| [i, n] } }, log
    GC.start
    GC.compact
    assert_equal :main, Fiber.current.tag
    assert_equal :running, Fiber.current.state
    assert_equal [:t, :dead], [spin(:t) { snooze; Fiber.current.tag }.await, fibers[0].state]
  end

  # Each native thread remembers its thread's state; Ruby reuses native
  # threads for new Threads, and ended threads' states are freed by GC.
  def test_thread_state_follows_threads
    ended = [] # kept, so that their states are not freed either
    10.times do |i|
      th = Thread.new do
        [Thread.backend.equal?(Thread.current.backend),
         Thread.current.main_fiber == Fiber.current,
         spin { snooze; i }.await == i]
      end
      assert_equal [true, true, true], th.value
      ended << th
      next if i < 5

      ended.clear
      GC.start
      GC.compact if i.even?
    end
    assert Thread.backend.equal?(Thread.current.backend)
  end
end
