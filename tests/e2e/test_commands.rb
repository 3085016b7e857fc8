# frozen_string_literal: true

# test_commands.rb — a tour of every REPL command through a real terminal:
# stepping, frames, listing, printing, breakpoints, fibers, trace, set,
# help, errors for bad input, history, completion, the empty-line repeat,
# Ctrl-C at the prompt and quit.

require 'minitest/autorun'
require 'pty_session'

class TestCommands < Minitest::Test
  include E2E::AtEntry

  FIX = E2E.fixture('commands.rb')

  def teardown
    File.write(@go, '') if @go && !File.exist?(@go)
    super
  ensure
    File.unlink(@go) if @go && File.exist?(@go)
  end

  def entry_stop
    /Stopped in fiber 1 .*commands\.rb:#{E2E.line_of(FIX, "require 'polyphony'")}.*\(entry\)/
  end

  def test_stepping_frames_listing_and_print
    line_inner = E2E.line_of(FIX, '# @inner_body')
    out = @s.command("break #{FIX}:#{line_inner}")
    assert_match(/Breakpoint 1 at .*commands\.rb:#{line_inner}/, out)
    out = @s.command('c')
    assert_match(/hello world!0!1/, out)
    assert_match(/Stopped in fiber 1 .* at .*commands\.rb:#{line_inner} in .*inner.*\(breakpoint 1\)/, out)
    assert_match(/=> +#{line_inner}  +value = m \* 2/, out)

    assert_equal "21\n", @s.command('p m')
    assert_match(/undefined local variable or method|NameError/, @s.command('print no_such_thing'))

    bt = @s.command('bt')
    assert_match(/> #0 +.*commands\.rb:#{line_inner} in .*inner/, bt)
    assert_match(/#1 +.*commands\.rb:#{E2E.line_of(FIX, '# @outer_call')} in .*outer/, bt)

    out = @s.command('upframe')
    assert_match(/> #1 .*outer/, out)
    assert_equal "20\n", @s.command('p n'), 'print evaluates in the selected frame'
    assert_match(/=> +#{E2E.line_of(FIX, '# @outer_call')} +inner/, @s.command('list'))
    assert_match(/> #0 .*inner/, @s.command('downframe'))
    assert_match(/innermost/, @s.command('downframe'))
    assert_match(/> #1 .*outer/, @s.command('frame 1'))
    assert_match(/error: no frame 99/, @s.command('frame 99'))
    @s.command('frame 0')

    out = @s.command('step')
    assert_match(/Stopped in fiber 1 .*commands\.rb:#{line_inner + 1}/, out)
    after = E2E.line_of(FIX, '# @after_outer')
    out = @s.command('up')
    assert_match(/Stopped in fiber 1 .*commands\.rb:#{line_inner + 2} in .*inner \(return\) => 43$/, out,
                 'inner returns 43')
    out = @s.command('up')
    assert_match(/Stopped in fiber 1 .*commands\.rb:#{E2E.line_of(FIX, '# @outer_call') + 1} in .*outer \(return\) => 43$/,
                 out, 'then outer returns it')
    out = @s.command('skip')
    assert_match(/^43$/, out, 'outer(20) finished and printed')
    assert_match(/Stopped in fiber 1 .*commands\.rb:#{after}/, out)

    # An empty line repeats the last step command.
    assert_match(/Stopped in fiber 1 .*commands\.rb:#{after + 1}/, @s.command('skip'))
    assert_match(/Stopped in fiber 1 .*commands\.rb:#{after + 2}/, @s.command(''), 'empty line repeats skip')

    assert_match(/#1 .*commands\.rb:#{line_inner} .*hits 1/, @s.command('breakpoints'))
    assert_match(/Deleted breakpoint 1/, @s.command('delete 1'))
    assert_match(/No breakpoints/, @s.command('breakpoints'))
    assert_match(/error: .*breakpoint/i, @s.command('delete 7'))
  end

  def test_fibers_switch_trace_set
    line_wait = E2E.line_of(FIX, '# @helper_wait')
    @s.command("break #{E2E.line_of(FIX, '# @greet_body')}")
    @s.command('c')
    out = @s.command('fibers')
    assert_match(/2 fibers/, out)
    assert_match(/^\* 1 +main +running/, out)
    assert_match(/^ +2 +helper +waiting +.*commands\.rb:#{line_wait} +receive/, out)

    out = @s.command('switch helper')
    assert_match(/Selected fiber 2 \(helper\) waiting/, out)
    assert_match(/follow fiber 2/, out)
    assert_match(/#0 .*commands\.rb:#{line_wait}/, @s.command('bt'))
    assert_match(/#0 .*commands\.rb/, @s.command('bt 1'))
    assert_match(/no fiber tagged 'nobody'/, @s.command('switch nobody'))
    assert_match(/error: .*(fiber|no such)/i, @s.command('switch 999'))
    @s.command('fiber 1')

    assert_match(/Tracing I\/O ops of all fibers/, @s.command('trace ops on'))
    assert_match(/Tracing I\/O ops of fiber 2/, @s.command('trace ops on fiber 2'))
    assert_match(/Op tracing off/, @s.command('trace ops off'))
    assert_match(/fiberlock is now on/, @s.command('set fiberlock on'))
    assert_match(/fiberlock is now step/, @s.command('set fiberlock step'))
    assert_match(/error: set: usage/, @s.command('set fiberlock maybe'))
    assert_match(/error: the program is already stopped/, @s.command('pause'))

    @s.command('delete 1')
    @s.command('trace ops on')
    @s.send_line('c')
    # Op events come over the socket, the program's output straight to the
    # terminal: their relative order is not fixed.
    @s.expect('program exited with status 0')
    assert_match(/op: fiber 1 submit write fd 1 len \d+/, @s.transcript)
    assert_match(/op: fiber 1 complete write fd 1 len \d+ -> \d+/, @s.transcript)
    assert_match(/commands done/, @s.transcript)
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_print_limit_and_breakpoints_where_no_code_is
    out = @s.command('p "x" * 10_000')
    lines = out.lines
    assert_equal 2, lines.size, out[0, 200]
    assert_equal 4096, lines[0].chomp.size, 'a preview of the default limit'
    assert_equal "... (4096 of 10002 bytes shown; 'set print limit 0' prints it whole)\n", lines[1]
    assert_equal "print limit is now 10 bytes\n", @s.command('set print limit 10')
    assert_equal "\"éééé\n... (9 of 42 bytes shown; 'set print limit 0' prints it whole)\n".b,
                 @s.command('p "\\u00e9" * 20').b, 'cut between characters, never inside one'
    assert_equal "print limit is now none: values print whole\n", @s.command('set print limit 0')
    assert_equal "#{'x' * 10_000}\n".size, @s.command('p "x" * 10_000').size - 2, 'the quotes, whole'
    assert_match(/usage: set print limit N/, @s.command('set print limit lots'))

    last = File.readlines(FIX).size
    out = @s.command('break 99999')
    assert_match(/\Aerror: line 99999 is past the end of .*commands\.rb \(#{last} lines\); the nearest line with code is #{last}\n\z/, out)
    out = @s.command("break #{FIX}:1")
    code = E2E.line_of(FIX, "require 'polyphony'")
    assert_match(/\Aerror: line 1 of .*commands\.rb has no code; the nearest line with code is #{code}\n\z/, out)
    assert_equal "No breakpoints.\n", @s.command('breakpoints'), 'nothing was set'
    assert_match(/Breakpoint 1 at .*commands\.rb:#{code}/, @s.command("break #{FIX}:#{code}"))
  end

  def test_help_errors_history_completion
    out = @s.command('help')
    %w[step skip up continue switch fibers backtrace frame upframe downframe list print break
       delete breakpoints trace set pause detach quit kill help].each do |name|
      assert_match(/^  #{name}\b/, out, "help lists #{name}")
    end
    out = @s.command('help n')
    assert_match(/^skip\n  names: skip, n, next/, out)
    assert_match(/error: help: no command 'frob'/, @s.command('help frob'))
    assert_equal "error: unknown command 'frobnicate' (try 'help')\n", @s.command('frobnicate now')
    assert_equal "error: frame: 'x' is not a number\n", @s.command('frame x')
    assert_match(/error: break: /, @s.command('break 12x'))
    assert_match(/error: step: takes no arguments/, @s.command('step 2'))

    # Ctrl-C at the prompt drops the line and prompts again; the program stays stopped.
    @s.send_raw('print 1 +')
    @s.send_raw("\x03")
    @s.expect(PtySession::PROMPT)
    assert_equal "3\n", @s.command('p 1 + 2')

    # Ctrl-C gives up waiting for a slow answer; the session goes on (the
    # late answer is recognised as stale by its id and dropped). The answer
    # waits for a file made only after the interrupt, so it can never come
    # first however late the Ctrl-C arrives (teardown makes it too, and the
    # wait gives up after two minutes: a failed test leaves no program
    # spinning).
    @go = File.join(Dir.tmpdir, "pt_slow_#{Process.pid}_#{object_id}")
    @s.send_line("p (t = Time.now; nil until File.exist?(#{@go.inspect}) || Time.now - t > 120; :slow)")
    @s.expect(/p \(t = Time\.now.*:slow\)\n/)
    @s.send_raw("\x03")
    @s.expect('error: interrupted; the program may still be working on it')
    @s.prompt
    File.write(@go, '')
    assert_equal "2\n", @s.command('p 1 + 1')

    # Tab completion: a unique command prefix, then a fiber tag.
    # (Typed in two goes, the TAB after the echo: the terminal must still be
    # in readline's mode after the first keys, or the TAB would wait for Enter.)
    @s.send_raw('breakp')
    @s.expect('breakp')
    @s.send_raw("\t")
    @s.expect('oints') # readline writes the rest of the word
    @s.send_raw("\n")
    @s.expect(/No breakpoints/)
    @s.prompt
    @s.command("break #{E2E.line_of(FIX, '# @greet_body')}")
    assert_match(/Stopped in fiber 1/, @s.command('c'))
    @s.send_raw('switch hel')
    @s.expect('switch hel')
    @s.send_raw("\t")
    @s.expect('per')
    @s.send_raw("\n")
    @s.expect(/Selected fiber 2/)
    @s.prompt

    # quit kills a launched program and exits 0; the history file has the lines.
    @s.send_line('quit')
    assert_equal 0, @s.wait_exit.exitstatus
    hist = File.read(@s.history)
    assert_includes hist, 'frobnicate now'
    assert_includes hist, 'p 1 + 2'
  end

  def test_ctrl_d_quits
    @s.send_raw("\x04")
    assert_equal 0, @s.wait_exit.exitstatus
  end
end
