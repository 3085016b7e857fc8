# frozen_string_literal: true

# test_tracer_api.rb — PolyTrace.state, .current_fiber, .call_stack and
# .fiber_lock= from the program (the fixture prints what it got) and from
# `print` at the prompt.

require 'minitest/autorun'
require 'pty_session'

class TestTracerApi < Minitest::Test
  include E2E::AtEntry

  FIX = E2E.fixture('api.rb')
  L = %w[call_stack worker_stack worker_wait stop].to_h { |m| [m, E2E.line_of(FIX, "# @#{m}")] }

  def test_api_from_the_program_and_the_prompt
    @s.command("break #{FIX}:#{L['stop']}")
    assert_match(/Stopped in fiber 1 .*api\.rb:#{L['stop']} /, @s.command('c'))

    assert_equal "true\n", @s.command('p PolyTrace.state[:stopped]')
    assert_equal ":step\n", @s.command('p PolyTrace.state[:fiber_lock]'), 'the program set it back'
    assert_equal "[#{L['stop']}]\n", @s.command('p PolyTrace.state[:breakpoints].map { |b| b[:line] }')
    assert_equal "true\n", @s.command('p PolyTrace.current_fiber.equal?(Fiber.current)')
    # The worker is somewhere in its block (its output may still be on its way).
    assert_match(/"\S*api\.rb:\d+:in `block in <main>'", "-- spun by fiber 1 \(main\) at \S*api\.rb:\d+ --"/,
                 @s.command('p PolyTrace.call_stack(worker)'))
    assert_match(/\A\["\S*api\.rb:#{L['stop']}:in `<main>'"\]\n\z/, @s.command('p PolyTrace.call_stack'),
                 'at the prompt: the stopped fiber\'s frames, not the evaluation\'s')
    assert_equal "true\n", @s.command('p PolyTrace.fiber_lock = true')
    assert_equal ":on\n", @s.command('p PolyTrace.state[:fiber_lock]')
    assert_match(/fiberlock is now step/, @s.command('set fiberlock step'))
    assert_equal ":step\n", @s.command('p PolyTrace.fiber_lock')
    assert_match(/ArgumentError: fiber_lock is true \(:on\), false \(:off\) or :step, not 3/,
                 @s.command('p PolyTrace.fiber_lock = 3'))
    assert_match(/TypeError: PolyTrace.call_stack takes a Fiber, not Integer/, @s.command('p PolyTrace.call_stack(1)'))
    @s.send_line('c')
    @s.expect('api done')
    assert_equal 0, @s.wait_exit.exitstatus

    # What the program printed (its output is flushed at the end).
    stack = @s.transcript[/^worker stack: (\[.*\])$/, 1]
    assert stack, @s.transcript
    assert_match(/\A\["\S*api\.rb:#{L['call_stack']}:in `where_am_i'", "\S*api\.rb:#{L['worker_stack']}:in `block in <main>'", "-- spun by fiber 1 \(main\) at \S*api\.rb:\d+ --", "\S*api\.rb:\d+:in `<main>'"\]\z/,
                 stack, 'the live stack, the API\'s own frame left out, then the spinner\'s')
    assert_match(/^lock: off off$/, @s.transcript)
    assert_match(/^current: true, stopped: false$/, @s.transcript)
  end
end
