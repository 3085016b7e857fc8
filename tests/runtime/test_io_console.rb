# frozen_string_literal: true

# io/console on a real terminal (a pseudo-terminal): getch, noecho, raw,
# wait_readable, getch with a time limit, getpass each wait in the calling
# fiber, so a ticker fiber keeps ticking meanwhile
# (fixtures/console_ticker.rb does the waiting; this test types).
require 'minitest/autorun'
require 'pty'
require 'timeout'

class IOConsoleTest < Minitest::Test
  SCRIPT = File.expand_path('fixtures/console_ticker.rb', __dir__)
  DEADLINE = 30 # s for each expected output; generous under load

  def setup
    @out, @in, @pid = PTY.spawn('ruby', SCRIPT)
    @seen = +''
  end

  def teardown
    Process.kill('KILL', @pid)
    Process.wait(@pid)
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  ensure
    [@out, @in].each { |io| io&.close }
  end

  # Reads the terminal until re matches what came after `from`. Lines end
  # in "\r\n", or "\r\r\n" where the terminal adds a "\r" (cooked mode).
  def expect(re, from = 0)
    Timeout.timeout(DEADLINE) do
      until (m = re.match(@seen, from))
        @seen << @out.readpartial(4096)
      end
      m
    end
  rescue Timeout::Error
    flunk "no #{re.inspect} in:\n#{@seen}"
  rescue Errno::EIO
    flunk "the program ended before #{re.inspect}:\n#{@seen}"
  end

  # Waits for the program to wait in `name`, then for `ticks` more ticks.
  def await_wait(name, ticks = 3)
    m = expect(/wait #{name} at (\d+)\r+\n/)
    expect(/tick #{m[1].to_i + ticks}\r+\n/, m.end(0))
    m.end(0)
  end

  def result(name)
    m = expect(/^#{name} (.*) after (\d+)\r+\n/)
    [m[1], m[2].to_i, m.begin(0)]
  end

  def test_each_wait_lets_the_ticker_run
    await_wait('getch')
    @in.write('x')
    value, ticks, = result('getch')
    assert_equal '"x"', value
    assert_operator ticks, :>=, 3

    start = await_wait('noecho')
    @in.write("hunter2\n")
    value, ticks, at = result('noecho')
    assert_equal '"hunter2\n"', value
    assert_operator ticks, :>=, 3
    refute_includes @seen[start...at], 'hunter2', 'typed without echo'

    await_wait('raw')
    @in.write("\x03q") # Ctrl-C is a byte in raw mode, not a signal
    value, ticks, = result('raw')
    assert_equal '"\x03q"', value
    assert_operator ticks, :>=, 3

    value, = result('wait_readable')
    assert_equal 'nil', value, 'nothing typed: nil after the timeout'

    value, = result('getch_timed')
    assert_equal 'nil', value, 'getch(min: 0, time:) gives nil when time runs out'

    start = await_wait('getpass')
    expect(/Password: /, start)
    @in.write("s3cret\n")
    value, ticks, at = result('getpass')
    assert_equal '"s3cret"', value
    assert_operator ticks, :>=, 3
    refute_includes @seen[start...at], 's3cret', 'typed without echo'
    expect(/done\r+\n/)
  end
end
