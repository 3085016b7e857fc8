# frozen_string_literal: true

# tests/tracer/test_stop_allocations.rb — a stop makes (almost) no Ruby
# objects in the stepped program: STOPPED needs frame 0 only, and the
# stack snapshot (Bindings for every frame, Locations, qualified labels)
# is taken only when a request looks at the frames. Stepping a loop that
# allocates nothing itself must not fill the heap (a GC every hundred steps
# was the step latency's tail), and what the snapshot serves must be what
# it served when every stop took it: eval in an outer frame after a step,
# qualified labels in STOPPED and BACKTRACE.
require 'minitest/autorun'
require 'pt_wire'

class TestStopAllocations < Minitest::Test
  include PtWire::AtEntry

  SCRIPT = File.join(__dir__, 'scripts', 'stepped_loop.rb')
  LINES = %w[top block method].to_h do |tag|
    [tag, File.readlines(SCRIPT).index { |l| l.include?("# @#{tag}") } + 1]
  end
  STEPS = 300
  # Objects a stop may make: one Thread::Backtrace::Location (three
  # objects) for a frame in a method; nothing elsewhere. Taking the whole
  # snapshot at every stop made 20-80.
  PER_STEP = 3.5

  def run_to(tag)
    @c.request(:break, file: SCRIPT, line: LINES.fetch(tag))
    assert_equal :ok, @c.request(:continue)['type']
    stop = @c.wait_event(:stopped)
    assert_equal LINES.fetch(tag), stop['line']
    assert_equal :ok, @c.request(:delete, bp: 1)['type']
    stop
  end

  def step
    assert_equal :ok, @c.request(:step)['type']
    @c.wait_event(:stopped)
  end

  def eval_in(expr, frame: 0)
    reply = @c.request(:eval, expr: expr, frame: frame)
    assert_equal :value, reply['type'], reply['message']
    reply['text']
  end

  ALLOCATED = 'GC.stat(:total_allocated_objects)'

  def test_steps_allocate_almost_nothing
    run_to('top')
    20.times { step }
    # An EVAL's own objects, counted the same way, come off.
    a = Integer(eval_in(ALLOCATED))
    b = Integer(eval_in(ALLOCATED))
    gcs = Integer(eval_in('GC.count'))
    lines = Array.new(STEPS) { step['line'] }
    c = Integer(eval_in(ALLOCATED))
    per_step = (c - b - (b - a)).fdiv(STEPS)
    assert_equal LINES.values.sort, lines.uniq.sort & LINES.values, 'the steps went through every frame kind'
    assert_operator per_step, :<=, PER_STEP, "objects allocated per step (#{STEPS} steps)"
    warn format('%.2f objects per step', per_step) if ENV['PT_VERBOSE']
    assert_operator Integer(eval_in('GC.count')) - gcs, :<=, 1, 'collections in the steps'
  end

  def test_stop_names_its_frame_as_the_backtrace_does
    run_to('top')
    seen = {}
    40.times do
      stop = step
      frames = @c.request(:backtrace)['frames']
      assert_equal [stop['file'], stop['line'], stop['method']],
                   frames[stop['frame']].values_at('file', 'line', 'label'), 'STOPPED and BACKTRACE agree'
      seen[stop['line']] = stop['method']
    end
    assert_equal({ LINES['top'] => 'block in <main>', LINES['block'] => 'block in Counter#bump',
                   LINES['method'] => 'Counter#bump' }, seen.slice(*LINES.values))
  end

  def test_outer_frames_after_steps
    run_to('top')
    stop = step until stop && stop['line'] == LINES['block']
    labels = @c.request(:backtrace)['frames'].map { |f| f['label'] }
    assert_equal ['block in Counter#bump', 'Counter#bump', 'block in <main>'],
                 labels.grep(/Counter|<main>/).first(3)
    outer = labels.index('block in <main>')
    assert_equal eval_in('n'), eval_in('total', frame: outer), 'eval in an outer frame sees its locals'
    assert_equal '"set"', eval_in('total = -5; "set"', frame: outer)
    assert_equal '-5', eval_in('total', frame: outer), 'an assignment in an outer frame stays'
    assert_equal :error, @c.request(:eval, expr: 'raise "boom"', frame: outer)['type']
    assert_equal eval_in('n'), eval_in('n', frame: labels.index('Counter#bump')),
                 'after an exception the frames still evaluate'
    assert_equal LINES['method'], step['line'], 'and the step goes on from the block'
  end
end
