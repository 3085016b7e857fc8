# frozen_string_literal: true

# Polyphony 1.6 compatibility: IO.deflate / IO.inflate / IO.gzip / IO.gunzip
# between pipes and strings — what they return, the gzip header fields
# (mtime as Integer, Time or false, orig_name, comment) both ways, a frozen
# destination refused, and that waiting on a pipe lets other fibers run.
require 'minitest/autorun'
require 'polyphony'
require 'zlib'

class CompatIOZlibTest < Minitest::Test
  TEXT = ('the quick brown fox ' * 500).freeze

  def test_deflate_pipe_to_pipe_returns_bytes_written
    i, o = IO.pipe
    r, w = IO.pipe
    f = spin do
      n = IO.deflate(i, w)
      w.close
      n
    end
    o << 'foobar' * 20
    o.close
    n = f.await
    data = r.read
    assert_equal data.bytesize, n
    assert_equal 'foobar' * 20, Zlib::Inflate.inflate(data)
  end

  def test_deflate_string_to_string_appends
    dest = +'>'
    n = IO.deflate(TEXT, dest)
    assert_equal n + 1, dest.bytesize
    assert_equal TEXT, Zlib::Inflate.inflate(dest.byteslice(1..))
  end

  def test_frozen_destination_refused
    assert_raises(FrozenError) { IO.deflate('abc', '') }
    assert_raises(FrozenError) { IO.gzip('abc', '') }
  end

  def test_inflate_returns_uncompressed_bytes
    i, o = IO.pipe
    spin do
      o << Zlib::Deflate.deflate('foobar', 9)
      o.close
    end
    out = +''
    assert_equal 6, IO.inflate(i, out)
    assert_equal 'foobar', out
  end

  def test_gzip_header_fields
    out = +''
    n = IO.gzip(TEXT, out, mtime: 42, orig_name: 'a/b.txt', comment: 'hi')
    assert_equal out.bytesize, n
    gz = Zlib::GzipReader.new(StringIO.new(out))
    assert_equal TEXT, gz.read
    assert_equal Time.at(42), gz.mtime
    assert_equal 'a/b.txt', gz.orig_name
    assert_equal 'hi', gz.comment
  end

  def test_gzip_mtime_false_time_and_default
    out = +''
    IO.gzip('x', out, mtime: false)
    assert_equal Time.at(0), Zlib::GzipReader.new(StringIO.new(out)).mtime
    t = Time.at(1_600_000_000)
    out = +''
    IO.gzip('x', out, mtime: t)
    assert_equal t, Zlib::GzipReader.new(StringIO.new(out)).mtime
    out = +''
    before = Time.now.to_i
    IO.gzip('x', out)
    gz = Zlib::GzipReader.new(StringIO.new(out))
    assert_includes (before - 1)..(Time.now.to_i + 1), gz.mtime.to_i
    assert_nil gz.orig_name
    assert_nil gz.comment
  end

  def test_gunzip_fills_info
    info = {}
    out = +''
    n = IO.gunzip(Zlib.gzip(TEXT), out, info)
    assert_equal TEXT.bytesize, n
    assert_equal TEXT, out
    assert_kind_of Time, info[:mtime]
    assert_nil info[:orig_name]
    src = +''
    IO.gzip('abc', src, mtime: 7, orig_name: 'n', comment: 'c')
    IO.gunzip(src, +'', info)
    assert_equal({ mtime: Time.at(7), orig_name: 'n', comment: 'c' }, info)
  end

  def test_gzip_gunzip_through_pipes_in_fibers
    src = Polyphony.pipe
    zipped = Polyphony.pipe
    plain = Polyphony.pipe
    spin do
      IO.gzip(src, zipped)
      zipped.close
    end
    spin do
      IO.gunzip(zipped, plain)
      plain.close
    end
    ticks = 0
    ticker = spin_loop { ticks += 1; snooze }
    spin do
      TEXT.each_char.each_slice(1000) { |s| src << s.join; snooze }
      src.close
    end
    assert_equal TEXT, plain.read
    ticker.stop
    assert_operator ticks, :>, 0
  end
end
