# frozen_string_literal: true

# tests/tracer/test_breakpoints.rb — line, method, conditional, fiber-filtered
# and pending breakpoints, listing and deleting (scripts/calc.rb).
require 'minitest/autorun'
require 'pt_wire'

class TestBreakpoints < Minitest::Test
  SCRIPTS = File.join(__dir__, 'scripts')
  CALC = File.join(SCRIPTS, 'calc.rb')
  LATER = File.join(SCRIPTS, 'later.rb')

  def launch(*args)
    @d = PtWire::Debuggee.new(CALC, *args)
    @c = @d.conn
    assert_equal 'entry', @c.read['reason']
  end

  def teardown
    @d&.close
  end

  def continue
    assert_equal :ok, @c.request(:continue)['type']
    @c.wait_event(:stopped) || @c.seen.last
  end

  def brk(**fields)
    r = @c.request(:break, **fields)
    assert_equal :breakpoint, r['type'], r.inspect
    r['bp']
  end

  # Continues until the program exits; returns the stops on the way.
  def stops_until_exit
    stops = []
    loop do
      assert_equal :ok, @c.request(:continue)['type']
      msg = @c.read
      msg = @c.read while msg && msg['type'] == :running
      break if msg.nil? || msg['type'] == :exited

      stops << msg if msg['type'] == :stopped
    end
    stops
  end

  def test_conditional_line_breakpoint
    launch
    bp = brk(file: CALC, line: 13, cond: 'i == 3')
    assert_equal 'i == 3', bp['cond']
    stop = continue
    assert_equal ['breakpoint', 13, bp['id']], stop.values_at('reason', 'line', 'bp')
    assert_equal '3', @c.request(:eval, expr: 'i')['text']
    assert_equal '3', @c.request(:eval, expr: 'total')['text'], '0+1+2'
    assert_empty stops_until_exit, 'i == 3 only once'
    assert_match(/total=110/, @d.stdout.tap { @d.wait })
  end

  def test_method_breakpoints_instance_and_singleton
    launch
    add = brk(method: 'Calc#add')
    make = brk(method: 'Calc.make')
    stop = continue
    assert_equal ['breakpoint', make['id'], 7], stop.values_at('reason', 'bp', 'line')
    stop = continue
    assert_equal ['breakpoint', add['id'], 3], stop.values_at('reason', 'bp', 'line')
    assert_equal '[0, 0]', @c.request(:eval, expr: '[a, b]')['text']
    list = @c.request(:breakpoints)['bps']
    assert_equal [add['id'], make['id']].sort, list.map { |b| b['id'] }.sort
    assert_equal 1, list.find { |b| b['id'] == add['id'] }['hits']
    assert_equal :ok, @c.request(:delete, bp: add['id'])['type']
    assert_equal PtWire::ERR[:no_breakpoint], @c.request(:delete, bp: add['id'])['code']
    assert_empty stops_until_exit
  end

  def test_method_breakpoint_pending_until_defined
    launch
    bp = brk(method: 'Calc#add')
    assert bp['pending'], 'Calc is not defined yet at the entry stop'
    stop = continue
    assert_equal [bp['id'], 3], stop.values_at('bp', 'line'), 'the first line of the body'
    refute @c.request(:breakpoints)['bps'][0]['pending']
  end

  def test_fiber_filtered_breakpoint
    launch
    main_only = brk(file: CALC, line: 3, fiber: 1)
    stops = stops_until_exit
    assert_equal 5, stops.size, 'five calls in the main fiber, none in the other'
    assert(stops.all? { |s| s['fiber'] == 1 && s['bp'] == main_only['id'] })
  end

  def test_breakpoint_in_other_fiber_only
    launch
    bp = brk(file: CALC, line: 3, fiber: 99)
    assert_empty stops_until_exit, "fiber 99 never runs (#{bp['id']})"
  end

  def test_condition_error_is_reported_and_stops
    launch
    brk(file: CALC, line: 3, cond: 'no_such_name')
    stop = continue
    assert_equal 3, stop['line']
    note = @c.seen.find { |m| m['type'] == :output }
    refute_nil note, 'an OUTPUT notice'
    assert_match(/NameError/, note['text'])
  end

  def test_pending_file_breakpoint_resolves_when_loaded
    launch(LATER)
    bp = brk(file: 'later.rb', line: 3)
    assert bp['pending']
    stop = continue
    assert_equal [LATER, 3, bp['id']], stop.values_at('file', 'line', 'bp')
    assert_equal '1', @c.request(:eval, expr: '$later')['text']
  end

  def test_pending_file_breakpoint_on_a_comment_says_why_when_loaded
    launch(LATER)
    bp = brk(file: 'later.rb', line: 1)
    assert bp['pending']
    assert_equal :ok, @c.request(:continue)['type']
    note = @c.wait_event(:output)
    assert_equal "polytrace: breakpoint #{bp['id']} at later.rb:1: line 1 of later.rb has no code; " \
                 "the nearest line with code is 2\n", note['text']
  end

  def test_bad_locations
    launch
    lines = File.readlines(CALC).size
    blank = @c.request(:break, file: CALC, line: 5)
    assert_equal PtWire::ERR[:bad_location], blank['code'], 'a blank line'
    assert_match(/\Aline 5 of #{CALC} has no code; the nearest line with code is \d+\z/, blank['message'])
    past = @c.request(:break, file: CALC, line: 1000)
    assert_equal PtWire::ERR[:bad_location], past['code']
    assert_match(/\Aline 1000 is past the end of #{CALC} \(#{lines} lines\); the nearest line with code is \d+\z/,
                 past['message'])
    assert_equal PtWire::ERR[:bad_request], @c.request(:break, file: CALC, line: 0)['code']
    assert_equal PtWire::ERR[:bad_location], @c.request(:break, method: 'nonsense')['code']
    assert_empty @c.request(:breakpoints)['bps']
  end

  def test_breakpoints_add_no_global_hook
    @d = PtWire::Debuggee.new(File.join(SCRIPTS, 'hooks.rb'))
    @c = @d.conn
    assert_equal 'entry', @c.read['reason']
    bp = brk(file: File.join(SCRIPTS, 'hooks.rb'), line: 4)
    meth = brk(method: 'Worker#work')
    assert meth['pending']
    assert_equal [meth['id'], 4], continue.values_at('bp', 'line'), 'the call first'
    assert_equal [bp['id'], 4], continue.values_at('bp', 'line'), 'then the line'
    assert_empty stops_until_exit
    @d.wait
    # Only polytrace.rb's :script_compiled hook: no line hook while running.
    assert_equal "global hooks: 1\n", @d.stdout
  end

  def test_pending_top_level_method_breakpoint
    @d = PtWire::Debuggee.new(File.join(SCRIPTS, 'simple.rb'))
    @c = @d.conn
    assert_equal 'entry', @c.read['reason']
    bp = brk(method: 'Object#double')
    assert bp['pending']
    stop = continue
    assert_equal [bp['id'], 3, 'Object#double'], stop.values_at('bp', 'line', 'method')
  end
end
