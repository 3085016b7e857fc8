# frozen_string_literal: true

# tests/tracer/test_entry_stop.rb — the entry stop hooks only the main
# script's instruction sequence: the global line hook, which in Ruby 3.1
# slows the rest of the run even after it is turned off, stays off unless
# the user steps.
require 'minitest/autorun'
require 'pt_wire'

class TestEntryStop < Minitest::Test
  include PtWire::AtEntry

  SCRIPT = File.join(__dir__, 'scripts', 'line_hook.rb')

  def run_to_exit
    loop do
      assert_equal :ok, @c.request(:continue)['type']
      msg = @c.read
      msg = @c.read while msg && msg['type'] == :running
      break if msg.nil? || msg['type'] == :exited
    end
    @d.wait
  end

  def test_entry_stop_is_on_the_scripts_first_line
    frames = @c.request(:backtrace)['frames']
    assert_equal [SCRIPT, 2], frames.first.values_at('file', 'line')
  end

  def test_continue_from_entry_never_turns_the_global_hook_on
    run_to_exit
    assert_equal "global line enables: 0 4\n", @d.stdout
  end

  def test_a_step_does
    assert_equal :ok, @c.request(:step)['type']
    assert_equal 'step', @c.wait_event(:stopped)['reason']
    run_to_exit
    assert_match(/\Aglobal line enables: [1-9]\d* 4\n\z/, @d.stdout)
  end
end
