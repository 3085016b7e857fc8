# frozen_string_literal: true

# Every loop helper ends cleanly on `break` and on StopIteration raised in
# its block: spin_loop, throttled_loop, every, read_loop, gets_loop,
# receive_loop (Fiber# and Kernel#) and accept_loop.
require 'minitest/autorun'
require 'socket'
require 'polyphony'

class LoopsTest < Minitest::Test
  def test_spin_loop_break
    count = 0
    f = spin_loop do
      count += 1
      break if count == 3

      snooze
    end
    f.await
    assert_equal 3, count
    refute_predicate f, :alive?
  end

  def test_spin_loop_stop_iteration
    count = 0
    f = spin_loop do
      count += 1
      raise StopIteration if count == 4
    end
    f.await
    assert_equal 4, count
    refute_predicate f, :alive?
  end

  def test_throttled_spin_loop_break
    count = 0
    f = spin_loop(rate: 1000) do
      count += 1
      break :enough if count == 3
    end
    assert_equal :enough, f.await
    assert_equal 3, count
  end

  def test_throttled_loop_break_and_stop_iteration
    count = 0
    v = throttled_loop(1000) do
      count += 1
      break :done if count == 3
    end
    assert_equal :done, v
    assert_equal 3, count
    count = 0
    throttled_loop(interval: 0.001) do
      count += 1
      raise StopIteration if count == 2
    end
    assert_equal 2, count
  end

  def test_throttled_loop_count
    count = 0
    throttled_loop(1000, count: 5) { count += 1 }
    assert_equal 5, count
  end

  def test_every_break_and_stop_iteration
    count = 0
    v = every(0.001) do
      count += 1
      break :broke if count == 2
    end
    assert_equal :broke, v
    count = 0
    every(0.001) do
      count += 1
      raise StopIteration if count == 3
    end
    assert_equal 3, count
  end

  def test_read_loop_break_and_stop_iteration
    r, w = IO.pipe
    w << 'abc'
    got = nil
    v = r.read_loop { |data| got = data; break :broke }
    assert_equal :broke, v
    assert_equal 'abc', got
    w << 'def'
    v = r.read_loop { |data| got = data; raise StopIteration }
    assert_nil v
    assert_equal 'def', got
    w << 'ghi'
    w.close
    chunks = []
    r.read_loop { |data| chunks << data }
    assert_equal 'ghi', chunks.join
  ensure
    r&.close
    w&.close unless w&.closed?
  end

  def test_gets_loop_break_and_stop_iteration
    r, w = IO.pipe
    w << "one\ntwo\nthree\nfour\n"
    w.close
    lines = []
    r.gets_loop { |line| lines << line; break if line == "two\n" }
    assert_equal ["one\n", "two\n"], lines
    r.gets_loop { |line| lines << line; raise StopIteration }
    assert_equal "three\n", lines.last
    rest = []
    r.gets_loop { |line| rest << line }
    assert_equal ["four\n"], rest
  ensure
    r&.close
  end

  def test_receive_loop_break_and_stop_iteration
    got = []
    f = spin do
      receive_loop { |m| got << m; break if m == 2 }
      Fiber.current.receive_loop { |m| got << m; raise StopIteration if m == 4 }
      :finished
    end
    (1..4).each { |i| f << i }
    assert_equal :finished, f.await
    assert_equal [1, 2, 3, 4], got
  end

  def test_accept_loop_break_and_stop_iteration
    server = TCPServer.new('127.0.0.1', 0)
    port = server.addr[1]
    clients = spin { 2.times { TCPSocket.new('127.0.0.1', port).close } }
    accepted = []
    server.accept_loop { |c| accepted << c; break }
    assert_equal 1, accepted.size
    server.accept_loop { |c| accepted << c; raise StopIteration }
    assert_equal 2, accepted.size
    clients.await
    accepted.each(&:close)
  ensure
    server&.close
  end
end
