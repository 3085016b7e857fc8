# frozen_string_literal: true

# test_stepping.rb — stepping follows one fiber. Three fibers interleave
# (each snoozes between two lines and appends to $log); `skip` in one of
# them stops at that fiber's next line while the others run in between
# (fiberlock off), and with the fiber lock (default "step", and "on") the
# others do not run during the step but lose nothing: all their work is
# done and all their output appears by the end.

require 'minitest/autorun'
require 'pty_session'

class TestStepping < Minitest::Test
  include E2E::AtEntry

  FIX = E2E.fixture('three_fibers.rb')
  LINE_A = E2E.line_of(FIX, '# @line_a')
  LINE_B = E2E.line_of(FIX, '# @line_b')
  LINE_C = E2E.line_of(FIX, '# @line_c')
  LINE_D = E2E.line_of(FIX, '# @line_d')

  # Stops at LINE_A in fiber f2 (a fiber-filtered breakpoint), then removes it.
  def stop_in_f2
    # The fibers are not spun yet at the entry stop: run to the first
    # LINE_A (any fiber), then filter by tag.
    assert_match(/no fiber tagged 'f2'/, @s.command("break #{FIX}:#{LINE_A} fiber f2"))
    @s.command("break #{FIX}:#{LINE_A}")
    assert_match(/Stopped in fiber \d+ .*:#{LINE_A}/, @s.command('c'))
    @s.command('delete 1')
    out = @s.command("break #{FIX}:#{LINE_A} fiber f2")
    assert_match(/Breakpoint \d+ at .*:#{LINE_A} \(fiber \d+\)/, out)
    bp = out[/Breakpoint (\d+)/, 1]
    stop = @s.command('c')
    assert_match(/Stopped in fiber (\d+) \(f2\) at .*:#{LINE_A}/, stop)
    @s.command("delete #{bp}")
    stop[/Stopped in fiber (\d+)/, 1]
  end

  def log_entries(pattern)
    Integer(@s.command("p $log.grep(/#{pattern}/).size"))
  end

  def finish
    @s.send_line('c')
    @s.expect('program exited with status 0')
    (1..3).each do |n|
      assert_equal 3, @s.transcript.scan(/f#{n} ran \d+/).size, "all of f#{n}'s output arrived"
    end
    assert_includes @s.transcript, 'three done'
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_skip_follows_one_fiber_while_others_run
    assert_match(/fiberlock is now off/, @s.command('set fiberlock off'))
    id = stop_in_f2
    others = log_entries('f[13]')

    assert_match(/Stopped in fiber #{id} \(f2\) at .*:#{LINE_B}/, @s.command('skip'))
    x = Integer(@s.command('p x'))
    # Crossing snooze: f1 and f3 ran (their $log grew) before f2's next line.
    assert_match(/Stopped in fiber #{id} \(f2\) at .*:#{LINE_C}/, @s.command('skip'))
    assert_operator log_entries('f[13]'), :>, others, 'other fibers ran during the skip'
    assert_match(/Stopped in fiber #{id} \(f2\) at .*:#{LINE_D}/, @s.command('skip'))
    assert_equal %("f2:#{x}"\n), @s.command('p $log.grep(/f2/).last')
    out = @s.command('skip')
    assert_match(/Stopped in fiber #{id} \(f2\) at .*:#{LINE_A}/, out)
    refute_match(/Stopped in fiber (?!#{id}\b)/, out, 'no stop in another fiber')

    # Op tracing for one fiber shows only that fiber's writes.
    assert_match(/Tracing I\/O ops of fiber #{id}\./, @s.command('trace ops on fiber f2'))
    finish
    ops = @s.transcript.scan(/op: fiber (\d+) (?:submit|complete) write/).flatten
    refute_empty ops, 'f2 wrote and was traced'
    assert_equal [id], ops.uniq
  end

  def test_fiber_lock_keeps_others_waiting_and_loses_nothing
    # Default "step": only the stepped fiber runs while stepping.
    id = stop_in_f2
    before = log_entries('.')
    assert_match(/Stopped in fiber #{id} \(f2\) at .*:#{LINE_B}/, @s.command('skip'))
    assert_match(/Stopped in fiber #{id} \(f2\) at .*:#{LINE_C}/, @s.command('skip'))
    assert_equal before, log_entries('.'), 'other fibers stay locked out during the step'
    assert_match(/Stopped in fiber #{id} \(f2\) at .*:#{LINE_D}/, @s.command('skip'))
    assert_equal before + 1, log_entries('.'), 'only f2 did its work'
    finish
  end

  # "on" keeps the others waiting on continue too; "step" lets them run then.
  def test_fiberlock_on_holds_others_on_continue
    stop_in_f2
    others = log_entries('f[13]')
    assert_match(/fiberlock is now on/, @s.command('set fiberlock on'))
    bp = @s.command("break #{FIX}:#{LINE_C} fiber f2")[/Breakpoint (\d+)/, 1]
    assert_match(/Stopped in fiber \d+ \(f2\) at .*:#{LINE_C}/, @s.command('c'))
    assert_equal others, log_entries('f[13]'), 'with fiberlock on, continue runs only f2'
    assert_match(/fiberlock is now step/, @s.command('set fiberlock step'))
    assert_match(/Stopped in fiber \d+ \(f2\) at .*:#{LINE_C}/, @s.command('c'))
    assert_operator log_entries('f[13]'), :>, others, 'with fiberlock step, continue runs every fiber'
    assert_match(/Deleted breakpoint #{bp}/, @s.command("delete #{bp}"))
    finish
  end

  def test_switch_then_step_follows_the_new_fiber
    assert_match(/fiberlock is now off/, @s.command('set fiberlock off'))
    stop_in_f2
    out = @s.command('switch f3')
    assert_match(/Selected fiber (\d+) \(f3\)/, out)
    f3 = out[/Selected fiber (\d+)/, 1]
    out = @s.command('step')
    assert_match(/Stopped in fiber #{f3} \(f3\) at .*three_fibers\.rb:\d+/, out)
    finish
  end
end
