# frozen_string_literal: true

# test_runqueue.rb — what will run next: `runqueue` lists the run queue in
# order with the value each fiber will be resumed with, `fibers` shows a
# runnable fiber's value, and `switch EXPR` selects the fiber a Ruby
# expression gives (a tag still wins; a value that is not a fiber says so).

require 'minitest/autorun'
require 'pty_session'

class TestRunqueue < Minitest::Test
  include E2E::AtEntry

  FIX = E2E.fixture('queue.rb')

  def test_runqueue_values_and_switch_expr
    @s.command("break #{FIX}:#{E2E.line_of(FIX, '# @stop')}")
    @s.command('c')
    out = @s.command('runqueue')
    rows = out.lines.grep(/^ +\d+\. fiber/)
    assert_match(/^Run queue of thread 1: 3 fibers, in the order they run$/, out)
    assert_match(/1\. fiber \d+ +w2 .* value :third$/, rows[0])
    assert_match(/2\. fiber \d+ +w0 .* value 42$/, rows[1])
    assert_match(/3\. fiber \d+ +w1 .* value "one"$/, rows[2])
    assert_match(/^ +\d+ +w0 +runnable +\S+ +value 42$/, @s.command('fibers'))

    # An expression in the selected frame; a tag first.
    assert_match(/Selected fiber \d+ \(w0\) runnable .*, to be resumed with 42/, @s.command('switch workers.first'))
    assert_match(/Selected fiber \d+ \(w2\) /, @s.command('switch Fiber.current.children[2]'),
                 'evaluated in the stopped fiber even with another one selected')
    assert_match(/Selected fiber \d+ \(w1\) /, @s.command('switch w1'))
    assert_match(/error: 1 \+ 1 is Integer, not a fiber/, @s.command('switch 1 + 1'))
    assert_match(/error: .*undefined local variable or method `nosuch'/, @s.command('switch nosuch'))
    assert_match(/error: no fiber 999/, @s.command('switch 999'))
    assert_match(/Run queue of thread 1: 3 fibers/, @s.command('runqueue w0'), 'the queue of a fiber\'s thread')
    @s.send_line('c')
    @s.expect('w2 got :third')
    @s.expect('w0 got 42')
    @s.expect('w1 got "one"')
    @s.expect('queue done w1')
    assert_equal 0, @s.wait_exit.exitstatus
  end
end
