# frozen_string_literal: true

# A process where io_uring is refused (simulated with
# POLYPHONY_FORCE_URING_FAIL=1, since this machine allows io_uring) runs
# every example on libev, saying so in exactly one line on stderr. Runs once:
# in the suite's io_uring pass (the libev pass would test the same thing).
require 'minitest/autorun'
require 'open3'
require 'rbconfig'

class UringFallbackTest < Minitest::Test
  ROOT = ENV.fetch('PT_ROOT', File.expand_path('../..', __dir__))
  ARGS = { 'echo_server.rb' => ['--demo'] }.freeze

  def setup
    skip 'runs in the io_uring pass' if ENV['POLYPHONY_BACKEND'] == 'libev'
  end

  def test_every_example_runs_on_libev_when_io_uring_is_refused
    examples = Dir[File.join(ROOT, 'examples', '*.rb')].sort
    refute_empty examples
    env = { 'POLYPHONY_FORCE_URING_FAIL' => '1', 'POLYPHONY_BACKEND' => nil }
    examples.each do |path|
      name = File.basename(path)
      _out, err, status = Open3.capture3(env, RbConfig.ruby, path, *ARGS.fetch(name, []),
                                         chdir: ROOT, stdin_data: '')
      assert status.success?, "#{name} failed on the fallback: #{err}"
      notes = err.lines.grep(/io_uring/)
      assert_equal 1, notes.size, "#{name}: #{err}"
      assert_match(/falling back to libev/, notes.first)
    end
  end

  def test_backend_reported_after_fallback
    env = { 'POLYPHONY_FORCE_URING_FAIL' => '1', 'POLYPHONY_BACKEND' => 'io_uring' }
    out, err, status = Open3.capture3(env, RbConfig.ruby, '-rpolyphony', '-e',
                                      'print Polyphony.backend, " ", Thread.current.backend.kind')
    assert status.success?, err
    assert_equal 'libev libev', out
  end
end
