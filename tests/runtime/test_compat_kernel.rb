# frozen_string_literal: true

# Polyphony 1.6 compatibility: Kernel#` and Kernel#system wait in the
# calling fiber only, and keep Ruby's results, $?, errors and options.
require 'minitest/autorun'
require 'polyphony'

class CompatKernelTest < Minitest::Test
  # Runs the block while a fiber counts how often it gets to run.
  def with_ticker
    ticks = 0
    ticker = spin { loop { ticks += 1; snooze } }
    result = yield
    ticker.stop
    ticker.await
    [result, ticks]
  end

  def test_backtick_output_status_and_concurrency
    out, ticks = with_ticker { `sleep 0.02; echo hi; exit 2` }
    assert_equal "hi\n", out
    assert_equal 2, $?.exitstatus
    assert_operator ticks, :>, 1
    assert_raises(Errno::ENOENT) { `pt_no_such_command_xyz` }
  end

  def test_system_result_status_and_concurrency
    ok, ticks = with_ticker { system('sleep 0.02; exit 3') }
    assert_equal false, ok
    assert_equal 3, $?.exitstatus
    assert_operator ticks, :>, 1
    assert_equal true, system('true')
    assert_nil system('pt_no_such_command_xyz')
  end

  def test_system_env_options_and_exception
    r, w = IO.pipe
    assert system({ 'PT_X' => 'yes' }, 'echo $PT_X', out: w)
    w.close
    assert_equal "yes\n", r.read
    err = assert_raises(RuntimeError) { system('exit 4', exception: true) }
    assert_match(/exit 4/, err.message)
    assert_raises(Errno::ENOENT) { system('pt_no_such_command_xyz', exception: true) }
  end

  def test_originals_kept
    assert_equal "x\n", send(:orig_backtick, 'echo x')
    assert_equal true, send(:orig_system, 'true')
  end
end
