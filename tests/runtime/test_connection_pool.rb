# frozen_string_literal: true

# connection_pool (Debian's 2.2.5: what the web benchmark's database route
# and many applications use) on the runtime, against a real PostgreSQL 15.
# Its TimedStack waits on a Thread::Mutex and ConditionVariable, which wait
# in the calling fiber (Ruby's Fiber::Scheduler; in the main fiber, the
# runtime's own wait: unhooked.c), and every check-in broadcasts, so each
# waiting fiber wakes and all but one wait again. Many fibers on a few
# connections: every query answered, never more connections out than the
# pool holds, the waits in fibers (a ticker keeps ticking); a wait past its
# timeout raises ConnectionPool::TimeoutError however often it was woken
# for nothing; the main fiber waits for a connection too.
require 'minitest/autorun'
require 'polyphony'
require 'connection_pool'
require 'pg'
require 'pt_servers'
require 'pt_ticker'

PtServers.ensure_running(:postgres)

class ConnectionPoolTest < Minitest::Test
  include PtTicker

  SIZE = 3

  def setup
    @conns = []
    @pool = ConnectionPool.new(size: SIZE, timeout: 30) do
      PG.connect(PtServers.pg_url).tap { |c| @conns << c }
    end
  end

  def teardown
    Fiber.current.shutdown_all_children
    @conns.each(&:close)
  end

  # SIZE fibers that hold a connection each until sent a message; returns
  # once they all hold theirs (the connections are made on first use).
  def hold_all
    holding = Polyphony::Queue.new
    holders = Array.new(SIZE) do
      spin do
        @pool.with do |_conn|
          holding << true
          receive
        end
      end
    end
    SIZE.times { holding.shift }
    holders
  end

  def test_many_fibers_on_few_connections
    out = 0
    most = 0
    results = ticking do
      Array.new(40) do |i|
        spin do
          @pool.with do |conn|
            out += 1
            most = [most, out].max
            conn.exec_params('SELECT $1::int AS i, pg_sleep(0.002)', [i]).first['i'].to_i
          ensure
            out -= 1
          end
        end
      end.map(&:await)
    end
    assert_equal (0...40).to_a, results
    assert_equal SIZE, most, 'as many connections out at once as the pool holds, no more'
    assert_equal SIZE, @conns.size
  end

  # Check-ins while a fiber waits wake it (a broadcast) with nothing for
  # it when another waiter took the connection first: it waits again, and
  # its timeout still ends the wait.
  def test_timeout_after_wakes_for_nothing
    holders = hold_all
    # Each runs to its first wait, the pool's condition variable: taker
    # first in its queue, then late.
    taker = spin { @pool.with(timeout: 30) { |_conn| receive } }
    snooze
    late = spin do
      @pool.with(timeout: 0.2) { :got_one }
    rescue ConnectionPool::TimeoutError
      :timed_out
    end
    snooze
    holders.first << :done # a check-in wakes both: taker gets it, late waits again
    assert_equal :timed_out, late.await
    taker << :done
    holders.drop(1).each { |h| h << :done }
    holders.each(&:await)
    taker.await
    assert_equal '1', @pool.with(timeout: 5) { |conn| conn.exec('SELECT 1 AS one').first['one'] }
  end

  # The main fiber, where Ruby calls no scheduler, waits for a connection
  # in the runtime: the fiber that checks one in runs meanwhile.
  def test_main_fiber_waits_for_a_connection
    holders = hold_all
    spin do
      snooze
      holders.each { |h| h << :done }
    end
    value = ticking { @pool.with(timeout: 10) { |conn| conn.exec('SELECT 42 AS x').first['x'] } }
    assert_equal '42', value
  end
end
