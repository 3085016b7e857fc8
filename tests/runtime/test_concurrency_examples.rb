# frozen_string_literal: true

# The examples that blocked the thread before the runtime had Ruby's fiber
# scheduler, each finishing concurrently, shown without timing: the parts
# that should overlap wait for one another (a barrier that only concurrent
# work can pass), and a ticker fiber ticks meanwhile. Real PostgreSQL and
# Redis servers (tests/lib/pt_servers.rb).
#
# - five pg queries, each on its connection, in five fibers
# - BLPOP woken by another fiber's RPUSH
# - Net::HTTP client fibers and a server fiber in one process, five
#   requests in parallel
# - Mutex + ConditionVariable signalled by another fiber
# - Thread::SizedQueue(1) between a producer and a consumer fiber
# - Open3.capture2 from three fibers at once
# - getaddrinfo of localhost
require 'minitest/autorun'
require 'polyphony'
require 'polyphony/adapters/postgres'
require 'polyphony/adapters/redis'
require 'net/http'
require 'tmpdir'
require 'pt_servers'
require 'pt_ticker'
require 'pt_pg_peers'

PtServers.ensure_running(:postgres, :redis)

class ConcurrencyExamplesTest < Minitest::Test
  include PtTicker

  def teardown
    Fiber.current.shutdown_all_children
  end

  def test_pg_queries_in_parallel
    conns = Array.new(5) { PG.connect(**PtServers.pg_params) }
    fn = PtPgPeers.create(conns.first)
    results = ticking do
      conns.map { |c| spin { c.exec(PtPgPeers.query(fn, 5)).getvalue(0, 0) } }.map(&:await)
    end
    assert_equal ['t'] * 5, results, 'the five queries did not run at the same time'
  ensure
    PtPgPeers.drop(conns.first) if conns
    conns&.each(&:finish)
  end

  def test_blpop_woken_by_rpush
    waiter = Redis.new(**PtServers.redis_params)
    pusher = Redis.new(**PtServers.redis_params)
    list = "pt:#{Process.pid}:blpop"
    spin { snooze; pusher.rpush(list, 'x') }
    assert_equal [list, 'x'], ticking { waiter.blpop(list, timeout: 10) }
  ensure
    [waiter, pusher].each { |r| r&.close }
  end

  # The server answers a request only once five are in, so the five
  # Net::HTTP.get calls must all be under way together.
  def test_net_http_client_and_server_fibers
    server = TCPServer.new('127.0.0.1', 0)
    port = server.addr[1]
    waiting = []
    acceptor = spin do
      server.accept_loop do |conn|
        spin do
          nil while (line = conn.gets) && line != "\r\n" # the request head
          waiting << (all_in = Polyphony::Event.new)
          waiting.each(&:signal) if waiting.size == 5
          ok = move_on_after(10) { all_in.await; true }
          body = ok ? 'together' : 'alone'
          conn.write("HTTP/1.1 200 OK\r\nContent-Length: #{body.size}\r\nConnection: close\r\n\r\n#{body}")
          conn.close
        end
      end
    end
    bodies = ticking do
      Array.new(5) { spin { Net::HTTP.get(URI("http://127.0.0.1:#{port}/")) } }.map(&:await)
    end
    assert_equal ['together'] * 5, bodies
  ensure
    acceptor&.stop
    server&.close
  end

  # The signalling fiber gets its acknowledgement well before the waiter's
  # own timeout: the signal woke it.
  def test_mutex_and_condition_variable
    %i[spun main].each do |how|
      m = Thread::Mutex.new
      cv = Thread::ConditionVariable.new
      ready = false
      woken = Polyphony::Event.new
      signaller = spin do
        snooze
        m.synchronize { ready = true; cv.signal }
        move_on_after(5) { woken.await; true }
      end
      ticking_in(how) do
        m.synchronize { cv.wait(m, 10) until ready }
        woken.signal
      end
      assert signaller.await, "the condition variable's signal did not wake the waiter (#{how})"
    end
  end

  def test_sized_queue_between_fibers
    q = Thread::SizedQueue.new(1)
    producer = spin { 10.times { |i| q << i }; q << :done }
    got = ticking do
      spin do
        items = []
        while (item = q.pop) != :done
          items << item
        end
        items
      end.await
    end
    producer.await
    assert_equal (0..9).to_a, got
  end

  # Each child waits until all three have started (or gives up after 10 s).
  def test_open3_capture2_from_three_fibers
    Dir.mktmpdir do |dir|
      marks = File.join(dir, 'started')
      script = "echo x >> #{marks}; n=0; " \
               "while [ $(wc -l < #{marks}) -lt 3 ]; do n=$((n+1)); [ $n -gt 1000 ] && exit 1; sleep 0.01; done; " \
               'echo together'
      results = ticking { Array.new(3) { spin { Open3.capture2('sh', '-c', script) } }.map(&:await) }
      results.each do |out, status|
        assert status.success?, 'a capture ran alone'
        assert_equal "together\n", out
      end
    end
  end

  def test_getaddrinfo_of_localhost
    addrs = ticking { spin { Addrinfo.getaddrinfo('localhost', 80, nil, :STREAM) }.await }
    assert addrs.any? { |a| %w[127.0.0.1 ::1].include?(a.ip_address) }
    addrs = ticking { Addrinfo.getaddrinfo('localhost', 80, nil, :STREAM) } # the main fiber
    assert addrs.any? { |a| %w[127.0.0.1 ::1].include?(a.ip_address) }
  end
end
