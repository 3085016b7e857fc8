# frozen_string_literal: true

# test_breakpoints.rb — a breakpoint on a method, a conditional line
# breakpoint, and Kernel#breakpoint under a controller (--nonstop).

require 'minitest/autorun'
require 'open3'
require 'pty_session'

class TestBreakpoints < Minitest::Test
  FIX = E2E.fixture('methods.rb')
  BODY = E2E.line_of(FIX, '# @bump_body')

  def teardown
    @s&.close
  end

  def launch(*opts, env: {})
    @s = PtySession.polytrace(*opts, 'ruby', FIX, env: env)
  end

  def test_method_breakpoint
    launch
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    assert_match(/Breakpoint 1 at Counter#bump/, @s.command('break Counter#bump'))
    out = @s.command('c')
    assert_match(/Stopped in fiber 1 .* at .*methods\.rb:#{BODY} in Counter#bump \(breakpoint 1\)/, out)
    # Backtraces qualify method names too: the block calling bump is top level.
    assert_match(/#0 .*methods\.rb:#{BODY} in Counter#bump\n.*#1 .* in block in <main>\n/m, @s.command('bt'))
    assert_equal "0\n", @s.command('p i')
    out = @s.command('c')
    assert_match(/\(breakpoint 1\)/, out)
    assert_equal "1\n", @s.command('p i')
    assert_match(/#1 +Counter#bump hits 2/, @s.command('breakpoints'))
    @s.command('delete 1')
    @s.send_line('c')
    @s.expect('total 10')
    @s.expect('methods done')
    @s.expect('program exited with status 0')
    assert_equal 0, @s.wait_exit.exitstatus
  end

  # A method breakpoint set before the method exists is pending, and fires
  # once the method is defined — in any fiber.
  def test_pending_method_breakpoint
    fix = E2E.fixture('pending.rb')
    body = E2E.line_of(fix, '# @double_body')
    @s = PtySession.polytrace('ruby', fix)
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    assert_match(/Breakpoint 1 at Object#double \(pending\)/, @s.command('break double'))
    out = @s.command('c')
    assert_match(/Stopped in fiber (?!1 )\d+ .*pending\.rb:#{body} .*\(breakpoint 1\)/, out,
                 'the call in the spun fiber stops')
    assert_equal "3\n", @s.command('p x')
    out = @s.command('c')
    assert_match(/fiber 6/, out)
    assert_match(/Stopped in fiber 1 .*pending\.rb:#{body} .*\(breakpoint 1\)/, out)
    @s.send_line('c')
    @s.expect('main 8')
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_conditional_breakpoint
    launch
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    out = @s.command("break #{FIX}:#{BODY} if i == 3")
    assert_match(/Breakpoint 1 at .*methods\.rb:#{BODY} if i == 3/, out)
    out = @s.command('c')
    assert_match(/at .*methods\.rb:#{BODY} .*\(breakpoint 1\)/, out)
    assert_equal "3\n", @s.command('p i')
    assert_equal "3\n", @s.command('p @n'), '0 + 1 + 2 before this call'
    @s.send_line('c')
    @s.expect('total 10')
    @s.expect('program exited with status 0')
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_kernel_breakpoint_under_controller
    launch('--nonstop', env: { 'PT_FIXTURE_BREAKPOINT' => '1' })
    line = E2E.line_of(FIX, '# @kernel_breakpoint')
    m = @s.expect(/Stopped in fiber (\d+) \(caller\) at .*methods\.rb:#{line}.*\(call\)/, timeout: 20)
    refute_equal '1', m[1]
    @s.prompt
    assert_equal "42\n", @s.command('p secret')
    @s.send_line('c')
    @s.expect('secret 42')
    @s.expect('program exited with status 0')
    assert_equal 0, @s.wait_exit.exitstatus
  end

  # Without a controller, on a terminal: the tracer starts `polytrace attach`
  # on the same terminal, which stops at the caller's line.
  def test_kernel_breakpoint_starts_polytrace_on_the_terminal
    env = { 'PT_FIXTURE_BREAKPOINT' => '1', 'RUBYLIB' => "#{PtySession::BUILD}/lib",
            'PATH' => "#{PtySession::BUILD}/bin:#{ENV.fetch('PATH', '/usr/bin:/bin')}" }
    @s = PtySession.new('ruby', '-rpolytrace', FIX, env: env)
    line = E2E.line_of(FIX, '# @kernel_breakpoint')
    @s.expect('total 10', timeout: 20)
    @s.expect(/Attached to process \d+\./, timeout: 20)
    @s.expect(/Stopped in fiber \d+ \(caller\) at .*methods\.rb:#{line}.*\(call\)/)
    @s.prompt
    assert_equal "42\n", @s.command('p secret')
    @s.send_line('c')
    @s.expect('methods done')
    assert_equal 0, @s.wait_exit.exitstatus
  end

  # Without a terminal: one line on stderr, and the program carries on.
  def test_kernel_breakpoint_without_terminal_does_not_hang
    env = { 'PT_FIXTURE_BREAKPOINT' => '1', 'RUBYLIB' => "#{PtySession::BUILD}/lib" }
    out, err, st = Open3.capture3(env, 'ruby', '-rpolytrace', FIX, stdin_data: '')
    assert_equal 0, st.exitstatus, err
    assert_match(/secret 42\nmethods done/, out)
    assert_match(/polytrace: breakpoint at .*methods\.rb:#{E2E.line_of(FIX, '# @kernel_breakpoint')}\b.*attach with: polytrace attach \d+/, err)
  end

  def test_nonstop_runs_to_the_end
    launch('--nonstop')
    @s.expect('methods done', timeout: 20)
    @s.expect('program exited with status 0')
    assert_equal 0, @s.wait_exit.exitstatus
    refute_includes @s.transcript, PtySession::PROMPT
  end
end
