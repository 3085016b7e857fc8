# frozen_string_literal: true

# Polyphony 1.6 compatibility: Polyphony::Pipe — one object for both ends:
# write/<</puts on the write end, read/readpartial/gets/getc on the read
# end, close making readers see EOF, fds, wait_readable, and the
# Polyphony.backend_* helpers choosing the right end.
require 'minitest/autorun'
require 'polyphony'

class CompatPipeTest < Minitest::Test
  def test_write_then_read_to_eof
    pipe = Polyphony::Pipe.new
    reader = spin { pipe.read }
    pipe << 'foo'
    pipe.write('bar', 'baz')
    pipe.close
    assert_predicate pipe, :closed?
    assert_equal 'foobarbaz', reader.await
  end

  def test_fds
    pipe = Polyphony.pipe
    r, w = pipe.fds
    assert_kind_of Integer, r
    refute_equal r, w
  end

  def test_readpartial_and_eof
    pipe = Polyphony::Pipe.new
    pipe << 'abc'
    buf = +'12'
    assert_equal '12abc', pipe.readpartial(10, buf, -1)
    pipe.close
    assert_raises(EOFError) { pipe.readpartial(10) }
    assert_nil pipe.readpartial(10, +'', 0, false)
  end

  def test_read_into_buffer
    pipe = Polyphony::Pipe.new
    pipe << 'hello'
    pipe.close
    buf = +'XYZ'
    assert_equal 'Xhello', pipe.read(nil, buf, 1)
  end

  def test_gets_puts_getc
    pipe = Polyphony::Pipe.new
    pipe.puts 'line 1', 'line 2'
    pipe << 'ab'
    pipe.close
    assert_equal "line 1\n", pipe.gets
    assert_equal "line 2\n", pipe.gets
    assert_equal 'a', pipe.getc
    assert_equal 'b'.ord, pipe.getbyte
    assert_nil pipe.gets
  end

  def test_write_after_close_raises
    pipe = Polyphony::Pipe.new
    pipe.close
    assert_raises(IOError) { pipe << 'x' }
  end

  def test_wait_readable_waits_for_data
    pipe = Polyphony::Pipe.new
    assert_nil pipe.wait_readable(0.01)
    waiter = spin { pipe.wait_readable }
    snooze
    assert_predicate waiter, :alive?
    pipe << 'x'
    assert_same pipe, waiter.await
    assert_same pipe, pipe.wait_writable
  end

  def test_backend_helpers_pick_the_end
    pipe = Polyphony::Pipe.new
    Polyphony.backend_write(pipe, 'data')
    assert_equal 'data', Polyphony.backend_read(pipe, nil, 4, true, -1)
    src = Polyphony::Pipe.new
    src << 'spliced'
    assert_equal 7, pipe.splice_from(src, 100)
    assert_equal 'spliced', pipe.readpartial(100)
  end

  def test_read_loop_and_feed_loop
    pipe = Polyphony::Pipe.new
    pipe << 'abc'
    pipe.close
    chunks = []
    pipe.read_loop { |s| chunks << s }
    assert_equal 'abc', chunks.join
    pipe2 = Polyphony::Pipe.new
    pipe2 << 'def'
    pipe2.close
    out = []
    pipe2.feed_loop(out, :push)
    assert_equal 'def', out.join
  end

  def test_text_read_back_is_utf8
    text = "fran\u00e7ais \u05e7\u05d5\n"
    pipe = Polyphony.pipe
    pipe << text << text
    pipe.close
    line = pipe.gets
    assert_equal Encoding::UTF_8, line.encoding
    assert_equal text, line
    assert_equal text, pipe.read
  end
end
