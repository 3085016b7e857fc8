# frozen_string_literal: true

# polyphony/adapters/sidekiq: Debian's Sidekiq 6.4 run by Polyphony::Sidekiq
# as fibers of one thread against the test run's real Redis and PostgreSQL.
# 1,000 jobs of SELECT pg_sleep(0.01) on 50 processors run 50 at a time, in
# 50 fibers of the calling thread and no other thread, while a ticker fiber
# ticks; .stop lets jobs in flight finish, and after the timeout pushes the
# ones still running back to Redis, as Sidekiq's threads do.
require 'pt_servers'

# Before minitest's at_exit (which runs the tests), so that servers this
# file starts on its own are stopped after them.
PtServers.ensure_running(:postgres, :redis)
require 'minitest/autorun'

require 'polyphony/adapters/sidekiq'
require 'sidekiq/api'
require 'pg'

Redis.silence_deprecations = true
Sidekiq.logger.level = Logger::WARN

# What the jobs saw, for the tests to check.
module Seen
  class << self
    attr_accessor :done, :job_time, :in_flight, :max_in_flight, :fibers, :threads, :all_done, :started, :finished, :pool

    def reset(pool: nil)
      self.done = 0
      self.job_time = 0.0
      self.in_flight = 0
      self.max_in_flight = 0
      self.fibers = {}
      self.threads = {}
      self.all_done = Polyphony::Event.new
      self.started = Polyphony::Event.new
      self.finished = []
      self.pool = pool
    end
  end
end

class SleepJob
  include Sidekiq::Worker

  def perform(total)
    Seen.fibers[Fiber.current] = true
    Seen.threads[Thread.current] = true
    Seen.in_flight += 1
    Seen.max_in_flight = [Seen.max_in_flight, Seen.in_flight].max
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    Seen.pool.acquire { |conn| conn.exec('SELECT pg_sleep(0.01)') }
    Seen.job_time += Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
    Seen.in_flight -= 1
    Seen.done += 1
    Seen.all_done.signal if Seen.done == total
  end
end

# Runs for `seconds`, saying when it started and whether it finished.
class NapJob
  include Sidekiq::Worker

  def perform(name, seconds)
    Seen.started.signal
    sleep seconds
    Seen.finished << name
  end
end

class SidekiqAdapterTest < Minitest::Test
  N = 50
  JOBS = 1000

  def setup
    @queue = "pt_#{Process.pid}_#{name}"
    Sidekiq.redis = { url: PtServers.redis_url, size: N + 5 }
  end

  def teardown
    Sidekiq::Queue.new(@queue).clear
  end

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def test_1000_pg_sleep_jobs_on_50_fibers_of_one_thread
    conns = []
    Seen.reset(pool: Polyphony::ResourcePool.new(limit: N) { PG.connect(**PtServers.pg_params).tap { |c| conns << c } })
    Sidekiq::Client.push_bulk('class' => SleepJob, 'queue' => @queue, 'args' => Array.new(JOBS) { [JOBS] })
    threads_before = Thread.list.size
    ticks = 0
    ticker = spin { loop { sleep 0.05; ticks += 1 } }
    elapsed = nil
    t0 = now
    watcher = spin do
      Seen.all_done.await
      elapsed = now - t0
      Polyphony::Sidekiq.stop
    end
    Polyphony::Sidekiq.run(trap: false, concurrency: N, queues: [@queue], timeout: 5)
    watcher.await
    ticker.stop

    assert_equal JOBS, Seen.done
    assert_equal 0, Sidekiq::Queue.new(@queue).size
    assert_equal [Thread.current], Seen.threads.keys, 'every job ran in this thread'
    assert_equal threads_before, Thread.list.size, 'Sidekiq made no thread'
    assert_equal N, Seen.fibers.size, 'concurrency 50 is 50 fibers'
    assert_operator Seen.max_in_flight, :>=, N / 2, 'jobs waited on PostgreSQL at the same time'
    # One at a time the jobs take the sum of their times (10 s on an idle
    # machine); 50 at a time, a 50th of it (0.2 s). A busy machine (other
    # tests) stretches both alike, so the bound is on their ratio, the
    # number of jobs waiting on PostgreSQL at once on average: at least a
    # fifth of the concurrency.
    overlap = Seen.job_time / elapsed
    assert_operator overlap, :>=, N / 5.0,
                    format('%d jobs took %.2f s, their queries %.2f s in all: %.1f at a time', JOBS, elapsed,
                           Seen.job_time, overlap)
    assert_operator ticks, :>=, 2, 'the ticker ticked while the jobs ran'
    warn format('sidekiq: %d jobs of pg_sleep(0.01), concurrency %d: %.2f s, %.1f queries at a time on average ' \
                '(ideal %.2f s, %d at a time)', JOBS, N, elapsed, overlap, JOBS * 0.01 / N, N)
  ensure
    conns&.each(&:close)
  end

  def test_stop_lets_jobs_in_flight_finish
    Seen.reset
    NapJob.set(queue: @queue).perform_async('short', 0.3)
    spin do
      Seen.started.await
      Polyphony::Sidekiq.stop
    end
    Polyphony::Sidekiq.run(trap: false, concurrency: 2, queues: [@queue], timeout: 10)
    assert_equal ['short'], Seen.finished
    assert_equal 0, Sidekiq::Queue.new(@queue).size
    assert_empty Fiber.current.children.select(&:alive?)
  end

  def test_stop_pushes_jobs_still_running_after_the_timeout_back_to_redis
    Seen.reset
    NapJob.set(queue: @queue).perform_async('long', 60)
    spin do
      Seen.started.await
      Polyphony::Sidekiq.stop
    end
    t0 = now
    Polyphony::Sidekiq.run(trap: false, concurrency: 2, queues: [@queue], timeout: 1)
    assert_operator now - t0, :<, 30, 'the job was stopped, not waited for'
    assert_empty Seen.finished
    back = Sidekiq::Queue.new(@queue).to_a
    assert_equal [['long', 60]], back.map(&:args), 'the job is back in its queue'
    assert_empty Fiber.current.children.select(&:alive?)
  end

  def test_sigterm_stops_it_and_the_trap_before_comes_back
    Seen.reset
    old = Kernel.trap('TERM') { :before }
    NapJob.set(queue: @queue).perform_async('short', 0.1)
    spin do
      Seen.started.await
      Process.kill('TERM', Process.pid)
    end
    Polyphony::Sidekiq.run(concurrency: 1, queues: [@queue], timeout: 5)
    assert_equal ['short'], Seen.finished
    restored = Kernel.trap('TERM', old)
    assert_equal :before, restored.call
  end

  def test_a_second_run_is_refused
    Seen.reset
    NapJob.set(queue: @queue).perform_async('short', 0.1)
    spin do
      Seen.started.await
      assert_raises(Polyphony::Sidekiq::AlreadyRunning) { Polyphony::Sidekiq.run(trap: false, queues: [@queue]) }
      Polyphony::Sidekiq.stop
    end
    Polyphony::Sidekiq.run(trap: false, concurrency: 1, queues: [@queue], timeout: 5)
    assert_equal ['short'], Seen.finished
  end
end
