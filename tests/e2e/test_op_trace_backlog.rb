# frozen_string_literal: true

# test_op_trace_backlog.rb — `trace ops on` with a terminal that does not
# keep up: the program must never wait for the debugger. Nothing is read
# from the terminal while the program floods the trace, so polytrace
# blocks writing op lines to it and stops reading the tracer; the tracer
# drops what it cannot queue and the user is told how many, in place.

require 'minitest/autorun'
require 'fileutils'
require 'pty_session'

class TestOpTraceBacklog < Minitest::Test
  FIX = E2E.fixture('ops_flood.rb')

  def setup
    @dir = Dir.mktmpdir('pt_ops_backlog')
    @fifo = File.join(@dir, 'flooded')
    File.mkfifo(@fifo)
  end

  def teardown
    @done&.close
    @s&.close
    FileUtils.rm_rf(@dir)
  end

  def test_a_terminal_that_falls_behind_gets_a_count_of_dropped_op_events
    @s = PtySession.polytrace('ruby', FIX, @fifo)
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
    assert_match(/Tracing I\/O ops of all fibers/, @s.command('trace ops on'))
    # Open before the program can: its open for writing then never waits.
    @done = File.open(@fifo, File::RDONLY | File::NONBLOCK)
    @s.send_line('c')
    assert IO.select([@done], nil, nil, 120), 'the program made all its ops while the terminal was not read'
    assert_equal "flooded\n", @done.read_nonblock(64)
    m = @s.expect(/polytrace: (\d+) op events dropped: the debugger did not read them in time/, timeout: 120)
    assert_operator Integer(m[1]), :>, 0
    @s.expect('program exited with status 0', timeout: 120)
    assert_match(/flood done/, @s.transcript)
    assert_match(/op: fiber \d+ complete write fd \d+ len 8 -> 8/, @s.transcript, 'op lines before the drop')
    assert_equal 0, @s.wait_exit(timeout: 30).exitstatus
  end
end
