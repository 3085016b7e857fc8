# frozen_string_literal: true

# tests/tracer/test_labels.rb — STOPPED's method and BACKTRACE's frame
# labels name the method's owner: "Counter#bump", "Counter.make",
# "block in Counter#bump", "Object#top".
require 'minitest/autorun'
require 'pt_wire'

class TestLabels < Minitest::Test
  include PtWire::AtEntry

  SCRIPT = File.join(__dir__, 'scripts', 'qualified.rb')
  INNER = File.readlines(SCRIPT).index { |l| l.include?('# @inner') } + 1

  def test_stop_and_backtrace_are_qualified
    @c.request(:break, file: SCRIPT, line: INNER)
    assert_equal :ok, @c.request(:continue)['type']
    stop = @c.wait_event(:stopped)
    assert_equal [INNER, 'block in Counter#bump'], stop.values_at('line', 'method')
    labels = @c.request(:backtrace, fiber: 0, limit: 0)['frames'].map { |f| f['label'] }
    ruby = labels - %w[each tap Kernel#tap]
    assert_equal ['block in Counter#bump', 'Counter#bump', 'Counter.make', 'Object#top', '<main>'], ruby
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal 0, @c.wait_event(:exited)['status']
  end

  def test_method_breakpoint_stop_names_the_singleton_method
    @c.request(:break, method: 'Counter.make')
    assert_equal :ok, @c.request(:continue)['type']
    stop = @c.wait_event(:stopped)
    assert_equal 'Counter.make', stop['method']
  end
end
