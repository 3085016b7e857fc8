# frozen_string_literal: true

# test_hog.rb — the loop watchdog: `hog 50ms` stops the program in a fiber
# that computes 200 ms without yielding, at the line it is executing, with
# the reason; `hog report 50ms` prints one line per occurrence when the
# fiber yields and the program runs on; `hog off` disarms; bad arguments are
# refused; `-ex 'hog 50ms'` arms it from the command line.

require 'minitest/autorun'
require 'pty_session'

class TestHog < Minitest::Test
  FIX = E2E.fixture('hogs.rb')
  BUSY = E2E.line_of(FIX, '# @busy')

  def start(*options)
    @s = PtySession.polytrace(*options, 'ruby', FIX)
    @s.expect(/\(entry\)/, timeout: 20)
    @s.prompt
  end

  def teardown
    @s&.close
  end

  def finish
    @s.send_line('c')
    @s.expect(/hogs done/, timeout: 20)
    @s.expect('program exited with status 0')
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_stop_in_the_hogging_fiber_at_its_line
    start
    assert_match(/A fiber that runs 50 ms without yielding stops the program\./, @s.command('hog 50ms'))
    assert_match(/A fiber that runs 50 ms without yielding stops the program\./, @s.command('hog'))
    out = @s.command('c', timeout: 20)
    assert_match(/Stopped in fiber (\d+) \(worker\) at .*hogs\.rb:#{BUSY} in Object#crunch \(hog: fiber \1 \(worker\) has run (\d+) ms without yielding\)/, out)
    ran = out[/has run (\d+) ms/, 1].to_i
    assert_operator ran, :>=, 50
    assert_match(/=> *#{BUSY} /, out)
    # The stopped fiber's frames are at hand, and its counters: the run so
    # far counts (`fibers -s`).
    assert_match(/crunch/, @s.command('bt'))
    stats = @s.command('fibers -s')
    assert_match(/^ +ID TAG +STATE +WAITS ON +CPU +RUNS +LONGEST +WAITING +OPS$/, stats)
    row = stats.lines.grep(/ worker /).first
    assert row, stats
    _, _, state, _wait, cpu, runs, longest = row.split
    assert_equal 'running', state
    assert_operator ms(cpu), :>=, ran
    assert_operator ms(longest), :>=, ran
    assert_operator runs.to_i, :>=, 2
    assert_match(/^ +\d+ listener +waiting +receive/, stats)
    # The second hog stops again.
    out = @s.command('c', timeout: 20)
    assert_match(/\(hog: fiber \d+ \(worker\) has run \d+ ms without yielding\)/, out)
    assert_match(/Hog detection is off\./, @s.command('hog off'))
    finish
  end

  # "52.3ms" / "1.20s" as statfmt.c writes it, in ms.
  def ms(text)
    v = text.to_f
    text.end_with?('ms') ? v : text.end_with?('us') ? v / 1000 : text.end_with?('s') ? v * 1000 : v
  end

  def test_report_prints_a_line_per_occurrence_and_runs_on
    start
    assert_match(/is reported when it yields/, @s.command('hog report 50ms'))
    @s.send_line('c')
    2.times do
      m = @s.expect(/hog: fiber (\d+) \(worker\) ran (\d+) ms without yielding \(over 50 ms\), at (\S+):(\d+) in Object#crunch/, timeout: 20)
      assert_operator m[2].to_i, :>=, 195
      assert_match(/hogs\.rb\z/, m[3])
      assert_equal BUSY, m[4].to_i
    end
    @s.expect(/hogs done/, timeout: 20)
    @s.expect('program exited with status 0')
    refute_match(/Stopped in fiber \d+ \(worker\)/, @s.transcript)
  end

  def test_off_and_from_the_command_line
    start('-ex', 'hog 50ms')
    assert_match(/stops the program/, @s.transcript)
    assert_match(/Hog detection is off\./, @s.command('hog off'))
    finish
    refute_match(/\(hog:/, @s.transcript)
  end

  def test_bad_arguments
    start
    assert_match(/error: hog: 'fast' is not a duration/, @s.command('hog fast'))
    assert_match(/error: hog: '0ms' is not a duration/, @s.command('hog 0ms'))
    assert_match(/error: hog: 'report' needs a duration/, @s.command('hog report'))
    assert_match(/error: hog: unexpected 'now'/, @s.command('hog 50ms now'))
    assert_match(/Hog detection is off\./, @s.command('hog'))
    finish
  end
end
