# frozen_string_literal: true

# test_fiberlock_waits.rb — "fiberlock step" (the default) gives the stepped
# fiber priority: `skip` over a wait on another fiber (await, receive)
# finishes because the others run while the stepped fiber waits, yet no
# other fiber runs between two lines of the stepped fiber that did not wait
# in between (the chatty fiber's $log entries are counted). "off" lets the
# chatty fiber run across a snooze; "on" keeps everyone else out.

require 'minitest/autorun'
require 'pty_session'

class TestFiberlockWaits < Minitest::Test
  include E2E::AtEntry

  FIX = E2E.fixture('waits.rb')
  AWAIT = E2E.line_of(FIX, '# @await')
  AFTER_AWAIT = E2E.line_of(FIX, '# @after_await')
  SNOOZE = E2E.line_of(FIX, '# @snooze')
  AFTER_SNOOZE = E2E.line_of(FIX, '# @after_snooze')
  RECEIVE = E2E.line_of(FIX, '# @receive')
  AFTER_RECEIVE = E2E.line_of(FIX, '# @after_receive')

  def run_to(line)
    bp = @s.command("break #{FIX}:#{line}")[/Breakpoint (\d+)/, 1]
    out = @s.command('c')
    assert_match(/Stopped in fiber \d+ .*waits\.rb:#{line}\b/, out)
    assert_match(/Deleted breakpoint #{bp}/, @s.command("delete #{bp}"))
    out[/Stopped in fiber (\d+)/, 1]
  end

  def chatty_count
    Integer(@s.command('p $log.count(:chatty)'))
  end

  def finish
    @s.send_line('c')
    @s.expect('program exited with status 0')
    assert_includes @s.transcript, 'waits done 44 got job1'
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_skip_over_await_and_snooze_with_default_fiberlock
    assert_equal '1', run_to(AWAIT)
    out = @s.command('skip', timeout: 10)
    assert_match(/Stopped in fiber 1 \(main\) at .*waits\.rb:#{AFTER_AWAIT}\b/, out)
    assert_equal "42\n", @s.command('p x')
    assert_equal "[:worker]\n", @s.command('p $log - [:chatty]'), 'the awaited worker ran'
    before = chatty_count
    assert_operator before, :>, 0, 'other fibers ran while main waited'
    assert_match(/Stopped in fiber 1 \(main\) at .*:#{SNOOZE}\b/, @s.command('skip'))
    assert_match(/Stopped in fiber 1 \(main\) at .*:#{AFTER_SNOOZE}\b/, @s.command('skip'))
    assert_equal before, chatty_count, 'no other fiber ran between two lines of fiber 1'
    finish
  end

  def test_skip_over_receive_completes_when_another_fiber_sends
    id = run_to(RECEIVE)
    refute_equal '1', id
    out = @s.command('skip', timeout: 10)
    assert_match(/Stopped in fiber #{id} \(mailbox\) at .*waits\.rb:#{AFTER_RECEIVE}\b/, out)
    assert_equal ":job1\n", @s.command('p job')
    finish
  end

  def test_fiberlock_off_lets_others_run_across_a_snooze
    assert_match(/fiberlock is now off/, @s.command('set fiberlock off'))
    run_to(SNOOZE)
    before = chatty_count
    assert_match(/Stopped in fiber 1 \(main\) at .*:#{AFTER_SNOOZE}\b/, @s.command('skip'))
    assert_operator chatty_count, :>, before, 'the chatty fiber ran during the snooze'
    finish
  end

  def test_fiberlock_on_keeps_others_out_and_pause_rescues
    run_to(AWAIT)
    assert_match(/fiberlock is now on/, @s.command('set fiberlock on'))
    before = chatty_count
    @s.send_line('skip')
    refute @s.sees?(/Stopped in/, timeout: 1), 'the await cannot finish with fiberlock on'
    @s.send_raw("\x03")
    @s.expect(/Stopped in fiber 1 \(main\) at .*waits\.rb:#{AWAIT}\b.*\(pause\)/)
    @s.prompt
    assert_equal before, chatty_count, 'with fiberlock on no other fiber ran'
    assert_match(/fiberlock is now step/, @s.command('set fiberlock step'))
    finish
  end
end
