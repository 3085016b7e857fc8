# frozen_string_literal: true

# polyphony/adapters/sequel against a real PostgreSQL 15: the database's
# pool is a Polyphony::FiberConnectionPool (on Polyphony::ResourcePool),
# each fiber running a query holds a connection of its own, at most
# max_connections at once, the others waiting in their fibers; a
# connection whose fiber is interrupted is not lent again; disconnect. A
# ticker fiber keeps ticking while the queries wait.
require 'minitest/autorun'
require 'polyphony'
require 'polyphony/adapters/postgres'
require 'polyphony/adapters/sequel'
require 'pt_servers'
require 'pt_ticker'
require 'pt_pg_peers'

PtServers.ensure_running(:postgres)

class AdapterSequelTest < Minitest::Test
  include PtTicker

  def db(**opts)
    (@dbs ||= []) << Sequel.connect(PtServers.pg_url, **opts)
    @dbs.last
  end

  def teardown
    Fiber.current.shutdown_all_children
    @dbs&.each(&:disconnect)
  end

  def test_pool_class_and_queries
    d = db(max_connections: 3)
    assert_kind_of Polyphony::FiberConnectionPool, d.pool
    assert_equal :fiber, d.pool.pool_type
    assert_equal 3, d.pool.max_size
    assert_equal 1, ticking { d.fetch('SELECT 1 AS one, pg_sleep(0.01)').first[:one] }
    assert_equal 1, spin { ticking { d.get(Sequel.lit('1')) } }.await
  end

  # Five fibers, five connections: the queries run at the same time (each
  # waits until all five run). With two connections, at most two do.
  def test_fibers_hold_connections_of_their_own
    d = db(max_connections: 5)
    fn = d.synchronize { |c| PtPgPeers.create(c) }
    results = ticking do
      Array.new(5) { spin { d.fetch(PtPgPeers.query(fn, 5)).single_value } }.map(&:await)
    end
    assert_equal [true] * 5, results
    assert_equal 5, d.pool.size
    d.synchronize { |c| PtPgPeers.drop(c) }

    small = db(max_connections: 2)
    seen = []
    fibers = Array.new(4) do
      spin do
        small.synchronize do |conn|
          seen << conn
          conn.exec("SELECT pg_sleep(0.01)")
          small.pool.size
        end
      end
    end
    assert_operator ticking { fibers.map(&:await) }.max, :<=, 2
    assert_equal 2, seen.uniq.size
  end

  # Sequel.connect makes a first connection (its test): in the fiber.
  def test_a_fiber_reenters_its_connection
    d = ticking { db }
    d.synchronize do |outer|
      d.synchronize { |inner| assert_same outer, inner }
    end
  end

  # The table is this process's own: the test files of both backends run at
  # once against one server, and a DROP waiting behind the other's open
  # transaction would queue that transaction's second connection behind it,
  # a wait across two processes that PostgreSQL cannot see as a deadlock.
  def test_transaction
    d = db
    table = :"pt_seq_items_#{Process.pid}"
    d.run("CREATE TABLE IF NOT EXISTS #{table} (n int)")
    ticking do
      d.transaction do
        d[table].insert(n: 1)
        spin { d[table].count }.await # another fiber, another connection: not yet visible
      end
    end.then { |count_seen| assert_equal 0, count_seen }
    assert_equal 1, d[table].count
  ensure
    d&.run("DROP TABLE IF EXISTS #{table}")
  end

  def test_interrupted_query_drops_its_connection
    d = db(max_connections: 1)
    conns = []
    v = ticking do
      move_on_after(0.05, with_value: :timed_out) do
        d.synchronize { |c| conns << c; c.exec('SELECT pg_sleep(30)') }
      end
    end
    assert_equal :timed_out, v
    assert conns.first.finished?, 'the interrupted connection was kept'
    assert_equal 1, d.get(Sequel.lit('1'))
    d.synchronize { |c| refute_same conns.first, c }
  end

  def test_disconnect_and_preconnect
    d = db(max_connections: 3)
    ticking { d.pool.preconnect }
    assert_equal 3, d.pool.size
    d.disconnect
    assert_equal 0, d.pool.size
    assert_equal 1, ticking { d.get(Sequel.lit('1')) }
  end
end
