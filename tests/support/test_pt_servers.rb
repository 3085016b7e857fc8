# frozen_string_literal: true

# tests/lib/pt_servers.rb: the real PostgreSQL, Redis and dnsmasq servers of
# the test run answer on their loopback ports (PostgreSQL not as root), and a process
# that started its own servers stops them and removes their directories when
# it ends, by an exception or by SIGTERM.
require 'minitest/autorun'
require 'rbconfig'
require 'json'
require 'pt_servers'

class PtServersTest < Minitest::Test
  def test_servers_of_the_run_answer
    PtServers.ensure_running(:postgres, :redis)
    require 'pg'
    require 'redis'
    conn = PG.connect(**PtServers.pg_params)
    assert_equal [['1']], conn.exec('SELECT 1').values
    owner = conn.exec("SELECT usename FROM pg_stat_activity WHERE pid = pg_backend_pid()").getvalue(0, 0)
    assert_equal 'postgres', owner
    redis = Redis.new(**PtServers.redis_params)
    assert_equal 'PONG', redis.ping
  ensure
    conn&.close
    redis&.close
  end

  def test_dnsmasq_of_the_run_answers_with_its_records
    PtServers.ensure_running(:dnsmasq)
    require 'resolv'
    dns = Resolv::DNS.new(nameserver_port: [PtServers.dns_address])
    PtServers::DNS_RECORDS[:a].each do |name, address|
      assert_equal [address], dns.getresources(name, Resolv::DNS::Resource::IN::A).map { |r| r.address.to_s }
    end
    big = dns.getresources('big.test', Resolv::DNS::Resource::IN::TXT).flat_map(&:strings)
    assert_equal PtServers::DNS_RECORDS[:txt]['big.test'], big
  ensure
    dns&.close
  end

  # A child process starts its own servers, reports them on stdout and
  # then ends as `how` says; afterwards nothing of them is left.
  def run_child(servers, how)
    script = <<~RUBY
      require 'pt_servers'
      require 'json'
      #{servers.map { |n| "ENV.delete('#{n == :postgres ? 'PT_PG_PORT' : 'PT_REDIS_PORT'}')" }.join("\n")}
      PtServers.ensure_running(#{servers.map(&:inspect).join(', ')})
      info = PtServers.servers.values.map { |s| { 'pid' => s.pid, 'dir' => s.dir, 'port' => s.port } }
      $stdout.puts JSON.generate(info)
      $stdout.flush
      #{how == :raise ? "raise 'a failing test'" : 'sleep'}
    RUBY
    r, w = IO.pipe
    pid = Process.spawn(RbConfig.ruby, '-I', File.expand_path('../lib', __dir__), '-e', script,
                        out: w, err: File::NULL)
    w.close
    info = JSON.parse(r.gets || '[]')
    assert_equal servers.size, info.size, 'the child did not start its servers'
    Process.kill('TERM', pid) if how == :term
    Process.wait(pid)
    info.each do |s|
      assert_raises(Errno::ESRCH) { Process.kill(0, s['pid']) }
      refute File.exist?(s['dir']), "#{s['dir']} left behind"
      assert_raises(Errno::ECONNREFUSED) { TCPSocket.new('127.0.0.1', s['port']).close }
    end
  ensure
    r&.close
  end

  def test_stopped_when_the_process_fails
    run_child(%i[postgres], :raise)
  end

  def test_stopped_when_the_process_is_terminated
    run_child(%i[redis], :term)
  end
end
