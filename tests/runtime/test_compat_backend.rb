# frozen_string_literal: true

# Polyphony 1.6 compatibility: the Polyphony.backend_* helpers and the
# Backend ops composed in Ruby (wait_event, feed_loop, recv_loop,
# recv_feed_loop, sendv, chain, timeout, sleep, waitpid) each wait in the
# calling fiber only and give Polyphony's results.
require 'minitest/autorun'
require 'socket'
require 'polyphony'

class CompatBackendTest < Minitest::Test
  def test_backend_read_write_helpers
    r, w = IO.pipe
    assert_equal 6, Polyphony.backend_write(w, 'foo', 'bar')
    buf = +'xy'
    assert_same buf, Polyphony.backend_read(r, buf, 6, true, -1)
    assert_equal 'xyfoobar', buf
    w.close
    assert_nil Polyphony.backend_read(r, +'', 10, false, -1)
  end

  def test_backend_sleep_and_waitpid
    t0 = Polyphony.now
    Polyphony.backend_sleep(0.01)
    assert_operator Polyphony.now - t0, :>=, 0.009
    pid = Process.spawn('exit 3')
    assert_equal [pid, 3 << 8], Polyphony.backend_waitpid(pid) # the raw wait status
    assert_equal 3, $?.exitstatus
    pid = Process.spawn('kill -TERM $$')
    _, status = Polyphony.backend_waitpid(pid)
    assert_equal Signal.list['TERM'], status & 0x7f
  end

  def test_wait_event_returns_scheduled_value
    me = Fiber.current
    spin { me.schedule(:ok) }
    assert_equal :ok, Polyphony.backend_wait_event(true)
  end

  def test_wait_event_exception_raised_or_returned
    me = Fiber.current
    spin { me.schedule(RuntimeError.new('x')) }
    assert_raises(RuntimeError) { Thread.current.backend.wait_event(true) }
    spin { me.schedule(RuntimeError.new('y')) }
    assert_equal 'y', Thread.current.backend.wait_event(false).message
  end

  # A parser-like receiver: feed_each yields every complete line so far.
  class LineParser
    def initialize
      @buf = +''
    end

    def feed_each(data)
      @buf << data
      while (i = @buf.index("\n"))
        yield @buf.slice!(0, i + 1).chomp
      end
    end
  end

  def test_feed_loop_feeds_receiver_until_eof
    r, w = IO.pipe
    received = []
    reader = spin { Polyphony.backend_feed_loop(r, received, :<<) }
    w << 'abc'
    snooze until received.size == 1
    w << 'def'
    w.close
    reader.await
    assert_equal 'abcdef', received.join
  end

  def test_feed_loop_passes_the_block_to_the_receiver
    r, w = IO.pipe
    lines = []
    reader = spin { r.feed_loop(LineParser.new, :feed_each) { |line| lines << line } }
    w << "one\ntw"
    snooze until lines.size == 1
    w << "o\nthree\n"
    w.close
    reader.await
    assert_equal %w[one two three], lines
    a, b = UNIXSocket.pair
    got = []
    reader = spin { b.feed_loop(LineParser.new, :feed_each) { |line| got << line } }
    a << "x\ny\n"
    a.close
    reader.await
    assert_equal %w[x y], got
  end

  def test_io_feed_loop
    r, w = IO.pipe
    chunks = []
    w << 'hello'
    w.close
    r.feed_loop(->(s) { chunks << s })
    assert_equal 'hello', chunks.join
  end

  def test_recv_loop_and_sendv
    a, b = UNIXSocket.pair
    got = +''
    reader = spin { Polyphony.backend_recv_loop(b, 4) { |s| got << s } }
    assert_equal 9, Polyphony.backend_sendv(a, %w[foo bar baz], 0)
    a.close
    reader.await
    assert_equal 'foobarbaz', got
  end

  def test_recv_feed_loop
    a, b = UNIXSocket.pair
    parsed = []
    reader = spin { Thread.current.backend.recv_feed_loop(b, parsed, :push) }
    a.write('xyz')
    a.close
    reader.await
    assert_equal 'xyz', parsed.join
  end

  def test_chain_runs_ops_in_order
    r, w = IO.pipe
    a, b = UNIXSocket.pair
    Polyphony.backend_chain([:write, w, 'one '], [:send, a, 'two', 0], [:write, w, 'three'])
    w.close
    assert_equal 'one three', r.read
    assert_equal 'two', b.recv(10)
    assert_raises(RuntimeError) { Polyphony.backend_chain([:read, r]) }
    assert_raises(RuntimeError) { Polyphony.backend_chain([:write, w]) }
  end

  def test_invalid_chain_runs_nothing
    r, w = IO.pipe
    assert_raises(RuntimeError) { Polyphony.backend_chain([:write, w, 'abc'], [:read, r]) }
    w.close
    assert_equal '', r.read
  end

  def test_chain_write_then_splice
    src_r, src_w = IO.pipe
    r, w = IO.pipe
    src_w << 'body'
    src_w.close
    assert_equal 4, Thread.backend.chain([:write, w, "len 4\n"], [:splice, src_r, w, 4])
    w.close
    assert_equal "len 4\nbody", r.read
  end

  def test_splice_chunks
    src_r, src_w = IO.pipe
    r, w = IO.pipe
    src_w << 'abcd' * 4
    src_w.close
    n = Thread.backend.splice_chunks(src_r, w, "<", ">", ->(len) { "[#{len}:" }, "]", 12)
    Thread.backend.close(w)
    assert_predicate w, :closed?
    assert_equal 16, n
    assert_equal '<[12:abcdabcdabcd][4:abcd]>', r.read
  end

  def test_backend_timeout
    v = Polyphony.backend_timeout(0.01, nil, :timed_out) { sleep 1 }
    assert_equal :timed_out, v
    assert_raises(Polyphony::TimeoutException) do
      Polyphony.backend_timeout(0.01, Polyphony::TimeoutException) { sleep 1 }
    end
  end

  def test_timer_loop_runs_repeatedly
    ticks = Polyphony::Queue.new
    t0 = Polyphony.now
    f = spin { Polyphony.backend_timer_loop(0.005) { ticks << Polyphony.now } }
    3.times { ticks.shift }
    f.stop
    f.await
    assert_operator Polyphony.now - t0, :>=, 0.014
  end

  def test_read_write_with_io_buffer
    Warning[:experimental] = false
    msg = 'Hello world'
    r, w = IO.pipe
    read_buffer = IO::Buffer.new(64)
    reader = spin { Thread.current.backend.read(r, read_buffer, 64, true, 0) }
    write_buffer = IO::Buffer.new(msg.bytesize)
    write_buffer.set_string(msg, 0)
    assert_equal msg.bytesize, Thread.current.backend.write(w, write_buffer)
    w.close
    assert_equal msg.bytesize, reader.await
    assert_equal msg, read_buffer.get_string(0, msg.bytesize)
    assert_equal 0, Thread.current.backend.read(r, read_buffer, 64, true, 0)
  end
end
