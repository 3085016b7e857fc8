# frozen_string_literal: true

# test_catch.rb — `catch CLASS` stops where such an exception is raised,
# in any fiber, and shows it; the runtime's MoveOn does not stop a catch of
# StandardError; `catch` lists, `catch off CLASS` and `catch off` forget.

require 'minitest/autorun'
require 'pty_session'

class TestCatch < Minitest::Test
  include E2E::AtEntry

  FIX = E2E.fixture('raises.rb')
  RAISE_APP = E2E.line_of(FIX, '# @raise_app')
  RAISE_KEY = E2E.line_of(FIX, '# @raise_key')

  def finish
    @s.send_line('c')
    @s.expect('program exited with status 0')
    assert_includes @s.transcript, 'raises done'
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_catch_stops_at_raises_in_any_fiber
    assert_match(/No exceptions are caught/, @s.command('catch'))
    assert_match(/Catching StandardError\./, @s.command('catch StandardError'))
    assert_match(/Catching KeyError\./, @s.command('catch ::KeyError'))
    assert_match(/Catching: StandardError KeyError/, @s.command('catch'))
    out = @s.command('c')
    assert_match(/Exception AppError: bad input 7\nStopped in fiber \d+ \(worker\) at .*raises\.rb:#{RAISE_APP}\b.*\(exception\)/, out)
    out = @s.command('c')
    assert_match(/Exception KeyError: key not found: :missing\nStopped in fiber 1 \(main\) at .*raises\.rb:#{RAISE_KEY}\b/, out)
    refute_match(/Exception Polyphony::/, @s.transcript, 'the runtime\'s MoveOn did not stop')
    finish
  end

  def test_catch_off
    @s.command('catch AppError')
    @s.command('catch KeyError')
    assert_match(/AppError is no longer caught/, @s.command('catch off AppError'))
    assert_match(/not caught/, @s.command('catch off AppError'))
    assert_match(/Catching: KeyError\n/, @s.command('catch'))
    assert_match(/catch takes a class name/, @s.command('catch app_error'))
    assert_match(/No exceptions are caught/, @s.command('catch off'))
    assert_match(/No exceptions are caught/, @s.command('catch'))
    finish
    refute_match(/\(exception\)/, @s.transcript)
  end
end
