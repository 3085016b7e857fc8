# frozen_string_literal: true

# Polyphony 1.6 compatibility: Polyphony.fork runs the block as a program of
# its own. SIGINT raises Interrupt and SIGTERM SystemExit in the child's main
# fiber wherever it waits (its rescue and ensure clauses run, then its
# children are terminated); a stop of the main fiber ends the child
# quietly; an uncaught exception is printed and gives status 1. A main
# fiber awaiting a fiber that sleeps forever waits for the signal (no false
# deadlock).
require 'minitest/autorun'
require 'polyphony'

class CompatForkTest < Minitest::Test
  # Forks the block with a pipe for its report; the child signals on the
  # pipe that it is ready, gets `signal`, and the report and status return.
  def fork_and_signal(signal)
    r, w = IO.pipe
    ready_r, ready_w = IO.pipe
    pid = Polyphony.fork do
      r.close
      ready_r.close
      yield w, ready_w # w stays open for the children ended after the block
    end
    w.close
    ready_w.close
    assert_equal "ready\n", ready_r.gets
    Process.kill(signal, pid) if signal
    _, status = Thread.current.backend.waitpid(pid)
    [r.read, status]
  ensure
    [r, ready_r].each { |io| io&.close }
  end

  def test_sigint_reaches_the_main_fiber_then_children_end
    report, status = fork_and_signal('INT') do |w, ready|
      spin do
        spin do
          ready.puts 'ready'
          sleep
        rescue Polyphony::Terminate
          w.puts 'inner terminated'
        end.await
      rescue Polyphony::Terminate
        w.puts 'outer terminated'
      end.await
    rescue Interrupt
      w.puts 'main interrupted'
      Fiber.current.shutdown_all_children
    end
    assert_equal "main interrupted\nouter terminated\ninner terminated\n", report
    assert_equal 0, status
  end

  def test_sigterm_is_system_exit_in_the_main_fiber
    report, status = fork_and_signal('TERM') do |w, ready|
      spin do
        ready.puts 'ready' # the child is running: the signal finds it in sleep
        sleep
      rescue Polyphony::Terminate
        w.puts 'child terminated'
      end
      suspend
    rescue SystemExit => e
      w.puts "main: #{e.class}"
      raise
    end
    assert_equal "main: SystemExit\nchild terminated\n", report
    assert_equal 0, status
  end

  def test_stop_of_the_main_fiber_ends_quietly
    report, status = fork_and_signal('INT') do |w, ready|
      main = Fiber.current
      trap('INT') { w.puts 'INT'; main.stop }
      ready.puts 'ready'
      spin_loop { snooze }.await
    end
    assert_equal "INT\n", report
    assert_equal 0, status
  end

  def test_uncaught_exception_gives_status_one
    err_r, err_w = IO.pipe
    pid = Polyphony.fork do
      $stderr.reopen(err_w)
      raise 'boom'
    end
    err_w.close
    _, status = Thread.current.backend.waitpid(pid)
    assert_match(/boom \(RuntimeError\)/, err_r.read)
    assert_equal 1, status >> 8
  ensure
    err_r&.close
  end
end
