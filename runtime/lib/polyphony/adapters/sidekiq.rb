# frozen_string_literal: true

# Sidekiq 6.4 on the runtime: every thread Sidekiq starts (its processors,
# the heartbeat, the scheduled-job poller) is a fiber of the calling thread
# instead, so a concurrency of N is N fibers, each waiting for Redis
# (BRPOP) and for whatever its jobs wait on (PostgreSQL through the pg
# adapter, HTTP ...) in its own fiber. Sidekiq's own code is unchanged:
# Sidekiq::Util#safe_thread, where it makes all its threads, makes a fiber
# (wrapped in the little of Thread's interface Sidekiq uses: value, join,
# raise, alive?, name), and Sidekiq::Util#tid, the key of its per-job
# state, is told fibers apart (Thread.current[] is already per fiber).
# Sidekiq's Mutex, ConditionVariable and connection pool waits are the
# runtime's Fiber::Scheduler's.
#
#   require 'polyphony/adapters/sidekiq'
#   Sidekiq.redis = { url: 'redis://127.0.0.1:6379', size: 55 }
#   Polyphony::Sidekiq.run(concurrency: 50, queues: %w[default])   # until SIGTERM/SIGINT or .stop
#
# Sidekiq's CLI (the `sidekiq` command) is not used: it runs the launcher
# in threads and waits for signals on a self-pipe read by the main thread.
require 'polyphony'
require 'sidekiq'
require 'sidekiq/launcher'
require 'sidekiq/processor'

module Polyphony
  module Sidekiq
    # The little of Thread's interface Sidekiq uses on the threads it
    # makes, on a fiber.
    class FiberThread
      attr_reader :fiber

      def initialize(fiber)
        @fiber = fiber
      end

      # The fiber's result, waiting for it to end (Sidekiq: Thread#value).
      def value
        @fiber.await
      end

      # Waits for the fiber to end, at most `limit` seconds: self, or nil
      # when it still runs.
      def join(limit = nil)
        return move_on_after(limit) { @fiber.await; self } if limit

        @fiber.await
        self
      end

      def raise(*args)
        @fiber.raise(*args)
      end

      def alive?
        @fiber.alive?
      end

      def name
        @fiber.tag.to_s
      end

      def kill
        @fiber.terminate
        self
      end
    end

    # Prepended to Sidekiq::Util (included by Launcher, Manager, Processor,
    # Poller ...).
    module Util
      def safe_thread(name, &block)
        FiberThread.new(Polyphony::Sidekiq.root.spin("sidekiq #{name}") { watchdog(name, &block) })
      end

      def tid
        Thread.current['sidekiq_tid'] ||= (Fiber.current.object_id ^ ::Process.pid).to_s(36)
      end

      # Sidekiq's watchdog: whatever ends a thread is reported, then
      # raised again; but a fiber the runtime stops (Polyphony::Terminate
      # when .run ends) is not an error.
      def watchdog(last_words)
        yield
      rescue Polyphony::Interrupt
        raise
      rescue Exception => e # rubocop:disable Lint/RescueException
        handle_exception(e, { context: last_words })
        raise
      end
    end

    # Prepended to Sidekiq::Processor.
    module Processor
      # Sidekiq's hard shutdown kills every processor still there, busy or
      # not. One waiting for a job (in BRPOP, no job in hand) is only told
      # to stop instead, and does within BRPOP's 2 s timeout: killed there,
      # it would drop a job Redis had just handed it (one the shutdown
      # itself pushed back, for instance).
      def kill(wait = false)
        return terminate(wait) unless @job

        super
      end
    end

    # Raised by .run when Sidekiq already runs in this process.
    class AlreadyRunning < StandardError; end

    class << self
      # The fiber Sidekiq's fibers are children of while .run runs (a
      # processor that dies is replaced from the dying processor's fiber:
      # its successor must not be its child), else the calling fiber.
      def root
        @root || Fiber.current
      end

      # Runs Sidekiq in this thread until .stop (or SIGTERM / SIGINT with
      # trap: true, the handlers before restored at the end): starts the
      # launcher with `options` merged into Sidekiq.options (concurrency:,
      # queues:, timeout: ...), waits, then stops it as Sidekiq does (quiet,
      # then up to `timeout` seconds for jobs in flight; the jobs still
      # running then are pushed back to Redis and their fibers stopped).
      # Returns when every fiber it made has ended.
      def run(trap: true, **options)
        raise AlreadyRunning, 'Sidekiq already runs in this process' if @root

        run_launcher(trap, options)
      end

      # Asks .run to stop; returns at once (safe in a trap handler).
      def stop
        @stop&.signal
      end

      # The running Sidekiq::Launcher, nil when .run does not run.
      attr_reader :launcher

      private

      def run_launcher(trap, options)
        ::Sidekiq.options = ::Sidekiq.options.merge(options)
        stop = @stop = Polyphony::Event.new
        traps = trap ? %w[TERM INT].to_h { |sig| [sig, Kernel.trap(sig) { stop.signal }] } : {}
        # A copy: the launcher stores the fetcher it makes (for these
        # queues) in its options, and a later run may name other queues.
        launcher = @launcher = ::Sidekiq::Launcher.new(::Sidekiq.options.dup)
        @root = spin('sidekiq') do
          stop.await
          launcher.stop
        ensure
          Fiber.current.shutdown_all_children
        end
        launcher.run
        @root.await
      ensure
        # Left early (an exception or a stop of the calling fiber): stopped
        # as Sidekiq stops, so no job is lost. (Terminating the fibers
        # instead would make Sidekiq replace each processor that dies.)
        if @root&.alive?
          stop.signal
          @root.await
        end
        traps&.each { |sig, old| Kernel.trap(sig, old || 'DEFAULT') }
        @launcher = @root = @stop = nil
      end
    end
  end
end

Sidekiq::Util.prepend(Polyphony::Sidekiq::Util)
Sidekiq::Processor.prepend(Polyphony::Sidekiq::Processor)
