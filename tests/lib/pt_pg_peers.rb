# frozen_string_literal: true

# pt_pg_peers.rb — proof, without timing, that queries ran at the same
# time: a PostgreSQL function that returns true once `n` sessions have
# called it (pg_stat_activity shows a session's latest query, running or
# done), or false after about 10 seconds. Run one after another, the first
# calls can only return false; run together, all return true. Use fresh
# connections. The function is this process's own (parallel test
# processes share a server).
#
#   fn = PtPgPeers.create(conn)        # => "pt_wait_for_peers_1234"
#   conn.exec(PtPgPeers.query(fn, 5))  # one of five, each on its connection
module PtPgPeers
  def self.name_for_process
    "pt_wait_for_peers_#{Process.pid}"
  end

  def self.create(conn)
    fn = name_for_process
    conn.exec(<<~SQL)
      CREATE OR REPLACE FUNCTION #{fn}(n int) RETURNS boolean AS $$
      DECLARE i int := 0;
      BEGIN
        -- pg_stat_activity is read once per transaction unless cleared
        PERFORM pg_stat_clear_snapshot();
        WHILE (SELECT count(*) FROM pg_stat_activity
               WHERE query LIKE 'SELECT #{fn}(%') < n LOOP
          i := i + 1;
          IF i > 1000 THEN RETURN false; END IF;
          PERFORM pg_sleep(0.01);
          PERFORM pg_stat_clear_snapshot();
        END LOOP;
        RETURN true;
      END $$ LANGUAGE plpgsql
    SQL
    fn
  end

  def self.drop(conn)
    conn.exec("DROP FUNCTION IF EXISTS #{name_for_process}(int)")
  end

  def self.query(fn, n)
    "SELECT #{fn}(#{n})"
  end
end
