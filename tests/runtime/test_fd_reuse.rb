# frozen_string_literal: true

# A fiber waiting on a file whose fd number was used before by another
# file is woken when its file is ready, however the old file went: closed
# through IO#close (by another IO object for the same number), replaced by
# IO#reopen, or closed or replaced behind the runtime's back (close(2) or
# dup2(2) called directly, as an extension or a finalizer would). The libev
# backend keeps a connection's watcher started between its waits, so these
# are the cases where a watcher left for the old file must not be trusted.
# Also: many fibers on many fds, data nobody waits for does not spin the
# loop, and a ready fd of a fiber held out by the fiber lock leaves the
# other waiters' watchers alone.
require 'minitest/autorun'
require 'polyphony'
require 'socket'
require 'fiddle'

class FdReuseTest < Minitest::Test
  LIBC_CLOSE = Fiddle::Function.new(Fiddle::Handle::DEFAULT['close'], [Fiddle::TYPE_INT], Fiddle::TYPE_INT)
  LIBC_DUP2 = Fiddle::Function.new(Fiddle::Handle::DEFAULT['dup2'], [Fiddle::TYPE_INT, Fiddle::TYPE_INT],
                                   Fiddle::TYPE_INT)
  # A guard against a hang, never a measure: a lost wake-up fails the test
  # instead of stopping the suite.
  HANG_GUARD = 30

  def teardown
    Fiber.current.shutdown_all_children
  end

  def until_waiting(fiber)
    100.times do
      break if fiber.state == :waiting

      snooze
    end
    assert_equal :waiting, fiber.state
  end

  # The fiber's result, or :lost when it is still waiting after HANG_GUARD.
  def result_of(fiber)
    move_on_after(HANG_GUARD, with_value: :lost) { fiber.await }
  end

  # A connection that has been read from by a fiber that had to wait: on
  # libev its fd keeps a started watcher afterwards.
  def waited_on_pair
    a, b = UNIXSocket.pair
    reader = spin { a.readpartial(10) }
    until_waiting(reader)
    b << 'first'
    assert_equal 'first', result_of(reader)
    [a, b]
  end

  # Waits in a fiber on `io` (whose fd number was used by another file
  # before), makes `writer` write, and checks the fiber got the bytes.
  def assert_woken(io, writer)
    reader = spin { io.readpartial(10) }
    until_waiting(reader)
    writer << 'second'
    assert_equal 'second', result_of(reader)
  end

  # The end of a new socket pair that got number `fd`, and the other end.
  def pair_on(fd)
    x, y = UNIXSocket.pair
    return [x, y] if x.fileno == fd
    return [y, x] if y.fileno == fd

    flunk "the fd number #{fd} was not reused (#{x.fileno}, #{y.fileno})"
  end

  def test_close_through_another_io_object_then_reuse
    a, b = waited_on_pair
    fd = a.fileno
    a.autoclose = false
    IO.for_fd(fd).close
    b.close
    io, writer = pair_on(fd)
    assert_woken(io, writer)
  end

  def test_raw_close_behind_the_runtime_then_reuse
    a, b = waited_on_pair
    fd = a.fileno
    a.autoclose = false
    assert_equal 0, LIBC_CLOSE.call(fd)
    b.close
    io, writer = pair_on(fd)
    assert_woken(io, writer)
  end

  def test_dup2_over_a_waited_on_fd
    a, b = waited_on_pair
    fd = a.fileno
    c, d = UNIXSocket.pair
    a.autoclose = false
    assert_equal fd, LIBC_DUP2.call(c.fileno, fd) # closes a's file
    io = IO.for_fd(fd, autoclose: false)
    assert_woken(io, d)
    LIBC_CLOSE.call(fd)
    [b, c, d].each(&:close)
  end

  def test_reopen_a_waited_on_io
    a, b = waited_on_pair
    c, d = UNIXSocket.pair
    a.reopen(c)
    assert_woken(a, d)
    [a, b, c, d].each(&:close)
  end

  # The number of a file closed behind the runtime's back handed out again
  # by accept.
  def test_accept_reusing_a_number
    server = TCPServer.new('127.0.0.1', 0)
    a, b = waited_on_pair
    client = TCPSocket.new('127.0.0.1', server.addr[1])
    fd = a.fileno
    a.autoclose = false
    LIBC_CLOSE.call(fd)
    b.close
    conn = server.accept
    assert_equal fd, conn.fileno
    assert_woken(conn, client)
    [conn, client, server].each(&:close)
  end

  # Every connection waits many times; half of the numbers are then closed
  # behind the runtime's back and taken by new connections, which are
  # waited on as well.
  def test_many_fibers_on_many_fds
    n = 100
    rounds = 20
    pairs = Array.new(n) { UNIXSocket.pair }
    echoers = pairs.map do |(a, _)|
      spin do
        rounds.times { a.write(a.readpartial(64)) }
        :done
      end
    end
    clients = pairs.each_with_index.map do |(_, b), i|
      spin do
        rounds.times { |r| b << "#{i}:#{r}"; raise "bad echo on #{i}" unless b.readpartial(64) == "#{i}:#{r}" }
        :done
      end
    end
    (echoers + clients).each { |f| assert_equal :done, result_of(f) }

    old = pairs.first(n / 2)
    numbers = old.map { |(a, _)| a.fileno }
    old.each do |(a, b)|
      a.autoclose = false
      LIBC_CLOSE.call(a.fileno)
      b.close
    end
    fresh = Array.new(n / 2) { UNIXSocket.pair }
    reused = fresh.flatten.select { |io| numbers.include?(io.fileno) }
    assert_operator reused.size, :>=, n / 4, 'the closed numbers were not reused'
    waiters = fresh.map { |(x, y)| [spin { x.readpartial(64) }, spin { y.readpartial(64) }] }.flatten
    waiters.each { |f| until_waiting(f) }
    fresh.each { |(x, y)| x << 'x'; y << 'y' }
    assert_equal %w[y x] * (n / 2), waiters.map { |f| result_of(f) }
    (fresh.flatten + pairs.last(n / 2).flatten).each(&:close)
  end

  # Bytes arriving on a connection whose fiber is not reading (busy
  # elsewhere) must not end every wait of the loop at once. Counted in
  # polls, not timed.
  def test_data_nobody_waits_for_does_not_spin_the_loop
    a, b = waited_on_pair
    b << 'unread'
    backend = Thread.current.backend
    before = backend.stats[:poll_count]
    sleep 0.05
    polls = backend.stats[:poll_count] - before
    assert_operator polls, :<, 20
    assert_equal 'unread', a.readpartial(10)
    [a, b].each(&:close)
  end

  # While a fiber whose fd is ready is held out by the fiber lock, the
  # loop's waits stop its watcher: the other waiters keep theirs.
  def test_held_out_fiber_leaves_other_waiters_watched
    r1, w1 = IO.pipe
    r2, w2 = IO.pipe
    first = spin { r1.read(1) }
    second = spin { r2.read(1) }
    until_waiting(first)
    until_waiting(second)
    Thread.current.fiber_lock do
      w1 << 'x'
      sleep 0.05 # polls that may block while `first` cannot run
    end
    assert_equal 'x', result_of(first)
    w2 << 'y'
    assert_equal 'y', result_of(second)
    [r1, w1, r2, w2].each(&:close)
  end
end
