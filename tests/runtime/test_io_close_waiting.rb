# frozen_string_literal: true

# Closing an IO that fibers wait on: each waiter gets an IOError at once
# (read, write, accept, recv, wait_io; pipes and sockets; the closer's own
# thread and another one), its op is cancelled, and nothing it started ever
# touches the file that next gets the same fd number: a new pipe or socket
# reusing the number keeps every byte written to it.
require 'minitest/autorun'
require 'polyphony'
require 'socket'

class IOCloseWaitingTest < Minitest::Test
  def teardown
    Fiber.current.shutdown_all_children
  end

  # Runs until `fiber` waits in its op; with `submit`, polls once more so
  # that an io_uring op is in the kernel, not only queued.
  def until_waiting(fiber, submit: true)
    100.times do
      break if fiber.state == :waiting

      snooze
    end
    assert_equal :waiting, fiber.state
    Thread.current.backend.poll(false) if submit
  end

  # A fiber running the block, its exception (or result) as its result.
  def waiter(&block)
    spin do
      block.call
    rescue StandardError => e
      e
    end
  end

  # The waiter has ended with an IOError by the time the closer snoozes.
  def assert_closed_error(fiber)
    snooze
    refute fiber.alive?, 'the waiter still waits after close'
    err = fiber.result
    assert_kind_of IOError, err
    assert_match(/stream closed/, err.message)
  end

  # A pipe whose fd number is `fd` (the lowest free number: the one just
  # closed).
  def pipe_on(fd)
    r, w = IO.pipe
    assert_includes [r.fileno, w.fileno], fd, 'the fd number was not reused'
    [r, w]
  end

  def assert_pipe_intact(fd)
    r, w = pipe_on(fd)
    w.write('fresh bytes')
    10.times { snooze }
    Thread.current.backend.poll(false)
    assert_equal 'fresh bytes', r.read_nonblock(100)
  ensure
    r&.close
    w&.close
  end

  def check_read_close(submit:)
    r, w = IO.pipe
    fd = r.fileno
    f = waiter { r.readpartial(100) }
    until_waiting(f, submit: submit)
    r.close
    assert_closed_error(f)
    assert_pipe_intact(fd)
  ensure
    w&.close
  end

  def test_read_on_pipe
    check_read_close(submit: true)
  end

  def test_read_on_pipe_before_the_op_reaches_the_kernel
    check_read_close(submit: false)
  end

  def test_read_variants
    %i[read gets readpartial].each do |how|
      r, w = IO.pipe
      fd = r.fileno
      f = waiter { how == :readpartial ? r.readpartial(10) : r.send(how) }
      until_waiting(f)
      r.close
      assert_closed_error(f)
      assert_pipe_intact(fd)
      w.close
    end
  end

  def test_wait_readable
    r, w = IO.pipe
    fd = r.fileno
    f = waiter { r.wait_readable }
    until_waiting(f)
    r.close
    assert_closed_error(f)
    assert_pipe_intact(fd)
  ensure
    w&.close
  end

  def test_write_on_full_pipe
    r, w = IO.pipe
    fd = w.fileno
    f = waiter { w.write('x' * 1_000_000) }
    until_waiting(f)
    w.close
    assert_closed_error(f)
    r2, w2 = pipe_on(fd)
    w2.close if w2.fileno != fd
    # Drain the old pipe: what the cancelled write left is all there is.
    r.read
    if w2.closed?
      assert_equal '', r2.read_nonblock(100, exception: false).to_s.delete('x') # nothing but EOF
    else
      w2.write('ok')
      assert_equal 'ok', r2.read_nonblock(100)
    end
  ensure
    [r, r2, w2].each { |io| io&.close unless io&.closed? }
  end

  def test_accept
    server = TCPServer.new('127.0.0.1', 0)
    fd = server.fileno
    f = waiter { server.accept }
    until_waiting(f)
    server.close
    assert_closed_error(f)
    server2 = TCPServer.new('127.0.0.1', 0)
    assert_equal fd, server2.fileno
    client = TCPSocket.new('127.0.0.1', server2.addr[1])
    conn = server2.accept # the cancelled accept did not take it
    client.write('hi')
    assert_equal 'hi', conn.readpartial(10)
  ensure
    [client, conn, server2].each { |io| io&.close }
  end

  def test_recv_on_socket
    a, b = UNIXSocket.pair
    fd = a.fileno
    f = waiter { a.recv(100) }
    until_waiting(f)
    a.close
    assert_closed_error(f)
    c, d = UNIXSocket.pair
    assert_includes [c.fileno, d.fileno], fd
    reader = c.fileno == fd ? c : d
    (reader == c ? d : c).write('fresh')
    10.times { snooze }
    Thread.current.backend.poll(false)
    assert_equal 'fresh', reader.recv_nonblock(100)
  ensure
    [b, c, d].each { |io| io&.close }
  end

  def test_readpartial_on_tcp_socket
    server = TCPServer.new('127.0.0.1', 0)
    client = TCPSocket.new('127.0.0.1', server.addr[1])
    conn = server.accept
    fd = conn.fileno
    f = waiter { conn.readpartial(100) }
    until_waiting(f)
    conn.close
    assert_closed_error(f)
    assert_pipe_intact(fd)
  ensure
    [client, server].each { |io| io&.close }
  end

  # A reader of a pipe that always has bytes, closed while it is runnable:
  # on libev its op gives the others a turn before it starts (after many
  # ops that did not wait), on io_uring its read has completed and it has
  # yet to run. Either way it raises, and never reads the fd again.
  def test_op_waiting_its_turn
    r, w = IO.pipe
    fd = r.fileno
    w.write('x' * 10_000)
    reads = 0
    f = waiter { loop { r.readpartial(1); reads += 1 } }
    1000.times do
      snooze
      break if reads.positive? && f.state == :runnable
    end
    assert_equal :runnable, f.state
    r.close
    assert_closed_error(f)
    assert_pipe_intact(fd)
  ensure
    w&.close
  end

  def test_every_waiter_on_the_fd
    r, w = IO.pipe
    fd = r.fileno
    fibers = [waiter { r.readpartial(10) }, waiter { r.wait_readable }, waiter { r.read(5) }]
    fibers.each { |f| until_waiting(f) }
    r.close
    fibers.each { |f| assert_closed_error(f) }
    assert_pipe_intact(fd)
  ensure
    w&.close
  end

  def test_waiters_on_other_fds_go_on
    r1, w1 = IO.pipe
    r2, w2 = IO.pipe
    closed = waiter { r1.readpartial(10) }
    other = waiter { r2.readpartial(10) }
    until_waiting(closed)
    until_waiting(other)
    r1.close
    assert_closed_error(closed)
    assert_equal :waiting, other.state
    w2.write('still here')
    assert_equal 'still here', other.await
  ensure
    [w1, r2, w2].each { |io| io&.close }
  end

  def test_op_counters_settle
    r, w = IO.pipe
    f = waiter { r.readpartial(10) }
    until_waiting(f)
    r.close
    assert_closed_error(f)
    assert_equal 0, Thread.current.backend.stats[:pending_ops]
    if (n = Thread.current.backend.uring_inflight_count)
      10.times { break if Thread.current.backend.uring_inflight_count.zero?; Thread.current.backend.poll(true) }
      assert_equal 0, Thread.current.backend.uring_inflight_count, "#{n} ops left in the ring"
    end
  ensure
    w&.close
  end

  def test_waiter_in_another_thread
    r, w = IO.pipe
    fd = r.fileno
    waiting = Thread::Queue.new
    th = Thread.new do
      f = spin do
        r.readpartial(10)
      rescue IOError => e
        [e] # (an exception as a fiber's result would be raised by await)
      end
      spin do
        snooze until f.state == :waiting
        Thread.current.backend.poll(false)
        waiting << :yes
      end
      f.await
    end
    waiting.pop
    r.close
    err, = th.value
    assert_kind_of IOError, err
    assert_match(/stream closed/, err.message)
    assert_pipe_intact(fd)
  ensure
    w&.close
  end

  # A forked child closing its copy of the IO touches none of the parent's
  # waits (they are the parent's alone).
  def test_close_in_forked_child
    r, w = IO.pipe
    f = waiter { r.readpartial(100) }
    until_waiting(f)
    pid = fork do
      r.close
      exit!(f.alive? ? 0 : 1)
    end
    Process.wait(pid)
    assert_equal 0, $?.exitstatus
    assert_equal :waiting, f.state
    w.write('parent')
    assert_equal 'parent', f.await
  ensure
    [r, w].each { |io| io&.close }
  end

  def test_closing_with_no_waiter_is_plain
    r, w = IO.pipe
    r.close
    assert r.closed?
    assert_raises(IOError) { r.readpartial(1) }
  ensure
    w&.close
  end
end
