# frozen_string_literal: true

# The always-on counters (Fiber#stats): runs, time running, longest run,
# time waiting, ops started and in flight; time at a loop suspension is
# nobody's run; POLYPHONY_COUNTERS=0 turns them off.
require 'minitest/autorun'
require 'open3'
require 'rbconfig'
require 'polyphony'

class StatsTest < Minitest::Test
  def busy(seconds)
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    nil while Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0 < seconds
  end

  def test_counters_are_on
    assert Polyphony.counters?
    assert_equal %i[runs cpu_time longest_run wait_time ops ops_in_flight].sort,
                 Fiber.current.stats.keys.sort
  end

  def test_a_busy_fiber
    worker = spin(:busy) do
      3.times do
        busy(0.02)
        snooze
      end
    end
    worker.await
    s = worker.stats
    assert_equal 4, s[:runs] # the first run, and one after each snooze
    assert_operator s[:cpu_time], :>=, 0.06
    assert_operator s[:longest_run], :>=, 0.02
    assert_operator s[:longest_run], :<, s[:cpu_time]
    assert_equal 0, s[:wait_time] # a snooze is no wait
  end

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # A fiber's time is spent running or waiting, never both: the two add up
  # to no more than its life, however the machine delays it (the
  # conversion of the counters' ticks may be off by a microsecond or so).
  def test_a_waiting_fiber
    t0 = now
    sleeper = spin(:sleeper) { sleep 0.05 }
    receiver = spin(:receiver) { receive }
    snooze
    # While it waits, its wait so far counts.
    sleep 0.03
    assert_operator receiver.stats[:wait_time], :>=, 0.03
    receiver << :go
    [sleeper, receiver].each(&:await)
    life = now - t0
    assert_operator sleeper.stats[:wait_time], :>=, 0.05
    assert_operator sleeper.stats[:cpu_time] + sleeper.stats[:wait_time], :<=, life + 0.0001
    assert_equal 2, sleeper.stats[:runs]
  end

  def test_the_current_run_counts
    before = Fiber.current.stats[:cpu_time]
    busy(0.03)
    assert_operator Fiber.current.stats[:cpu_time] - before, :>=, 0.03
  end

  def test_ops_and_ops_in_flight
    r, w = IO.pipe
    main = Fiber.current
    reader = spin(:reader) { 3.times { main << r.readpartial(10) } }
    snooze
    3.times do
      assert_equal 1, reader.stats[:ops_in_flight]
      w.write('x')
      assert_equal 'x', receive
    end
    reader.await
    assert_operator reader.stats[:ops], :>=, 3
    assert_equal 0, reader.stats[:ops_in_flight]
  ensure
    [r, w].each { |io| io&.close }
  end

  # An op counts for the fiber that starts it, also one entered by a plain
  # Fiber#resume (which the scheduler does not see), not for the fiber the
  # scheduler last switched to.
  def test_ops_count_for_a_fiber_entered_by_a_plain_resume
    r, w = IO.pipe
    w.write('xy')
    snooze # the scheduler's last switch is to this fiber
    before = Fiber.current.stats[:ops]
    inner = Fiber.new { 2.times.map { r.readpartial(1) } }
    assert_equal %w[x y], inner.resume
    assert_operator inner.stats[:ops], :>=, 2
    assert_equal before, Fiber.current.stats[:ops]
  ensure
    [r, w].each { |io| io&.close }
  end

  # The run went on only outside the suspension: by no more than the wall
  # time around it less the time measured inside it.
  def test_time_suspended_is_nobodys_run
    s0 = s1 = nil
    t0 = now
    before = Fiber.current.stats[:cpu_time]
    Polyphony.loop_suspend do
      s0 = now
      busy(0.1)
      s1 = now
    end
    after = Fiber.current.stats[:cpu_time]
    t1 = now
    assert_operator after - before, :<=, (t1 - t0) - (s1 - s0) + 0.0001
  end

  def test_off_with_polyphony_counters_0
    script = <<~RUBY
      require 'polyphony'
      f = spin { snooze; sleep 0.01 }
      f.await
      p Polyphony.counters?, f.stats[:runs], f.stats[:cpu_time]
    RUBY
    out, err, st = Open3.capture3({ 'POLYPHONY_COUNTERS' => '0' }, RbConfig.ruby, '-e', script)
    assert st.success?, err
    assert_equal "false\n0\n0.0\n", out
  end
end
