# frozen_string_literal: true

# bench/workloads/db_clients.rb — many fibers, each with its own database
# connection, running queries or commands for a fixed time: what a fiber
# runtime gives an application whose libraries wait on a server.
#
# Usage: ruby db_clients.rb MODE FIBERS SECONDS [PHASE,...]
#   polyphony  fibers spun on the runtime (POLYPHONY_BACKEND's backend), with
#              polyphony/adapters/postgres and polyphony/adapters/redis
#   async      Async tasks (ruby-async: Ruby's fiber scheduler)
# Three phases (or those named), one after the other, each SECONDS long with
# FIBERS fibers:
#   select1  SELECT 1 on a PG::Connection per fiber (ruby-pg)
#   sleep    SELECT pg_sleep(0.01) on the same connections
#   redis    SET then GET of a key of the fiber's own on a Redis client per
#            fiber (ruby-redis); each command is one round trip
# Connections are made before the clock starts, and a full GC runs before
# each phase (untimed), so no phase pays for the garbage of the one before
# (a faster phase leaves more). Prints
#   BENCH select1=<queries/s> sleep=<queries/s> redis=<round trips/s>
#         select1_cpu=<us> sleep_cpu=<us> redis_cpu=<us>
# where *_cpu is the CPU time this process (every thread) spent per query or
# round trip: steadier than the rates on a shared machine.
# The servers are found in the environment (PT_PG_*, PT_REDIS_*), as
# tests/lib/pt_servers.rb sets it.

require 'pg'
require 'redis'

mode = ARGV.fetch(0)
FIBERS = Integer(ARGV.fetch(1))
SECONDS = Float(ARGV.fetch(2))
ONLY = ARGV[3]&.split(',')

PG_PARAMS = { host: ENV.fetch('PT_PG_HOST'), port: Integer(ENV.fetch('PT_PG_PORT')),
              user: ENV.fetch('PT_PG_USER'), dbname: ENV.fetch('PT_PG_DB') }.freeze
REDIS_PARAMS = { host: ENV.fetch('PT_REDIS_HOST'), port: Integer(ENV.fetch('PT_REDIS_PORT')) }.freeze

def clock
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

def cpu_clock
  Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
end

# One fiber's share of a phase: calls the block until the deadline and
# counts the round trips it reports.
def until_deadline(deadline)
  n = 0
  n += yield while clock < deadline
  n
end

PHASES = {
  'select1' => [:pg, ->(c, _i) { c.exec('SELECT 1').ntuples }],
  'sleep' => [:pg, ->(c, _i) { c.exec('SELECT pg_sleep(0.01)').ntuples }],
  'redis' => [:redis, lambda { |r, i|
    key = "bench:#{Process.pid}:#{i}"
    r.set(key, 'v')
    raise 'GET gave a wrong value' unless r.get(key) == 'v'

    2
  }]
}.freeze

# Runs every phase through `run_fibers` (the runtime's way of running one
# block per connection and summing what they return) and prints the rates.
def bench(pg_conns, redis_conns, &run_fibers)
  phases = ONLY ? PHASES.slice(*ONLY) : PHASES
  figures = phases.flat_map do |name, (kind, op)|
    conns = kind == :pg ? pg_conns : redis_conns
    GC.start
    t0 = clock
    cpu0 = cpu_clock
    deadline = t0 + SECONDS
    total = run_fibers.call(conns.each_with_index.map { |c, i| proc { until_deadline(deadline) { op.call(c, i) } } })
    ["#{name}=#{(total / (clock - t0)).round(1)}", "#{name}_cpu=#{((cpu_clock - cpu0) / total * 1e6).round(2)}"]
  end
  puts "BENCH #{figures.join(' ')}"
end

case mode
when 'polyphony'
  require 'polyphony'
  require 'polyphony/adapters/postgres'
  require 'polyphony/adapters/redis'
  pg_conns = Array.new(FIBERS) { spin { PG.connect(**PG_PARAMS) } }.map(&:await)
  redis_conns = Array.new(FIBERS) { Redis.new(**REDIS_PARAMS).tap(&:ping) }
  bench(pg_conns, redis_conns) { |blocks| blocks.map { |b| spin(&b) }.sum(&:await) }
when 'async'
  require 'async'
  Async do |task|
    pg_conns = Array.new(FIBERS) { task.async { PG.connect(**PG_PARAMS) } }.map(&:wait)
    redis_conns = Array.new(FIBERS) { Redis.new(**REDIS_PARAMS).tap(&:ping) }
    bench(pg_conns, redis_conns) { |blocks| blocks.map { |b| task.async(&b) }.sum(&:wait) }
  end
else
  abort "db_clients.rb: unknown mode #{mode}"
end
