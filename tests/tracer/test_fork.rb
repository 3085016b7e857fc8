# frozen_string_literal: true

# tests/tracer/test_fork.rb — the tracer's side of following forked
# children: FORKED goes to a controller whose HELLO asked for it; the child
# keeps the parent's breakpoints (with their numbers), waits on its attach
# socket until the controller reaches it, then runs; follow-fork parent
# (set while the program runs) lets children run free, and a child nobody
# reaches runs on after POLYTRACE_FORK_WAIT. Breakpoints and settings are
# answered while the program runs, a breakpoint with the number the
# controller asks for.
require 'minitest/autorun'
require 'pt_wire'

class TestFork < Minitest::Test
  SCRIPT = File.join(__dir__, 'scripts', 'fork_follow.rb')
  CHILD_LINE = File.readlines(SCRIPT).index { |l| l.include?('@child') } + 1

  def teardown
    @child&.close
    @d&.close
  end

  def start(follow_fork, env: {})
    @d = PtWire::Debuggee.new(SCRIPT, follow_fork: follow_fork, env: env)
    @c = @d.conn
    assert_equal 'entry', @c.read['reason']
  end

  def test_child_keeps_breakpoints_and_waits_for_the_controller
    start('all')
    bp = @c.request(:break, file: SCRIPT, line: CHILD_LINE, bp: 5)
    assert_equal [:breakpoint, 5], [bp['type'], bp['bp']['id']], 'the number asked for'
    assert_equal :ok, @c.request(:continue)['type']
    forked = @c.wait_event(:forked)
    assert_equal 'all', forked['follow']
    pid = forked['pid']
    refute_match(/child/, @d.stdout, 'the child waits before its first line')

    @child = @d.attach_to(pid)
    assert_equal :hello, @child.hello['type']
    assert_equal pid, @child.hello['pid']
    stop = @child.wait_event(:stopped)
    assert_equal ['breakpoint', CHILD_LINE, 5], stop.values_at('reason', 'line', 'bp')
    assert_equal '2', @child.request(:eval, expr: 'y = x + 1')['text']
    bps = @child.request(:breakpoints)['bps']
    assert_equal [5], bps.map { |b| b['id'] }, "the parent's breakpoints came along"
    assert_equal :ok, @child.request(:continue)['type']
    assert_equal 7, @child.wait_event(:exited)['status']
    assert_equal 0, @c.wait_event(:exited)['status']
    assert_equal 0, @d.wait.exitstatus
    assert_match(/child 2\nparent saw 7/, @d.stdout)
    assert(@c.seen.none? { |m| m['type'] == :stopped }, "the child's stop is not the parent's")
  end

  def test_no_follow_fork_in_hello_means_no_forked_and_a_free_child
    start(nil)
    @c.request(:break, file: SCRIPT, line: CHILD_LINE)
    @c.request(:continue)
    assert_equal 0, @c.wait_event(:exited)['status']
    assert(@c.seen.none? { |m| m['type'] == :forked })
    @d.wait
    assert_match(/child 2\nparent saw 7/, @d.stdout)
  end

  def test_follow_fork_parent_and_breakpoint_numbers
    start('all', env: { 'POLYTRACE_FORK_WAIT' => '30s' })
    assert_equal :ok, @c.request(:set, name: 'follow-fork', value: 'parent')['type']
    err = @c.request(:set, name: 'follow-fork', value: 'sometimes')
    assert_equal [:error, PtWire::ERR[:bad_setting]], err.values_at('type', 'code')
    assert_equal 1, @c.request(:break, file: SCRIPT, line: CHILD_LINE, bp: 1)['bp']['id']
    dup = @c.request(:break, file: SCRIPT, line: CHILD_LINE + 1, bp: 1)
    assert_equal [:error, PtWire::ERR[:bad_request]], dup.values_at('type', 'code')
    assert_match(/breakpoint 1 exists already/, dup['message'])
    assert_equal 2, @c.request(:break, file: SCRIPT, line: CHILD_LINE + 1)['bp']['id'], 'the next after the one asked for'
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal 'parent', @c.wait_event(:forked)['follow']
    assert_equal 0, @c.wait_event(:exited)['status']
    @d.wait
    assert_match(/child 2\nparent saw 7/, @d.stdout, 'the child ran free, past its breakpoints')
  end

  def test_breakpoint_set_and_deleted_while_the_program_runs
    script = File.join(__dir__, 'scripts', 'wait_for_file.rb')
    line = File.readlines(script).index { |l| l.include?('rounds += 1') } + 1
    stop_file = File.join(Dir.tmpdir, "pt_fork_#{Process.pid}")
    @d = PtWire::Debuggee.new(script, stop_file, nonstop: true, follow_fork: 'all')
    c = @d.conn
    @d.wait_stdout(/ready/)
    r = c.request(:break, file: script, line: line, bp: 9)
    assert_equal [:breakpoint, 9], [r['type'], r['bp']['id']]
    assert_equal ['breakpoint', 9], c.wait_event(:stopped).values_at('reason', 'bp')
    assert_equal :ok, c.request(:delete, bp: 9)['type']
    assert_equal :ok, c.request(:continue)['type']
    never = c.request(:break, file: script, line: line, cond: 'rounds < 0')
    assert_equal 10, never['bp']['id'], 'set while it runs'
    assert_equal [10], c.request(:breakpoints)['bps'].map { |b| b['id'] }
    assert_equal :ok, c.request(:delete, bp: 10)['type'], 'deleted while it runs'
    assert_equal [], c.request(:breakpoints)['bps']
    assert_equal PtWire::ERR[:not_stopped], c.request(:eval, expr: '1')['code'], 'the rest still needs a stop'
    File.write(stop_file, '')
    assert_equal 0, c.wait_event(:exited)['status']
  ensure
    File.unlink(stop_file) if stop_file && File.exist?(stop_file)
  end

  def test_a_child_nobody_reaches_runs_on
    start('all', env: { 'POLYTRACE_FORK_WAIT' => '300ms' })
    @c.request(:break, file: SCRIPT, line: CHILD_LINE)
    @c.request(:continue)
    assert_equal 'all', @c.wait_event(:forked)['follow']
    assert_equal 0, @c.wait_event(:exited)['status']
    @d.wait
    assert_match(/child 2\nparent saw 7/, @d.stdout)
    assert_match(/forked process \d+: the debugger did not take it on .*; it runs without the debugger/, @d.stderr)
  end
end
