# frozen_string_literal: true

# The stand-in for Polyphony's test/helper.rb when its test suite runs against
# our runtime (tests/compat/polyphony_suite). Polyphony's own helper starts
# with `bundler/setup`, which needs its Gemfile and gems we do not have; this
# file gives the suite what its tests use from that helper and nothing more:
# the libraries it preloads, IS_LINUX, monotonic_clock, assert_in_range,
# assert_join_threads, and the same per-test setup and teardown (a fresh
# backend and main fiber before each test; children shut down after, and the
# process ended if any are left, as Polyphony's helper does).
#
# PT_COMPAT_TEST_DIR names the suite's folder, for its eg.rb.

require 'fileutils'
require 'minitest'
require 'httparty'
require 'polyphony'

eg = File.join(ENV.fetch('PT_COMPAT_TEST_DIR', '.'), 'eg.rb')
require eg if File.file?(eg)

::Exception.__disable_sanitized_backtrace__ = true

IS_LINUX = RUBY_PLATFORM.include?('linux')

module Kernel
  def monotonic_clock
    ::Process.clock_gettime(::Process::CLOCK_MONOTONIC)
  end
end

module Minitest
  class Test
    def setup
      Thread.current.backend.finalize
      Thread.current.backend = Polyphony::Backend.new
      Fiber.current.setup_main_fiber
      Fiber.current.instance_variable_set(:@auto_watcher, nil)
      sleep 0.0001
    end

    def teardown
      Polyphony::ThreadPool.reset
      Fiber.current.shutdown_all_children
      left = Fiber.current.children
      return if left.empty?

      warn "#{name}: children left after the test: #{left.inspect}"
      exit!(1)
    rescue Exception => e # rubocop:disable Lint/RescueException
      warn "#{name}: teardown failed: #{e.full_message}"
      exit!(1)
    end
  end

  module Assertions
    def assert_in_range(range, actual)
      msg = message(nil) { "Expected #{mu_pp(actual)} to be in range #{mu_pp(range)}" }
      assert range.include?(actual), msg
    end

    # Joins each thread; every exception a thread ended with is collected and
    # reported together as one failure.
    def assert_join_threads(threads, message = nil)
      errors = []
      values = []
      until threads.empty?
        thread = threads.shift
        begin
          values << thread.value
        rescue Exception => e # rubocop:disable Lint/RescueException
          errors << [thread, e]
        end
      end
      return values if errors.empty?

      text = errors.map { |t, e| "#{t.inspect}:\n#{e.full_message(highlight: false)}" }.join("\n---\n")
      raise Minitest::Assertion, [message, "exceptions in #{errors.size} threads:", text].compact.join("\n")
    end
  end
end
