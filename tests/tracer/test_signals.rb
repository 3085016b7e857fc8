# frozen_string_literal: true

# tests/tracer/test_signals.rb — whatever the tracer waits on, the program
# still hears its signals and interrupts. SIGTERM to a program stopped at a
# breakpoint, at an attach stop, in a second thread, or still waiting for a
# launching controller's hello ends it as Ruby would (killed by SIGTERM, the
# controller told); a program's own TERM and USR1 handlers run at a stop;
# a signal that cannot run where the program is stopped (inside the attach
# trap) makes the stop give way, and the program runs on; SIGINT at an
# attach stop is an Interrupt; a reply the controller does not read does
# not hold SIGTERM back; Thread#raise and Thread#kill reach Kernel#breakpoint
# waiting for the controller it started.
require 'minitest/autorun'
require 'pty'
require 'pt_wire'

class TestSignals < Minitest::Test
  SCRIPT = File.join(__dir__, 'scripts', 'signals.rb')
  LOOP = File.readlines(SCRIPT).index { |l| l.include?('# @loop') } + 1

  def setup
    @tmp = Dir.mktmpdir('pt-signals')
    @done = File.join(@tmp, 'done')
  end

  def teardown
    @d&.close
    FileUtils.rm_rf(@tmp)
  end

  # Launched and stopped at the loop's breakpoint.
  def stop_at_loop(*opts)
    @d = PtWire::Debuggee.new(SCRIPT, @done, *opts)
    @c = @d.conn
    assert_equal 'entry', @c.read['reason']
    @c.request(:break, file: SCRIPT, line: LOOP)
    assert_equal :ok, @c.request(:continue)['type']
    stop = @c.wait_event(:stopped)
    assert_equal ['breakpoint', LOOP], stop.values_at('reason', 'line')
    stop
  end

  def attach_stop(*opts)
    @d = PtWire::Debuggee.new(SCRIPT, @done, *opts, connect: false)
    @d.wait_stdout(/ready/)
    @c = @d.attach
    assert_equal 'attach', @c.read['reason']
  end

  def assert_killed_by(sig, status)
    assert status.signaled?, "killed by a signal, not #{status.inspect}"
    assert_equal sig, Signal.signame(status.termsig)
  end

  # The controller hears how the program ended.
  def assert_exited_event(sig)
    exited = @c.wait_event(:exited)
    refute_nil exited, 'EXITED before the connection closed'
    assert_equal [-1, Signal.list[sig]], exited.values_at('status', 'signal')
  end

  def test_sigterm_at_a_breakpoint
    stop_at_loop
    Process.kill('TERM', @d.pid)
    assert_exited_event('TERM')
    assert_killed_by('TERM', @d.wait)
    assert(@c.seen.any? { |m| m['type'] == :running }, 'told the program runs again')
  end

  def test_sigterm_at_an_attach_stop
    attach_stop
    Process.kill('TERM', @d.pid)
    assert_exited_event('TERM')
    assert_killed_by('TERM', @d.wait)
  end

  def test_sigterm_at_a_breakpoint_in_another_thread
    stop = stop_at_loop('thread')
    refute_equal 1, stop['thread']
    Process.kill('TERM', @d.pid)
    assert_exited_event('TERM')
    assert_killed_by('TERM', @d.wait)
  end

  def test_sigterm_while_waiting_for_the_controllers_hello
    @d = PtWire::Debuggee.new(SCRIPT, @done, handshake: false)
    assert_equal :hello, @d.conn.read['type'] # and no answer
    Process.kill('TERM', @d.pid)
    assert_killed_by('TERM', @d.wait)
    assert_empty @d.stdout, 'the program never started'
  end

  def test_sigterm_while_a_reply_waits_for_the_controller_to_read
    stop_at_loop
    # A reply far larger than the socket's buffer, to a controller that
    # reads nothing: once its first bytes are here the tracer waits to send
    # the rest, and then the signal comes.
    @c.send_msg(:eval, fiber: 0, frame: 0, expr: '"x" * 8_000_000', limit: 0, id: 99)
    refute_nil IO.select([@c.sock], nil, nil, 10), 'the reply starts'
    Process.kill('TERM', @d.pid)
    assert_killed_by('TERM', @d.wait(5)) # a send waits 10 s when no signal cuts it short
  end

  def test_sigterm_during_an_evaluation_at_a_stop
    stop_at_loop
    @c.send_msg(:eval, fiber: 0, frame: 0, expr: '$stdout.syswrite("evaluating\\n"); sleep 5', id: 99)
    @d.wait_stdout(/evaluating/)
    Process.kill('TERM', @d.pid)
    reply = @c.reply_to(99)
    assert_equal 'SignalException: SIGTERM', reply['message'], 'the evaluation is cut short'
    assert_exited_event('TERM')
    assert_killed_by('TERM', @d.wait)
  end

  def test_exit_from_a_trap_during_an_evaluation
    stop_at_loop('trap-term')
    @c.send_msg(:eval, fiber: 0, frame: 0, expr: '$stdout.syswrite("evaluating\\n"); sleep 5', id: 99)
    @d.wait_stdout(/evaluating/)
    Process.kill('TERM', @d.pid)
    assert_equal 'SystemExit: exit', @c.reply_to(99)['message']
    assert_equal [3, 0], @c.wait_event(:exited).values_at('status', 'signal')
    assert_equal 3, @d.wait.exitstatus
  end

  def test_sigint_at_an_attach_stop_is_an_interrupt
    attach_stop
    Process.kill('INT', @d.pid)
    assert_killed_by('INT', @d.wait)
  end

  def test_the_programs_own_handlers_run_at_a_stop
    stop_at_loop('trap-usr1', 'trap-term')
    Process.kill('USR1', @d.pid)
    @d.wait_stdout(/usr1/)
    assert_equal '42', @c.request(:eval, expr: '6 * 7')['text'], 'still stopped and serving'
    Process.kill('TERM', @d.pid)
    assert_equal [3, 0], @c.wait_event(:exited).values_at('status', 'signal')
    assert_equal 3, @d.wait.exitstatus
    assert_match(/usr1\nbye\n/, @d.stdout)
  end

  def test_a_handled_signal_at_an_attach_stop_gives_way
    attach_stop('trap-usr1')
    Process.kill('USR1', @d.pid)
    assert_equal :running, @c.wait_event(:running)['type']
    @d.wait_stdout(/usr1/)
    note = @c.seen.find { |m| m['type'] == :output }
    assert_match(/got a signal while stopped; it runs on/, note['text'])
    assert_equal :ok, @c.request(:pause)['type']
    assert_equal 'pause', @c.wait_event(:stopped)['reason']
    File.write(@done, '')
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal 0, @c.wait_event(:exited)['status']
    assert_match(/finished/, @d.stdout.tap { @d.wait })
  end

  def test_handled_signals_at_a_stop_leave_the_session_untouched
    stop_at_loop('trap-usr1')
    3.times { Process.kill('USR1', @d.pid) }
    @d.wait_stdout(/usr1/)
    File.write(@done, '')
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal 0, @c.wait_event(:exited)['status']
    assert_equal 0, @d.wait.exitstatus
  end

  # Kernel#breakpoint on a terminal starts `polytrace attach` from bin/
  # next to the tracer's .so: here a stand-in that never connects, so the
  # program waits for it.
  def breakpoint_waiting(*opts)
    lib = File.join(@tmp, 'lib')
    FileUtils.mkdir_p([lib, File.join(@tmp, 'bin')])
    Dir[File.join(File.expand_path(PtWire::Debuggee::BUILD), 'lib', '*')].each { |f| File.symlink(f, File.join(lib, File.basename(f))) }
    pidfile = File.join(@tmp, 'controller.pid')
    fake = File.join(@tmp, 'bin', 'polytrace')
    File.write(fake, "#!/bin/sh\necho $$ > #{pidfile}\nexec sleep 60\n")
    File.chmod(0o755, fake)
    env = { 'RUBYLIB' => lib, 'RUBYOPT' => '-rpolytrace', 'XDG_RUNTIME_DIR' => @tmp }
    @screen = +''
    @pty_r, @pty_w, @pid = PTY.spawn(env, RbConfig.ruby, SCRIPT, @done, 'bp', *opts)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 20
    until File.size?(pidfile)
      flunk 'the program never started its controller' if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      IO.select([@pty_r], nil, nil, 0.05) && (@screen << (@pty_r.read_nonblock(4096) rescue '')) # rubocop:disable Style/RescueModifier
    end
    @fake_pid = Integer(File.read(pidfile))
  end

  # The program's end: its status, and what it wrote on the terminal.
  def pty_wait
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 20
    loop do
      _, st = Process.wait2(@pid, Process::WNOHANG)
      return st if st
      flunk "still running: #{@screen}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      begin
        @screen << @pty_r.read_nonblock(4096) if IO.select([@pty_r], nil, nil, 0.1)
      rescue IO::WaitReadable, EOFError, Errno::EIO
        nil
      end
    end
  end

  def breakpoint_teardown
    Process.kill('KILL', @fake_pid) if @fake_pid
    Process.kill('KILL', @pid) if @pid && !@status
  rescue Errno::ESRCH
    nil
  end

  def test_sigterm_while_breakpoint_waits_for_its_controller
    breakpoint_waiting
    Process.kill('TERM', @pid)
    assert_killed_by('TERM', @status = pty_wait)
  ensure
    breakpoint_teardown
  end

  def test_thread_kill_reaches_breakpoint_waiting_for_its_controller
    breakpoint_waiting('killer')
    File.write("#{@done}.raise", '')
    @status = pty_wait
    assert_equal 0, @status.exitstatus, 'the main thread killed: the program ends'
    refute_match(/finished/, @screen)
  ensure
    breakpoint_teardown
  end

  def test_thread_raise_reaches_breakpoint_waiting_for_its_controller
    breakpoint_waiting('raiser')
    File.write("#{@done}.raise", '')
    @status = pty_wait
    assert_equal 1, @status.exitstatus
    assert_match(/raised from another thread/, @screen)
  ensure
    breakpoint_teardown
  end
end
