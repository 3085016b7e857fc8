# frozen_string_literal: true

# polyphony/adapters/postgres against a real PostgreSQL 15 (tests/lib
# pt_servers.rb): connect, exec, exec_params, async_exec, prepared
# statements, transactions (nested ones too), LISTEN/NOTIFY with
# wait_for_notify, reset, and a query interrupted by move_on_after, which
# leaves the connection ready for the next query. Each runs in a spun fiber
# and in the main fiber, and a ticker fiber keeps ticking while it waits.
require 'minitest/autorun'
require 'polyphony'
require 'polyphony/adapters/postgres'
require 'pt_servers'
require 'pt_ticker'
require 'pt_pg_peers'

PtServers.ensure_running(:postgres)

class AdapterPostgresTest < Minitest::Test
  include PtTicker

  def connect
    PG.connect(**PtServers.pg_params)
  end

  def setup
    @conns = []
  end

  def teardown
    Fiber.current.shutdown_all_children
    @conns.each { |c| c.finish unless c.finished? }
  end

  def conn
    connect.tap { |c| @conns << c }
  end

  def both(&block)
    %i[spun main].each { |how| block.call(how) }
  end

  def test_connect_and_exec
    both do |how|
      c = ticking_in(how) { conn }
      assert_equal PG::CONNECTION_OK, c.status
      res = ticking_in(how) { c.exec('SELECT pg_sleep(0.02), 42 AS answer') }
      assert_equal '42', res[0]['answer']
      assert_equal [['1']], ticking_in(how) { c.query('SELECT 1').values }
      assert_equal [['7']], ticking_in(how) { c.async_exec('SELECT 7').values }
    end
  end

  def test_exec_params_and_prepared
    both do |how|
      c = conn
      res = ticking_in(how) { c.exec_params('SELECT $1::int + $2::int AS sum, pg_sleep(0.01)', [2, 3]) }
      assert_equal '5', res[0]['sum']
      name = "add_#{how}"
      ticking_in(how) { c.prepare(name, 'SELECT $1::int * 2 AS twice, pg_sleep(0.01)') }
      assert_equal '42', ticking_in(how) { c.exec_prepared(name, [21]) }[0]['twice']
    end
  end

  def test_errors_are_pg_errors_and_the_connection_goes_on
    both do |how|
      c = conn
      assert_raises(PG::UndefinedTable) { ticking_in(how) { c.exec('SELECT * FROM no_such_table') } }
      assert_equal [['1']], c.exec('SELECT 1').values
    end
  end

  def test_transactions
    c = conn
    c.exec('CREATE TEMP TABLE items (n int)')
    both do |how|
      ticking_in(how) do
        c.transaction { c.exec('INSERT INTO items VALUES (1)') }
      end
      assert_raises(RuntimeError) do
        ticking_in(how) do
          c.transaction do
            c.exec('INSERT INTO items VALUES (2)')
            raise 'roll back'
          end
        end
      end
      ticking_in(how) do
        c.transaction do
          c.exec('INSERT INTO items VALUES (3)')
          c.transaction { c.exec('INSERT INTO items VALUES (4)') } # runs in the outer one
          assert_equal PG::PQTRANS_INTRANS, c.transaction_status
        end
      end
      assert_equal %w[1 3 4], c.exec('SELECT n FROM items ORDER BY n').column_values(0)
      c.exec('DELETE FROM items')
    end
  end

  def test_listen_notify
    both do |how|
      listener = conn
      notifier = conn
      channel = "ch_#{how}_#{Process.pid}" # both backends' files share the server
      listener.exec("LISTEN #{channel}")
      spin { snooze; notifier.exec("NOTIFY #{channel}, 'payload'") }
      got = nil
      ch = ticking_in(how) { listener.wait_for_notify(5) { |c, _pid, payload| got = [c, payload] } }
      assert_equal channel, ch
      assert_equal [channel, 'payload'], got
      assert_nil ticking_in(how) { listener.wait_for_notify(0.02) }
    end
  end

  def test_reset
    both do |how|
      c = conn
      pid = c.backend_pid
      ticking_in(how) { c.reset }
      refute_equal pid, c.backend_pid
      assert_equal [['1']], c.exec('SELECT 1').values
    end
  end

  # A query cut short leaves the connection ready: the server stops it, its
  # results are read and dropped, the next query gets its own results.
  def test_interrupted_query_leaves_the_connection_usable
    both do |how|
      c = conn
      watcher = conn
      result = ticking_in(how) do
        move_on_after(0.05, with_value: :timed_out) { c.exec('SELECT pg_sleep(30)') }
      end
      assert_equal :timed_out, result
      assert_equal PG::PQTRANS_IDLE, c.transaction_status
      assert_equal [['2']], c.exec('SELECT 2').values
      active = watcher.exec_params("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'",
                                   [c.backend_pid]).getvalue(0, 0)
      assert_equal '0', active, 'the interrupted query still runs on the server'
    end
  end

  def test_parallel_queries_each_on_its_connection
    conns = Array.new(5) { conn }
    fn = PtPgPeers.create(conns.first)
    results = ticking do
      conns.map { |c| spin { c.exec(PtPgPeers.query(fn, 5)).getvalue(0, 0) } }.map(&:await)
    end
    assert_equal ['t'] * 5, results, 'the queries did not all run at the same time'
  ensure
    PtPgPeers.drop(conns.first) if conns
  end
end
