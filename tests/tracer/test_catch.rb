# frozen_string_literal: true

# tests/tracer/test_catch.rb — exception stops (SET name "catch"): a raise
# of a caught class or a subclass stops with reason "exception" and the
# exception's "Class: message"; the runtime's control-flow exceptions and
# StopIteration stop only when their own class is named; "off" clears.
require 'minitest/autorun'
require 'pt_wire'

class TestCatch < Minitest::Test
  include PtWire::AtEntry

  SCRIPT = File.join(__dir__, 'scripts', 'raises.rb')
  LINES = File.readlines(SCRIPT)
  RAISE_DEEP = LINES.index { |l| l.include?('# @raise_deep') } + 1
  RAISE_ARG = LINES.index { |l| l.include?('# @raise_arg') } + 1
  LOOP = LINES.index { |l| l.start_with?('loop') } + 1

  def catch(value)
    @c.request(:set, name: 'catch', value: value)
  end

  def cont
    assert_equal :ok, @c.request(:continue)['type']
    @c.wait_event(:stopped)
  end

  def finish
    seen = @c.seen.size
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal 0, @c.wait_event(:exited)['status']
    assert_equal "raises done\n", @d.stdout.tap { @d.wait }
    refute(@c.seen.drop(seen).any? { |m| m['type'] == :stopped }, 'no further stop')
  end

  def test_catch_a_superclass_stops_at_the_raise
    assert_equal :ok, catch('AppError')['type']
    stop = cont
    assert_equal ['exception', RAISE_DEEP, 'DeepError: deep trouble'],
                 stop.values_at('reason', 'line', 'exception')
    assert_match(/fail_app/, stop['method'])
    finish
  end

  def test_standard_error_skips_control_flow_exceptions
    assert_equal :ok, catch('StandardError')['type']
    assert_equal :ok, catch('Exception')['type']
    stop = cont
    assert_equal ['exception', RAISE_DEEP], stop.values_at('reason', 'line'),
                 'StopIteration, MoveOn and Cancel went by'
    stop = cont
    assert_equal RAISE_ARG, stop['line']
    assert_match(/\AArgumentError: invalid value for Integer/, stop['exception'])
    finish
  end

  def test_naming_a_control_flow_class_catches_it
    assert_equal :ok, catch('StopIteration')['type']
    assert_equal :ok, catch('::Polyphony::MoveOn')['type']
    stop = cont
    assert_equal ['exception', LOOP], stop.values_at('reason', 'line')
    assert_match(/\AStopIteration/, stop['exception'])
    stop = cont
    assert_match(/\APolyphony::MoveOn/, stop['exception'])
    finish
  end

  def test_off_clears_and_bad_values_are_refused
    assert_equal :ok, catch('AppError')['type']
    assert_equal :ok, catch('ArgumentError')['type']
    assert_equal :ok, catch('off AppError')['type']
    err = catch('off AppError')
    assert_equal [:error, 9], err.values_at('type', 'code')
    assert_match(/not caught/, err['message'])
    %w[app_error Foo::bar A:B].push('', 'X' * 300).each do |bad|
      assert_equal :error, catch(bad)['type'], "refused: #{bad.inspect}"
    end
    stop = cont
    assert_equal RAISE_ARG, stop['line'], 'AppError is no longer caught'
    assert_equal :ok, catch('off')['type']
    finish
  end
end
