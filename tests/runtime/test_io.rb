# frozen_string_literal: true

# Core I/O on the backend: pipe and socket reads and writes suspend only the
# calling fiber (the main one too), Ruby's read buffer is respected, TCP
# accept/connect, a 100-client echo server, Process.wait.
require 'minitest/autorun'
require 'polyphony'
require 'objspace'

class IOTest < Minitest::Test
  def teardown
    Fiber.current.shutdown_all_children
  end

  def test_read_in_main_fiber_lets_others_run
    r, w = IO.pipe
    buf = []
    spin do
      buf << :writer_ran
      w << 'hello'
      w.close
    end
    assert_equal 'hello', r.read
    assert_equal [:writer_ran], buf
  end

  def test_readpartial_and_eof
    r, w = IO.pipe
    writer = spin { w.write('abc'); receive; w.write('def'); w.close }
    assert_equal 'abc', r.readpartial(100)
    writer << :more
    assert_equal 'def', r.readpartial(100)
    assert_raises(EOFError) { r.readpartial(100) }
  end

  # readpartial reads into a spare buffer of its thread and returns a
  # string of the size read: each result is its own string, binary, not
  # oversized, and concurrent readpartials (an io_uring read fills its
  # buffer while its fiber waits) never share a buffer.
  def test_readpartial_results_are_separate_strings
    r, w = IO.pipe
    w << 'first'
    a = r.readpartial(16_384)
    w << 'second'
    b = r.readpartial(16_384)
    a << '!'
    assert_equal ['first!', 'second'], [a, b]
    assert_equal Encoding::ASCII_8BIT, b.encoding
    refute b.frozen?
    assert_operator ObjectSpace.memsize_of(b), :<, 1024
    assert_equal 'x' * 16_384, (w << 'x' * 20_000; r.readpartial(16_384))
    assert_equal 'x' * 3616, r.readpartial(16_384)
    a.clear
    assert_equal 'first!', (w << 'first!'; r.readpartial(10))
    w << 'w'
    assert_equal 'w', r.readpartial(40_000) # larger than a spare buffer
  end

  def test_concurrent_readpartials_keep_their_own_bytes
    pipes = Array.new(50) { IO.pipe }
    main = Fiber.current
    readers = pipes.map { |(r, _)| spin { Array.new(3) { r.readpartial(16_384).tap { main << :got } } } }
    3.times do |round|
      pipes.each_with_index { |(_, w), i| w << "#{i}-#{round}" }
      pipes.size.times { receive } # every reader has read this round
    end
    results = Fiber.await(*readers)
    results.each_with_index do |got, i|
      assert_equal ["#{i}-0", "#{i}-1", "#{i}-2"], got
    end
  end

  def test_read_length
    r, w = IO.pipe
    spin { 5.times { |i| w << i.to_s * 2; snooze }; w.close }
    assert_equal '0011', r.read(4)
    assert_equal '223344', r.read(100)
    assert_nil r.read(1)
    assert_equal '', r.read
  end

  def test_read_into_buffer
    r, w = IO.pipe
    w << 'xyz'
    buf = +'old'
    assert_same buf, r.readpartial(10, buf)
    assert_equal 'xyz', buf
  end

  def test_gets
    r, w = IO.pipe
    spin { w << "line 1\nline"; snooze; w << " 2\nrest"; w.close }
    assert_equal "line 1\n", r.gets
    assert_equal "line 2\n", r.gets
    assert_equal 'rest', r.gets
    assert_nil r.gets
  end

  def test_gets_chomp_and_separator
    r, w = IO.pipe
    w << "a;b;c\nd\n"
    w.close
    assert_equal 'a;', r.gets(';')
    assert_equal 'b', r.gets(';', chomp: true)
    assert_equal "c\n", r.gets
    assert_equal 'd', r.gets(chomp: true)
  end

  def test_bytes_buffered_by_gets_are_not_lost
    r, w = IO.pipe
    w << "first\nsecond\nthird"
    w.close
    assert_equal "first\n", r.gets
    assert_equal 'sec', r.readpartial(3)
    assert_equal "ond\nthird", r.read
  end

  def test_rubys_own_buffer_is_consumed_first
    r, w = IO.pipe
    w << 'ABCDEF'
    w.close
    assert_equal 'A', r.getc # Ruby's own method fills Ruby's read buffer
    assert_equal 'BCDEF', r.read
  end

  def test_write_many_and_large
    r, w = IO.pipe
    data = 'x' * 1_000_000
    writer = spin { w.write(data, 'y'); w.close; :written }
    got = r.read
    assert_equal :written, writer.await
    assert_equal 1_000_001, got.bytesize
    assert got.end_with?('xy')
  end

  def test_many_fibers_reading_pipes
    pipes = Array.new(20) { IO.pipe }
    readers = pipes.map.with_index { |(r, _), i| spin { [i, r.read] } }
    pipes.each_with_index { |(_, w), i| spin { w << "msg #{i}"; w.close } }
    Fiber.await(*readers).each { |i, msg| assert_equal "msg #{i}", msg }
  end

  def test_wait_readable_timeout
    r, w = IO.pipe
    assert_nil r.wait_readable(0.01)
    w << 'x'
    assert_equal r, r.wait_readable(1)
  end

  # As Ruby's: a binmode IO reads ASCII-8BIT strings, others the default
  # external encoding.
  def test_read_and_gets_encoding
    r, w = IO.pipe
    r.binmode
    w << "line\n\xFFrest".b
    w.close
    assert_equal Encoding::ASCII_8BIT, r.gets.encoding
    assert_equal Encoding::ASCII_8BIT, r.read.encoding
    r2, w2 = IO.pipe
    w2 << "text\nmore"
    w2.close
    assert_equal Encoding.default_external, r2.gets.encoding
    assert_equal Encoding.default_external, r2.read.encoding
  end

  # The runtime's wait_readable/wait_writable, not io/wait's (which socket
  # loads, and which would block the thread): the waiter's fiber waits alone.
  def test_wait_readable_and_writable_wait_in_their_fiber
    r, w = IO.pipe
    reader = spin { r.wait_readable }
    snooze
    assert_equal :waiting, reader.state
    w << 'x'
    assert_same r, reader.await
    loop { break unless w.write_nonblock('y' * 65_536, exception: false).is_a?(Integer) } # fill the pipe
    writer = spin { w.wait_writable }
    snooze
    assert_equal :waiting, writer.state
    r.read_nonblock(1_000_000)
    assert_same w, writer.await
  end

  def test_tcp_echo_server_with_100_clients
    server = TCPServer.new('127.0.0.1', 0)
    port = server.addr[1]
    acceptor = spin do
      server.accept_loop do |conn|
        spin do
          while (line = conn.gets)
            conn.write(line)
          end
          conn.close
        end
      end
    end
    clients = Array.new(100) do |i|
      spin do
        sock = TCPSocket.new('127.0.0.1', port)
        expected = +''
        got = +''
        5.times do |j|
          msg = "client #{i} message #{j} #{'z' * (i * 37 % 500)}\n"
          expected << msg
          sock.write(msg)
          got << sock.gets
        end
        sock.close
        [expected, got]
      end
    end
    results = Fiber.await(*clients)
    assert_equal 100, results.size
    results.each { |expected, got| assert_equal expected, got }
    acceptor.stop
    server.close
  end

  def test_tcp_socket_recv_send
    server = TCPServer.new('127.0.0.1', 0)
    peer = spin { c = server.accept; c.send(c.recv(100).upcase, 0); c.close }
    sock = TCPSocket.new('127.0.0.1', server.addr[1])
    sock.send('ping', 0)
    assert_equal 'PING', sock.recv(100)
    assert_equal '', sock.recv(100)
    peer.await
    sock.close
    server.close
  end

  def test_connect_refused
    server = TCPServer.new('127.0.0.1', 0)
    port = server.addr[1]
    server.close
    assert_raises(Errno::ECONNREFUSED) { TCPSocket.new('127.0.0.1', port) }
  end

  def test_process_wait_lets_others_run
    r, w = IO.pipe
    # The child exits only once the other fiber has run (sysread: the
    # child does not use the parent's event loop).
    pid = fork do
      w.close
      r.sysread(1)
      exit!(7)
    end
    r.close
    counter = 0
    spin { counter += 1; w << 'x' }
    Process.wait(pid)
    assert_equal 7, $?.exitstatus
    assert_equal 1, counter
    w.close
  end

  def test_process_wait_while_child_runs
    rd, wr = IO.pipe
    pid = spawn('sh', '-c', 'read x; exit 3', in: rd)
    rd.close
    buf = []
    spin { buf << :ran; wr << "go\n"; wr.close }
    _, status = Process.wait2(pid)
    assert_equal 3, status.exitstatus
    assert_equal [:ran], buf
    pid2 = spawn('true')
    assert_equal [pid2, 0], Thread.current.backend.waitpid(pid2)
  end
  def test_forked_child_runs_its_own_loop
    bg = spin { sleep 0.05; :parent_fiber }
    snooze
    pid = fork do
      r, w = IO.pipe
      writer = spin { w << 'x'; w.close; :written }
      ok = r.read == 'x' && writer.await == :written && Fiber.current.main? && Fiber.current.children.empty?
      exit!(ok ? 0 : 1)
    end
    Process.wait(pid)
    assert_equal 0, $?.exitstatus
    assert_equal :parent_fiber, bg.await
  end
  def test_readline_each_line_readlines
    r, w = IO.pipe
    spin { w << "a\nb\n"; snooze; w << "c\nd"; w.close }
    assert_equal "a\n", r.readline
    assert_equal ["b\n", "c\n"], r.each_line.first(2)
    assert_equal ['d'], r.readlines
    assert_raises(EOFError) { r.readline }
  end

  def test_kernel_gets_reads_stdin_in_a_fiber
    r, w = IO.pipe
    saved = $stdin
    $stdin = r
    spin { w << "typed\n"; w.close }
    assert_equal "typed\n", gets
  ensure
    $stdin = saved
  end
  def test_backend_read_positions_and_to_eof
    backend = Polyphony::Backend.new
    assert_same Thread.current.backend, backend
    i, o = IO.pipe
    buf = +'abcdefghij'
    f = spin { backend.read(i, buf, 20, false, 3) }
    backend.write(o, 'DEF')
    assert_same buf, f.await
    assert_equal 'abcDEF', buf
    f = spin { backend.read(i, buf, 5, true, -1) }
    backend.write(o, 'Hel')
    snooze
    backend.write(o, 'lo world')
    assert_equal 'abcDEFHello', f.await
    o.close
    assert_equal ' world', backend.read(i, nil, 100, true)
    assert_nil backend.read(i, +'', 100, false)
  end

  def test_backend_recv_positions
    backend = Thread.current.backend
    a, b = UNIXSocket.pair
    buf = +'abcdef'
    b.write('XY')
    assert_same buf, backend.recv(a, buf, 10, 2)
    assert_equal 'abXY', buf
    b.write('Z')
    assert_same buf, backend.recv(a, buf, 10)
    assert_equal 'abXYZ', buf
    b.write('fresh')
    assert_equal 'fresh', backend.recv(a, nil, 10)
    b.close
    assert_nil backend.recv(a, buf, 10)
    assert_equal 'abXYZ', buf
  end

  # An fd number changes file behind the runtime's back (IO#reopen is a
  # dup2, not a close it sees): io_uring's remembered "is a socket" goes
  # stale both ways, and reads and writes still go right.
  def test_fd_reopened_as_another_kind_of_file
    require 'socket'
    a, b = UNIXSocket.pair
    b.write('x')
    assert_equal 'x', a.readpartial(10)
    r, w = IO.pipe
    a.reopen(r)
    w.write('y')
    assert_equal 'y', a.readpartial(10)
    r2, w2 = IO.pipe
    w2.write('z')
    assert_equal 'z', r2.readpartial(10)
    c, d = UNIXSocket.pair
    r2.reopen(c)
    d.write('s')
    assert_equal 's', r2.readpartial(10)
    w2.reopen(d)
    w2.write('q')
    assert_equal 'q', c.readpartial(10)
  end
end
