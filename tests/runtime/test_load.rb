# frozen_string_literal: true

require 'minitest/autorun'
require 'polyphony'

class LoadTest < Minitest::Test
  def test_module_defined
    assert_kind_of Module, Polyphony
  end
end
