# frozen_string_literal: true

# Waits left by a non-local exit that is not a raise the op sees: a throw at
# the interrupt point (Ruby's own Timeout, kept as Timeout.orig_timeout,
# throws from Thread#raise), a thread kill. Each wait must unregister its
# timer, watcher or kernel op on the way out, so nothing fires later on a
# fiber that no longer waits (or on a stack that is gone). Each scenario
# runs in a child process: the bug was a segfault. What the interrupted
# wait waited for comes only after the throw (0.02 s), and well after it
# where it is timed, so that a busy machine's late throw still finds the
# wait there; the full sleep after it spans the time the wait would have
# ended.
require 'minitest/autorun'
require 'open3'
require 'rbconfig'

class NonLocalExitTest < Minitest::Test
  PRELUDE = <<~RUBY
    require 'polyphony'
    def now = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    def check(cond, what) = (cond or (puts("FAIL: \#{what}"); exit 2))
    def thrown
      Timeout.orig_timeout(0.02) { yield }
      check(false, 'the block should have been timed out')
    rescue Timeout::Error
      :thrown
    end
    def clean(what)
      st = Thread.current.backend.stats
      check(st[:pending_timers] == 0, "\#{what}: timers left \#{st[:pending_timers]}")
      check(st[:pending_ops] == 0, "\#{what}: ops left \#{st[:pending_ops]}")
    end
    # a full sleep: nothing left behind wakes the main fiber early
    def full_sleep(t)
      t0 = now
      sleep t
      check(now - t0 >= t * 0.9, "slept only \#{now - t0}")
    end
  RUBY

  def run_child(code)
    out, err, status = Open3.capture3(RbConfig.ruby, '-e', PRELUDE + code + "\nputs 'ok'\n")
    assert status.success?, "child failed (#{status.inspect}):\n#{out}\n#{err[0, 3000]}"
    assert_equal "ok\n", out, err[0, 3000]
  end

  def test_throw_out_of_sleep_stops_its_timer
    run_child(<<~RUBY)
      thrown { sleep 0.4 }
      clean('sleep')
      full_sleep(0.6)
      GC.start
    RUBY
  end

  def test_throw_out_of_sleep_in_spun_fiber
    run_child(<<~RUBY)
      f = spin { thrown { sleep 0.4 }; full_sleep(0.5); :done }
      check(f.await == :done, 'fiber result')
      clean('spun sleep')
    RUBY
  end

  def test_throw_out_of_read_stops_its_watcher
    run_child(<<~RUBY)
      r, w = IO.pipe
      thrown { r.readpartial(10) }
      clean('read')
      w << 'abc'
      full_sleep(0.1)
      GC.start
      check(r.readpartial(10) == 'abc', 'data after the abandoned read')
    RUBY
  end

  def test_throw_out_of_wait_io
    run_child(<<~RUBY)
      r, w = IO.pipe
      thrown { r.wait_readable }
      clean('wait_io')
      w << 'x'
      full_sleep(0.1)
      check(r.read_nonblock(1) == 'x', 'byte still there')
    RUBY
  end

  def test_throw_out_of_receive
    run_child(<<~RUBY)
      main = Fiber.current
      thrown { receive }
      clean('receive')
      spin { sleep 0.05; main << :late }
      full_sleep(0.3)
      check(receive == :late, 'message kept')
    RUBY
  end

  def test_throw_out_of_await
    run_child(<<~RUBY)
      # f waits first, so the main fiber is the one polling when the
      # throw arrives (an interrupt lands in whichever fiber polls)
      q = Polyphony::Queue.new
      f = spin { q.shift; :child }
      snooze
      thrown { f.await }
      spin { sleep 0.05; q << 1 }
      full_sleep(0.3)
      check(!f.alive?, 'child ended')
      check(f.result == :child, 'child result')
      clean('await')
    RUBY
  end

  def test_throw_out_of_queue_and_event_waits
    run_child(<<~RUBY)
      q = Polyphony::Queue.new
      thrown { q.shift }
      e = Polyphony::Event.new
      thrown { e.await }
      clean('queue/event')
      spin { sleep 0.05; q << 1; e.signal(2) }
      full_sleep(0.2)
      check(q.shift == 1, 'queue item kept')
    RUBY
  end

  def test_throw_out_of_waitpid
    run_child(<<~RUBY)
      pidfds = lambda do
        Dir.children('/proc/self/fd').count { |f| (File.readlink("/proc/self/fd/\#{f}") rescue '').include?('pidfd') }
      end
      r, w = IO.pipe
      pid = Process.spawn('sh', '-c', 'read line', in: r) # ends when w closes
      r.close
      thrown { Process.wait(pid) }
      clean('waitpid')
      check(pidfds.call == 0, 'the pidfd was left open')
      w.close
      full_sleep(0.4)
      check(Process.wait(pid) == pid, 'child reaped afterwards')
    RUBY
  end

  def test_throw_out_of_cancel_after_block
    run_child(<<~RUBY)
      thrown { cancel_after(0.4) { sleep 1 } }
      clean('cancel_after')
      full_sleep(0.6)
    RUBY
  end

  def test_break_out_of_timed_blocks_leaves_nothing
    run_child(<<~RUBY)
      [1].each { cancel_after(0.05) { break } }
      [1].each { move_on_after(0.05) { break } }
      every(0.01) { break }
      r, w = IO.pipe
      w << "a\\n"
      r.gets_loop { break }
      clean('break')
      full_sleep(0.2)
    RUBY
  end

  def test_thread_killed_while_sleeping_and_reading
    run_child(<<~RUBY)
      r, w = IO.pipe
      q = Thread::Queue.new
      th = Thread.new do
        spin { r.readpartial(10) }
        spin { sleep 5 }
        q << :go
        sleep 5
      end
      q.pop
      th.kill
      th.join
      GC.start
      w << 'data'
      full_sleep(0.1)
      GC.start
    RUBY
  end
end
