# frozen_string_literal: true

# Polyphony 1.6 compatibility: Thread#join / #await / #value wait in the
# calling fiber only (other fibers go on), give the value (join too, as in
# Polyphony) or raise the thread's exception, honour a timeout and can be
# interrupted. Thread#kill of a thread on the runtime terminates its main
# fiber, so its fibers' ensure clauses run (also for a thread made by
# Thread.start or Thread.fork); a thread's children are shut down when its
# block ends; Thread#inspect names the block's location.
require 'minitest/autorun'
require 'polyphony'

class CompatThreadTest < Minitest::Test
  def test_join_lets_other_fibers_run
    gate = Queue.new # a Ruby queue: the thread blocks for real
    ticks = 0
    ticker = spin do
      loop do
        ticks += 1
        gate << :go if ticks == 3
        sleep 0.001
      end
    end
    t = Thread.new { gate.pop; :done }
    assert_equal :done, t.join
    assert_operator ticks, :>=, 3 # the thread could end only after 3 ticks
    assert_equal :done, t.value
    ticker.stop
  end

  def test_await_and_exception
    t = Thread.new do
      Thread.current.report_on_exception = false
      raise 'boom'
    end
    err = assert_raises(RuntimeError) { t.await }
    assert_equal 'boom', err.message
  end

  def test_join_timeout_and_interrupt
    q = Queue.new
    t = Thread.new { q.pop }
    assert_nil t.join(0.01)
    assert_equal :moved, move_on_after(0.01, with_value: :moved) { t.join }
    q << 42
    assert_equal 42, t.value
  end

  def test_join_of_ended_thread
    t = Thread.new { 7 }
    Polyphony::ThreadJoin::RUBY_JOIN.bind_call(t) # ended before our join
    assert_equal 7, t.join
    assert_equal 7, t.value
  end

  def test_kill_runs_the_fibers_ensure_clauses
    log = Thread::Queue.new
    ready = Thread::Queue.new
    t = Thread.new do
      spin do
        sleep 60
      ensure
        log << :child
      end
      ready << :ready
      sleep 60
    ensure
      log << :main
    end
    ready.pop
    assert_equal 1, t.main_fiber.children.size
    assert_same t, t.kill
    assert_nil t.join
    refute_predicate t, :alive?
    assert_equal %i[main child], Array.new(2) { log.pop }
  end

  def test_children_are_shut_down_when_the_block_ends
    log = Thread::Queue.new
    t = Thread.new do
      spin do
        sleep
      ensure
        log << :child_done
      end
      snooze
      :result
    end
    assert_equal :result, t.join
    assert_equal :child_done, log.pop
  end

  # Thread.start and Thread.fork skip initialize (Ruby's own Timeout makes
  # its timer thread so): killed, such a thread ends quietly all the same,
  # its children shut down, and join does not raise Polyphony::Terminate.
  def test_kill_of_a_thread_made_by_start_or_fork
    %i[start fork].each do |how|
      ready = Thread::Queue.new
      log = Thread::Queue.new
      line = __LINE__ + 1
      t = Thread.send(how, how) do |arg|
        spin do
          sleep 60
        ensure
          log << :child
        end
        ready << arg
        sleep 60
      end
      assert_equal how, ready.pop
      t.kill
      assert_nil t.join
      assert_equal :child, log.pop
      assert_match(/\A#<Thread:#{t.object_id} #{Regexp.escape(__FILE__)}:#{line} \(dead\)>\z/, t.inspect)
    end
  end

  def test_kill_of_a_thread_off_the_runtime
    q = Thread::Queue.new
    t = Thread.new { q.pop } # blocks in Ruby, never on the runtime
    sleep 0.01 until t.status == 'sleep'
    refute t.__rt_started__?
    t.kill
    assert_nil t.join
  end

  # The thread waits for the test to let it end (with a sleep, a busy
  # machine could end it before inspect looks).
  def test_inspect_names_the_block
    gate = Thread::Queue.new
    line = __LINE__ + 1
    t = Thread.new { gate.pop }
    assert_match(/\A#<Thread:#{t.object_id} #{Regexp.escape(__FILE__)}:#{line} \((run|sleep)\)>\z/, t.inspect)
    gate << :go
    t.join
    assert_match(/ \(dead\)>\z/, t.to_s)
  end

  def test_kill_of_the_main_thread_ends_the_program
    code = <<~RUBY
      require 'polyphony'
      main = Thread.current
      Thread.new { sleep 0.01; main.kill }
      sleep 5
      puts 'not killed'
    RUBY
    out = IO.popen([RbConfig.ruby, '-e', code], err: %i[child out], &:read)
    assert_equal 0, $?.exitstatus
    assert_equal '', out
  end

  # The deadlock check runs Ruby code (Thread.list ...), during which the
  # joined thread's helper could end after waking the joiner: that used to
  # be reported as a deadlock now and then (under load).
  def test_joining_threads_that_end_at_once_is_no_deadlock
    500.times do
      q = Thread::Queue.new
      pool = Array.new(2) { Thread.new { while q.pop; end } }
      2.times { q << nil }
      assert_equal [nil, nil], pool.map(&:join)
    end
  end
end
