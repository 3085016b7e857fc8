# frozen_string_literal: true

# bench/lib/web_bench.rb — the web benchmarks of bench/run.rb: a Rack
# application (bench/workloads/*.ru) served by the runtime's server, Puma and
# async-http (bench/workloads/rack_server.rb), loaded by wrk with keep-alive
# connections for a fixed time. Figures per run: requests/s and p99 latency
# (wrk's), and the CPU the server process spent per request and in all
# (percent of one CPU), wrk's per request (and, for the database route,
# PostgreSQL's), from /proc and the children's rusage: steadier than the
# rate on a machine the load generator shares, and what says how close to
# the machine's two CPUs a run is. The database route is also served with
# the server on a CPU of its own and PostgreSQL and wrk on the other
# (taskset): whichever of the two CPUs is the busier is the limit.
require 'etc'
require 'tempfile'

module Bench
  module Web

    WRK = ENV.fetch('BENCH_WRK', 'wrk')

    module_function

    # Serves ru with `mode` and loads `path` for `seconds` with `conns`
    # connections (after a one-second warm-up); returns the figures.
    # pg_pids: a block giving the pids whose CPU counts as PostgreSQL's.
    # pin: { server: CPUS, others: CPUS } runs the server on the first
    # (taskset) and PostgreSQL and wrk on the second.
    def measure(mode, ru, path, seconds:, conns:, env: {}, pg_pids: nil, pin: nil)
      pin_pids(pg_pids.call, pin[:others]) if pin
      with_server(mode, ru, env, cpus: pin&.dig(:server)) do |port, pid|
        url = "http://127.0.0.1:#{port}#{path}"
        wrk(url, 1, conns, warm_up: true, cpus: pin&.dig(:others))
        # The backends the server opened inherit the postmaster's CPUs.
        pin_pids(pg_pids.call, pin[:others]) if pin
        cpu0 = Bench.cpu_seconds(pid)
        pg0 = pg_pids && cpu_of(pg_pids.call)
        t0 = Bench.clock
        figures = wrk(url, seconds, conns, cpus: pin&.dig(:others))
        elapsed = Bench.clock - t0
        requests = figures.delete('requests')
        server = Bench.cpu_seconds(pid) - cpu0
        figures['cpu_us'] = server / requests * 1e6
        figures['cpu_busy'] = server / elapsed * 100
        figures['wrk_cpu_us'] = figures.delete('wrk_cpu') / requests * 1e6
        pg_figures(figures, cpu_of(pg_pids.call) - pg0, requests, elapsed) if pg_pids
        figures
      end
    ensure
      pin_pids(pg_pids.call, own_cpus) if pin
    end

    # Runs the processes (and their threads) on the CPUs given (a taskset
    # list); a process gone meanwhile is no error.
    def pin_pids(pids, cpus)
      pids.each do |pid|
        system('taskset', '-a', '-p', '-c', cpus, pid.to_s, out: File::NULL, err: File::NULL)
      end
    end

    # The CPUs this process may run on (what PostgreSQL gets back).
    def own_cpus
      File.read('/proc/self/status')[/^Cpus_allowed_list:\s*(\S+)/, 1] || "0-#{Etc.nprocessors - 1}"
    end

    # PostgreSQL's CPU per request, and how busy it was: its CPU time over
    # the run's time, in percent of one CPU.
    def pg_figures(figures, pg_seconds, requests, elapsed)
      figures['pg_cpu_us'] = pg_seconds / requests * 1e6
      figures['pg_busy'] = pg_seconds / elapsed * 100
      figures
    end

    # The database route's floor: bench/pg_floor.c sends the route's query
    # over `conns` connections (one in flight on each) with no HTTP and no
    # Ruby; it warms up for a second, says START, runs `seconds` and prints
    # its figures (its cpu_us is the client's CPU per query).
    def measure_floor(conns, seconds, pg_pids:)
      bin = Bench.c_program('pg_floor', pkg: 'libpq')
      err = Tempfile.new('bench-pg-floor-err')
      reader, writer = IO.pipe
      hold, release = IO.pipe
      pid = Process.spawn(bin, postgres_url, conns.to_s, seconds.to_s, '1',
                          out: writer, err: err.path, in: hold, pgroup: true)
      writer.close
      hold.close
      line = reader.gets if IO.select([reader], nil, nil, 30)
      raise Bench::NotAvailable, "pg_floor did not start: #{Bench.last_words(err.path)}" unless line == "START\n"

      pg0 = cpu_of(pg_pids.call)
      t0 = Bench.clock
      out = IO.select([reader], nil, nil, seconds + 30) ? reader.gets.to_s : ''
      # Before the floor ends: its connections' backends end with it.
      pg_seconds = cpu_of(pg_pids.call) - pg0
      elapsed = Bench.clock - t0
      figures = Bench.parse_bench(out)
      raise Bench::NotAvailable, "pg_floor gave no figures: #{Bench.last_words(err.path)}" unless figures

      requests = figures.delete('requests')
      figures['cpu_busy'] = figures['cpu_us'] * figures['rate'] / 1e4 if figures['cpu_us'] && figures['rate']
      pg_figures(figures, pg_seconds, requests, elapsed)
    ensure
      if pid
        Bench.kill_group(pid)
      end
      reader&.close
      release&.close
      err&.close!
    end

    def with_server(mode, ru, env, cpus: nil)
      err = Tempfile.new('bench-web-err')
      reader, writer = IO.pipe
      pid = Process.spawn(env, *taskset(cpus), Bench::RUBY, File.join(Bench::WORK, 'rack_server.rb'), mode, ru,
                          out: writer, err: err.path, in: File::NULL, pgroup: true)
      writer.close
      line = reader.gets if IO.select([reader], nil, nil, 30)
      raise Bench::NotAvailable, "#{mode} did not start: #{Bench.last_words(err.path)}" unless line =~ /\AREADY (\d+)/

      yield Integer(Regexp.last_match(1)), pid
    rescue Bench::NotAvailable => e
      raise Bench::NotAvailable, "#{e.message}; server: #{Bench.last_words(err.path)}"
    ensure
      if pid
        Bench.kill_group(pid)
      end
      reader&.close
      err&.close!
    end

    # `taskset -c CPUS` before a command, or nothing.
    def taskset(cpus)
      cpus ? ['taskset', '-c', cpus] : []
    end

    # One wrk run: { 'rate', 'p99_ms', 'requests', 'wrk_cpu' (its CPU
    # seconds) }. Errors (sockets, non-2xx answers) make the run not count.
    # A warm-up run's figures are not looked at (a server may still be
    # opening its database connections).
    def wrk(url, seconds, conns, warm_up: false, cpus: nil)
      t0 = Process.times
      out = IO.popen([*taskset(cpus), WRK, '-t1', "-c#{conns}", "-d#{seconds}s", '--latency', url], err: %i[child out], &:read)
      t1 = Process.times
      raise Bench::NotAvailable, "wrk failed: #{out.lines.last.to_s.strip}" unless $?.success? # rubocop:disable Style/SpecialGlobalVars
      return nil if warm_up

      requests = out[/^\s*(\d+) requests in/, 1]&.to_i
      rate = out[/^Requests\/sec:\s*([\d.]+)/, 1]&.to_f
      p99 = out[/^\s*99%\s+([\d.]+)(us|ms|s)\b/, 1]&.to_f
      unit = Regexp.last_match(2)
      raise Bench::NotAvailable, "wrk gave no figures: #{out.lines.last(3).join(' ').strip}" unless requests&.positive? && rate && p99
      if (bad = out[/Non-2xx or 3xx responses: (\d+)/, 1])
        raise Bench::NotAvailable, "#{bad} answers were not 2xx"
      end
      errs = out[/Socket errors: connect (\d+), read (\d+), write (\d+)/] && Regexp.last_match.captures.map(&:to_i)
      raise Bench::NotAvailable, "socket errors: #{out[/Socket errors: [^\n]+/]}" if errs&.any?(&:positive?)

      { 'rate' => rate, 'p99_ms' => p99 * { 'us' => 1e-3, 'ms' => 1.0, 's' => 1e3 }.fetch(unit), 'requests' => requests,
        'wrk_cpu' => t1.cutime + t1.cstime - t0.cutime - t0.cstime }
    end

    def cpu_of(pids)
      pids.sum do |pid|
        Bench.cpu_seconds(pid)
      rescue Errno::ENOENT, Errno::ESRCH
        0
      end
    end

    CONNS = 100
    # Connections to PostgreSQL each server's pool holds.
    PG_POOL = 10

    def seconds
      Bench::QUICK ? 2 : 5
    end

    def puma_problem
      Bench.gem_problem('puma', 'puma')
    end

    def async_http_problem
      Bench.gem_problem('ruby-async-http', 'async/http/server')
    end

    # Contenders for one application and path: Puma (the baseline),
    # async-http, the runtime's server on each backend.
    # pinned: also the runtime's server on each backend with the server on
    # a CPU of its own (PIN).
    def contenders(ru, path, env: {}, pg_pids: nil, needs: nil, pinned: false)
      run = lambda do |mode, backend, problem, pin = nil|
        lambda do
          Bench.guard(wrk_problem || needs&.call || problem.call || (pin && pin_problem))
          measure(mode, ru, path, seconds: seconds, conns: CONNS, pg_pids: pg_pids, pin: pin,
                                  env: Bench.ruby_env(backend).merge(env.transform_values { |v| v.respond_to?(:call) ? v.call : v }))
        end
      end
      [Bench::Contender.new(label: 'Puma 5.6 (threads 0..5)', baseline: true, run: run.call('puma', nil, -> { puma_problem })),
       Bench::Contender.new(label: 'async-http 0.59', run: run.call('async', nil, -> { async_http_problem })),
       *Bench::BACKENDS.map do |b|
         Bench::Contender.new(label: "polyphony/http (#{b})", run: run.call('polyphony', b, -> { Bench.polyphony_problem(b) }))
       end,
       *(pinned ? Bench::BACKENDS : []).map do |b|
         Bench::Contender.new(label: pinned_label(b), run: run.call('polyphony', b, -> { Bench.polyphony_problem(b) }, PIN))
       end]
    end

    def figures(pg: false)
      list = [Bench::Figure.new(key: 'rate', label: 'requests/s', better: :higher),
              Bench::Figure.new(key: 'p99_ms', label: 'p99 ms', better: :lower, digits: 1),
              Bench::Figure.new(key: 'cpu_us', label: 'server CPU us/req', better: :lower, digits: 1),
              Bench::Figure.new(key: 'cpu_busy', label: 'server CPU % (of one CPU)', better: :lower, digits: 0),
              Bench::Figure.new(key: 'wrk_cpu_us', label: 'wrk CPU us/req', better: :lower, digits: 1)]
      if pg
        list << Bench::Figure.new(key: 'pg_cpu_us', label: 'PostgreSQL CPU us/req', better: :lower, digits: 1)
        list << Bench::Figure.new(key: 'pg_busy', label: 'PostgreSQL CPU % (of one CPU)', better: :higher, digits: 0)
      end
      list
    end

    # web-hello: the hello-world Rack application.
    def hello_group
      contenders = contenders(File.join(Bench::WORK, 'rack_hello.ru'), '/')
      Bench::Group.new(
        id: 'web-hello', title: "5a. Rack hello world, #{CONNS} keep-alive connections, #{seconds} s (wrk)",
        figures: figures, contenders: contenders,
        targets: contenders.select { |c| c.label.start_with?('polyphony') }.flat_map do |c|
          [Bench::Target.new(contender: c.label, check: Bench.ratio_target(c.label, 'Puma 5.6 (threads 0..5)', 1.5)),
           Bench::Target.new(contender: c.label, check: Bench.ratio_target(c.label, 'async-http 0.59', 1.0))]
        end,
        notes: 'wrk -t1 on the same machine (2 CPUs: the load generator takes one); server CPU from /proc; '                'async-http serves Rack through bench/workloads/rack_server.rb (Debian has no Falcon)'
      )
    end

    # web-pg: one PostgreSQL row per request (bench/workloads/rack_pg.ru)
    # from a PostgreSQL started for the run (tests/lib/pt_servers.rb).
    def pg_group
      contenders = contenders(File.join(Bench::WORK, 'rack_pg.ru'), '/',
                              env: { 'DATABASE_URL' => -> { postgres_url }, 'BENCH_PG_POOL' => PG_POOL.to_s }, pg_pids: -> { postgres_pids },
                              needs: -> { postgres_problem }, pinned: true)
      contenders << Bench::Contender.new(label: FLOOR, run: lambda {
        Bench.guard(postgres_problem)
        measure_floor(PG_POOL, seconds, pg_pids: -> { postgres_pids })
      })
      Bench::Group.new(
        id: 'web-pg', title: "5b. Rack route reading a PostgreSQL row, #{CONNS} keep-alive connections, " \
                             "#{seconds} s (wrk)",
        figures: figures(pg: true), contenders: contenders,
        targets: contenders.select { |c| c.label.start_with?('polyphony') }.flat_map do |c|
          next [Bench::Target.new(contender: c.label, figure: 'pg_busy', check: ->(m) { busier_cpu(m, c.label) })] if c.label.include?(PINNED)

          [Bench::Target.new(contender: c.label, check: Bench.ratio_target(c.label, 'Puma 5.6 (threads 0..5)', 1.0)),
           Bench::Target.new(contender: c.label, check: Bench.ratio_target(c.label, 'async-http 0.59', 1.0)),
           Bench::Target.new(contender: c.label, check: ->(m) { floor_target(m, c.label) }),
           Bench::Target.new(contender: c.label, figure: 'pg_cpu_us', check: ->(m) { cpu_split(m, c.label) })]
        end,
        notes: "a pool of #{PG_POOL} connections per server (connection_pool; Puma's 5 threads use 5 of them); " \
               'PostgreSQL 15 on loopback, its CPU from /proc (every backend); the server CPU includes the ' \
               "database client's (libpq, pg's result conversion, JSON); the floor is bench/pg_floor.c: the " \
               "same query over the same #{PG_POOL} connections, one in flight on each, from one C thread " \
               "(libpq's asynchronous API), no HTTP (its \"server CPU\" is that client's); targets: the server " \
               "is not what limits the route: every peer serves it no faster, and the route reaches " \
               "#{FLOOR_SHARE}x the floor's rate or keeps PostgreSQL #{FLOOR_SHARE}x as busy as the floor does; " \
               "the rows \"#{PINNED}\" run the server on CPU #{PIN[:server]} and PostgreSQL and wrk on CPU " \
               "#{PIN[:others]} (taskset): the busier of the two CPUs is what limits the route there"
      )
    end

    # The database route with the server on a CPU of its own, PostgreSQL
    # and wrk on another.
    PIN = { server: '0', others: '1' }.freeze
    PINNED = 'server on its own CPU'
    # How busy (percent) a CPU must be with the route to count as its limit.
    BUSY = 85

    def pinned_label(backend)
      "polyphony/http (#{backend}), #{PINNED}"
    end

    def pin_problem
      return 'taskset not installed' if system('taskset', '-V', out: File::NULL, err: File::NULL).nil?

      cpus = own_cpus.split(',').flat_map { |r| a, b = r.split('-').map(&:to_i); (a..(b || a)).to_a }
      cpus.include?(0) && cpus.include?(1) ? nil : "needs CPUs 0 and 1 (has #{own_cpus})"
    end

    # With the server on one CPU and PostgreSQL and wrk on another: how busy
    # each CPU was with them, and which was the busier (information).
    def busier_cpu(medians, label)
      f = medians[label] || {}
      server, pg, wrk_us, rate = f.values_at('cpu_busy', 'pg_busy', 'wrk_cpu_us', 'rate')
      return [nil, 'n/a'] unless server && pg && wrk_us && rate

      others = pg + wrk_us * rate / 1e4
      text = format("server's CPU %.0f%% busy, PostgreSQL and wrk's %.0f%% (PostgreSQL %.0f%%)", server, others, pg)
      # Neither near its whole CPU: other work shared them; no limit shown.
      return [nil, "#{text}: neither CPU was theirs alone (other load), no verdict"] if [server, others].max < BUSY

      [nil, "#{text}: the busier is #{server >= others ? "the server's" : "PostgreSQL's and wrk's"}"]
    end

    FLOOR = "floor: libpq in C, #{PG_POOL} connections, no HTTP".freeze
    # What "limited by PostgreSQL" asks of the route against the floor.
    FLOOR_SHARE = 0.8

    # The route against the floor: its rate, or PostgreSQL's CPU use (what
    # the floor shows PostgreSQL can take on this machine).
    def floor_target(medians, label)
      rate, floor_rate = medians.dig(label, 'rate'), medians.dig(FLOOR, 'rate')
      busy, floor_busy = medians.dig(label, 'pg_busy'), medians.dig(FLOOR, 'pg_busy')
      return [nil, 'n/a (no floor)'] unless rate && floor_rate && busy && floor_busy

      r = rate / floor_rate
      b = busy / floor_busy
      [r >= FLOOR_SHARE || b >= FLOOR_SHARE,
       format('%.2fx floor, PostgreSQL %.2fx as busy as under the floor (>= %.1fx)', r, b, FLOOR_SHARE)]
    end

    # Where the CPU of a request goes: PostgreSQL's share (information).
    def cpu_split(medians, label)
      server = medians.dig(label, 'cpu_us')
      pg = medians.dig(label, 'pg_cpu_us')
      return [nil, 'n/a'] unless server && pg

      [nil, format('PostgreSQL %.0f%% of the CPU per request', pg / (pg + server) * 100)]
    end

    def postgres_problem
      @postgres_problem ||= begin
        require_relative '../../tests/lib/pt_servers'
        PtServers.ensure_running(:postgres)
        false
      rescue PtServers::Error, SystemCallError, KeyError => e
        "PostgreSQL did not start: #{Bench.one_line(e.message)[0, 100]}"
      end
      @postgres_problem || gem_problem_pg
    end

    def gem_problem_pg
      Bench.gem_problem('ruby-pg', 'pg') || Bench.gem_problem('ruby-connection-pool', 'connection_pool')
    end

    def postgres_url
      PtServers.pg_url
    end

    # The postmaster and its children (one backend per connection).
    def postgres_pids
      main = PtServers.servers[:postgres]&.pid
      # One given in the environment (PT_PG_*): whose CPU is unknown.
      raise Bench::NotAvailable, 'PostgreSQL not started by this run: its CPU cannot be read' unless main

      children = Dir['/proc/[0-9]*/stat'].filter_map do |f|
        fields = File.read(f).split(') ', 2).last.split
        Integer(File.basename(File.dirname(f))) if fields[1].to_i == main
      rescue Errno::ENOENT, Errno::ESRCH
        nil
      end
      [main, *children]
    end

    # What can run here.
    def wrk_problem
      system(WRK, '--version', out: File::NULL, err: File::NULL).nil? ? "#{WRK} not installed" : nil
    end
  end
end
