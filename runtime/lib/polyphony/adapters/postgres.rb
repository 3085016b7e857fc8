# frozen_string_literal: true

# polyphony/adapters/postgres (Polyphony 1.6's path): ruby-pg on the
# runtime. pg's queries wait through rb_io_wait and its connects through
# IO#wait, so in a spun fiber they already wait in that fiber (Ruby calls
# Polyphony::Scheduler#io_wait; IO#wait is the runtime's). This adapter
# adds what the scheduler cannot:
#
# - The main fiber, which Ruby calls no scheduler from: every
#   PG::Connection method that may wait runs in a helper fiber there
#   (Polyphony::Unhooked.call), so it waits in the main fiber too.
# - A query left by an exception that is not PG's own (move_on_after,
#   cancel_after, stop, Timeout) is cancelled on the server and its results
#   are read to the end, so the connection is ready for the next query; if
#   that fails within RECOVER_TIMEOUT, the connection is closed (the next
#   call raises PG::ConnectionBad). A connection is never left half-read.
# - transaction nests, as in Polyphony: an inner transaction block runs in
#   the outer transaction.
require 'polyphony'
require 'pg'

module Polyphony
  module PostgresAdapter
    RECOVER_TIMEOUT = 5

    # PG::Connection's methods that may wait for the server (each name pg
    # defines: exec is an alias of async_exec, and so on).
    WAITING = %i[
      exec query async_exec exec_params async_exec_params
      prepare async_prepare exec_prepared async_exec_prepared
      describe_prepared async_describe_prepared describe_portal async_describe_portal
      get_last_result async_get_last_result block discard_results wait_for_notify
      flush async_flush put_copy_data async_put_copy_data put_copy_end async_put_copy_end
      get_copy_data async_get_copy_data set_client_encoding client_encoding=
      async_set_client_encoding encrypt_password async_encrypt_password
    ].freeze

    # Prepended to PG::Connection.
    module Connection
      WAITING.each do |name|
        next unless PG::Connection.method_defined?(name)

        define_method(name) do |*args, &block|
          Polyphony::PostgresAdapter.wait(self) { super(*args, &block) }
        end
        ruby2_keywords(name)
      end

      def transaction(&block)
        return yield(self) if @polyphony_transaction

        begin
          @polyphony_transaction = true
          super
        ensure
          @polyphony_transaction = false
        end
      end
    end

    # Runs one waiting call (not again for calls it makes itself).
    def self.wait(conn, &block)
      return block.call if conn.instance_variable_get(:@polyphony_waiting)

      begin
        conn.instance_variable_set(:@polyphony_waiting, true)
        in_fiber(&block)
      ensure
        conn.instance_variable_set(:@polyphony_waiting, false)
      end
    rescue PG::Error
      raise
    rescue Exception # rubocop:disable Lint/RescueException
      recover(conn)
      raise
    end

    # The block where it can wait: in a helper fiber where Ruby calls no
    # fiber scheduler.
    def self.in_fiber(&block)
      Polyphony::Scheduler.unhooked? ? Polyphony::Unhooked.call(&block) : block.call
    end

    # After an interrupted call: the query still running is cancelled and
    # its results read and dropped, or else the connection is closed.
    def self.recover(conn)
      return if conn.finished?
      return unless conn.transaction_status == PG::PQTRANS_ACTIVE || conn.is_busy

      drained = in_fiber do
        conn.cancel
        move_on_after(RECOVER_TIMEOUT) do
          loop do
            conn.consume_input
            next conn.socket_io.wait_readable if conn.is_busy

            result = conn.sync_get_result or break true
            result.clear
          end
        end
      end
      conn.finish unless drained
    rescue StandardError
      conn.finish unless conn.finished?
    end
  end
end

PG::Connection.prepend(Polyphony::PostgresAdapter::Connection)
