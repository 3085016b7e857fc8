# frozen_string_literal: true

# test_demo.rb — the bundled example `make demo` debugs: it stops at its
# first line, a method breakpoint catches a worker, `fibers` shows the
# producer, both workers and the ticker, and it runs to a clean end.

require 'minitest/autorun'
require 'pty_session'

class TestDemo < Minitest::Test
  DEMO = File.join(PtySession::ROOT, 'examples', 'demo.rb')

  def teardown
    @s&.close
  end

  def test_demo_session
    @s = PtySession.polytrace('ruby', DEMO)
    @s.expect(/Stopped in fiber 1 at .*demo\.rb:\d+ .*\(entry\)/, timeout: 20)
    @s.prompt
    line = E2E.line_of(DEMO, 'result = job * job')
    assert_match(/Breakpoint 1 at .*demo\.rb:#{line}/, @s.command("break #{line}"))
    out = @s.command('c')
    assert_match(/Stopped in fiber \d+ \(worker_[ab]\) at .*demo\.rb:\d+ in .*work.*\(breakpoint 1\)/, out)
    out = @s.command('fibers')
    %w[producer worker_a worker_b ticker].each { |tag| assert_match(/ #{tag} /, out) }
    assert_match(/^5 fibers$/, out)
    assert_equal "1\n", @s.command('p job')
    @s.command('delete 1')
    @s.send_line('c')
    @s.expect('demo finished', timeout: 30)
    @s.expect('program exited with status 0')
    assert_equal 0, @s.wait_exit.exitstatus
  end
end
