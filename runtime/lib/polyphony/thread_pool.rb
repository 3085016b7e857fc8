# frozen_string_literal: true

require 'etc'

# Polyphony::ThreadPool — runs blocking work (a C call that holds no fiber
# scheduling, a blocking syscall, CPU work in a C extension) on OS threads.
# The calling fiber waits on a Polyphony::Event that the worker signals from
# its thread; meanwhile the calling thread's other fibers keep running.
#
#   Polyphony::ThreadPool.process { Digest::SHA256.hexdigest(data) }
#   pool = Polyphony::ThreadPool.new(4); pool.process { ... }; pool.stop

module Polyphony
  class ThreadPool
    attr_reader :size

    # The shared default pool, sized to the number of processors.
    def self.process(&block)
      @default_pool ||= new
      @default_pool.process(&block)
    end

    def self.reset
      return unless @default_pool

      @default_pool.stop
      @default_pool = nil
    end

    def initialize(size = Etc.nprocessors)
      raise ArgumentError, 'size must be positive' unless size.positive?

      @size = size
      @task_queue = ::Queue.new
      @threads = nil
      @busy = 0
    end

    # Runs the block on a pool thread; returns its value or raises its error.
    def process(&block)
      raise ArgumentError, 'no block given' unless block

      setup unless @threads
      event = Polyphony::Event.new
      @busy += 1 # from the moment it is queued, as Polyphony counts
      @task_queue << [block, event]
      # A call here is a scheduling point, as any wait is: when the worker
      # has already finished (it can, if this thread lost the GVL meanwhile),
      # the thread's other fibers still get their turn before it returns.
      snooze if event.signaled?
      ok, value = event.await
      raise value unless ok

      value
    end

    # Runs the block on a pool thread without waiting for it.
    def cast(&block)
      raise ArgumentError, 'no block given' unless block

      setup unless @threads
      @busy += 1
      @task_queue << [block, nil]
      self
    end

    def busy?
      @busy.positive?
    end

    def stop
      return unless @threads

      @threads.each { @task_queue << nil }
      @threads.each(&:join)
      @threads = nil
    end

    private

    def setup
      @threads = Array.new(@size) { Thread.new { run_tasks } }
    end

    def run_tasks
      # Blocking work is what a pool thread is for: Ruby's blocking calls
      # block it (polyphony/unhooked.rb leaves them alone here).
      Thread.current.__polyphony_blocking_ok__
      while (task = @task_queue.pop)
        run_task(*task)
      end
    end

    def run_task(block, event)
      result = begin
        [true, block.call]
      rescue Exception => e # rubocop:disable Lint/RescueException
        [false, e]
      end
      event&.signal(result)
    ensure
      @busy -= 1
    end
  end
end
