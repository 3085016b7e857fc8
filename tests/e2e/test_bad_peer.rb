# frozen_string_literal: true

# test_bad_peer.rb — polytrace against a misbehaving tracer (a Ruby fake
# speaking the wire protocol): a version mismatch, garbage instead of a
# hello, a connection cut mid-message, replies with the wrong id or an
# unknown type. Each gets a one-line error or is skipped; polytrace never
# crashes or hangs, and exits with the documented code.

require 'minitest/autorun'
require 'pty_session'

class TestBadPeer < Minitest::Test
  FAKE = E2E.fixture('fake_tracer.rb')

  def teardown
    @s&.close
  end

  # The fake must not load the real tracer, which polytrace preloads via RUBYOPT.
  def launch(mode)
    @s = PtySession.polytrace('sh', '-c', 'unset RUBYOPT; exec ruby "$0" "$1"', FAKE, mode)
  end

  def test_version_mismatch
    launch('version')
    @s.expect('polytrace: protocol version mismatch: the tracer speaks 99, polytrace speaks 1', timeout: 20)
    # (The fake may or may not get to print what it received: polytrace
    # kills the program it launched once the handshake has failed.)
    assert_equal 1, @s.wait_exit.exitstatus
  end

  def test_garbage_instead_of_hello
    launch('garbage')
    @s.expect(/polytrace: no hello from the tracer: .+/, timeout: 20)
    assert_equal 1, @s.wait_exit.exitstatus
  end

  def test_connection_cut_mid_message
    launch('hangup')
    @s.expect(/\(entry\)/, timeout: 20)
    # The program (the fake) then exits 0: its status is what polytrace reports.
    @s.expect('program exited with status 0')
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_stray_replies_are_skipped
    launch('stray')
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    assert_equal "value for 1 + 1\n", @s.command('p 1 + 1')
    assert_equal "error: fake: not supported\n", @s.command('fibers')
    assert_equal "value for 2\n", @s.command('p 2')
    @s.send_line('kill')
    @s.expect(/Killed process \d+\./)
    assert_equal 0, @s.wait_exit.exitstatus
  end
end
