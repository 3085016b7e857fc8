# frozen_string_literal: true

# Polyphony 1.6 compatibility: what Polyphony's test/helper.rb does before
# and after each test — the sanitized-backtrace flag, STDOUT.orig_write,
# finalizing and reinstalling the backend, setup_main_fiber, thread pool
# reset, shutting down children — works and leaves a usable runtime.
require 'minitest/autorun'
require 'polyphony'

class CompatHelperTest < Minitest::Test
  def test_disable_sanitized_backtrace_flag
    ::Exception.__disable_sanitized_backtrace__ = true
    assert_equal true, ::Exception.__disable_sanitized_backtrace__
  ensure
    ::Exception.__disable_sanitized_backtrace__ = nil
  end

  def test_orig_write_is_rubys_own_write
    r, w = IO.pipe
    assert_equal 3, w.orig_write('abc')
    w.close
    assert_equal 'abc', r.read
    refute_equal IO.instance_method(:write), IO.instance_method(:orig_write)
    assert_equal :write, IO.instance_method(:orig_write).original_name
  end

  def test_orig_aliases_exist
    %i[orig_read orig_readpartial orig_gets orig_getc orig_getbyte orig_puts orig_print].each do |m|
      assert IO.method_defined?(m), m.to_s
    end
    assert_respond_to IO, :orig_popen
    assert_respond_to IO, :orig_read
  end

  def test_helper_setup_sequence_keeps_the_runtime_working
    before = Thread.current.backend
    Thread.current.backend.finalize
    Thread.current.backend = Polyphony::Backend.new
    Fiber.current.setup_main_fiber
    Fiber.current.instance_variable_set(:@auto_watcher, nil)
    sleep 0.0001
    assert_same before, Thread.current.backend
    assert_includes %i[libev io_uring], Thread.current.backend.kind
    assert_equal ENV['POLYPHONY_BACKEND'].to_sym, Thread.current.backend.kind if ENV['POLYPHONY_BACKEND']
    f = spin { receive * 2 }
    f << 21
    assert_equal 42, f.await
  end

  def test_setup_main_fiber_refused_outside_main_fiber
    f = spin { Fiber.current.setup_main_fiber }
    assert_raises(ThreadError) { f.await }
  end

  def test_helper_teardown_sequence
    3.times { spin { sleep } }
    snooze
    assert_equal 3, Fiber.current.children.size
    Polyphony::ThreadPool.reset
    Fiber.current.shutdown_all_children
    assert_equal 0, Fiber.current.children.size
  end

  def test_exception_hierarchy
    assert_operator Polyphony::Interrupt, :<, Polyphony::BaseException
    %w[MoveOn Cancel Terminate Restart].each do |c|
      assert_operator Polyphony.const_get(c), :<, Polyphony::Interrupt
    end
    assert_equal :v, Polyphony::MoveOn.new(:v).value
  end
end
