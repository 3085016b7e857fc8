# frozen_string_literal: true

# The runtime's examples run to completion with `require 'polyphony'`.
require 'minitest/autorun'
require 'open3'
require 'rbconfig'

class ExamplesTest < Minitest::Test
  ROOT = ENV.fetch('PT_ROOT', File.expand_path('../..', __dir__))

  def run_example(*args)
    out, err, status = Open3.capture3(RbConfig.ruby, *args, chdir: ROOT)
    assert status.success?, "#{args.join(' ')} failed: #{err}"
    out
  end

  def test_echo_server_demo
    assert_match(/10 clients served/, run_example('examples/echo_server.rb', '--demo'))
  end

  def test_producer_consumer
    out = run_example('examples/producer_consumer.rb')
    assert_match(/consumer got 15 items from 3 producers/, out)
  end
end
