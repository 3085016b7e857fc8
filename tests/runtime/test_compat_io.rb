# frozen_string_literal: true

# Polyphony 1.6 compatibility: IO#readpartial(len, buf, buf_pos,
# raise_on_eof) and IO#read(len, buf, buf_pos) place the data at buf_pos
# (-1: append) and can give nil at EOF; Ruby's own argument forms are
# unchanged; IO.splice between two Polyphony::Pipes; socket recv_loop and
# feed_loop; getc, getbyte, readchar, readbyte, each_char and each_byte
# wait in the calling fiber only.
require 'minitest/autorun'
require 'socket'
require 'polyphony'

class CompatIOTest < Minitest::Test
  def test_readpartial_buffer_position
    r, w = IO.pipe
    w << 'abc'
    buf = +'xy'
    assert_same buf, r.readpartial(10, buf, -1)
    assert_equal 'xyabc', buf
    w << 'def'
    assert_equal 'xdef', r.readpartial(10, +'xyz', 1)
    w << 'ghi'
    assert_equal 'ghi', r.readpartial(10, +'old', 0)
  end

  def test_readpartial_eof
    r, w = IO.pipe
    w.close
    assert_nil r.readpartial(10, +'', 0, false)
    assert_raises(EOFError) { r.readpartial(10) }
    assert_raises(EOFError) { r.readpartial(10, +'', -1) }
  end

  def test_readpartial_default_length
    r, w = IO.pipe
    w << 'x' * 10_000
    assert_equal 8192, r.readpartial.bytesize
  end

  def test_read_buffer_position
    r, w = IO.pipe
    w << 'hello'
    w.close
    buf = +'12345'
    assert_equal '12hel', r.read(3, buf, 2)
    assert_equal '12hello', r.read(nil, buf, -1)
    assert_nil r.read(3, +'', -1)
  end

  def test_rubys_forms_unchanged
    r, w = IO.pipe
    w << 'abcdef'
    w.close
    buf = +'zzz'
    assert_equal 'ab', r.read(2, buf)
    assert_equal 'ab', buf
    assert_equal 'cd', r.readpartial(2)
    assert_equal 'ef', r.read
    assert_equal '', r.read
  end

  def test_socket_recv_loop_and_feed_loop
    a, b = UNIXSocket.pair
    got = []
    reader = spin { b.recv_loop(3) { |s| got << s } }
    a << 'abcdef'
    a.close
    reader.await
    assert_equal 'abcdef', got.join
    assert_operator got.size, :>=, 2 # at most 3 bytes each

    c, d = UNIXSocket.pair
    fed = []
    feeder = spin { d.feed_loop(fed, :push) }
    c << 'xyz'
    c.close
    feeder.await
    assert_equal 'xyz', fed.join
  end

  def test_byte_and_char_reads_wait_in_fiber
    r, w = IO.pipe
    ticks = 0
    ticker = spin { loop { ticks += 1; snooze } }
    spin { sleep 0.01; w << "\u00e9a"; sleep 0.01; w << 'bcd'; w.close }
    assert_equal "\u00e9", r.getc.force_encoding('UTF-8')
    assert_operator ticks, :>, 0 # other fibers ran while getc waited
    assert_equal 'a'.ord, r.getbyte
    assert_equal 'b'.ord, r.readbyte
    assert_equal 'c', r.readchar
    assert_equal ['d'], r.each_char.to_a
    assert_nil r.getc
    assert_nil r.getbyte
    assert_raises(EOFError) { r.readchar }
    assert_raises(EOFError) { r.readbyte }
    ticker.stop
  end

  def test_each_byte
    r, w = IO.pipe
    spin { w << 'xyz'; w.close }
    assert_equal [120, 121, 122], r.each_byte.to_a
  end

  def test_splice_between_polyphony_pipes
    src = Polyphony::Pipe.new
    dest = Polyphony::Pipe.new
    data = File.read(__FILE__)
    spin do
      IO.splice(src, dest, -8192)
      dest.close
    end
    src << data
    src.close
    assert_equal data, dest.read
  end
end
