# frozen_string_literal: true

# test_attach_unprepared.rb — `polytrace attach PID` and `dump PID` on plain
# `ruby app.rb` processes that never loaded the tracer (no -r, no RUBYLIB):
# polytrace brings the tracer in with ptrace and every command works; the
# program runs on to its end with its output intact. Attach lands whether
# the program computes, sleeps or waits in accept; 100 dump cycles leak no
# thread or descriptor.

require 'minitest/autorun'
require 'open3'
require 'socket'
require 'tmpdir'
require 'pty_session'
require 'pt_proc'

class TestAttachUnprepared < Minitest::Test
  POLYTRACE = PtySession::POLYTRACE
  FIBERS = E2E.fixture('plain_fibers.rb')
  WAITS = E2E.fixture('plain_waits.rb')
  PLAIN_ENV = { 'RUBYLIB' => nil, 'RUBYOPT' => nil, 'POLYTRACE_SOCKET' => nil }.freeze

  def setup
    @dir = Dir.mktmpdir('pt_unprep')
    @log = File.join(@dir, 'out.log')
    @stop = File.join(@dir, 'stop')
    @pids = []
  end

  def teardown
    @s&.close
    File.write(@stop, '')
    @pids.each do |pid|
      begin
        E2E.wait_until(timeout: 5, what: "exit of #{pid}") { !E2E.process_alive?(pid) }
      rescue RuntimeError
        Process.kill('KILL', pid)
      end
      begin
        Process.wait(pid)
      rescue Errno::ECHILD
        nil
      end
    end
    FileUtils.rm_rf(@dir)
  end

  # Starts a plain Ruby program (nothing preloaded) and waits for "ready".
  def start(*args)
    pid = Process.spawn(PLAIN_ENV, 'ruby', *args, out: @log, err: [:child, :out], in: File::NULL,
                                                  chdir: File.dirname(args.first))
    @pids << pid
    E2E.wait_until(what: 'ready line', timeout: 20) { log =~ /^ready (\d+)/ }
    assert_equal pid, Integer(log[/^ready (\d+)/, 1])
    refute_match(/polytrace/, File.read("/proc/#{pid}/maps"), 'the program starts without the tracer')
    pid
  end

  def log
    File.read(@log)
  end

  def steps
    log.scan(/^step (\d+) /).flatten.map(&:to_i).max || 0
  end

  # Stops the fiber program and checks its whole output.
  def finish_fibers(pid)
    File.write(@stop, '')
    _, st = Process.wait2(pid)
    @pids.delete(pid)
    assert_equal 0, st.exitstatus, log
    lines = log.lines.grep(/^step /)
    lines.each_with_index { |l, k| assert_equal "step #{k + 1} #{(k + 1)**2}\n", l }
    n = lines.size
    assert_match(/^done #{n} #{(1..n).sum { |k| k * k }}$/, log)
    refute_match(/polytrace:/, log, 'the tracer said nothing on the program\'s output')
  end

  def threads(pid)
    Dir["/proc/#{pid}/task/*"].size
  end

  def thread_names(pid)
    Dir["/proc/#{pid}/task/*/comm"].map { |f| File.read(f).chomp rescue '' } # rubocop:disable Style/RescueModifier
  end

  def fds(pid)
    Dir["/proc/#{pid}/fd/*"].size
  end

  def test_attach_break_step_fibers_detach
    pid = start(FIBERS, '0.01', @stop)
    @s = PtySession.polytrace('attach', pid.to_s)
    @s.expect("Attached to process #{pid}.", timeout: 20)
    @s.expect(/Stopped in fiber \d+.*\(attach\)/)
    @s.prompt

    out = @s.command('fibers')
    assert_operator out.scan(/^\s*\*?\s*\d+ /).size, :>=, 2, "main fiber and generator:\n#{out}"
    assert_match(/plain_fibers\.rb:\d+/, out)

    square = E2E.line_of(FIBERS, '# @square')
    out = @s.command("break plain_fibers.rb:#{square}")
    assert_match(/Breakpoint 1 at .*plain_fibers\.rb:#{square}/, out)
    @s.send_line('c')
    @s.expect(/Stopped in fiber \d+.*plain_fibers\.rb:#{square}.*\(breakpoint/)
    @s.prompt
    at_break = steps

    @s.send_line('step')
    @s.expect(/plain_fibers\.rb:#{square + 1}/)
    @s.prompt
    assert_match(/\b\d+\b/, @s.command('p sq'))

    out = @s.command('fibers')
    assert_match(/running/, out)
    assert_operator out.scan(/^\s*\*?\s*\d+ /).size, :>=, 2

    @s.command('delete 1')
    @s.send_line('detach')
    @s.expect("Detached from process #{pid}.")
    assert_equal 0, @s.wait_exit.exitstatus
    begin
      E2E.wait_until(what: 'steps after detach') { steps > at_break + 3 }
    rescue RuntimeError => e
      flunk "#{e.message}; the program said:\n#{log.lines.grep_v(/^step /).join}"
    end
    finish_fibers(pid)
  end

  def test_dump_100_cycles_leaks_nothing
    pid = start(FIBERS, '0.002', @stop)
    out, err, st = Open3.capture3(POLYTRACE, 'dump', pid.to_s)
    assert_equal 0, st.exitstatus, err
    assert_match(/Process #{pid}: \d+ fibers/, out)
    assert_match(/plain_fibers\.rb:\d+/, out)
    # The thread that loaded the tracer is gone once Ruby lets it go; what
    # stays is the idle tracer (its attach listener's thread among it).
    E2E.wait_until(what: 'the loader thread gone', timeout: 10) do
      thread_names(pid).none?('polytrace-load')
    end
    base_threads = threads(pid)
    base_fds = fds(pid)

    100.times do |k|
      out, err, st = Open3.capture3(POLYTRACE, 'dump', pid.to_s)
      assert_equal 0, st.exitstatus, "cycle #{k}: #{err}"
      assert_match(/Process #{pid}: \d+ fibers/, out, "cycle #{k}")
    end
    E2E.wait_until(what: "threads back to #{base_threads}", timeout: 10) { threads(pid) == base_threads }
    E2E.wait_until(what: "descriptors back to #{base_fds}", timeout: 10) { fds(pid) == base_fds }
    assert E2E.process_alive?(pid)
    finish_fibers(pid)
  end

  # A program on the runtime (require 'polyphony', no tracer), both backends:
  # dump shows the runtime's fibers with their tags and waits, and it ticks on.
  def test_dump_runtime_program_without_tracer
    %w[libev io_uring].each do |backend|
      File.delete(@log) if File.exist?(@log)
      env = PLAIN_ENV.merge('RUBYLIB' => File.join(PtySession::BUILD, 'lib'), 'POLYPHONY_BACKEND' => backend)
      stop = "#{@stop}.#{backend}"
      pid = Process.spawn(env, 'ruby', E2E.fixture('service.rb'), '30', stop, out: @log, err: [:child, :out],
                                                                             in: File::NULL)
      @pids << pid
      E2E.wait_until(what: 'ready line', timeout: 20) { log =~ /^ready #{pid}/ }
      refute_match(/polytrace/, File.read("/proc/#{pid}/maps"))
      out, err, st = Open3.capture3(POLYTRACE, 'dump', pid.to_s)
      assert_equal 0, st.exitstatus, "#{backend}: #{err}"
      assert_match(/fiber \d+ \(ticker\) /, out, backend)
      assert_match(/fiber \d+ \(idle0\) waiting.*receive/, out, backend)
      ticks = log.scan(/^tick (\d+)/).flatten.map(&:to_i).max
      E2E.wait_until(what: "#{backend}: ticks after dump") { log.scan(/^tick (\d+)/).flatten.map(&:to_i).max > ticks + 2 }
      File.write(stop, '')
      _, st = Process.wait2(pid)
      @pids.delete(pid)
      assert_equal 0, st.exitstatus, log
      assert_match(/^service done$/, log)
      refute_match(/polytrace:/, log)
    end
  end

  # Once the program's main thread sleeps (its state in /proc), it is in
  # the wait its "ready" line comes before, not still on the way there.
  def wait_asleep(pid)
    E2E.wait_until(what: "process #{pid} asleep") { PtProc.thread(pid).first == 'S' }
  end

  def attach_and_stop(pid)
    @s = PtySession.polytrace('attach', pid.to_s)
    @s.expect("Attached to process #{pid}.", timeout: 20)
    @s.expect(/Stopped in fiber \d+.*\(attach\)/)
    @s.prompt
  end

  def test_attach_while_busy_in_ruby
    pid = start(WAITS, 'busy')
    attach_and_stop(pid)
    assert_match(/plain_waits\.rb:#{E2E.line_of(WAITS, '# @busy')}/, @s.command('bt'))
    assert_match(/true/, @s.command('p i.positive?'))
    @s.command('p $busy = false')
    @s.send_line('detach')
    @s.expect("Detached from process #{pid}.")
    _, st = Process.wait2(pid)
    @pids.delete(pid)
    assert_equal 0, st.exitstatus
    assert_match(/^busy done true$/, log)
  end

  def test_attach_while_sleeping
    pid = start(WAITS, 'sleep')
    wait_asleep(pid)
    attach_and_stop(pid)
    assert_match(/plain_waits\.rb:#{E2E.line_of(WAITS, '# @sleep')}/, @s.command('bt'))
    @s.send_line('detach')
    @s.expect("Detached from process #{pid}.")
    assert E2E.process_alive?(pid)
    # Its own signal handling is as it was.
    Process.kill('TERM', pid)
    _, st = Process.wait2(pid)
    @pids.delete(pid)
    assert_equal 0, st.exitstatus
    assert_match(/^term$/, log)
  end

  def test_attach_while_in_accept
    pid = start(WAITS, 'accept')
    port = Integer(log[/^ready \d+ (\d+)/, 1])
    wait_asleep(pid)
    attach_and_stop(pid)
    assert_match(/plain_waits\.rb:#{E2E.line_of(WAITS, '# @accept')}/, @s.command('bt'))
    @s.send_line('detach')
    @s.expect("Detached from process #{pid}.")
    TCPSocket.open('127.0.0.1', port) { |c| c.puts 'hello' }
    _, st = Process.wait2(pid)
    @pids.delete(pid)
    assert_equal 0, st.exitstatus
    assert_match(/^accepted hello$/, log)
  end
end
