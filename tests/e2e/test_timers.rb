# frozen_string_literal: true

# test_timers.rb — time spent at the prompt does not count against timers:
# a fiber in `sleep 1` while the program sits stopped for 3 s still sleeps
# about 1 s of running time after continue. The fixture measures its sleep
# with the monotonic clock; we subtract the time the program was stopped.

require 'minitest/autorun'
require 'pty_session'

class TestTimers < Minitest::Test
  FIX = E2E.fixture('sleeper.rb')
  PROMPT_SECONDS = 3.0

  def teardown
    @s&.close
  end

  def test_sleep_is_suspended_while_stopped
    @s = PtySession.polytrace('ruby', FIX)
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    line = E2E.line_of(FIX, '# @stop_here')
    @s.command("break #{line}")
    @s.send_line('c')
    @s.expect(/Stopped in fiber 1 .*sleeper\.rb:#{line}/)
    stopped_at = E2E.now
    @s.prompt
    out = @s.command('fibers')
    assert_match(/sleep \((0\.[5-9]\d|1\.00)s left\)/, out, 'the sleeper still has most of its second')
    # The time the user spends at the prompt (deliberately idle: it is what is measured).
    sleep PROMPT_SECONDS
    @s.send_line('c')
    resumed_at = E2E.now
    m = @s.expect(/slept (\d+\.\d+)/)
    slept = Float(m[1])
    stopped_for = resumed_at - stopped_at
    running = slept - stopped_for
    assert_operator stopped_for, :>=, PROMPT_SECONDS
    # stopped_for is measured from after the stop was seen to before the
    # continue was sent, so it is never more than the time the program's
    # clock stood still: with timers suspended, running is at least the
    # whole second; more by how late the machine let each side see the
    # other and the sleeper wake. Timers that ran on while stopped leave
    # about none; a stop counted twice, seconds more.
    why = "slept #{slept}s in all, #{stopped_for.round(2)}s of it stopped: #{running.round(2)}s running"
    assert_operator running, :>=, 0.999, why
    assert_operator running, :<, 2.0, why
    @s.expect('sleeper done')
    assert_equal 0, @s.wait_exit.exitstatus
  end
end
