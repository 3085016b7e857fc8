# frozen_string_literal: true

# test_exit.rb — how sessions end: the program exits with a status or dies
# of a signal (polytrace reports it and exits with the documented code);
# `kill` and `detach` in launch mode; polytrace itself killed while the
# program is stopped (the program runs to its end with all its output);
# the command line's own exit codes.

require 'minitest/autorun'
require 'open3'
require 'pty_session'

class TestExit < Minitest::Test
  FIX = E2E.fixture('exits.rb')
  POLYTRACE = PtySession::POLYTRACE

  def teardown
    @s&.close
    Process.kill('KILL', @program) if @program && E2E.process_alive?(@program)
  end

  def launch(*args, nonstop: true)
    @s = PtySession.polytrace(*(nonstop ? ['--nonstop'] : []), 'ruby', FIX, *args)
  end

  def test_exit_status_is_reported_and_returned
    launch('status', '3')
    @s.expect('exiting', timeout: 20)
    @s.expect('program exited with status 3')
    assert_equal 3, @s.wait_exit.exitstatus
  end

  def test_death_by_signal_is_reported
    launch('kill')
    @s.expect('about to die', timeout: 20)
    @s.expect('program killed by signal SIGKILL')
    assert_equal 128 + 9, @s.wait_exit.exitstatus
  end

  def test_kill_command
    launch('count', nonstop: false)
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    pid = Integer(@s.command('p Process.pid'))
    @s.send_line('kill')
    @s.expect("Killed process #{pid}.")
    assert_equal 0, @s.wait_exit.exitstatus
    refute E2E.process_alive?(pid)
  end

  def test_detach_in_launch_mode_waits_for_the_program
    launch('status', '4', nonstop: false)
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    @s.send_line('detach')
    @s.expect(/Detached from process \d+\./)
    @s.expect('exiting')
    @s.expect('program exited with status 4')
    assert_equal 0, @s.wait_exit.exitstatus, 'detach ends the session with 0 (docs/ARCHITECTURE.md)'
  end

  def test_controller_killed_while_stopped
    launch('count', nonstop: false)
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    line = E2E.line_of(FIX, '# @count_line')
    @s.command("break #{line} if i == 3")
    out = @s.command('c')
    assert_match(/Stopped in fiber 1 .*exits\.rb:#{line}/, out)
    @program = Integer(out[/pid (\d+)/, 1] || @s.transcript[/pid (\d+)/, 1])
    assert_match(/count 2/, @s.transcript)
    refute_match(/count 3/, @s.transcript)

    Process.kill('KILL', @s.pid)
    # The program runs on to its end, all of its output included.
    @s.expect('count 5')
    @s.expect('counted')
    @s.expect('at_exit ran')
    E2E.wait_until(what: 'program exit') { !E2E.process_alive?(@program) }
  end

  def test_command_line_exit_codes
    out, _, st = Open3.capture3(POLYTRACE, '--version')
    assert_equal 0, st.exitstatus
    assert_match(/\Apolytrace \d+\.\d+\.\d+ \(protocol \d+\)\n\z/, out)
    out, _, st = Open3.capture3(POLYTRACE, '--help')
    assert_equal 0, st.exitstatus
    assert_match(/usage: polytrace/, out)
    _, err, st = Open3.capture3(POLYTRACE)
    assert_equal 2, st.exitstatus
    assert_equal "polytrace: no program given (see polytrace --help)\n", err
    _, err, st = Open3.capture3(POLYTRACE, '--bogus', 'ruby')
    assert_equal 2, st.exitstatus
    assert_match(/unknown option '--bogus'/, err)
    _, err, st = Open3.capture3(POLYTRACE, 'no-such-program-xyz')
    assert_equal 1, st.exitstatus
    assert_equal "polytrace: cannot run 'no-such-program-xyz': No such file or directory\n", err
  end

  def test_program_without_tracer_connection
    # A program that exits before the tracer could connect (not Ruby at all).
    @s = PtySession.polytrace('sh', '-c', 'echo plain; exit 5')
    @s.expect('plain', timeout: 20)
    @s.expect(/polytrace: the tracer never connected; program exited with status 5/, timeout: 20)
    assert_equal 5, @s.wait_exit.exitstatus
  end
end
