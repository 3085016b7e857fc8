# frozen_string_literal: true

# test_attach.rb — `--nonstop --detach` leaves a program attachable;
# `polytrace dump PID` prints every fiber and leaves it running; `attach`
# stops it where it is, `pause` and Ctrl-C stop it again, `detach` leaves it
# running unharmed; a second controller is refused with the first one's
# pid, and once the first is killed the next attach works. Attaching to a
# process that is not Ruby, a dead PID or
# another user's process is refused with a clear error and no signal.

require 'minitest/autorun'
require 'open3'
require 'tmpdir'
require 'pty_session'

class TestAttach < Minitest::Test
  FIX = E2E.fixture('service.rb')
  POLYTRACE = PtySession::POLYTRACE

  def setup
    @dir = Dir.mktmpdir('pt_attach')
    @log = File.join(@dir, 'service.log')
    @stop = File.join(@dir, 'stop')
    pid = Process.spawn(POLYTRACE, '--nonstop', '--detach', 'ruby', FIX, '30', @stop,
                        out: @log, err: [:child, :out], in: File::NULL, chdir: PtySession::ROOT)
    _, st = Process.wait2(pid)
    assert_equal 0, st.exitstatus, File.read(@log)
    @pid = Integer(E2E.wait_until(what: 'ready line', timeout: 20) { File.read(@log)[/ready (\d+)/, 1] })
    assert_match(/started process #{@pid}; attach with: polytrace attach #{@pid}/, File.read(@log))
  end

  def teardown
    @s&.close
    File.write(@stop, '') if @stop
    if @pid && E2E.process_alive?(@pid)
      begin
        E2E.wait_until(timeout: 5, what: 'service exit') { !E2E.process_alive?(@pid) }
      rescue RuntimeError
        Process.kill('KILL', @pid)
      end
    end
    FileUtils.rm_rf(@dir) if @dir
  end

  def ticks
    File.read(@log).scan(/tick (\d+)/).flatten.map(&:to_i).max || 0
  end

  def assert_still_ticking
    before = ticks
    E2E.wait_until(what: 'more ticks', timeout: 10) { ticks >= before + 2 }
    assert E2E.process_alive?(@pid)
  end

  def test_dump_prints_fibers_and_leaves_it_running
    out, err, st = Open3.capture3(POLYTRACE, 'dump', @pid.to_s)
    assert_equal 0, st.exitstatus, err
    assert_match(/Process #{@pid}: \d+ fibers/, out)
    assert_match(/fiber \d+ \(ticker\) /, out)
    assert_match(/fiber \d+ \(idle0\) waiting.*receive/, out)
    assert_match(/#0 +.*service\.rb:\d+/, out)
    assert_still_ticking
  end

  def test_attach_pause_ctrl_c_detach
    @s = PtySession.polytrace('attach', @pid.to_s)
    @s.expect("Attached to process #{@pid}.")
    @s.expect(/Stopped in fiber \d+.*\(attach\)/)
    @s.prompt
    out = @s.command('fibers')
    assert_match(/ticker/, out, @s.transcript)
    assert_match(/idle1 +waiting/, out)
    stopped_ticks = ticks

    @s.send_line('c')
    E2E.wait_until(what: 'ticks after continue') { ticks > stopped_ticks + 1 }
    @s.send_line('pause')
    @s.expect(/Stopped in fiber \d+.*\(pause\)/)
    @s.prompt

    @s.send_line('c')
    before = ticks
    E2E.wait_until(what: 'ticks after the second continue') { ticks > before + 1 }
    @s.send_raw("\x03")
    @s.expect(/Stopped in fiber \d+.*\(pause\)/)
    @s.prompt
    assert_match(/error: unknown command/, @s.command('nonsense'))

    @s.send_line('detach')
    @s.expect("Detached from process #{@pid}.")
    assert_equal 0, @s.wait_exit.exitstatus
    assert_still_ticking
  end

  def test_quit_detaches_and_kill_kills
    @s = PtySession.polytrace('attach', @pid.to_s)
    @s.expect(/\(attach\)/)
    @s.prompt
    @s.send_line('quit')
    assert_equal 0, @s.wait_exit.exitstatus
    assert_still_ticking
    @s.close

    @s = PtySession.polytrace('attach', @pid.to_s)
    @s.expect(/\(attach\)/)
    @s.prompt
    @s.send_line('c')
    @s.prompt # attach mode keeps prompting while the program runs
    assert_match(/error: the program is running/, @s.command('bt'))
    @s.send_line('kill')
    @s.expect("Killed process #{@pid}.")
    assert_equal 0, @s.wait_exit.exitstatus
    E2E.wait_until(what: 'killed service gone') { !E2E.process_alive?(@pid) }
  end

  def test_a_second_controller_is_refused_and_the_first_keeps_going
    @s = PtySession.polytrace('attach', @pid.to_s)
    @s.expect(/\(attach\)/)
    @s.prompt
    out, err, st = Open3.capture3(POLYTRACE, 'attach', @pid.to_s)
    assert_equal 1, st.exitstatus
    assert_equal '', out
    assert_equal "polytrace: the tracer refused: already attached by pid #{@s.pid}\n", err
    assert_match(/^2$/, @s.command('p 1 + 1'), 'the first is untouched')
    # The first is killed; the next attach works at once.
    Process.kill('KILL', @s.pid)
    @s.wait_exit
    assert_still_ticking
    _, err, st = Open3.capture3(POLYTRACE, 'dump', @pid.to_s)
    assert_equal 0, st.exitstatus, err
  end

  def test_refusals_send_no_signal
    plain = Process.spawn('sleep', '30')
    out, err, st = Open3.capture3(POLYTRACE, 'attach', plain.to_s)
    assert_equal 1, st.exitstatus
    assert_equal '', out
    assert_equal "polytrace: process #{plain} is not a Ruby process (no libruby in its memory map)\n", err
    assert E2E.process_alive?(plain), 'a process that is not Ruby is left alone'
    _, err, st = Open3.capture3(POLYTRACE, 'dump', plain.to_s)
    assert_equal 1, st.exitstatus
    assert_match(/is not a Ruby process/, err)
    Process.kill('KILL', plain)
    Process.wait(plain)

    _, err, st = Open3.capture3(POLYTRACE, 'attach', plain.to_s)
    assert_equal 1, st.exitstatus
    assert_equal "polytrace: no process with id #{plain}\n", err

    other = other_users_process
    _, err, st = Open3.capture3(POLYTRACE, 'attach', other.to_s)
    assert_equal 1, st.exitstatus
    assert_equal "polytrace: process #{other} belongs to another user\n", err
    assert E2E.process_alive?(other)
  ensure
    if @other_child
      Process.kill('KILL', @other_child)
      Process.wait(@other_child)
    end
  end

  def test_bad_arguments
    _, err, st = Open3.capture3(POLYTRACE, 'attach', 'abc')
    assert_equal 2, st.exitstatus
    assert_equal "polytrace: 'abc' is not a process id\n", err
  end

  private

  # A process of another user: as root, start one as nobody; otherwise any
  # process on the system that is not ours.
  def other_users_process
    if Process.uid.zero?
      @other_child = Process.spawn('setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
                                   'sleep', '30')
      E2E.wait_until(what: 'setpriv child') do
        File.stat("/proc/#{@other_child}").uid == 65_534 rescue false # rubocop:disable Style/RescueModifier
      end
      return @other_child
    end
    Dir['/proc/[0-9]*'].map { |d| File.basename(d).to_i }.find do |p|
      File.stat("/proc/#{p}").uid != Process.uid
    rescue StandardError
      false
    end or flunk('no process of another user to try')
  end
end
