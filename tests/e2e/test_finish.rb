# frozen_string_literal: true

# test_finish.rb — `up` (finish) stops when the selected frame returns, in
# the same fiber: a method at its return with the value (`=> 45`), the
# caller's next line on the next step; a block of `loop` once per
# iteration; `up` at a return stop finishes the caller. When the stepped
# fiber ends first, polytrace says so with its result and stops in its
# parent, or, when the parent waits on something else, in the next fiber
# that runs, saying which and why.

require 'minitest/autorun'
require 'pty_session'

class TestFinish < Minitest::Test
  include E2E::AtEntry

  FIX = E2E.fixture('finish.rb')
  L = %w[compute_body compute_end bob_after ann_add ann_loop_end ann_last ann_end after_await
         dan_body eve_first].to_h { |m| [m, E2E.line_of(FIX, "# @#{m}")] }

  def test_up_returns_with_the_value_and_follows_ended_fibers
    %w[compute_body ann_add ann_last dan_body].each { |m| @s.command("break #{FIX}:#{L[m]}") }

    # A method: up stops at its return, with the value; skip goes on in the caller.
    assert_match(/Stopped in fiber (\d+) \(bob\) at .*:#{L['compute_body']} in Worker#compute/, @s.command('c'))
    out = @s.command('up')
    assert_match(/Stopped in fiber \d+ \(bob\) at .*finish\.rb:#{L['compute_end']} in Worker#compute \(return\) => 45$/,
                 out)
    assert_equal "45\n", @s.command('p total'), 'the returning frame is still there to look at'
    assert_match(/Stopped in fiber \d+ \(bob\) at .*finish\.rb:#{L['bob_after']} /, @s.command('skip'))
    assert_equal "45\n", @s.command('p r')

    # A block of loop: up ends with this iteration, not the loop.
    out = @s.command('c')
    ann = out[/Stopped in fiber (\d+) \(ann\) at .*:#{L['ann_add']} .*\(breakpoint 2\)/, 1]
    assert ann, out
    out = @s.command('up')
    assert_match(/Stopped in fiber #{ann} \(ann\) at .*:#{L['ann_loop_end']} .*\(return\) => 1$/, out)
    assert_equal "1\n", @s.command('p x')
    assert_match(/Stopped in fiber #{ann} \(ann\) at .*:#{L['ann_add']} .*\(breakpoint 2\)/, @s.command('c'))
    out = @s.command('up')
    assert_match(/Stopped in fiber #{ann} \(ann\) at .*:#{L['ann_loop_end']} .*\(return\) => 3$/, out,
                 'the second iteration: once per iteration')
    assert_equal "2\n", @s.command('p x')
    @s.command('delete 2')

    # The fiber's own block returns, then the fiber ends: said at once, and
    # the step stops in its parent (which awaited it).
    assert_match(/Stopped in fiber #{ann} \(ann\) at .*:#{L['ann_last']} /, @s.command('c'))
    assert_match(/Stopped in fiber #{ann} \(ann\) at .*:#{L['ann_end']} .*\(return\) => 9$/, @s.command('up'))
    out = @s.command('step')
    assert_match(/^fiber #{ann} \(ann\) finished => 9$/, out)
    assert_match(/^Stopped in fiber 1 \S* ?at .*finish\.rb:#{L['after_await']} in <main> \(fiber #{ann} ended: back in its parent\)$/,
                 out)
    assert_match(/ann => 9/, @s.transcript)

    # A fiber ending while its parent sleeps: the next fiber to run.
    out = @s.command('c')
    dan = out[/Stopped in fiber (\d+) \(dan\) at .*:#{L['dan_body']} /, 1]
    assert dan, out
    out = @s.command('step')
    assert_match(/^fiber #{dan} \(dan\) finished => 42$/, out)
    eve = out[/^Stopped in fiber (\d+) \(eve\) at .*finish\.rb:#{L['eve_first']} /, 1]
    assert eve, out
    assert_match(/\(fiber #{dan} ended and its parent, fiber 1 \(main\), waits on sleep: fiber #{eve} \(eve\) ran next\)$/,
                 out)

    @s.send_line('c')
    @s.expect('finish done 42')
    @s.expect('program exited with status 0')
    assert_equal 0, @s.wait_exit.exitstatus
  end
end
