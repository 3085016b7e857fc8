# frozen_string_literal: true

# The web benchmark's database route: each request reads one row from
# PostgreSQL (Debian's pg, its async API: the query waits in the request's
# fiber on the runtime and on async-http, in its thread on Puma) through a
# pool of BENCH_PG_POOL connections (connection_pool, which waits in threads
# and, through Ruby's Fiber::Scheduler, in fibers). DATABASE_URL says where
# the database is; the table is made and filled once.
require 'connection_pool'
require 'json'
require 'pg'

ROWS = 100
pool = ConnectionPool.new(size: Integer(ENV.fetch('BENCH_PG_POOL', '10')), timeout: 30) do
  PG.connect(ENV.fetch('DATABASE_URL'))
end
pool.with do |conn|
  conn.exec('CREATE TABLE IF NOT EXISTS bench_items (id integer PRIMARY KEY, name text NOT NULL)')
  conn.exec("INSERT INTO bench_items SELECT i, 'item ' || i FROM generate_series(1, #{ROWS}) i ON CONFLICT DO NOTHING")
end

run(lambda do |_env|
  row = pool.with { |conn| conn.exec_params('SELECT id, name FROM bench_items WHERE id = $1', [rand(1..ROWS)]).first }
  body = row.to_json
  [200, { 'Content-Type' => 'application/json', 'Content-Length' => body.bytesize.to_s }, [body]]
end)
