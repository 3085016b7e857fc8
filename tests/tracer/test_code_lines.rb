# frozen_string_literal: true

# tests/tracer/test_code_lines.rb — SOURCE with code_only (where a line
# breakpoint can go, for an editor's breakpointLocations): lines where no
# code starts come back empty, a file not loaded yet is refused in words.
require 'minitest/autorun'
require 'pt_wire'

class TestCodeLines < Minitest::Test
  CALC = File.join(__dir__, 'scripts', 'calc.rb')
  LATER = File.join(__dir__, 'scripts', 'later.rb')

  def setup
    @d = PtWire::Debuggee.new(CALC)
    @c = @d.conn
    assert_equal 'entry', @c.read['reason']
  end

  def teardown
    @d&.close
  end

  def test_lines_without_code_are_empty
    r = @c.request(:source, file: CALC, first: 1, last: 14, code_only: true)
    assert_equal :lines, r['type'], r.inspect
    with_code = r['lines'].each_with_index.reject { |l, _| l.empty? }.map { |_, i| i + 1 }
    text = File.readlines(CALC)
    # `a + b` (3), `new` (7), `c = Calc.make` (10), `total += ...` (13) have
    # code; `end` lines and the class body's own line do not start any.
    [3, 7, 10, 13].each { |l| assert_includes with_code, l, text[l - 1] }
    [4, 8, 9].each { |l| refute_includes with_code, l, text[l - 1] }
    with_code.each { |l| assert_equal text[l - 1].chomp, r['lines'][l - 1] }
    # Without code_only the text is all there.
    plain = @c.request(:source, file: CALC, first: 1, last: 14)
    assert_equal text.first(14).map(&:chomp), plain['lines']
  end

  def test_a_file_not_loaded_is_refused
    r = @c.request(:source, file: LATER, first: 1, last: 3, code_only: true)
    assert_equal [:error, PtWire::ERR[:bad_location]], r.values_at('type', 'code')
    assert_match(/not loaded yet/, r['message'])
    assert_equal :lines, @c.request(:source, file: LATER, first: 1, last: 3)['type']
  end
end
