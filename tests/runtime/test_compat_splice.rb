# frozen_string_literal: true

# Polyphony 1.6 compatibility: splicing — Backend#splice (one call, or to
# EOF with a negative maxlen), #tee, IO.splice / IO.tee / IO.double_splice,
# IO#splice_from — moves the bytes, waits in the calling fiber only when a
# side is not ready, and can be interrupted.
require 'minitest/autorun'
require 'socket'
require 'polyphony'

class CompatSpliceTest < Minitest::Test
  def test_splice_once_returns_count_and_zero_at_eof
    r, w = IO.pipe
    r2, w2 = IO.pipe
    w << 'hello'
    assert_equal 5, IO.splice(r, w2, 100)
    assert_equal 'hello', r2.readpartial(100)
    w.close
    assert_equal 0, IO.splice(r, w2, 100)
  end

  def test_splice_to_eof_waits_in_fiber
    r, w = IO.pipe
    r2, w2 = IO.pipe
    splicer = spin { IO.splice(r, w2, -7) }
    writer = spin do
      5.times { |i| w << "chunk#{i} "; snooze }
      w.close
    end
    writer.await
    assert_equal 35, splicer.await
    w2.close
    assert_equal '0 1 2 3 4 '.gsub(/(\d)/, 'chunk\1'), r2.read
  end

  def test_splice_to_eof_names
    r, w = IO.pipe
    r2, w2 = IO.pipe
    w << 'abc'
    w.close
    assert_equal 3, Thread.current.backend.splice_to_eof(r, w2, 2)
    r3, w3 = IO.pipe
    w3 << 'defg'
    w3.close
    assert_equal 4, w2.splice_to_eof_from(r3)
    w2.close
    assert_equal 'abcdefg', r2.read
  end

  def test_splice_from_socket_to_file
    a, b = UNIXSocket.pair
    r, w = IO.pipe
    path = "/tmp/pt_compat_splice_#{Process.pid}"
    File.open(path, 'w') do |f|
      mover = spin do
        n = w.splice_from(b, -1000)
        w.close
        n + f.splice_from(r, -1000)
      end
      a << 'x' * 3000
      a.close
      assert_equal 6000, mover.await
    end
    assert_equal 'x' * 3000, File.read(path)
  ensure
    File.unlink(path) if path && File.exist?(path)
  end

  def test_double_splice_between_sockets
    a, b = UNIXSocket.pair
    c, d = UNIXSocket.pair
    mover = spin { IO.double_splice(b, c) }
    a << 'abc' * 1000
    a.close
    assert_equal 3000, mover.await
    c.close
    assert_equal 'abc' * 1000, d.read
  end

  def test_tee_copies_without_consuming
    r, w = IO.pipe
    r2, w2 = IO.pipe
    w << 'data'
    assert_equal 4, IO.tee(r, w2, 100)
    assert_equal 'data', r2.readpartial(100)
    assert_equal 'data', r.readpartial(100)
  end

  def test_waiting_splice_is_interruptible
    r, w = IO.pipe
    r2, w2 = IO.pipe
    v = move_on_after(0.01, with_value: :moved_on) { IO.splice(r, w2, 100) }
    assert_equal :moved_on, v
    w << 'after'
    assert_equal 5, IO.splice(r, w2, 100)
    assert_equal 'after', r2.readpartial(10)
  end

  def test_splice_error_raises
    r, w = IO.pipe
    w << 'x'
    file = File.open(IO::NULL) # read-only: writing to it fails
    assert_raises(SystemCallError) { IO.splice(r, file, 10) }
  ensure
    file&.close
  end
end
