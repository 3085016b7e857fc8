# frozen_string_literal: true

# test_async_bt.rb — backtraces across spins: below a fiber's own frames,
# `bt` shows "-- spun by fiber N (tag) at file:line --" and the frames the
# spinner had when it spun it, up to the main fiber; `dump PID` shows the
# same. A frame of the async part can be selected and listed, not
# evaluated in.

require 'minitest/autorun'
require 'open3'
require 'tmpdir'
require 'pty_session'

class TestAsyncBt < Minitest::Test
  FIX = E2E.fixture('async_bt.rb')
  L = %w[spin_acceptor call_handle spin_worker work_wait listen start stop].to_h do |m|
    [m, E2E.line_of(FIX, "# @#{m}")]
  end

  def teardown
    @s&.close
    File.write(@stop, '') if @stop
    Process.kill('KILL', @pid) if @pid && E2E.process_alive?(@pid)
    FileUtils.rm_rf(@dir) if @dir
  end

  # The worker's frames, then the acceptor's at the spin, then main's.
  def assert_async(out, worker)
    at = ->(m) { "\\S*async_bt\\.rb:#{L[m]}" }
    lines = out.lines.map(&:chomp)
    expected = [
      /#0 +#{at['work_wait']} in receive/,
      /#1 +#{at['work_wait']} in work/,
      /#2 +#{at['spin_worker']} in block in handle_later/,
      /^ +-- spun by fiber (\d+) \(acceptor\) at #{at['spin_worker']} --$/,
      /#3 +#{at['spin_worker']} in Server#handle_later/,
      /#\d+ +#{at['call_handle']} in /,
      /^ +-- spun by fiber 1 \(main\) at #{at['spin_acceptor']} --$/,
      /#\d+ +#{at['spin_acceptor']} in Server#listen/,
      /#\d+ +#{at['listen']} in Object#start/,
      /#\d+ +#{at['start']} in <main>/
    ]
    i = 0
    expected.each do |re|
      i += 1 until i >= lines.size || lines[i] =~ re
      assert_operator i, :<, lines.size, "#{re.inspect} (in order) in #{worker}'s:\n#{out}"
    end
    refute_match(/:0 in /, out, 'no frame without a line')
  end

  def test_bt_continues_below_a_fiber_into_its_spinners
    @s = PtySession.polytrace('ruby', FIX)
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    @s.command("break #{FIX}:#{L['stop']}")
    assert_match(/Stopped in fiber 1 .*:#{L['stop']} /, @s.command('c'))
    assert_async(@s.command('bt worker1'), 'worker1')
    acceptor = @s.command('bt acceptor')
    assert_match(/#2 +\S*async_bt\.rb:#{L['spin_acceptor']} in block in listen\n +-- spun by fiber 1 \(main\) at \S*async_bt\.rb:#{L['spin_acceptor']} --\n/,
                 acceptor)
    refute_match(/spun by/, @s.command('bt'), 'the main fiber was spun by nobody')
    @s.send_line('c')
    @s.expect('async done')
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_a_frame_of_the_async_part_is_listed_not_evaluated_in
    @s = PtySession.polytrace('ruby', FIX)
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    @s.command("break #{FIX}:#{L['work_wait']}")
    assert_match(/Stopped in fiber \d+ \(worker0\) .*:#{L['work_wait']} /, @s.command('c'))
    @s.command('delete 1')
    bt = @s.command('bt')
    assert_match(/-- spun by fiber \d+ \(acceptor\) at /, bt)
    n = bt[/#(\d+) +\S*async_bt\.rb:#{L['listen']} in Object#start/, 1]
    assert n, bt
    out = @s.command("frame #{n}")
    assert_match(/> ##{n} +\S*async_bt\.rb:#{L['listen']} in Object#start/, out)
    assert_match(/=> +#{L['listen']} +Server\.new\.listen/, out)
    assert_match(/error: frame #{n}: not one of the fiber's own frames/, @s.command('p 1'))
    assert_match(/error: frame #{n} is not one of the fiber's own/, @s.command('skip'))
    @s.command('frame 1')
    assert_equal "0\n", @s.command('p i'), 'its own frames still evaluate'
    @s.send_line('c')
    @s.expect('async done')
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_dump_shows_the_async_backtrace
    @dir = Dir.mktmpdir('pt_async')
    log = File.join(@dir, 'out.log')
    @stop = File.join(@dir, 'stop')
    pid = Process.spawn(PtySession::POLYTRACE, '--nonstop', '--detach', 'ruby', FIX, @stop,
                        out: log, err: [:child, :out], in: File::NULL, chdir: PtySession::ROOT)
    Process.wait(pid)
    @pid = Integer(E2E.wait_until(what: 'ready line', timeout: 20) { File.read(log)[/ready (\d+)/, 1] })
    out, err, st = Open3.capture3(PtySession::POLYTRACE, 'dump', @pid.to_s)
    assert_equal 0, st.exitstatus, err
    worker = out[/^fiber \d+ \(worker2\).*?(?=^\nfiber|\z)/m]
    assert worker, out
    assert_async(worker, 'worker2 (dump)')
    File.write(@stop, '')
    E2E.wait_until(what: 'exit', timeout: 20) { File.read(log).include?('async done') }
  end
end
