# frozen_string_literal: true

# test_deadlock_stop.rb — under the debugger a deadlock stops the program
# (reason "deadlock") with the wait-for graph and its cycle; the fibers can
# be looked at; `continue` then gives the main fiber its Polyphony::Deadlock.

require 'minitest/autorun'
require 'pty_session'

class TestDeadlockStop < Minitest::Test
  include E2E::AtEntry

  FIX = E2E.fixture('deadlocks.rb')
  LINE = %w[a b c main].to_h { |n| [n, E2E.line_of(FIX, "# @#{n}")] }

  def test_stop_with_the_wait_for_graph
    out = @s.command('c', timeout: 20)
    assert_match(/Stopped in fiber \d+ \(\w+\) at .*deadlocks\.rb:\d+ .*\(deadlock\)\n/, out)
    assert_match(/^deadlock: no fiber can ever run again/, out)
    assert_match(/^  fiber 1 \(main\) at \S*deadlocks\.rb:#{LINE['main']}:in `await': awaits fiber 2 \(a\)$/, out)
    assert_match(/^  fiber 2 \(a\) at \S*deadlocks\.rb:#{LINE['a']}:in `await': awaits fiber 3 \(b\)$/, out)
    assert_match(/^  fiber 3 \(b\) at \S*deadlocks\.rb:#{LINE['b']}:in `await': awaits fiber 4 \(c\)$/, out)
    assert_match(/^  fiber 4 \(c\) at \S*deadlocks\.rb:#{LINE['c']}:in `await': awaits fiber 2 \(a\)$/, out)
    assert_match(/^  cycle: fiber 2 \(a\) -> fiber 3 \(b\) -> fiber 4 \(c\) -> fiber 2 \(a\)$/, out)
    fibers = @s.command('fibers')
    %w[a b c].each { |t| assert_match(/#{t} +(waiting|running) .*await/, fibers) }
    @s.send_line('c')
    @s.expect(/Polyphony::Deadlock/, timeout: 20)
    @s.expect('program exited with status 1')
    assert_equal 1, @s.wait_exit.exitstatus
    refute_match(/^never printed$/, @s.transcript)
  end
end
