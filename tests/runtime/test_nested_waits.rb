# frozen_string_literal: true

# Ruby code that the scheduler runs inside a fiber's wait: a trap handler
# Ruby runs when the loop's poll gets the GVL back, the idle proc. Its I/O
# and sleeps block the thread and every wake-up that comes meanwhile reaches
# the wait it belongs to (none is taken by the inner wait, which used to
# leave the outer one waiting for ever); waiting for another fiber there is
# refused with a ThreadError instead of hanging. A trap handler that runs
# while a fiber runs Ruby code still waits like any fiber code. Each case
# is its own program, so that a hang fails the case instead of the file.
require 'minitest/autorun'
require 'pt_program'

class NestedWaitsTest < Minitest::Test
  include PtProgram

  # Sends SIGUSR1 to the program once its main thread waits in the loop
  # (a thread blocked without the GVL reads as 'sleep').
  SIGNAL_WHEN_WAITING = <<~RUBY
    def usr1_when_waiting
      Thread.new do
        Thread.pass until Thread.main.status == 'sleep'
        Process.kill('USR1', Process.pid)
      end
    end
  RUBY

  # Runs a program (the runtime required first); [stdout, stderr, status].
  def run_program(source)
    run_ruby_program("require 'polyphony'\n#{SIGNAL_WHEN_WAITING}#{source}", deadline: 60)
  end

  def assert_done(source)
    out, err, status = run_program(source)
    assert status.success?, "#{err}\n#{out[-2000..] || out}"
    assert_match(/^done\b/, out, err)
    out
  end

  # What a user saw: a trap handler printing while the main fiber's own
  # I/O goes on, many signals in a row.
  def test_many_signals_to_a_handler_that_prints
    out = assert_done(<<~RUBY)
      handled = 0
      trap('USR1') { handled += 1; puts "handled \#{handled}" }
      r, w = IO.pipe
      sender = Thread.new do
        200.times do |i|
          w.puts(i)
          Process.kill('USR1', Process.pid)
        end
        w.close
      end
      lines = 0
      lines += 1 while r.gets
      sender.join
      puts "done \#{lines} \#{handled}"
    RUBY
    lines, handled = out[/^done (\d+) (\d+)$/, 0].split.drop(1).map(&:to_i)
    assert_equal 200, lines
    assert_operator handled, :>=, 1
    assert_equal handled, out.scan(/^handled \d+$/).size
  end

  # The handler makes the main fiber's read complete, then writes more
  # than a pipe holds, so its own write waits while that completion is in.
  def test_handler_io_waits_while_the_main_fiber_op_completes
    out = assert_done(<<~RUBY)
      r, w = IO.pipe
      trap('USR1') do
        w.write('a')
        $stdout.write('y' * 200_000 + "\\n")
      end
      usr1_when_waiting
      got = r.read(1)
      puts "done \#{got}"
    RUBY
    assert_includes out, "done a\n"
    assert_includes out, "#{'y' * 200_000}\n"
  end

  # A message for the receiving main fiber arrives while the handler sleeps.
  def test_handler_sleeps_while_the_main_fiber_is_woken
    out = assert_done(<<~RUBY)
      main = Fiber.current
      trap('USR1') do
        main << :message
        sleep 0.01
        puts 'slept'
      end
      usr1_when_waiting
      got = receive
      puts "done \#{got}"
    RUBY
    assert_equal "slept\ndone message\n", out
  end

  def test_handler_waiting_for_a_fiber_is_refused
    out = assert_done(<<~RUBY)
      q = Polyphony::Queue.new
      trap('USR1') { q.shift }
      r, _w = IO.pipe
      usr1_when_waiting
      begin
        r.read(1)
      rescue ThreadError => e
        puts "refused: \#{e.message}"
      end
      puts 'done'
    RUBY
    assert_match(/^refused: can't wait \(\w+\) in code run inside a fiber's wait/, out)
  end

  # The idle proc runs in the waiting fiber, as a handler does.
  def test_idle_proc_io_while_the_main_fiber_op_completes
    out = assert_done(<<~RUBY)
      r, w = IO.pipe
      ran = false
      Thread.current.on_idle do
        next if ran

        ran = true
        w.write('a')
        $stdout.write('i' * 200_000 + "\\n")
      end
      got = r.read(1)
      puts "done \#{got}"
    RUBY
    assert_includes out, "done a\n"
    assert_includes out, "#{'i' * 200_000}\n"
  end

  # Not inside a wait: the handler runs in a fiber running Ruby code, and
  # waits in it like any code there.
  def test_handler_in_running_code_may_wait_for_a_fiber
    assert_done(<<~RUBY)
      result = nil
      trap('USR1') { result = spin { snooze; :awaited }.await }
      Thread.new { Process.kill('USR1', Process.pid) }
      x = 0
      x += 1 until result
      puts "done \#{result}"
    RUBY
  end
end
