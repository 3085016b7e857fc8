# frozen_string_literal: true

# test_terminal.rb — the launched program keeps the terminal: it is the
# foreground process group while it runs, reads its own stdin, and Ctrl-C
# while it runs pauses it (polytrace takes the terminal back and prompts).
# Also: `fibers` with 10,000 fibers summarises instead of flooding the
# screen (how fast it answers is make bench's 'fibers' group: under a
# second is a target there, not a timed assertion here).

require 'minitest/autorun'
require 'pty_session'

class TestTerminal < Minitest::Test
  def teardown
    @s&.close
  end

  def test_program_owns_the_terminal_and_ctrl_c_pauses
    fix = E2E.fixture('terminal.rb')
    @s = PtySession.polytrace('ruby', fix)
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    @s.send_line('c')
    @s.expect('foreground true tty true')
    @s.expect('type a line:')
    @s.send_line('hello there')
    @s.expect('got "hello there\n"')
    @s.expect('looping')
    @s.send_raw("\x03")
    @s.expect(/Stopped in fiber 1 .*terminal\.rb:\d+.*\(pause\)/)
    @s.prompt
    assert_equal "true\n", @s.command('p n >= 0')
    assert_equal "false\n", @s.command('p foreground?'), 'while stopped, polytrace owns the terminal'
    assert_equal "true\n", @s.command('p @stop = true')
    @s.send_line('c')
    @s.expect(/looped (true|false)/)
    @s.expect('terminal done')
    @s.expect('program exited with status 0')
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_ten_thousand_fibers
    fix = E2E.fixture('many_fibers.rb')
    @s = PtySession.polytrace('ruby', fix)
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    @s.command("break #{E2E.line_of(fix, '# @stop')}")
    assert_match(/Stopped in fiber 1/, @s.command('c', timeout: 30))
    out = @s.command('fibers')
    assert_match(/^10,051 fibers$/, out)
    # A screenful (LINES=50 in the session): the count, the heads, 44 rows,
    # the summary and how to see more.
    assert_operator out.lines.size, :<=, 49, 'summarised, not flooded'
    m = out.match(/^\.\.\. and ([\d,]+) more: (.*)$/)
    assert m, out.lines.last(3).join
    assert_equal '10,007', m[1]
    assert_match(/\b[\d,]+ waiting on receive\b/, m[2])
    assert_match(/'fibers -a' lists every one, 'fibers -g state\|location\|tag' groups them/, out)

    # Grouped and picked, at 10,000 fibers.
    out = @s.command('fibers -g state')
    assert_match(/^10,051 fibers in 3 groups by state$/, out)
    assert_match(/^ +10,000  waiting on receive +\d+, \d+, \d+, \d+, \d+, \.\.\.$/, out)
    assert_match(/^ +50  runnable +/, out)
    assert_match(/^ +1  running +1$/, out)
    out = @s.command('fibers -g location')
    assert_match(/^ +10,000  \S*many_fibers\.rb:#{E2E.line_of(fix, 'waiting =')} /, out)
    out = @s.command('fibers ^1000[0-9] -')
    assert_match(/^10 of 10,051 fibers match '\^1000\[0-9\] -'$/, out)
    assert_equal 10, out.lines.grep(/^ +1000\d /).size
    out = @s.command('fibers -a ^10[0-9][0-9] -')
    assert_equal 100, out.lines.grep(/^ +10\d\d /).size, 'more than a screenful, all listed'
    refute_match(/\.\.\. and/, out)
    @s.command('delete 1')
    @s.send_line('c')
    @s.expect('many done 10050', timeout: 30)
    assert_equal 0, @s.wait_exit(timeout: 30).exitstatus
  end
end
