# frozen_string_literal: true

# pt_servers.rb — real PostgreSQL, Redis and DNS (dnsmasq) servers for
# tests and benchmarks, never mocks. Each runs from Debian's binaries in its
# own temporary directory, on a free loopback port, and is waited for until
# it answers a query (PostgreSQL: SELECT 1; Redis: PING; dnsmasq: an A query
# for one of its records).
#
# tests/run.rb starts them once for the whole run (PtServers.start), passes
# their addresses to every test process in the environment (PT_PG_*,
# PT_REDIS_*, PT_DNS_*), and stops them when the run ends, however it ends (an
# interrupt or a failing suite included). A test file run on its own starts
# its own servers instead (PtServers.ensure_running) and stops them at exit.
#
#   require 'pt_servers'
#   PtServers.ensure_running(:postgres, :redis)
#   PG.connect(**PtServers.pg_params)
#   Redis.new(**PtServers.redis_params)
#   PtServers.dns_address                  # ['127.0.0.1', port]: DNS_RECORDS
#
# PostgreSQL refuses to run as root: as root (CI) its data directory
# belongs to the unprivileged user `nobody`, and initdb and postgres run as
# that user. Plain Ruby: loads neither the runtime nor the client gems.
require 'etc'
require 'fileutils'
require 'socket'
require 'tmpdir'

module PtServers
  PG_BIN = ENV.fetch('PT_PG_BIN', '/usr/lib/postgresql/15/bin')
  REDIS_SERVER = ENV.fetch('PT_REDIS_SERVER', '/usr/bin/redis-server')
  DNSMASQ = ENV.fetch('PT_DNSMASQ', '/usr/sbin/dnsmasq')
  START_TIMEOUT = 60
  STOP_TIMEOUT = 30
  PG_USER = 'postgres'
  PG_DB = 'postgres'
  # Enough for 100 fibers with a connection each, twice over, plus tests.
  PG_MAX_CONNECTIONS = 300
  UNPRIVILEGED = 'nobody'
  NAMES = %i[postgres redis dnsmasq].freeze
  # What dnsmasq serves, all under the local domain "test" (any other name
  # there is NXDOMAIN; it asks no upstream server). big.test's TXT record
  # does not fit a 512-byte UDP answer: a client must retry over TCP.
  DNS_RECORDS = {
    a: { 'host.test' => '10.0.0.1', 'mail.test' => '10.0.0.25' },
    aaaa: { 'host.test' => 'fd00::1' },
    cname: { 'alias.test' => 'host.test' },
    mx: { 'test' => [10, 'mail.test'] },
    txt: { 'txt.test' => ['hello world'], 'big.test' => %w[a b c].map { |c| c * 200 } }
  }.freeze

  class Error < StandardError; end

  # A server process started by this module.
  Server = Struct.new(:name, :pid, :port, :dir, :log)

  @servers = {}

  class << self
    # Starts the named servers (:postgres, :redis) that are not running yet;
    # returns the environment that tells test processes where they are.
    def start(*names)
      install_stop_hooks
      names.each do |name|
        next if @servers[name]

        @servers[name] = case name
                         when :postgres then start_postgres
                         when :redis then start_redis
                         when :dnsmasq then start_dnsmasq
                         else raise ArgumentError, "unknown server #{name.inspect}"
                         end
      end
      env
    end

    # For a test file: the servers tests/run.rb started (found in the
    # environment), or else servers of its own, started now.
    def ensure_running(*names)
      missing = names.reject { |n| ENV[env_key(n)] }
      start(*missing).each { |k, v| ENV[k] = v } unless missing.empty?
      self
    end

    # Stops every server this process started and removes its directory.
    def stop
      @servers.each_value { |s| stop_server(s) }
      @servers.clear
    end

    # What is running: { name => Server(name, pid, port, dir, log) }.
    def servers
      @servers.dup
    end

    def env
      e = {}
      if (pg = @servers[:postgres])
        e.update('PT_PG_HOST' => '127.0.0.1', 'PT_PG_PORT' => pg.port.to_s,
                 'PT_PG_USER' => PG_USER, 'PT_PG_DB' => PG_DB)
      end
      e.update('PT_REDIS_HOST' => '127.0.0.1', 'PT_REDIS_PORT' => @servers[:redis].port.to_s) if @servers[:redis]
      e.update('PT_DNS_HOST' => '127.0.0.1', 'PT_DNS_PORT' => @servers[:dnsmasq].port.to_s) if @servers[:dnsmasq]
      e
    end

    # PG.connect keyword arguments.
    def pg_params
      { host: ENV.fetch('PT_PG_HOST'), port: Integer(ENV.fetch('PT_PG_PORT')),
        user: ENV.fetch('PT_PG_USER'), dbname: ENV.fetch('PT_PG_DB') }
    end

    # Redis.new keyword arguments.
    def redis_params
      { host: ENV.fetch('PT_REDIS_HOST'), port: Integer(ENV.fetch('PT_REDIS_PORT')) }
    end

    # [host, port] of dnsmasq (UDP and TCP).
    def dns_address
      [ENV.fetch('PT_DNS_HOST'), Integer(ENV.fetch('PT_DNS_PORT'))]
    end

    def redis_url
      "redis://#{ENV.fetch('PT_REDIS_HOST')}:#{ENV.fetch('PT_REDIS_PORT')}"
    end

    def pg_url
      p = pg_params
      "postgres://#{p[:user]}@#{p[:host]}:#{p[:port]}/#{p[:dbname]}"
    end

    private

    def env_key(name)
      { postgres: 'PT_PG_PORT', redis: 'PT_REDIS_PORT', dnsmasq: 'PT_DNS_PORT' }.fetch(name)
    end

    # Ruby turns SIGINT, SIGTERM and SIGHUP into exceptions that end the
    # process through its at_exit handlers, so this one covers them too.
    # Under minitest/autorun the tests themselves run in an at_exit
    # handler, registered first and so run last: the servers stop after
    # them (Minitest.after_run).
    def install_stop_hooks
      return if @hooks_installed

      @hooks_installed = true
      owner = Process.pid
      stopper = -> { stop if Process.pid == owner }
      if defined?(Minitest) && Minitest.respond_to?(:after_run)
        Minitest.after_run(&stopper)
      else
        at_exit(&stopper)
      end
    end

    # A port nobody listens on now. Another process may take it before the
    # server binds it: the start is then retried on another port.
    def free_port
      s = TCPServer.new('127.0.0.1', 0)
      s.addr[1]
    ensure
      s&.close
    end

    def as_root?
      Process.uid.zero?
    end

    def make_dir(name)
      dir = Dir.mktmpdir("pt-#{name}-")
      File.chown(Etc.getpwnam(UNPRIVILEGED).uid, Etc.getpwnam(UNPRIVILEGED).gid, dir) if as_root?
      dir
    end

    # Spawns argv (as `nobody` when root and `unprivileged`) in its own
    # process group, output to log; returns the pid. A sanitizer run's
    # LD_PRELOAD (the sanitizers' runtime, for Ruby) is not the servers'.
    def spawn_server(argv, log, unprivileged:)
      if as_root? && unprivileged
        pw = Etc.getpwnam(UNPRIVILEGED)
        fork do
          Process.setsid
          Process.initgroups(UNPRIVILEGED, pw.gid)
          Process::GID.change_privilege(pw.gid)
          Process::UID.change_privilege(pw.uid)
          ENV['HOME'] = File.dirname(log)
          ENV.delete('LD_PRELOAD')
          exec(*argv, in: File::NULL, out: log, err: log)
        end
      else
        Process.spawn({ 'LD_PRELOAD' => nil }, *argv, in: File::NULL, out: log, err: log, pgroup: true)
      end
    end

    def run!(argv, log, unprivileged:)
      pid = spawn_server(argv, log, unprivileged: unprivileged)
      _, status = Process.wait2(pid)
      return if status.success?

      raise Error, "#{argv.first} failed (#{status}):\n#{File.read(log) rescue ''}" # rubocop:disable Style/RescueModifier
    end

    def start_postgres
      dir = make_dir('postgres')
      data = File.join(dir, 'data')
      log = File.join(dir, 'postgres.log')
      run!([File.join(PG_BIN, 'initdb'), '-D', data, '-U', PG_USER, '-A', 'trust', '-E', 'UTF8',
            '--locale=C', '--no-sync', '--no-instructions'], File.join(dir, 'initdb.log'), unprivileged: true)
      with_port_retries('postgres', dir) do |port|
        argv = [File.join(PG_BIN, 'postgres'), '-D', data, '-p', port.to_s, '-h', '127.0.0.1', '-k', dir,
                '-c', "max_connections=#{PG_MAX_CONNECTIONS}", '-c', 'fsync=off', '-c', 'synchronous_commit=off',
                '-c', 'full_page_writes=off', '-c', 'shared_buffers=32MB']
        Server.new(:postgres, spawn_server(argv, log, unprivileged: true), port, dir, log)
      end
    end

    def start_redis
      dir = make_dir('redis')
      log = File.join(dir, 'redis.log')
      with_port_retries('redis', dir) do |port|
        argv = [REDIS_SERVER, '--port', port.to_s, '--bind', '127.0.0.1', '--dir', dir, '--save', '',
                '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no']
        Server.new(:redis, spawn_server(argv, log, unprivileged: false), port, dir, log)
      end
    end

    # dnsmasq serving DNS_RECORDS on UDP and TCP, in the foreground, with
    # no configuration file, hosts file or upstream server of the machine.
    # As root it drops to `nobody` itself once it has bound its port.
    def start_dnsmasq
      dir = make_dir('dnsmasq')
      log = File.join(dir, 'dnsmasq.log')
      with_port_retries('dnsmasq', dir) do |port|
        argv = [DNSMASQ, '--keep-in-foreground', '--conf-file=/dev/null', "--port=#{port}",
                '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts',
                '--no-poll', '--pid-file=', '--local=/test/', "--log-facility=#{log}"] + dnsmasq_records
        Server.new(:dnsmasq, spawn_server(argv, File.join(dir, 'stderr.log'), unprivileged: false), port, dir, log)
      end
    end

    def dnsmasq_records
      r = DNS_RECORDS
      hosts = r[:a].keys | r[:aaaa].keys
      hosts.map { |h| "--host-record=#{[h, r[:a][h], r[:aaaa][h]].compact.join(',')}" } +
        r[:cname].map { |name, target| "--cname=#{name},#{target}" } +
        r[:mx].map { |name, (pref, host)| "--mx-host=#{name},#{host},#{pref}" } +
        r[:txt].map { |name, strings| "--txt-record=#{name},#{strings.join(',')}" }
    end

    # Starts the server (the block) on a free port and waits until it
    # answers; a server that dies at once (the port was taken meanwhile) is
    # started again on another port.
    def with_port_retries(name, dir)
      3.times do
        server = yield free_port
        return server if await_ready(server)

        stop_server(server, keep_dir: true)
      end
      log = Dir[File.join(dir, '*.log')].map { |f| File.read(f) }.join
      FileUtils.rm_rf(dir)
      raise Error, "#{name} did not start:\n#{log}"
    end

    # Polls the server until it answers or dies, for at most START_TIMEOUT.
    def await_ready(server)
      deadline = now + START_TIMEOUT
      while now < deadline
        return false if Process.waitpid(server.pid, Process::WNOHANG)
        return true if answers?(server)

        sleep 0.05
      end
      false
    end

    def now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end

    def answers?(server)
      case server.name
      when :postgres then pg_answers?(server.port)
      when :redis then redis_answers?(server.port)
      else dns_answers?(server.port)
      end
    rescue SystemCallError, IOError
      false
    end

    # An A query for host.test over UDP, answered with its address.
    def dns_answers?(port)
      require 'resolv'
      sock = UDPSocket.new
      sock.connect('127.0.0.1', port)
      msg = Resolv::DNS::Message.new(rand(65_536))
      msg.rd = 1
      msg.add_question('host.test', Resolv::DNS::Resource::IN::A)
      sock.send(msg.encode, 0)
      return false unless sock.wait_readable(1)

      reply = Resolv::DNS::Message.decode(sock.recv(512))
      reply.id == msg.id && reply.answer.any? { |_, _, rr| rr.is_a?(Resolv::DNS::Resource::IN::A) }
    rescue Resolv::DNS::DecodeError
      false
    ensure
      sock&.close
    end

    def redis_answers?(port)
      sock = TCPSocket.new('127.0.0.1', port)
      sock.write("PING\r\n")
      sock.wait_readable(1) && sock.readpartial(100).start_with?('+PONG')
    ensure
      sock&.close
    end

    # Speaks just enough of the PostgreSQL protocol to run SELECT 1: a
    # startup message, then a simple query, then the ReadyForQuery after it.
    def pg_answers?(port)
      sock = TCPSocket.new('127.0.0.1', port)
      params = "user\0#{PG_USER}\0database\0#{PG_DB}\0\0"
      sock.write([params.bytesize + 8, 196_608].pack('NN') + params)
      return false unless pg_until_ready(sock)

      sock.write(['Q', 'SELECT 1'.bytesize + 5].pack('aN') + "SELECT 1\0")
      pg_until_ready(sock)
    ensure
      sock&.close
    end

    # Reads messages until ReadyForQuery ('Z'); false on an ErrorResponse.
    def pg_until_ready(sock)
      loop do
        return false unless sock.wait_readable(2)

        type = sock.read(1)
        len = sock.read(4)&.unpack1('N')
        return false unless type && len

        sock.read(len - 4)
        return false if type == 'E'
        return true if type == 'Z'
      end
    end

    # SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for its
    # clients) and stops Redis; dnsmasq, kept in the foreground but not in
    # debug mode, takes SIGINT for "time is valid now" and stops on SIGTERM.
    STOP_SIGNALS = { postgres: 'INT', redis: 'INT', dnsmasq: 'TERM' }.freeze

    # The process group gets KILL if the server is still there after
    # STOP_TIMEOUT.
    def stop_server(server, keep_dir: false)
      begin
        Process.kill(STOP_SIGNALS.fetch(server.name), server.pid)
        reaper = Thread.new { Process.waitpid(server.pid) }
        unless reaper.join(STOP_TIMEOUT)
          Process.kill('KILL', -server.pid)
          reaper.join
        end
      rescue Errno::ESRCH, Errno::ECHILD
        nil
      end
      FileUtils.rm_rf(server.dir) unless keep_dir
    end
  end
end
