# frozen_string_literal: true

# Ruby code that Ruby runs just as the loop starts its blocking wait: an
# interrupt pending then (a signal that arrived a moment before, finalizers
# queued by a GC) used to run inside Ruby's entry to the GVL-free wait,
# after the scheduler had found nothing runnable. A fiber it scheduled was
# not run, and the wait went on with no wake-up owed: a server whose
# SIGTERM handler stops it stayed up, under load, for ever. Here the idle
# GC (idle_gc_period) queues finalizers right before the wait, which makes
# the moment certain. Each case is its own program, so that a hang fails
# the case instead of the file; the deadline stays under libev's longest
# wait (about 60 s), after which the lost wake-up would be found anyway.
require 'minitest/autorun'
require 'pt_program'

class InterruptAtWaitTest < Minitest::Test
  include PtProgram

  # Objects whose finalizers run the block; the idle GC collects most of
  # them as the loop goes idle, and Ruby runs their finalizers at its next
  # interrupt check.
  FINALIZED = <<~RUBY
    Thread.current.idle_gc_period = 1e-6
    def finalized(count = 100, &block)
      count.times { ObjectSpace.define_finalizer(Object.new, proc { block.call }) }
      nil
    end
  RUBY

  def run_program(source)
    run_ruby_program("require 'polyphony'\n#{FINALIZED}#{source}", deadline: 30)
  end

  def assert_prints(expected, source)
    out, err, status = run_program(source)
    assert status.success?, "#{err}\n#{out}"
    assert_equal expected, out, err
  end

  # The server's case: a trap handler that signals an event the main
  # fiber awaits, run as the loop starts to wait.
  def test_trap_handler_run_as_the_wait_starts_wakes_the_fiber
    assert_prints("stopped\n", <<~RUBY)
      stop = Polyphony::Event.new
      trap('USR1') { stop.signal }
      finalized { Process.kill('USR1', Process.pid) }
      stop.await
      puts 'stopped'
    RUBY
  end

  def test_finalizer_run_as_the_wait_starts_wakes_the_fiber
    assert_prints(":fin\n", <<~RUBY)
      trap('USR1') {} # a handler could wake the fiber: no deadlock is declared
      ev = Polyphony::Event.new
      finalized { ev.signal(:fin) }
      p ev.await
    RUBY
  end

  # The wait is one on I/O, as in a server; the handler raises in the
  # waiting fiber, which gets the exception from its read.
  def test_trap_handler_raising_as_the_wait_starts_reaches_the_fiber
    assert_prints("Interrupt\n", <<~RUBY)
      main = Fiber.current
      trap('USR1') { main.raise(Interrupt) }
      r, _w = IO.pipe
      finalized { Process.kill('USR1', Process.pid) }
      begin
        r.read(1)
      rescue Interrupt => e
        puts e.class
      end
    RUBY
  end
end
