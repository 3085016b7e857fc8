# frozen_string_literal: true

# test_suspend.rb — Ctrl-Z at the (polytrace) prompt suspends polytrace as
# a job (a bash with job control, `set -m`, runs it on the terminal and
# reports it stopped); the program stays stopped; `fg` continues polytrace,
# which redraws its prompt with the half-typed line and takes commands.

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
end
