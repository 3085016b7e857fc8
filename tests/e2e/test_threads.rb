# frozen_string_literal: true

# test_threads.rb — every Ruby thread: `fibers` describes each thread and
# lists its fibers under it (a thread blocked in C without the GVL outside
# the runtime is shown as such); while the program is stopped another
# thread's timers are frozen (its fiber's `sleep 1` still has its second
# after time at the prompt); a fiber of another thread can be selected and
# stepped, and a breakpoint stops in that thread.

require 'minitest/autorun'
require 'pty_session'

class TestThreads < Minitest::Test
  include E2E::AtEntry

  FIX = E2E.fixture('threads.rb')
  L = %w[t2_sleep t2_a t2_b t2_c main_stop].to_h { |m| [m, E2E.line_of(FIX, "# @#{m}")] }

  def sleep_left(fibers)
    Float(fibers[/t2_sleeper +waiting +\S+:#{L['t2_sleep']} +sleep \((\d+\.\d+)s left\)/, 1] ||
          flunk("no t2_sleeper in sleep:\n#{fibers}"))
  end

  def test_threads_listed_held_and_stepped
    @s.command("break #{FIX}:#{L['main_stop']}")
    assert_match(/Stopped in fiber 1 .*threads\.rb:#{L['main_stop']} .*\(breakpoint 1\)/, @s.command('c'))

    fibers = @s.command('fibers')
    assert_match(/^\d+ fibers in 3 threads$/, fibers)
    assert_match(/^  thread 1 \(main\): 1 fiber, \w+, run; the program stopped in it$/, fibers)
    assert_match(/^  thread 2 \(worker\): 3 fibers, \w+, sleep; idle in its event loop: suspended, its fibers held$/,
                 fibers)
    assert_match(/^  thread 3 \(blocker\): 0 fibers, sleep; blocked outside the runtime \(in C, without the GVL\): left alone, at \S*threads\.rb:\d+ in call$/,
                 fibers)
    # Thread 2's fibers under its own heading, after thread 1's.
    assert_match(/-- thread 1 --\n\* 1 .*\n  -- thread 2 \(worker\) --\n.*\n +\d+ +t2_sleeper .*\n +\d+ +t2_stepper +waiting .* receive\n/,
                 fibers)
    before = sleep_left(fibers)
    assert_operator before, :>, 0.5

    # The time at the prompt is what is measured: thread 2's timer must not run.
    sleep 1.5
    assert_in_delta before, sleep_left(@s.command('fibers')), 0.05, "thread 2's clock stood still"

    # A fiber of thread 2: selected, stepped (the stop is in thread 2).
    assert_match(/Selected fiber \d+ \(t2_stepper\) waiting .*receive/, @s.command('switch t2_stepper'))
    out = @s.command('step')
    assert_match(/Stopped in fiber \d+ \(t2_stepper\) at .*threads\.rb:#{L['t2_a']} /, out)
    assert_equal "5\n", @s.command('p x')
    assert_match(/thread 2 \(worker\): .* the program stopped in it/, @s.command('fibers'))
    assert_match(/Stopped in fiber \d+ \(t2_stepper\) at .*threads\.rb:#{L['t2_b']} /, @s.command('skip'))
    # A breakpoint in thread 2's code.
    @s.command("break #{FIX}:#{L['t2_c']}")
    assert_match(/Stopped in fiber \d+ \(t2_stepper\) at .*threads\.rb:#{L['t2_c']} .*\(breakpoint 2\)/,
                 @s.command('c'))
    assert_equal "11\n", @s.command('p z')
    @s.send_line('c')
    @s.expect('t2 stepper 11')
    @s.expect('threads done')
    @s.expect('program exited with status 0')
    assert_equal 0, @s.wait_exit.exitstatus
  end
end
