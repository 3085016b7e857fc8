# frozen_string_literal: true

# test_top.rb — `polytrace top PID` on a running program (busy.rb, started
# with the tracer loaded and no debugger): full-screen in tmux, a counter
# that changes between two refreshes, the sort keys and the filter, q
# leaving the program running (it ticks on and can be attached to again);
# batch mode (-b -n); 10,000 fibers; refusals. The program is never
# stopped: its ticks go on while top watches.

require 'minitest/autorun'
require 'open3'
require 'rbconfig'
require 'securerandom'
require 'tmpdir'
require 'pty_session'

class TestTop < Minitest::Test
  FIX = E2E.fixture('busy.rb')
  POLYTRACE = PtySession::POLYTRACE

  def start_program(idle: 20, calm: false)
    @dir = Dir.mktmpdir('pt_top')
    @log = File.join(@dir, 'busy.log')
    @stop = File.join(@dir, 'stop')
    env = { 'RUBYOPT' => '-rpolytrace',
            'RUBYLIB' => [File.join(PtySession::BUILD, 'lib'), ENV['RUBYLIB']].compact.join(':') }
    @pid = Process.spawn(env, RbConfig.ruby, FIX, '120', @stop, idle.to_s, calm ? 'calm' : 'busy',
                         out: @log, err: [:child, :out], in: File::NULL, chdir: PtySession::ROOT)
    E2E.wait_until(what: 'ready line', timeout: 60) { File.read(@log)[/ready (\d+)/, 1] }
  end

  def teardown
    tmux('kill-server') if @tmux
    if @pid
      File.write(@stop, '')
      begin
        E2E.wait_until(timeout: 20, what: 'program end') { Process.wait(@pid, Process::WNOHANG) }
      rescue RuntimeError
        Process.kill('KILL', @pid)
        Process.wait(@pid)
      end
    end
    FileUtils.rm_rf(@dir) if @dir
  end

  def ticks
    File.read(@log).scan(/tick (\d+)/).flatten.map(&:to_i).max || 0
  end

  def assert_still_running
    before = ticks
    E2E.wait_until(what: 'more ticks', timeout: 20) { ticks >= before + 2 }
    assert_nil Process.wait(@pid, Process::WNOHANG), 'the program is still running'
  end

  # --- tmux ---------------------------------------------------------------

  def tmux(*args)
    out, err, st = Open3.capture3('tmux', '-L', @tmux, '-f', '/dev/null', *args)
    assert st.success?, "tmux #{args.join(' ')}: #{err}" unless args.first == 'kill-server'
    out
  end

  def screen
    tmux('capture-pane', '-p', '-t', 'top')
  end

  # Waits until the screen matches re; returns the MatchData.
  def await_screen(re, timeout: 20)
    m = nil
    E2E.wait_until(what: "screen to show #{re.inspect}", timeout: timeout) { m = re.match(screen) }
    m
  rescue RuntimeError => e
    raise e, "#{e.message}\n--- screen ---\n#{screen}"
  end

  def start_top(*args)
    @tmux = "pt-top-#{Process.pid}-#{SecureRandom.hex(4)}"
    tmux('new-session', '-d', '-s', 'top', '-x', '160', '-y', '40',
         '-e', 'TERM=xterm', "#{POLYTRACE} top #{args.join(' ')}; echo \"exit=$?\"; sleep 60")
  end

  def runs_of(tag)
    (m = /^ +\d+ #{tag} +\S+ +\S+ +\S+ +(\d+) /.match(screen)) && m[1].to_i
  end

  def test_full_screen_counters_change_keys_and_q_leaves_it_running
    pid = start_program
    start_top('-d', '0.5', pid)
    await_screen(/polytrace top - process #{pid} \(busy\.rb\)/)
    await_screen(/^ +ID TAG +STATE +WAITS ON +CPU +RUNS +LONGEST +WAITING +OPS/)
    await_screen(/^thread 1 \(main\): 2\d fibers/)
    await_screen(/^ +\d+ cruncher +\S+/)
    first = runs_of('cruncher')
    E2E.wait_until(what: 'the cruncher\'s runs to grow between refreshes', timeout: 20) do
      (now = runs_of('cruncher')) && now > first
    end
    await_screen(/^ +\d+ reader +waiting +read fd \d+ .* 1\/1 *$/)
    # Sort keys, and the filter.
    tmux('send-keys', '-t', 'top', 'r')
    await_screen(/sort: runs/)
    tmux('send-keys', '-t', 'top', '/', 'idle1', 'Enter')
    await_screen(/filter 'idle1': 11 match/)
    refute_match(/ cruncher /, screen)
    tmux('send-keys', '-t', 'top', '/', 'Enter')
    await_screen(/ cruncher /)
    assert_still_running
    tmux('send-keys', '-t', 'top', 'q')
    await_screen(/polytrace: left process #{pid} running\nexit=0/)
    assert_still_running
    # Detached: the program can be attached to again.
    out, err, st = Open3.capture3(POLYTRACE, 'dump', pid.to_s)
    assert st.success?, err
    assert_match(/fiber \d+ \(cruncher\)/, out)
  end

  def test_batch_screens
    pid = start_program
    out, err, st = Open3.capture3(POLYTRACE, 'top', '-b', '-n', '2', '-d', '0.3', '-s', 'runs', pid.to_s)
    assert st.success?, err
    screens = out.split(/^(?=polytrace top - )/)
    assert_equal 2, screens.size, out
    runs = screens.map { |s| s[/^ +\d+ cruncher +\S+ +\S+ +\S+ +(\d+) /, 1].to_i }
    assert_operator runs[1], :>, runs[0], out
    assert_match(/^2\d fibers: .*; 1 thread; sort: runs$/, screens[0])
    assert_still_running
  end

  def test_ten_thousand_fibers
    pid = start_program(idle: 10_000, calm: true)
    out, err, st = Open3.capture3(POLYTRACE, 'top', '-b', '-n', '1', '-f', 'idle99', pid.to_s)
    assert st.success?, err
    assert_match(/^10,00\d fibers: /, out)
    assert_match(/filter 'idle99': 111 match/, out) # idle99, idle990..idle999, idle9900..idle9999
    t0 = E2E.now
    out, err, st = Open3.capture3(POLYTRACE, 'top', '-b', '-n', '1', pid.to_s)
    assert st.success?, err
    assert_operator E2E.now - t0, :<, 15
    assert_match(/more not shown/, out)
    assert_still_running
  end

  def test_refusals
    out, err, st = Open3.capture3(POLYTRACE, 'top')
    assert_equal 2, st.exitstatus
    assert_match(/'top' needs a process id/, err + out)
    _, err, st = Open3.capture3(POLYTRACE, 'top', '-s', 'speed', '1')
    assert_equal 2, st.exitstatus
    assert_match(/-s takes cpu, runs, longest, waiting or id, not 'speed'/, err)
    _, err, st = Open3.capture3(POLYTRACE, 'top', Process.pid.to_s)
    assert_equal 1, st.exitstatus
    assert_match(/process #{Process.pid} has not loaded the polytrace tracer: run it with -rpolytrace/, err)
  end
end
