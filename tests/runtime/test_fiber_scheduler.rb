# frozen_string_literal: true

# Ruby's Fiber::Scheduler interface on the runtime: each thread that runs it
# has a Polyphony::Scheduler, every spun fiber is non-blocking, and code
# that waits through Ruby's own blocking hooks waits in its fiber while the
# others run: rb_io_wait (Socket#accept, IO#sysread ...), Thread::Queue,
# SizedQueue, Mutex, ConditionVariable, Thread#join, Process::Status.wait,
# getaddrinfo, Timeout, Fiber.schedule. The same calls in the main fiber
# (which Ruby never calls a scheduler from) wait in it too. "Waits in its
# fiber" is checked without timing: a fiber that only snoozes counts its
# turns, and must have had some while the call waited.
require 'minitest/autorun'
require 'polyphony'
require 'socket'
require 'timeout'

class FiberSchedulerTest < Minitest::Test
  def setup
    @turns = 0
    @ticker = spin { loop { @turns += 1; snooze } }
  end

  def teardown
    @ticker&.stop
    Fiber.current.shutdown_all_children
  end

  # Runs the block in a spun fiber (how: :spun) or in the calling main
  # fiber (:main); returns its value, asserting the ticker had turns while
  # it ran.
  def waiting(how, &block)
    before = @turns
    value = how == :spun ? spin(&block).await : block.call
    assert_operator @turns, :>, before, "no other fiber ran while the call waited (#{how})"
    value
  end

  def both(&block)
    %i[spun main].each { |how| block.call(how) }
  end

  def test_installed_per_thread
    assert_kind_of Polyphony::Scheduler, Fiber.scheduler
    assert Polyphony::Scheduler.unhooked?, 'the main fiber gets no scheduler calls'
    # A debugger stop holds the thread: Ruby's own calls then, no helpers.
    refute Thread.current.fiber_lock { Polyphony::Scheduler.unhooked? }
    refute Polyphony.loop_suspend { Polyphony::Scheduler.unhooked? }
    spun = spin { [Fiber.current.blocking?, Polyphony::Scheduler.unhooked?, Fiber.current_scheduler] }.await
    assert_equal [false, false, Fiber.scheduler], spun
    other = Thread.new do
      snooze # the thread's runtime starts
      [Fiber.scheduler.class, spin { Fiber.current_scheduler.equal?(Fiber.scheduler) }.await]
    end.value
    assert_equal [Polyphony::Scheduler, true], other
    refute_same Fiber.scheduler, Thread.new { snooze; Fiber.scheduler }.value
  end

  # (The main fiber gets no scheduler calls: there Ruby's Socket#accept
  # still blocks the thread; see docs/runtime.md.)
  def test_io_wait_through_rb_io_wait
    [:spun].each do |how|
      server = Socket.new(:INET, :STREAM)
      server.bind(Addrinfo.tcp('127.0.0.1', 0))
      server.listen(5)
      client = nil
      spin do
        snooze
        client = TCPSocket.new('127.0.0.1', server.local_address.ip_port)
        client << 'hello'
        client.close
      end
      conn, = waiting(how) { server.accept } # Ruby's Socket#accept: rb_io_wait
      assert_equal 'hello', conn.read
      conn.close
      server.close
    end
  end

  def test_io_wait_hook_timeout_and_events
    r, w = IO.pipe
    assert_equal false, spin { Fiber.scheduler.io_wait(r, IO::READABLE, 0.01) }.await
    assert_equal IO::WRITABLE, spin { Fiber.scheduler.io_wait(w, IO::WRITABLE, nil) }.await
    w << 'x'
    assert_equal IO::READABLE, spin { Fiber.scheduler.io_wait(r, IO::READABLE | IO::WRITABLE, 1) }.await
  end

  # (In the main fiber they are Ruby's: see docs/runtime.md.)
  def test_sysread_and_syswrite
    [:spun].each do |how|
      r, w = IO.pipe
      spin { snooze; w.syswrite('data') }
      assert_equal 'data', waiting(how) { r.sysread(10) }
      big = 'z' * 300_000 # more than a pipe holds: the writer waits
      reader = spin { buf = +''; buf << r.sysread(65_536) while buf.size < big.size; buf }
      written = waiting(how) do
        n = 0
        n += w.syswrite(big[n..]) while n < big.size # syswrite may write part
        n
      end
      assert_equal big.size, written
      assert_equal big, reader.await
    end
  end

  def test_read_nonblock_loop
    both do |how|
      r, w = IO.pipe
      spin { snooze; w << 'ping' }
      got = waiting(how) do
        r.read_nonblock(10)
      rescue IO::WaitReadable
        r.wait_readable
        retry
      end
      assert_equal 'ping', got
    end
  end

  # read_nonblock never waits, in a spun fiber either (Ruby 3.1 reads
  # through the scheduler's io_read, as for sysread, which waits).
  def test_read_nonblock_does_not_wait
    both do |how|
      r, w = IO.pipe
      tries = proc do
        [r.read_nonblock(10, exception: false), r.orig_read_nonblock(10, exception: false),
         (r.read_nonblock(10) rescue $!.class)] # rubocop:disable Style/RescueModifier
      end
      # nothing writes to the pipe: a read that waited would wait for ever
      got = how == :spun ? spin(&tries).await : tries.call
      assert_equal [:wait_readable, :wait_readable, IO::EAGAINWaitReadable], got
      w << 'ping'
      assert_equal 'ping', how == :spun ? spin { r.read_nonblock(10) }.await : r.read_nonblock(10)
    end
  end

  def test_io_wait_method
    both do |how|
      r, w = IO.pipe
      spin { snooze; w << 'x' }
      assert_same r, waiting(how) { r.wait(:read) }
      assert_equal IO::READABLE, r.wait(IO::READABLE, 1)
      r.read_nonblock(1)
      assert_nil r.wait(0.01)
      assert_equal IO::WRITABLE, w.wait(IO::WRITABLE, nil)
    end
  end

  def test_queue
    both do |how|
      q = Thread::Queue.new
      spin { snooze; q << :item }
      assert_equal :item, waiting(how) { q.pop }
      spin { snooze; q.push(:shifted) }
      assert_equal :shifted, waiting(how) { q.shift }
      q << :ready
      assert_equal :ready, q.deq
      assert_raises(ThreadError) { q.pop(true) }
    end
  end

  def test_queue_pushed_from_another_thread
    both do |how|
      q = Thread::Queue.new
      go = Thread::Queue.new
      th = Thread.new { go.pop; q << :from_thread }
      spin { snooze; go << :go }
      assert_equal :from_thread, waiting(how) { q.pop }
      th.join
    end
  end

  def test_closed_queue
    both do |how|
      q = Thread::Queue.new
      spin { snooze; q.close }
      assert_nil waiting(how) { q.pop }
    end
  end

  def test_sized_queue_between_fibers
    both do |how|
      q = Thread::SizedQueue.new(1)
      got = []
      consumer = spin { 5.times { got << q.pop } }
      waiting(how) { 5.times { |i| q << i } }
      consumer.await
      assert_equal [0, 1, 2, 3, 4], got
      producer = spin { 3.times { |i| q.push(i) } }
      assert_equal [0, 1, 2], waiting(how) { Array.new(3) { q.pop } }
      producer.await
    end
  end

  def test_interrupted_pop_takes_nothing
    both do |how|
      q = Thread::Queue.new
      body = proc { move_on_after(0.01, with_value: :timed_out) { q.pop } }
      assert_equal :timed_out, how == :spun ? spin(&body).await : body.call
      q << :kept
      assert_equal 1, q.size, 'a waiter that left still took the item'
      assert_equal 0, q.num_waiting
      assert_equal :kept, q.pop
    end
  end

  def test_mutex_contended
    both do |how|
      m = Thread::Mutex.new
      log = []
      holder = spin do
        m.synchronize do
          log << :held
          sleep 0.01
          log << :released
        end
      end
      snooze
      waiting(how) { m.synchronize { log << :got } }
      holder.await
      assert_equal %i[held released got], log
      owned = waiting(how) do
        holder = spin { m.lock; sleep 0.01; m.unlock }
        snooze
        m.lock
        m.owned?.tap { m.unlock }
      end
      assert owned
      assert_raises(ThreadError) { m.synchronize { m.lock } }
    end
  end

  def test_mutex_sleep
    both do |how|
      m = Thread::Mutex.new
      waiting(how) { m.synchronize { m.sleep(0.01) } }
      refute m.locked?
    end
  end

  def test_condition_variable
    both do |how|
      m = Thread::Mutex.new
      cv = Thread::ConditionVariable.new
      ready = false
      spin { snooze; m.synchronize { ready = true; cv.signal } }
      waiting(how) { m.synchronize { cv.wait(m, 5) until ready } }
      assert ready
      # not signalled: the wait ends with its timeout, the mutex held again
      waiting(how) { m.synchronize { cv.wait(m, 0.01); assert m.owned? } }
    end
  end

  def test_condition_variable_broadcast
    m = Thread::Mutex.new
    cv = Thread::ConditionVariable.new
    woken = []
    waiters = Array.new(3) { |i| spin { m.synchronize { cv.wait(m); woken << i } } }
    main_waiter = -> { m.synchronize { cv.wait(m); woken << :main } }
    spin { 3.times { snooze }; m.synchronize { cv.broadcast } }
    main_waiter.call
    waiters.each(&:await)
    assert_equal [0, 1, 2, :main].sort_by(&:to_s), woken.sort_by(&:to_s)
  end

  def test_thread_join_and_value
    both do |how|
      go = Thread::Queue.new
      th = Thread.new { go.pop; :done }
      spin { snooze; go << :go }
      assert_equal :done, waiting(how) { th.value }
      # (ended by a timer, the thread could be gone before a busy machine
      # got to the join, which then had nothing to wait for)
      go2 = Thread::Queue.new
      th2 = Thread.new { go2.pop; :slept }
      spin { snooze; go2 << :go }
      assert_equal :slept, waiting(how) { th2.join } # Polyphony's join: the value
      th3 = Thread.new { sleep 1 }
      assert_nil th3.join(0.01)
      th3.kill
    end
  end

  def test_process_status_wait
    both do |how|
      r, w = IO.pipe
      pid = Process.spawn('read x; exit 3', in: r)
      r.close
      spin { snooze; w.close }
      status = waiting(how) { Process::Status.wait(pid) }
      assert_equal 3, status.exitstatus
    end
  end

  def test_popen_close_awaits_the_child
    both do |how|
      # The child lives until close ends its input, and 0.1 s more (with a
      # fixed lifetime a busy machine could see it gone before the close).
      io = IO.popen(['sh', '-c', 'read x; echo $x; read y; exec sleep 0.1'], 'r+')
      spin { snooze; io.puts('hi') }
      assert_equal "hi\n", waiting(how) { io.gets }
      waiting(how) { io.close } # the child is still sleeping
      assert_equal 0, $?.exitstatus
    end
  end

  def test_address_resolve
    both do |how|
      addrs = waiting(how) { Addrinfo.getaddrinfo('localhost', 80, nil, :STREAM) }
      assert addrs.any? { |a| a.ip_address == '127.0.0.1' || a.ip_address == '::1' }
      addrs = waiting(how) { Socket.getaddrinfo('localhost', 80, nil, :STREAM) }
      refute_empty addrs
      assert_raises(SocketError) { Addrinfo.getaddrinfo('no-such-host.invalid', 80) }
    end
    assert_equal ['127.0.0.1'], spin { Fiber.scheduler.address_resolve('127.0.0.1') }.await
  end

  # Socket.tcp and TCPSocket.new by name: resolved in the calling fiber,
  # each address tried (localhost may be ::1 first; the server is on
  # 127.0.0.1 only).
  def test_connect_by_name
    both do |how|
      server = TCPServer.new('127.0.0.1', 0)
      port = server.addr[1]
      spin { 2.times { c = server.accept; c << 'ok'; c.close } }
      assert_equal 'ok', waiting(how) { Socket.tcp('localhost', port, &:read) }
      assert_equal 'ok', waiting(how) { TCPSocket.new('localhost', port).read }
      server.close
    end
  end

  def test_timeout
    both do |how|
      body = proc { Timeout.timeout(0.01, Timeout::Error, 'too slow') { sleep 1 } }
      err = assert_raises(Timeout::Error) { how == :spun ? spin(&body).await : body.call }
      assert_equal 'too slow', err.message
    end
    err = assert_raises(ArgumentError) do
      spin { Fiber.scheduler.timeout_after(0.01, ArgumentError, 'late') { sleep 1 } }.await
    end
    assert_equal 'late', err.message
    assert_equal :fast, spin { Fiber.scheduler.timeout_after(1, Timeout::Error, 'x') { :fast } }.await
  end

  def test_fiber_schedule_starts_at_once
    log = []
    f = Fiber.schedule do
      log << :started
      sleep 0.01
      log << :resumed
    end
    log << :caller
    assert_equal %i[started caller], log
    assert f.alive?
    f.await
    assert_equal %i[started caller resumed], log
    args = nil
    Fiber.schedule(1, 2) { |a, b| args = [a, b] }
    assert_equal [1, 2], args
  end

  def test_unblock_of_a_fiber_that_no_longer_waits
    f = spin { receive }
    snooze
    Fiber.scheduler.unblock(nil, f) # not in block: nothing happens
    snooze
    assert_equal :waiting, f.state
    f << :msg
    assert_equal :msg, f.await
  end

  # A program (no other thread here, unlike minitest's) whose main fiber
  # pops from a queue nobody will push to gets the runtime's deadlock
  # report, where Ruby's own pop would block the thread for good.
  def test_main_fiber_pop_nobody_pushes_to
    out = IO.popen([RbConfig.ruby, '-rpolyphony', '-e', 'Thread::Queue.new.pop'], err: %i[child out], &:read)
    refute $?.success?
    assert_match(/Polyphony::Deadlock/, out)
  end
end
