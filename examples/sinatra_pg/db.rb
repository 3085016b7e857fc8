# frozen_string_literal: true

# The example's database: PostgreSQL through the runtime's pg adapter
# (`polyphony/adapters/postgres`: a query waits in its request's fiber, not
# the whole process, the table's creation at start-up in the main fiber
# too; a query a request leaves early is cancelled, never left half-read)
# and a fiber connection pool (Polyphony::ResourcePool: a request takes a
# connection, waiting in its fiber while all are lent, and gives it back
# when its block ends).
#
# Where: DATABASE_URL (postgres://user@host:port/db), else PG* variables
# (PGHOST, PGPORT, PGUSER, PGDATABASE) as libpq reads them. DB_POOL_SIZE
# connections at most (default 8).
require 'polyphony/adapters/postgres'

module SinatraPg
  module DB
    SCHEMA = <<~SQL
      CREATE TABLE IF NOT EXISTS items (
        id serial PRIMARY KEY,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )
    SQL

    module_function

    def pool
      @pool ||= Polyphony::ResourcePool.new(limit: Integer(ENV.fetch('DB_POOL_SIZE', '8'))) do
        ENV['DATABASE_URL'] ? PG.connect(ENV['DATABASE_URL']) : PG.connect
      end
    end

    # Runs sql with params on a pooled connection: the rows as Hashes.
    def query(sql, *params)
      pool.acquire { |conn| conn.exec_params(sql, params).to_a }
    end

    def setup
      pool.acquire { |conn| conn.exec(SCHEMA) }
    end
  end
end
