# frozen_string_literal: true

# test_suspend.rb — Ctrl-Z at the (polytrace) prompt suspends polytrace as
# a job (a bash with job control, `set -m`, runs it on the terminal and
# reports it stopped); the program stays stopped; `fg` continues polytrace,
# which redraws its prompt with the half-typed line and takes commands.
# Ctrl-Z while the launched program runs stops the program, and polytrace
# stops with it so that the whole job is suspended; `fg` continues both.

require 'minitest/autorun'
require 'pty_session'

class TestSuspend < Minitest::Test
  FIX = E2E.fixture('sleeper.rb')

  def teardown
    @s&.close
  end

  def test_ctrl_z_suspends_and_fg_resumes
    skip 'no bash' unless system('command -v bash >/dev/null 2>&1')
    script = "set -m; #{PtySession::POLYTRACE} ruby #{FIX}; echo \"job status $?\"; fg; echo \"fg status $?\""
    @s = PtySession.new('bash', '--norc', '--noprofile', '-c', script)
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    @s.send_raw('p 6 *')
    @s.expect('p 6 *')
    @s.send_raw("\x1a")
    @s.expect(/job status 148/)     # 128 + SIGTSTP: bash saw the job stop
    @s.expect(/p 6 \*/)             # fg: the prompt comes back with the typed text
    @s.send_line(' 7')
    @s.expect("42\n")
    @s.prompt
    refute_match(/slept|sleeper done/, @s.transcript, 'the program stayed stopped')
    @s.send_line('c')
    @s.expect('sleeper done')
    @s.expect('program exited with status 0')
    @s.expect('fg status 0')
  end

  # /proc/PID/stat fields after the command name: state, ppid, pgrp, session, tty, tpgid ...
  def stat(pid)
    File.read("/proc/#{pid}/stat").split(') ').last.split
  end

  def children(pid)
    Dir['/proc/[0-9]*/stat'].filter_map do |f|
      File.basename(File.dirname(f)).to_i if stat_of(f)&.[](1).to_i == pid
    end
  end

  def stat_of(file)
    File.read(file).split(') ').last.split
  rescue Errno::ENOENT, Errno::ESRCH
    nil
  end

  # bash -> polytrace -> ruby
  def program_pid
    ctl = children(@s.pid).first or flunk 'no polytrace under bash'
    children(ctl).first or flunk 'no program under polytrace'
  end

  def test_ctrl_z_while_the_program_runs_suspends_the_job
    skip 'no bash' unless system('command -v bash >/dev/null 2>&1')
    fix = E2E.fixture('terminal.rb')
    script = "set -m; #{PtySession::POLYTRACE} ruby #{fix}; echo \"job status $?\"; fg; echo \"fg status $?\""
    @s = PtySession.new('bash', '--norc', '--noprofile', '-c', script)
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    @s.send_line('c')
    @s.expect('type a line:')
    @s.send_line('hello')
    @s.expect('looping')
    @s.send_raw("\x1a")
    @s.expect(/job status 148/)
    prog = program_pid
    # After fg the program runs again with the terminal: Ctrl-C pauses it.
    E2E.wait_until(what: 'the program runs in the foreground') do
      st = stat(prog)
      st[0] != 'T' && st[2] == st[5]
    end
    @s.send_raw("\x03")
    @s.expect(/Stopped in fiber 1 .*terminal\.rb:\d+.*\(pause\)/)
    @s.prompt
    assert_equal "true\n", @s.command('p @stop = true')
    @s.send_line('c')
    @s.expect('terminal done')
    @s.expect('program exited with status 0')
    @s.expect('fg status 0')
  end
end
