# frozen_string_literal: true

# tests/tracer/test_logpoints.rb — breakpoint hit conditions (which hits
# stop), logpoints (an OUTPUT line with {expr} filled in, no stop), and
# POLYTRACE_STDIO=pipe: output sent at once, and pointed away from a
# controller that went away so the program runs on.
require 'minitest/autorun'
require 'pt_wire'

class TestLogpoints < Minitest::Test
  SCRIPTS = File.join(__dir__, 'scripts')
  CALC = File.join(SCRIPTS, 'calc.rb')
  PIPE = File.join(SCRIPTS, 'pipe_out.rb')

  def teardown
    @d&.close
  end

  def launch(script, *args, env: {})
    @d = PtWire::Debuggee.new(script, *args, env: env)
    @c = @d.conn
    assert_equal 'entry', @c.read['reason']
  end

  # The stops, and OUTPUT texts, until the program exits.
  def run_to_exit
    stops = []
    outputs = []
    assert_equal :ok, @c.request(:continue)['type']
    loop do
      msg = @c.read
      break if msg.nil? || msg['type'] == :exited

      outputs << msg['text'] if msg['type'] == :output
      next unless msg['type'] == :stopped

      stops << @c.request(:eval, expr: 'i')['text']
      assert_equal :ok, @c.request(:continue)['type']
    end
    [stops, outputs]
  end

  def test_hit_conditions
    { '3' => %w[2], '== 2' => %w[1], '>= 4' => %w[3 4], '> 3' => %w[3 4], '< 3' => %w[0 1],
      '<= 1' => %w[0], '% 2' => %w[1 3] }.each do |cond, want|
      launch(CALC)
      bp = @c.request(:break, file: CALC, line: 13, hit_cond: cond)
      assert_equal cond, bp.dig('bp', 'hit_cond')
      stops, = run_to_exit
      assert_equal want, stops, "hit condition #{cond}"
      @d.close
    end
  end

  def test_bad_hit_condition_is_refused
    launch(CALC)
    %w[x >=x %0 3x].each do |cond|
      r = @c.request(:break, file: CALC, line: 13, hit_cond: cond)
      assert_equal [:error, PtWire::ERR[:bad_request]], r.values_at('type', 'code'), cond
      assert_match(/hit condition/, r['message'])
    end
    assert_empty @c.request(:breakpoints)['bps']
  end

  def test_logpoint_prints_and_never_stops
    launch(CALC)
    bp = @c.request(:break, file: CALC, line: 13, cond: 'i.odd?', log: 'i={i} total={total} \{x} {nope}')
    assert_equal :breakpoint, bp['type']
    stops, outputs = run_to_exit
    assert_empty stops, 'a logpoint never stops'
    assert_equal 2, outputs.size, outputs.inspect
    assert_match(/\Ai=1 total=0 \{x\} <NameError: .*nope.*>\n\z/, outputs[0])
    assert_match(/\Ai=3 total=3 /, outputs[1])
  end

  def test_pipe_stdio_is_synchronous_and_survives_the_controller
    marker = File.join(Dir.mktmpdir('pt-pipe'), 'go')
    launch(PIPE, marker, env: { 'POLYTRACE_STDIO' => 'pipe' })
    assert_equal :breakpoint, @c.request(:break, file: PIPE, line: 5)['type']
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal 5, @c.wait_event(:stopped)['line']
    # Written before the stop, so already in the pipe (not in a buffer).
    @d.wait_stdout(/before\nat 4\n\z/)
    refute_match(/POLYTRACE_STDIO/, @c.request(:eval, expr: 'ENV.keys.join(",")')['text'])
    @c.close                           # the controller is gone while stopped
    @d.close_stdout                    # and so is the reader of the pipes
    File.write(marker, '')
    assert @d.wait.success?, 'writing to the dead pipes must not kill it'
    assert_equal 'done', File.read(marker)
  end
end
