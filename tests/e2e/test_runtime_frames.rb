# frozen_string_literal: true

# test_runtime_frames.rb — frames in the runtime's own Ruby files are
# hidden: `fibers` shows where the program's code is (not polyphony/*.rb),
# `bt` leaves the runtime's frames out and counts them ('bt all' shows
# them), upframe passes over them, `step` never stops in them, and a stop
# whose innermost frame is the runtime's (an exception raised inside the
# runtime's IO#readpartial) shows and selects the program's frame.

require 'minitest/autorun'
require 'pty_session'

class TestRuntimeFrames < Minitest::Test
  include E2E::AtEntry

  FIX = E2E.fixture('runtime_frames.rb')
  L = %w[accept_loop every tick connect eof].to_h { |m| [m, E2E.line_of(FIX, "# @#{m}")] }
  RUNTIME = %r{polyphony/\w+\.rb|<internal:}

  def test_runtime_frames_are_hidden
    @s.command("break #{FIX}:#{L['connect']}")
    @s.command("break #{FIX}:#{L['tick']}")
    assert_match(/Stopped in fiber 1 .*at .*:#{L['connect']} .*\(breakpoint 1\)/, @s.command('c'))

    fibers = @s.command('fibers')
    assert_match(/acceptor +waiting +\S*runtime_frames\.rb:#{L['accept_loop']} +accept/, fibers)
    # The ticker's 10 ms sleep may have ended by the stop on a loaded
    # machine (runnable, its sleep not yet returned), or a stall before its
    # first sleep made the tick due at once (a snooze): where it is counts.
    assert_match(/ticker +(waiting|runnable) +\S*runtime_frames\.rb:#{L['every']} +(sleep|snooze)/, fibers)
    refute_match(RUNTIME, fibers)

    bt = @s.command('bt acceptor')
    assert_match(/#\d+ +\S*runtime_frames\.rb:#{L['accept_loop']} in block in <main>/, bt)
    assert_match(/\(\d+ frames? of the runtime or of Ruby itself hidden; 'bt all' shows them\)/, bt)
    refute_match(RUNTIME, bt)
    all = @s.command('bt all acceptor')
    assert_match(%r{polyphony/socket\.rb:\d+ in accept_loop \(hidden\)}, all)

    # In the block `every` calls: bt has a gap, upframe passes over it.
    out = @s.command('c')
    assert_match(/Stopped in fiber (\d+) \(ticker\) at .*:#{L['tick']} .*\(breakpoint 2\)/, out)
    bt = @s.command('bt')
    assert_match(/> #0 +\S*runtime_frames\.rb:#{L['tick']}/, bt)
    refute_match(RUNTIME, bt)
    outer = bt[/#(\d+) +\S*runtime_frames\.rb:#{L['every']}/, 1]
    assert outer, bt
    assert_operator Integer(outer), :>, 1, 'frames of every in between'
    assert_match(/> ##{outer} +\S*runtime_frames\.rb:#{L['every']}/, @s.command('upframe'))
    assert_match(/> #0 /, @s.command('downframe'))

    # step: the block returns into `every`, which sleeps and calls it
    # again; the stop is the next tick, never a line of global_api.rb.
    @s.command('delete 2')
    out = @s.command('step')
    assert_match(/Stopped in fiber \d+ \(ticker\) at .*runtime_frames\.rb:#{L['tick']}/, out)
    refute_match(RUNTIME, out)

    # An EOFError raised inside the runtime's readpartial: stopped once,
    # shown at the program's line, that frame selected.
    assert_match(/Catching EOFError/, @s.command('catch EOFError'))
    out = @s.command('c')
    assert_match(/Exception EOFError: end of file reached/, out)
    assert_match(/Stopped in fiber 1 .*at \S*runtime_frames\.rb:#{L['eof']} in <main> \(exception\)/, out)
    bt = @s.command('bt')
    assert_match(/> #(\d+) +\S*runtime_frames\.rb:#{L['eof']} in <main>/, bt)
    refute_match(/> #0 /, bt)
    assert_match(%r{#0 +\S*polyphony/io_buffer_pos\.rb:\d+ in \S*readpartial \(hidden\)}, @s.command('bt all'))
    assert_equal %("hi\\n"\n), @s.command('p reply'), 'print works in the selected frame'

    @s.send_line('c')
    @s.expect('runtime frames done hi eof')
    @s.expect('program exited with status 0')
    assert_equal 1, @s.transcript.scan('Exception EOFError').size, 'the runtime re-raising it: no second stop'
  end
end
