# frozen_string_literal: true

# tests/tracer/test_stepping.rb — step, skip and up follow one fiber while
# three fibers interleave (scripts/fibers3.rb resumes each fiber in turn).
require 'minitest/autorun'
require 'pt_wire'

class TestStepping < Minitest::Test
  include PtWire::AtEntry

  SCRIPT = File.join(__dir__, 'scripts', 'fibers3.rb')

  def resume(type)
    assert_equal :ok, @c.request(type)['type']
    @c.wait_event(:stopped)
  end

  # Stop in the first fiber inside helper (line 2).
  def stop_in_helper
    bp = @c.request(:break, file: SCRIPT, line: 2)['bp']
    stop = resume(:continue)
    assert_equal ['breakpoint', 2], stop.values_at('reason', 'line')
    refute_equal 1, stop['fiber'], 'stopped in a fiber, not the main one'
    @c.request(:delete, bp: bp['id'])
    stop
  end

  def test_up_then_skip_stay_in_the_fiber
    fiber = stop_in_helper['fiber']
    stop = resume(:up)
    assert_equal [fiber, 4, 'return', '4'], stop.values_at('fiber', 'line', 'reason', 'value'),
                 'up: the return of helper (i = 1), with its value'
    stop = resume(:skip)
    assert_equal [fiber, 8, 'step'], stop.values_at('fiber', 'line', 'reason'), 'then the caller'
    # The other two fibers run lines 7, 2, 3 and 8 before ours gets to 9.
    stop = resume(:skip)
    assert_equal [fiber, 9, 'step'], stop.values_at('fiber', 'line', 'reason'), 'skip stays in its fiber'
    stop = resume(:skip)
    assert_equal [fiber, 10], stop.values_at('fiber', 'line')
    assert_equal '5', @c.request(:eval, expr: 'b')['text'], 'the first fiber (i = 1): a = 4, b = 5'
  end

  def test_step_enters_calls_and_skip_steps_over
    fiber = stop_in_helper['fiber']
    assert_equal [fiber, 3], resume(:step).values_at('fiber', 'line')
    assert_equal [fiber, 8], resume(:step).values_at('fiber', 'line')
    # Line 9 of this fiber comes after the other fibers ran helper.
    assert_equal [fiber, 9], resume(:step).values_at('fiber', 'line')
  end

  def test_skip_over_a_call_does_not_stop_inside_it
    bp = @c.request(:break, file: SCRIPT, line: 7)['bp']
    stop = resume(:continue)
    fiber = stop['fiber']
    assert_equal 7, stop['line']
    @c.request(:delete, bp: bp['id'])
    stop = resume(:skip)
    assert_equal [fiber, 8], stop.values_at('fiber', 'line'), 'helper (lines 2-3) skipped'
  end

  def test_breakpoint_in_another_fiber_interrupts_a_skip
    stop_in_helper
    fiber = resume(:up)['fiber']
    assert_equal [fiber, 8], resume(:skip).values_at('fiber', 'line')
    bp = @c.request(:break, file: SCRIPT, line: 3)['bp']
    stop = resume(:skip)
    assert_equal ['breakpoint', 3, bp['id']], stop.values_at('reason', 'line', 'bp')
    refute_equal fiber, stop['fiber'], 'the second fiber hit the breakpoint first'
  end

  def test_continue_runs_to_the_end
    resume(:step)
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal 0, @c.wait_event(:exited)['status']
    assert_equal "done\n", @d.stdout.tap { @d.wait }
  end
end
