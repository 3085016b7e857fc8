# frozen_string_literal: true

# IO#write with several strings is one write op, so that `puts` from
# concurrent fibers never splits a line from its newline (on io_uring every
# write suspends the fiber until it completes, letting others in between).
require 'minitest/autorun'
require 'polyphony'

class IOWriteAtomicTest < Minitest::Test
  def test_several_strings_make_one_write_op
    r, w = IO.pipe
    ops = []
    Polyphony::Trace.start { |e| ops << e[:len] if e[:kind] == :op_submit && e[:op] == :write }
    assert_equal 6, w.write('ab', 'cd', :ef)
    Polyphony::Trace.stop
    assert_equal [6], ops
    w.close
    assert_equal 'abcdef', r.read
  end

  def test_strings_of_incompatible_encodings
    r, w = IO.pipe
    assert_equal 4, w.write("\xff".b, 'é', '!')
    w.close
    assert_equal "\xff\xc3\xa9!".b, r.read.b
  end

  def test_puts_from_concurrent_fibers_keeps_lines_whole
    r, w = IO.pipe
    writers = Array.new(4) do |i|
      spin { 20.times { |j| w.puts "fiber #{i} line #{j}" } }
    end
    writers.each(&:await)
    w.close
    lines = r.read.split("\n", -1)
    assert_equal '', lines.pop
    assert_equal 80, lines.size
    lines.each { |l| assert_match(/\Afiber \d line \d+\z/, l) }
  end
end
