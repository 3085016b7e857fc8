# frozen_string_literal: true

# polyphony/adapters/sequel (Polyphony 1.6's path): Sequel databases get a
# connection pool of fibers, Polyphony::FiberConnectionPool, on
# Polyphony::ResourcePool: each fiber holds a connection of its own while it
# runs a query or a transaction (Sequel's threaded pool would give every
# fiber of a thread the same one), at most :max_connections (default 4),
# the others waiting in their fibers. A connection whose fiber is
# interrupted (Polyphony::MoveOn, Cancel, Terminate ...) or that failed with
# a disconnect error is dropped from the pool and closed, never lent again.
#
# For PostgreSQL, load polyphony/adapters/postgres too (queries in the main
# fiber, interrupted queries).
require 'polyphony'
require 'sequel'

module Polyphony
  class FiberConnectionPool < Sequel::ConnectionPool
    DEFAULT_MAX = 4

    def initialize(db, opts = OPTS)
      super
      @max_size = Integer(opts[:max_connections] || DEFAULT_MAX)
      raise Sequel::Error, ':max_connections must be positive' if @max_size < 1

      @pool = new_pool
    end

    # Lends the calling fiber a connection for the block (the same one to a
    # block inside the block).
    def hold(_server = nil)
      pool = @pool
      pool.acquire do |conn|
        yield conn
      rescue Polyphony::BaseException, ::Interrupt, ::Timeout::Error
        drop(pool, conn)
        raise
      rescue Sequel::DatabaseDisconnectError, Sequel::DatabaseConnectionError
        drop(pool, conn)
        raise
      rescue StandardError => e
        drop(pool, conn) if disconnect_error?(e)
        raise
      ensure
        drop(pool, conn) if !pool.equal?(@pool) && !conn.nil?
      end
    end

    def size
      @pool.size
    end

    def max_size
      @max_size
    end

    def pool_type
      :fiber
    end

    # Connections are made until the pool is full.
    def preconnect(_concurrent = false)
      @pool.fill!
    end

    # Closes the connections no fiber holds; those held are closed when
    # their fibers are done with them.
    def disconnect(_opts = nil)
      old = @pool
      @pool = new_pool
      old.drain { |conn| disconnect_connection(conn) }
      nil
    end

    # The calling fiber's connection (Sequel's single pool does the same).
    def all_connections
      hold { |conn| yield conn }
    end

    private

    def new_pool
      Polyphony::ResourcePool.new(limit: @max_size) { make_new(:default) }
    end

    def drop(pool, conn)
      pool.discard!
      disconnect_connection(conn)
    rescue StandardError
      nil
    end
  end

  # Sequel::Database uses it by default (a :pool_class given still wins).
  module SequelDatabaseDefaults
    def connection_pool_default_options
      super.merge(pool_class: Polyphony::FiberConnectionPool)
    end
  end
end

Sequel::Database.prepend(Polyphony::SequelDatabaseDefaults)
