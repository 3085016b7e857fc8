# frozen_string_literal: true

# test_attach_idle.rb — stops made in the event loop's wait right after a
# spun fiber ended, on both backends: attach and pause to an idle server,
# Ctrl-C in a `polytrace ruby` session, and a deadlock stop. The loop's
# wait then goes on in the main fiber (the fiber that ended hands it on),
# so the stop is in fiber 1 where it waits, a fiber the user can act on:
# bt, frame, fibers, eval, switch, step, continue, pause and detach all
# work and tell the truth, never "no fiber N" for the fiber stopped in.
# The tests wait for the program's main thread to sleep in the loop's wait
# (the system call it sleeps in and its voluntary context switches, in
# /proc), never for a time.

require 'minitest/autorun'
require 'socket'
require 'tmpdir'
require 'pty_session'
require_relative '../lib/pt_proc'

class TestAttachIdle < Minitest::Test
  FIX = E2E.fixture('idle_server.rb')
  DEADLOCK = E2E.fixture('ended_deadlock.rb')
  POLYTRACE = PtySession::POLYTRACE
  ACCEPT = E2E.line_of(FIX, '@accept')
  AFTER = E2E.line_of(FIX, '@after_accept')
  REL = FIX.delete_prefix("#{PtySession::ROOT}/")

  def setup
    @dir = Dir.mktmpdir('pt_attach_idle')
    @log = File.join(@dir, 'server.log')
    @clients = []
  end

  def teardown
    @s&.close
    @clients.each(&:close)
    if @pid && E2E.process_alive?(@pid)
      Process.kill('KILL', @pid)
      E2E.wait_until(what: 'server gone') { !E2E.process_alive?(@pid) }
    end
    FileUtils.rm_rf(@dir)
  end

  def start(backend)
    pid = Process.spawn({ 'POLYPHONY_BACKEND' => backend }, POLYTRACE, '--nonstop', '--detach', 'ruby', FIX,
                        out: @log, err: [:child, :out], in: File::NULL, chdir: PtySession::ROOT)
    _, st = Process.wait2(pid)
    assert_equal 0, st.exitstatus, File.read(@log)
    m = E2E.wait_until(what: 'ready line', timeout: 20) { File.read(@log).match(/ready (\d+) (\d+)/) }
    @pid = Integer(m[1])
    @port = Integer(m[2])
  end

  # The main thread's state letter, voluntary context switches and the
  # system call it is in.
  def main_thread
    PtProc.thread(@pid)
  end

  # Waits until the main thread sleeps in the loop's wait again after
  # `switches` (its count before something woke it): the fiber spun before
  # has ended.
  def wait_parked(switches = -1)
    E2E.wait_until(what: 'the server idle in its loop') do
      state, now, call = main_thread
      state == 'S' && now > switches && PtProc::LOOP_WAITS.include?(call)
    end
  end

  def connect
    @clients << TCPSocket.new('127.0.0.1', @port)
  end

  # Does what the block does (something that wakes the server) and waits
  # until the server is idle in its loop again after it.
  def parked_again_after
    _, before = main_thread
    yield
    wait_parked(before)
  end

  def assert_stopped_in_main(reason)
    m = @s.expect(/Stopped in fiber (\d+) \(([^)]*)\) at (\S+):(\d+) in (.+) \((\w+)\)\n/)
    assert_equal ['1', 'main', REL, ACCEPT.to_s, 'block in <main>', reason], m.captures, @s.transcript
    @s.prompt
    bt = @s.command('bt')
    refute_match(/no fiber/, bt)
    assert_match(/#1 +#{Regexp.escape(REL)}:#{ACCEPT} in block in <main>/, bt)
    fibers = @s.command('fibers')
    assert_match(/^\* 1 +main .*accept fd \d+/, fibers, 'the stopped fiber is marked and waits in accept')
    refute_match(/starter|counter/, fibers, 'the fibers that ended are gone')
  end

  def check_backend(backend)
    start(backend)
    wait_parked
    @s = PtySession.polytrace('attach', @pid.to_s)
    @s.expect("Attached to process #{@pid}.")
    assert_stopped_in_main('attach')
    assert_match(/^0$/, @s.command('p served'), 'evaluated in the main fiber\'s own frame')
    assert_match(/=> *#{ACCEPT} +  conn = server.accept/, @s.command('frame 1'))
    assert_match(/Selected fiber 1 \(main\)/, @s.command('switch 1'))

    # step: on at the line after the accept, once a client connects.
    @s.send_line('step')
    @s.prompt
    connect
    @s.expect(/Stopped in fiber 1 \(main\) at #{Regexp.escape(REL)}:#{AFTER} in block in <main>\n/)
    @s.prompt
    assert_match(/^TCPSocket$/, @s.command('p conn.class'), 'the accept returned the client')

    # continue, then another connection's fiber ends just before the wait: pause.
    parked_again_after do
      @s.send_line('continue')
      @s.prompt
    end
    parked_again_after { connect }
    @s.send_raw("\x03")
    assert_stopped_in_main('pause')
    assert_match(/^2$/, @s.command('p served'), 'both connections\' fibers ran to their end')

    @s.send_line('detach')
    @s.expect("Detached from process #{@pid}.")
    assert_equal 0, @s.wait_exit.exitstatus
    parked_again_after { connect }
    assert E2E.process_alive?(@pid), 'the server serves on after the detach'
  end

  # Ctrl-C in a `polytrace ruby` session (a SIGINT the tracer turns into a
  # pause) while the program is idle after a fiber ended.
  def check_ctrl_c(backend)
    @s = PtySession.polytrace('ruby', FIX, env: { 'POLYPHONY_BACKEND' => backend })
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    @s.send_line('continue')
    m = @s.expect(/ready (\d+) (\d+)/)
    @pid = Integer(m[1])
    @port = Integer(m[2])
    wait_parked
    @s.send_raw("\x03")
    assert_stopped_in_main('pause')
    parked_again_after { @s.send_line('continue') } # no prompt: the program has the terminal
    parked_again_after { connect }
    @s.send_raw("\x03")
    assert_stopped_in_main('pause')
    assert_match(/^1$/, @s.command('p served'))
    @s.send_line('kill')
    @s.wait_exit
  end

  def check_deadlock(backend)
    @s = PtySession.polytrace('ruby', DEADLOCK, env: { 'POLYPHONY_BACKEND' => backend })
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    @s.send_line('continue')
    line = E2E.line_of(DEADLOCK, '@await')
    @s.expect(/Stopped in fiber 1 \(main\) at \S*ended_deadlock\.rb:#{line} in <main> \(deadlock\)\n/)
    @s.prompt
    assert_match(/#0 +\S*ended_deadlock\.rb:#{line} in <main>/, @s.command('bt'))
    assert_match(/^\* 1 +main .*event/, @s.command('fibers'))
    assert_match(/#<Polyphony::Event/, @s.command('p event'))
    @s.send_line('continue')
    @s.expect(/Polyphony::Deadlock/)
    @s.expect(/program exited with status 1/)
  end

  # Each check on both backends.
  { 'test_attach_and_pause_after_a_fiber_ended' => :check_backend,
    'test_ctrl_c_after_a_fiber_ended' => :check_ctrl_c,
    'test_deadlock_after_a_fiber_ended' => :check_deadlock }.each do |name, check|
    %w[libev io_uring].each do |backend|
      define_method("#{name}_#{backend}") { send(check, backend) }
    end
  end
end
