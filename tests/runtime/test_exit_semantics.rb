# frozen_string_literal: true

# Fibers still running when a main fiber ends (Polyphony 1.6): they are
# terminated (Polyphony::Terminate) and awaited, their ensure clauses run,
# whether the main script returns, calls exit or raises; at_exit handlers
# the program registers run first, with the fibers alive and the thread's
# Fiber::Scheduler in place (Ruby closes it before the at_exit handlers),
# and the process exits with the script's status. A thread's main fiber
# ending does the same for the thread's fibers. Each case is a program of
# its own, run from here.
require 'minitest/autorun'
require 'rbconfig'

class ExitSemanticsTest < Minitest::Test
  def run_script(body)
    out = IO.popen([RbConfig.ruby, '-rpolyphony', '-e', "$stdout.sync = true\n#{body}"],
                   err: %i[child out], &:read)
    [out, $?.exitstatus]
  end

  def test_children_terminated_when_the_script_ends
    out, status = run_script(<<~RUBY)
      spin do
        sleep
      rescue Polyphony::Terminate
        puts 'terminated'
        raise
      ensure
        puts 'child ensure'
      end
      snooze
      puts 'main done'
    RUBY
    assert_equal "main done\nterminated\nchild ensure\n", out
    assert_equal 0, status
  end

  # The children's ensure clauses wait on each other through Ruby's
  # Thread::Queue (the scheduler's block/unblock) and sleep.
  def test_ensure_clauses_may_wait
    out, status = run_script(<<~RUBY)
      q = Thread::Queue.new
      spin { sleep } # a plain child, terminated too
      spin do
        sleep
      ensure
        puts "got \#{q.pop}"
      end
      spin do
        sleep
      ensure
        sleep 0.01
        q << :item
      end
      snooze
    RUBY
    assert_equal "got item\n", out
    assert_equal 0, status
  end

  def test_at_exit_handlers_run_first_with_the_scheduler
    out, status = run_script(<<~RUBY)
      f = spin { sleep }
      at_exit do
        puts "alive: \#{f.alive?}"
        puts "scheduler: \#{Fiber.scheduler.class}"
        q = Thread::Queue.new
        puts spin { q.pop }.tap { q << :queued }.await
      end
      snooze
    RUBY
    assert_equal "alive: true\nscheduler: Polyphony::Scheduler\nqueued\n", out
    assert_equal 0, status
  end

  def test_exit_status_kept
    out, status = run_script(<<~RUBY)
      spin do
        sleep
      ensure
        puts 'ensure ran'
      end
      snooze
      exit 3
    RUBY
    assert_equal "ensure ran\n", out
    assert_equal 3, status
  end

  def test_uncaught_exception
    out, status = run_script(<<~RUBY)
      spin do
        sleep
      ensure
        puts 'ensure ran'
      end
      snooze
      raise 'boom'
    RUBY
    assert_match(/ensure ran/, out)
    assert_match(/boom \(RuntimeError\)/, out)
    assert_equal 1, status
  end

  def test_thread_main_fiber_ending
    out, status = run_script(<<~RUBY)
      t = Thread.new do
        spin do
          sleep
        ensure
          puts 'thread child ensure'
        end
        snooze
        :thread_done
      end
      puts t.value
      t2 = Thread.new do
        spin do
          sleep
        ensure
          puts 'failing thread child ensure'
        end
        snooze
        Thread.current.report_on_exception = false
        raise 'thread boom'
      end
      begin
        t2.join
      rescue RuntimeError => e
        puts e.message
      end
    RUBY
    assert_equal "thread child ensure\nthread_done\nfailing thread child ensure\nthread boom\n", out
    assert_equal 0, status
  end
end
