# frozen_string_literal: true

# polyphony/adapters/redis (Polyphony 1.6's path), for Debian's ruby-redis
# 4.8. Its Ruby driver already waits through IO#wait_readable and
# #wait_writable, the runtime's, and resolves names through
# Socket.getaddrinfo: commands, pipelines, BLPOP and pub/sub wait in the
# calling fiber as they are. What it adds: a Redis object shared by fibers
# serializes their commands with a Monitor, whose C code takes its mutex
# directly, so in the main fiber (which Ruby calls no fiber scheduler from)
# waiting for another fiber's command would block the thread; there the
# wait goes through a helper fiber. The hiredis driver (C) is not covered: its reads
# block the thread.
require 'polyphony'
require 'redis'

module Polyphony
  module RedisAdapter
    # Stands for a Redis object's Monitor: where Ruby calls no fiber
    # scheduler, a wait to enter goes through a helper fiber; elsewhere,
    # and for every other call, it is the Monitor itself.
    class Monitor
      def initialize(monitor)
        @monitor = monitor
      end

      def synchronize(&block)
        return @monitor.synchronize(&block) unless Polyphony::Scheduler.unhooked? && !@monitor.mon_owned?

        enter
        begin
          block.call
        ensure
          @monitor.exit
        end
      end

      def method_missing(name, *args, &block)
        @monitor.__send__(name, *args, &block)
      end

      def respond_to_missing?(name, include_all = false)
        @monitor.respond_to?(name, include_all)
      end

      private

      def enter
        monitor = @monitor
        Polyphony::Unhooked.call { monitor.synchronize {} } until monitor.try_enter
      end
    end

    # Prepended to Redis.
    module Client
      def initialize(*args, &block)
        super
        @monitor = Polyphony::RedisAdapter::Monitor.new(@monitor)
      end
      ruby2_keywords(:initialize)
    end
  end
end

Redis.prepend(Polyphony::RedisAdapter::Client)
