# frozen_string_literal: true

# test_watch.rb — `watch EXPR` stops in the fiber that changed the value,
# at the line after the change, with the value before and after (also when
# the fiber switched away on the changing line: then at its own next line);
# `watch` lists, `unwatch` removes. `display EXPR` shows the value now and
# at every stop; `undisplay` removes it. A watch's own code never takes the
# program down: a value whose #== raises is compared by #hash, and a signal
# met while a watch is evaluated ends the program as it would have without
# the debugger.

require 'minitest/autorun'
require 'pty_session'

class TestWatch < Minitest::Test
  include E2E::AtEntry

  FIX = E2E.fixture('watch.rb')
  L = %w[start add after_add push after_push].to_h { |m| [m, E2E.line_of(FIX, "# @#{m}")] }

  def test_watch_and_display
    @s.command("break #{FIX}:#{L['start']}")
    @s.command('c')
    assert_equal "Watch 1: counter[:n] = 0\n", @s.command('watch counter[:n]')
    assert_equal "Watch 2: items = []\n", @s.command('watch items')
    assert_equal "1: counter[:n] = 0\n", @s.command('display counter[:n]')
    assert_match(/error: .*undefined local variable or method `nosuch'/, @s.command('watch nosuch'))

    out = @s.command('c')
    assert_match(/Stopped in fiber (\d+) \(adder\) at .*watch\.rb:#{L['after_add']} .*\(watch 1: 0 => 1\)$/, out)
    assert_match(/^1: counter\[:n\] = 1$/, out, 'the display at the stop')
    out = @s.command('c')
    assert_match(/\(adder\) at .*watch\.rb:#{L['after_add']} .*\(watch 1: 1 => 2\)$/, out)
    assert_match(/^1: counter\[:n\] = 2$/, out)
    # The pusher changed items and snoozed on the same line: the change is
    # seen in another fiber, and the stop waits for the pusher's next line.
    out = @s.command('c')
    assert_match(/Stopped in fiber \d+ \(pusher\) at .*watch\.rb:#{L['after_push']} .*\(watch 2: \[\] => \[:a\]; fiber \d+ changed it and switched away: its next line\)$/,
                 out)
    list = @s.command('watch')
    assert_match(/^#1  counter\[:n\] = 2 \(changed 2 times\)$/, list)
    assert_match(/^#2  items = \[:a\] \(changed 1 time\)$/, list)
    assert_equal "Deleted watch 1\n", @s.command('unwatch 1')
    assert_match(/error: no watch 7/, @s.command('unwatch 7'))
    assert_equal "Deleted display 1\n", @s.command('undisplay 1')
    assert_equal "No displays.\n", @s.command('display')
    @s.send_line('c')
    @s.expect('watch done 2 [:a] start')
    @s.expect('program exited with status 0')
    refute_match(/watch 1: 2/, @s.transcript, 'no stop after unwatch')
  end

  def test_a_watch_never_takes_the_program_down
    @s.command("break #{FIX}:#{L['start']}")
    @s.command('c')
    assert_equal "Watch 1: Stubborn.new(counter[:n]) = #<struct Stubborn n=0>\n",
                 @s.command('watch Stubborn.new(counter[:n])')
    out = @s.command('c')
    assert_match(/Stopped in fiber \d+ \(adder\) at .*watch\.rb:#{L['after_add']} .*\(watch 1: #<struct Stubborn n=0> => #<struct Stubborn n=1>\)$/,
                 out, 'a new Stubborn at every line, its #== raising: compared by #hash')
    assert_equal "Deleted watch 1\n", @s.command('unwatch 1')

    # The watch sends the program SIGTERM itself, so the signal is met in
    # the watch's code: it must end the program, not be swallowed there.
    assert_match(/^Watch 2: /, @s.command('watch (Process.kill(:TERM, Process.pid) if $pt_term; counter[:n])'))
    assert_equal "true\n", @s.command('p $pt_term = true')
    @s.send_line('c')
    @s.expect('program killed by signal SIGTERM')
    assert_equal 128 + 15, @s.wait_exit.exitstatus
    refute_match(/^watch done/, @s.transcript, 'the program did not go on')
  end
end
