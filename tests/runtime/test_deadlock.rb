# frozen_string_literal: true

# Deadlock detection: a program whose fibers wait for something nothing can
# ever do gets a Polyphony::Deadlock in its main fiber, with the wait-for
# graph; and a program waiting on anything that can still happen (a socket,
# a pipe, a timer, a child process, a signal handler, another thread, an
# idle accept, Kernel#breakpoint without a debugger) runs to its end. Each
# case is its own program, so that what one leaves waiting cannot bear on
# the next.
require 'minitest/autorun'
require 'pt_program'
require 'timeout'

class DeadlockTest < Minitest::Test
  include PtProgram

  ROOT = ENV.fetch('PT_ROOT', File.expand_path('../..', __dir__))
  CALL = "(:in `[^']+')?" # the frame's method, when it has one

  # Runs a program (the runtime required first); [stdout, stderr, status].
  # A case that hangs fails here instead of stalling the suite.
  def run_program(source, env: {}, args: [])
    run_ruby_program("require 'polyphony'\n$stdout.sync = true\n#{source}",
                     deadline: 30, hung: 'the program hung (a deadlock not seen, or a false one)',
                     env: env, args: args, chdir: ROOT)
  end

  def assert_deadlock(source)
    out, err, status = run_program(source)
    refute status.success?, "expected a deadlock, the program ended well: #{out}#{err}"
    assert_match(/deadlock: no fiber can ever run again .*\(Polyphony::Deadlock\)/, err)
    [out, err]
  end

  def assert_runs_to_end(source, **kw)
    out, err, status = run_program(source, **kw)
    assert status.success?, "#{err}\n#{out}"
    refute_match(/Deadlock/, err)
    assert_match(/^done\b/, out)
    out
  end

  # --- deadlocks -------------------------------------------------------------

  def test_three_fiber_await_cycle
    _, err = assert_deadlock(<<~RUBY)
      a = b = c = nil
      a = spin(:a) { snooze; b.await }
      b = spin(:b) { snooze; c.await }
      c = spin(:c) { snooze; a.await }
      a.await
    RUBY
    assert_match(/^  the main fiber at -e:7:in `await': awaits fiber a$/, err)
    assert_match(/^  fiber a at -e:4:in `await': awaits fiber b$/, err)
    assert_match(/^  fiber b at -e:5:in `await': awaits fiber c$/, err)
    assert_match(/^  fiber c at -e:6#{CALL}: awaits fiber a$/, err)
    assert_match(/^  cycle: fiber a -> fiber b -> fiber c -> fiber a$/, err)
  end

  def test_receive_with_no_possible_sender
    _, err = assert_deadlock(<<~RUBY)
      consumer = spin(:consumer) { receive }
      consumer.await
    RUBY
    assert_match(/the main fiber at -e:4:in `await': awaits fiber consumer$/, err)
    assert_match(/^  fiber consumer at -e:3#{CALL}: waits in receive \(empty mailbox, nobody left to send\)$/, err)
    refute_match(/cycle:/, err)
  end

  def test_queue_shift_in_the_main_fiber
    _, err = assert_deadlock('Polyphony::Queue.new.shift')
    assert_match(/the main fiber at -e:3#{CALL}: waits in Polyphony::Queue#shift \(empty\)$/, err)
  end

  def test_mutex_held_by_a_waiting_fiber
    _, err = assert_deadlock(<<~RUBY)
      lock = Polyphony::Mutex.new
      holder = spin(:holder) { lock.synchronize { receive } }
      snooze
      waiter = spin(:waiter) { lock.synchronize { :never } }
      waiter.await
    RUBY
    assert_match(/^  fiber waiter at -e:6#{CALL}: waits for a Polyphony::Mutex held by fiber holder$/, err)
    assert_match(/^  fiber holder at -e:4#{CALL}: waits in receive/, err)
  end

  # Ruby's own Queue and Mutex wait through the fiber scheduler.
  def test_ruby_queue_pop_in_a_fiber
    _, err = assert_deadlock(<<~RUBY)
      queue = Thread::Queue.new
      popper = spin(:popper) { queue.pop }
      popper.await
    RUBY
    assert_match(/^  fiber popper at -e:4#{CALL}: waits in Thread::Queue#pop \(empty, nobody left to push\)$/, err)
  end

  def test_ruby_queue_pop_in_the_main_fiber
    _, err = assert_deadlock('Thread::Queue.new.pop')
    assert_match(/waits in Thread::Queue#pop \(empty, nobody left to push\)$/, err)
  end

  def test_ruby_mutex_held_by_a_waiting_fiber
    _, err = assert_deadlock(<<~RUBY)
      lock = Thread::Mutex.new
      holder = spin(:holder) { lock.synchronize { receive } }
      snooze
      waiter = spin(:waiter) { lock.synchronize { :never } }
      waiter.await
    RUBY
    assert_match(/^  fiber waiter at -e:6#{CALL}: waits for a Thread::Mutex/, err)
    assert_match(/^  fiber holder at -e:4#{CALL}: waits in receive/, err)
  end

  def test_the_main_fiber_can_rescue_it_and_go_on
    out, = assert_runs_to_end(<<~RUBY)
      worker = spin(:worker) { receive * 2 }
      begin
        worker.await
      rescue Polyphony::Deadlock => e
        puts "rescued: \#{e.message.lines.first.chomp}"
        worker << 21
        puts "done \#{worker.await}"
      end
    RUBY
    assert_match(/rescued: deadlock: no fiber can ever run again/, out)
    assert_match(/done 42/, out)
  end

  def test_every_thread_stuck
    _, err = assert_deadlock(<<~RUBY)
      queue = Polyphony::Queue.new
      Thread.new { receive; queue << 1 }
      queue.shift
    RUBY
    assert_match(/waits in Polyphony::Queue#shift/, err)
    assert_match(/waits in receive/, err)
  end

  def test_a_thread_that_ends_without_pushing
    assert_deadlock(<<~RUBY)
      queue = Polyphony::Queue.new
      Thread.new { sleep 0.1 }
      queue.shift
    RUBY
  end

  def test_off_with_polyphony_deadlock_0
    out, _, status = run_program(<<~RUBY, env: { 'POLYPHONY_DEADLOCK' => '0' })
      puts Polyphony.deadlock_detection?
    RUBY
    assert status.success?
    assert_equal "false\n", out
  end

  # --- what is not a deadlock ----------------------------------------------

  def test_socket
    assert_runs_to_end(<<~RUBY)
      require 'socket'
      mine, theirs = UNIXSocket.pair
      pid = spawn('sleep 0.2; echo hi', out: theirs)
      theirs.close
      main = Fiber.current
      spin { main << mine.gets }
      puts "done \#{receive}"
      Process.wait(pid)
    RUBY
  end

  def test_pipe
    assert_runs_to_end(<<~RUBY)
      r, w = IO.pipe
      pid = spawn('sleep 0.2; echo hi', out: w)
      w.close
      main = Fiber.current
      spin { main << r.read }
      puts "done \#{receive}"
      Process.wait(pid)
    RUBY
  end

  def test_timer
    assert_runs_to_end(<<~RUBY)
      main = Fiber.current
      spin { sleep 0.2; main << :tick }
      puts "done \#{receive}"
    RUBY
  end

  def test_child_process
    assert_runs_to_end(<<~RUBY)
      main = Fiber.current
      spin { Process.wait(spawn('sleep 0.2')); main << $?.exitstatus }
      puts "done \#{receive}"
    RUBY
  end

  def test_signal_handler
    assert_runs_to_end(<<~RUBY)
      queue = Polyphony::Queue.new
      trap('USR1') { queue << :signalled }
      spawn("sleep 0.2; kill -USR1 \#{Process.pid}")
      puts "done \#{queue.shift}"
    RUBY
  end

  def test_another_threads_queue_push
    assert_runs_to_end(<<~RUBY)
      queue = Polyphony::Queue.new
      thread = Thread.new { sleep 0.2; queue << :pushed }
      puts "done \#{queue.shift}"
      thread.join
    RUBY
  end

  def test_thread_join
    assert_runs_to_end(<<~RUBY)
      thread = Thread.new { sleep 0.2; :joined }
      puts "done \#{thread.value}"
    RUBY
  end

  def test_cross_thread_receive
    assert_runs_to_end(<<~RUBY)
      main = Fiber.current
      Thread.new { sleep 0.2; main << :sent }
      puts "done \#{receive}"
    RUBY
  end

  def test_idle_accept
    assert_runs_to_end(<<~RUBY)
      require 'socket'
      server = TCPServer.new('127.0.0.1', 0)
      main = Fiber.current
      spin(:acceptor) { loop { main << server.accept.gets } }
      pid = spawn(RbConfig.ruby, '-rsocket', '-e',
                  "sleep 0.2; TCPSocket.new('127.0.0.1', \#{server.addr[1]}).puts('hello')")
      puts "done \#{receive}"
      Process.wait(pid)
    RUBY
  end

  def test_breakpoint_without_a_debugger
    out = assert_runs_to_end(<<~RUBY, args: ['-rpolytrace'])
      main = Fiber.current
      spin { sleep 0.2; main << :woken }
      breakpoint
      puts "done \#{receive}"
    RUBY
    assert_match(/done woken/, out)
  end

  def test_ruby_queue_pushed_by_another_thread
    assert_runs_to_end(<<~RUBY)
      queue = Thread::Queue.new
      thread = Thread.new { sleep 0.2; queue << :pushed }
      popper = spin { queue.pop }
      puts "done \#{popper.await}"
      thread.join
    RUBY
  end

  def test_ruby_condition_variable_signalled_later
    assert_runs_to_end(<<~RUBY)
      lock = Thread::Mutex.new
      cond = Thread::ConditionVariable.new
      spin { sleep 0.2; lock.synchronize { cond.signal } }
      waiter = spin { lock.synchronize { cond.wait(lock) } }
      waiter.await
      puts 'done'
    RUBY
  end

  def test_condition_variable_signalled_later
    assert_runs_to_end(<<~RUBY)
      lock = Polyphony::Mutex.new
      cond = Polyphony::ConditionVariable.new
      spin { sleep 0.2; lock.synchronize { cond.signal } }
      lock.synchronize { cond.wait(lock) }
      puts 'done'
    RUBY
  end

  def test_thread_pool
    assert_runs_to_end(<<~RUBY)
      puts "done \#{Polyphony::ThreadPool.process { sleep 0.1; 42 }}"
    RUBY
  end

  # A main fiber that sleeps with no argument waits for a signal on purpose.
  def test_sleep_waits_for_a_signal
    out, err, status = run_program(<<~RUBY)
      spawn("sleep 0.2; kill -TERM \#{Process.pid}")
      puts 'sleeping'
      sleep
    RUBY
    assert_equal 'TERM', Signal.signame(status.termsig.to_i), "#{out}#{err}"
    refute_match(/Deadlock/, err)
  end

  # So does a main fiber awaiting fibers of which one sleeps with no
  # argument (Polyphony 1.6's test suite waits so in forked children): the
  # default SIGINT handler ends the wait with Interrupt (raised where the
  # thread waits, it goes up through the awaiting fibers), the ensure
  # clauses run.
  def test_awaiting_a_sleeping_child_waits_for_a_signal
    out, err, status = run_program(<<~RUBY)
      spawn("sleep 0.2; kill -INT \#{Process.pid}")
      begin
        spin do
          spin { sleep }.await
        ensure
          puts 'child ended'
        end.await
      rescue Interrupt
        puts 'interrupted'
      end
      puts 'done'
    RUBY
    assert status.success?, "#{out}#{err}"
    refute_match(/Deadlock/, err)
    assert_equal "child ended\ninterrupted\ndone\n", out
  end

  # Polyphony's own behaviour stays: a wait that nothing could end, and that
  # is no cycle, returns nil at once.
  def test_lone_suspend_and_await_return_nil
    out = assert_runs_to_end(<<~RUBY)
      p suspend
      sleeper = spin(:sleeper) { suspend; :woke }
      p sleeper.await
      puts 'done'
    RUBY
    assert_equal "nil\n:woke\ndone\n", out
  end
end
