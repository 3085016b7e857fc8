# frozen_string_literal: true

# bench/workloads/pg_pool_work.rb — the web benchmark's database route
# without HTTP: what rack_pg.ru does per request (a connection from a
# connection_pool, one row by a random id, the row as JSON), QUERIES times
# in all, shared by WORKERS fibers or threads. Used to see where the
# route's server CPU goes; not a row of make bench.
#
# Usage: ruby pg_pool_work.rb polyphony|threads WORKERS POOL QUERIES
#
# Prints
#   BENCH queries=<n> cpu_us=<CPU per query> io_wait=<per query> kernel_sleep=<per query>
# where io_wait and kernel_sleep count the runtime's Fiber::Scheduler hooks
# (pg's waits for its socket; the pool's condition-variable waits); they
# are 0 for threads, and only counted with PG_WORK_COUNT=1 (counting costs
# instructions; leave it off under callgrind). Instructions per query:
# the difference of two callgrind runs with different QUERIES (start-up and
# connecting cancel out). DATABASE_URL says where PostgreSQL is; the table
# is made and filled as rack_pg.ru makes it.
require 'connection_pool'
require 'json'
require 'pg'

mode, workers, pool_size, queries = ARGV
abort "usage: #{$PROGRAM_NAME} polyphony|threads WORKERS POOL QUERIES" unless queries && %w[polyphony threads].include?(mode)
WORKERS = Integer(workers)
QUERIES = Integer(queries)
ROWS = 100

COUNTS = Hash.new(0)
if mode == 'polyphony'
  require 'polyphony'
  if ENV['PG_WORK_COUNT'] == '1'
    Polyphony::Scheduler.prepend(Module.new do
      %i[io_wait kernel_sleep].each do |name|
        define_method(name) do |*args|
          COUNTS[name] += 1
          super(*args)
        end
      end
    end)
  end
end

pool = ConnectionPool.new(size: Integer(pool_size), timeout: 30) { PG.connect(ENV.fetch('DATABASE_URL')) }
pool.with do |conn|
  conn.exec('SET client_min_messages = warning')
  conn.exec('CREATE TABLE IF NOT EXISTS bench_items (id integer PRIMARY KEY, name text NOT NULL)')
  conn.exec("INSERT INTO bench_items SELECT i, 'item ' || i FROM generate_series(1, #{ROWS}) i ON CONFLICT DO NOTHING")
end

left = QUERIES
work = lambda do
  while left.positive?
    left -= 1
    row = pool.with { |conn| conn.exec_params('SELECT id, name FROM bench_items WHERE id = $1', [rand(1..ROWS)]).first }
    row.to_json
  end
end

cpu0 = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
if mode == 'polyphony'
  Array.new(WORKERS) { spin { work.call } }.each(&:await)
else
  Array.new(WORKERS) { Thread.new { work.call } }.each(&:join)
end
cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu0
puts format('BENCH queries=%<n>d cpu_us=%<cpu>.1f io_wait=%<io>.2f kernel_sleep=%<ks>.2f',
            n: QUERIES, cpu: cpu / QUERIES * 1e6, io: COUNTS[:io_wait].to_f / QUERIES,
            ks: COUNTS[:kernel_sleep].to_f / QUERIES)
