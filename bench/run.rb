# frozen_string_literal: true

# bench/run.rb — `make bench`: PolyTrace's debugger and runtime against their
# peers, side by side, in one run.
#
# Every benchmark ("group") has contenders; each round runs every contender of
# the group once, in an order that rotates from round to round (so no
# contender always runs first or last), and the table shows, per figure, the
# median over the rounds and its ratio to the group's baseline, with the
# issue's target where there is one. A contender that cannot run (runtime,
# tracer or peer missing, a crash) shows "n/a (reason)" in its row; the rest
# of the table is still produced.
#
# Environment:
#   BUILD         build tree (default build)
#   BENCH_QUICK=1 two rounds, small sizes: checks that everything runs
#   BENCH_ROUNDS  rounds (default 5, quick 2)
#   BENCH_ONLY    only groups whose id contains this (idle, step, step-dap, switch,
#                 spin, pingpong, echo, db, memory, web-hello, web-pg, fibers)
#   BENCH_SKIP    skip contenders whose label contains this (e.g. byebug)
#   BENCH_OUT     also write the table (Markdown) to this file (default
#                 $BUILD/bench/table.md)
#   PT_BACKENDS   runtime backends to measure (default "libev io_uring")

require 'etc'
require 'fileutils'
require 'rbconfig'
require 'tempfile'
require 'time'
require_relative 'lib/pt_client'
require_relative 'lib/dap_clients'
require_relative 'lib/peer_clients'
require_relative '../tests/lib/pt_servers'
require_relative 'lib/web_bench'

module Bench
  ROOT    = File.expand_path('..', __dir__)
  BUILD   = File.expand_path(ENV.fetch('BUILD', 'build'), ROOT)
  LIBDIR  = File.join(BUILD, 'lib')
  QUICK   = ENV['BENCH_QUICK'] == '1'
  ROUNDS  = Integer(ENV.fetch('BENCH_ROUNDS', QUICK ? '2' : '5'))
  ONLY    = ENV['BENCH_ONLY'].to_s
  SKIP    = ENV['BENCH_SKIP'].to_s
  OUTFILE = ENV.fetch('BENCH_OUT', File.join(BUILD, 'bench', 'table.md'))
  BACKENDS = ENV.fetch('PT_BACKENDS', 'libev io_uring').split
  RUBY    = RbConfig.ruby
  WORK    = File.join(ROOT, 'bench', 'workloads')

  # Sizes: full run, and BENCH_QUICK's.
  SIZE = {
    # fiber_calls.rb's knobs (FC_FIBERS, FC_ROUNDS, FC_CALLS, FC_IO); set in
    # the environment, they override these.
    fiber_calls: (QUICK ? { 'FC_ROUNDS' => '5', 'FC_CALLS' => '40', 'FC_IO' => '500' }
                        : { 'FC_ROUNDS' => '30', 'FC_CALLS' => '150', 'FC_IO' => '2000' })
                 .merge(ENV.slice('FC_FIBERS', 'FC_ROUNDS', 'FC_CALLS', 'FC_IO')),
    steps: QUICK ? 100 : 1000,
    switches: QUICK ? 200_000 : 2_000_000,
    spin_total: QUICK ? 20_000 : 100_000,
    trips: QUICK ? 10_000 : 100_000,
    echo_seconds: QUICK ? 1 : 3,
    echo_conns: 100,
    db_fibers: 100,
    db_seconds: QUICK ? 1 : 3,
    idle_fibers: 10_000
  }.freeze

  # A contender could not run: the reason goes into its row.
  class NotAvailable < StandardError; end

  Figure = Struct.new(:key, :label, :unit, :better, :scale, :digits, keyword_init: true) do
    def show(value)
      return '' if value.nil?

      v = value * (scale || 1)
      if v.abs >= 1_000_000 then format('%.2fM', v / 1e6)
      elsif v.abs >= 10_000 then format('%.1fk', v / 1e3)
      else format("%.#{digits || 3}f", v)
      end
    end
  end

  Contender = Struct.new(:label, :run, :baseline, keyword_init: true)
  # check: ->(medians) { [ok, text] } where medians[label][figure_key]
  Target = Struct.new(:contender, :figure, :check, keyword_init: true)
  Group = Struct.new(:id, :title, :figures, :contenders, :targets, :notes, keyword_init: true)

  module_function

  def clock
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def ruby_env(backend = nil)
    env = { 'RUBYLIB' => [LIBDIR, ENV['RUBYLIB']].compact.join(':') }
    env['POLYPHONY_BACKEND'] = backend if backend
    env
  end

  # "BENCH a=1 b=2" (the last such line) -> { 'a' => 1.0, 'b' => 2.0 }
  def parse_bench(text)
    line = text.lines.grep(/\ABENCH /).last
    return nil unless line

    line.split[1..].to_h { |kv| k, v = kv.split('=', 2); [k, Float(v)] }
  end

  # What went wrong, in one line, from a stderr capture: the exception line
  # if Ruby printed one, else the last line. No '|': it goes in a table.
  def last_words(path)
    lines = (File.exist?(path) ? File.read(path) : '').lines.map(&:strip).reject(&:empty?)
    line = lines.find { |l| l =~ /\(\w*(Error|Exception)\)\z/ || l =~ /: .*\(\w+\)\z/ } || lines.last
    line ? one_line(line)[0, 160] : 'no output'
  end

  def one_line(text)
    text.gsub(/\s+/, ' ').tr('|', '/')
  end

  # Runs argv to completion (killing it after timeout) and returns its figures.
  def run_plain(argv, env: {}, timeout: 300)
    out = Tempfile.new('bench-out')
    err = Tempfile.new('bench-err')
    pid = Process.spawn(env, *argv, out: out.path, err: err.path, in: File::NULL, pgroup: true)
    status = wait_for(pid, timeout)
    figures = parse_bench(File.read(out.path))
    raise NotAvailable, "#{status}: #{last_words(err.path)}" unless figures && status&.success?

    figures
  ensure
    out&.close!
    err&.close!
  end

  def wait_for(pid, timeout)
    deadline = clock + timeout
    loop do
      _, status = Process.wait2(pid, Process::WNOHANG)
      return status if status

      if clock > deadline
        kill_group(pid)
        raise NotAvailable, "timed out after #{timeout}s"
      end
      sleep 0.005
    end
  end

  # Kills the process group pid leads (spawned with pgroup: true) and reaps
  # pid; a group already gone is no error.
  def kill_group(pid)
    Process.kill('KILL', -pid) rescue nil # rubocop:disable Style/RescueModifier
    Process.wait(pid) rescue nil # rubocop:disable Style/RescueModifier
  end

  # Runs a workload under a debugger client (PtClient, RdbgClient,
  # ByebugClient): stop at entry, set breakpoints, maybe turn the op trace on,
  # continue, wait for the end, return the workload's figures.
  def run_debugged(klass, argv, env:, breakpoints: [], trace_ops: false, watch: nil, nonstop: false, hog: nil,
                   timeout: 300)
    out = Tempfile.new('bench-out')
    err = Tempfile.new('bench-err')
    client = nil
    begin
      client = if klass == PtClient
                 PtClient.new(argv, build: BUILD, env: env, nonstop: nonstop, out: out.path, err: err.path)
               else
                 klass.new(argv, env: env, out: out.path, err: err.path)
               end
      client.wait_stopped if klass == PtClient && !nonstop
      breakpoints.each { |file, line| client.break_at(file, line) }
      client.trace_ops(true) if trace_ops
      client.watch(watch) if watch
      client.set('hog', hog) if hog
      nonstop ? client.drain : client.continue_and_drain
      status = client.finish(timeout)
      if client.respond_to?(:ops_dropped) && client.ops_dropped.positive?
        # The row would measure a lighter trace than the one asked for.
        raise NotAvailable, "the client fell behind: the tracer dropped #{client.ops_dropped} op events"
      end
    rescue ClientFailure, SystemCallError, IOError => e
      client&.kill
      client&.finish(5) rescue nil # rubocop:disable Style/RescueModifier
      raise NotAvailable, "#{e.message[0, 80]}; #{last_words(err.path)}"
    end
    figures = parse_bench(File.read(out.path))
    raise NotAvailable, "#{status}: #{last_words(err.path)}" unless figures && status.success?

    figures
  ensure
    out&.close!
    err&.close!
  end

  # Runs the idle workload with the tracer loaded and no debugger, with
  # `polytrace top -b -d delay` attached before its timed section begins
  # (FC_GO_FILE), or without top when delay is nil. Returns the figures;
  # says on stderr how many refreshes top made during the timed section.
  def run_with_top(argv, env:, delay:, timeout: 300)
    dir = Dir.mktmpdir('pt-bench-top-')
    go = File.join(dir, 'go')
    top_out = File.join(dir, 'top.out')
    err = Tempfile.new('bench-err')
    reader, writer = IO.pipe
    full = env.merge('FC_GO_FILE' => go,
                     'RUBYOPT' => ['-rpolytrace', ENV['RUBYOPT']].compact.join(' '))
    pid = Process.spawn(full, *argv, out: writer, err: err.path, in: File::NULL, pgroup: true)
    writer.close
    output = +''
    deadline = clock + 60
    until output.include?("READY\n")
      raise NotAvailable, "no READY within 60 s: #{last_words(err.path)}" if clock > deadline
      next unless IO.select([reader], nil, nil, 0.5)

      chunk = reader.read_nonblock(4096, exception: false)
      raise NotAvailable, "ended before READY: #{last_words(err.path)}" if chunk.nil?

      output << chunk if chunk.is_a?(String)
    end
    if delay
      top = Process.spawn(File.join(BUILD, 'bin', 'polytrace'), 'top', '-b', '-d', delay.to_s, pid.to_s,
                          out: top_out, err: File::NULL, in: File::NULL, pgroup: true)
      # Attached once its first screen is out.
      deadline = clock + 30
      sleep 0.01 until (File.exist?(top_out) && File.read(top_out).include?('polytrace top - ')) ||
                       clock > deadline
      before = File.read(top_out).scan('polytrace top - ').size
    end
    File.write(go, '')
    # The workload writes a few lines only: the pipe holds them until it ends.
    status = wait_for(pid, timeout)
    output << reader.read.to_s
    figures = parse_bench(output)
    raise NotAvailable, "#{status}: #{last_words(err.path)}" unless figures && status&.success?

    if top
      wait_for(top, 30)
      top_done = true
      screens = File.read(top_out).scan('polytrace top - ').size - before
      warn format('    (top refreshed %<n>d times in %<wall>.2f s of timed work)', n: screens,
                                                                            wall: figures['wall'])
    end
    figures
  ensure
    if pid && !status
      kill_group(pid)
    end
    if top && !top_done
      kill_group(top)
    end
    reader&.close
    err&.close!
    FileUtils.rm_rf(dir) if dir
  end

  # Starts the stepping target under a debugger and times `count` steps.
  # The runtime is preloaded (RUBYOPT -rpolyphony, every contender alike):
  # loaded by the script's first line instead, it sends the steps through
  # RubyGems' first lookup of a default gem (io/wait), thousands of lines,
  # and the timed steps would never reach the loop.
  def run_steps(klass, count, env:)
    argv = [RUBY, File.join(WORK, 'step_target.rb')]
    if File.exist?(File.join(LIBDIR, 'polyphony.rb'))
      env = env.merge('RUBYOPT' => ['-rpolyphony', env['RUBYOPT'] || ENV['RUBYOPT']].compact.join(' '))
    end
    err = Tempfile.new('bench-err')
    client = nil
    begin
      client = if klass == PtClient
                 PtClient.new(argv, build: BUILD, env: env, out: File::NULL, err: err.path)
               elsif klass == PtDapClient
                 PtDapClient.new(argv, build: BUILD, env: env, err: err.path)
               elsif klass == ReplClient
                 ReplClient.new(argv, build: BUILD, env: env)
               else
                 klass.new(argv, env: env, out: File::NULL, err: err.path)
               end
      client.wait_stopped if klass == PtClient
      20.times { client.timed_step } # into the loop, caches warm
      times = without_own_gc { Array.new(count) { client.timed_step } }.sort
    rescue ClientFailure, SystemCallError, IOError => e
      raise NotAvailable, "#{e.message[0, 80]}; #{last_words(err.path)}"
    ensure
      client&.kill
      client&.finish(5) rescue nil # rubocop:disable Style/RescueModifier
      err.close!
    end
    { 'median_us' => percentile(times, 50) * 1e6, 'p99_us' => percentile(times, 99) * 1e6 }
  end

  # The benchmark's own collections (its clients are Ruby: a few per 1,000
  # steps) are kept out of timed steps: one before, none during.
  def without_own_gc
    GC.start
    GC.disable
    yield
  ensure
    GC.enable
  end

  def percentile(sorted, pct)
    return nil if sorted.empty?

    sorted[[(sorted.size * pct / 100.0).ceil - 1, 0].max]
  end

  def median(values)
    percentile(values.sort, 50) if values.any?
  end

  # A C program of bench/ (echo_client, echo_floor, pg_floor), built into
  # $BUILD/bench; pkg: the pkg-config package it links with, if any.
  def c_program(name, pkg: nil)
    bin = File.join(BUILD, 'bench', name)
    src = File.join(ROOT, 'bench', "#{name}.c")
    if !File.exist?(bin) || File.mtime(bin) < File.mtime(src)
      FileUtils.mkdir_p(File.dirname(bin))
      flags = pkg ? pkg_flags(pkg) : [[], []]
      ok = system('cc', '-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', *flags[0], '-o', bin, src, *flags[1])
      raise NotAvailable, "cannot compile bench/#{name}.c" unless ok
    end
    bin
  end

  # [cflags, libs] of a pkg-config package.
  def pkg_flags(pkg)
    cflags = IO.popen(['pkg-config', '--cflags', pkg], err: File::NULL, &:read)
    raise NotAvailable, "#{pkg} development files not installed (pkg-config #{pkg})" unless $?.success? # rubocop:disable Style/SpecialGlobalVars

    [cflags.split, IO.popen(['pkg-config', '--libs', pkg], &:read).split]
  rescue Errno::ENOENT
    raise NotAvailable, 'pkg-config not installed'
  end

  # The echo benchmark: a server (echo_server.rb in `mode`, or the C floor
  # when mode is :floor) under load from the C load generator.
  def run_echo(mode, env: {})
    client = c_program('echo_client')
    server = mode == :floor ? [c_program('echo_floor')] : [RUBY, File.join(WORK, 'echo_server.rb'), mode]
    err = Tempfile.new('bench-err')
    reader, writer = IO.pipe
    pid = Process.spawn(env, *server,
                        out: writer, err: err.path, in: File::NULL, pgroup: true)
    writer.close
    port = reader.gets if IO.select([reader], nil, nil, 20)
    raise NotAvailable, "server did not start: #{last_words(err.path)}" unless port =~ /\AREADY (\d+)/

    port = Regexp.last_match(1)
    cpu0 = cpu_seconds(pid)
    figures = run_plain([client, '127.0.0.1', port, SIZE[:echo_conns].to_s, SIZE[:echo_seconds].to_s],
                        timeout: SIZE[:echo_seconds] + 60)
    # CPU the server spent per round trip: steadier than the rate on a
    # shared machine, where wake-up latency between the two processes counts.
    figures['cpu_us'] = (cpu_seconds(pid) - cpu0) / figures['trips'] * 1e6
    figures
  rescue NotAvailable => e
    raise NotAvailable, "#{e.message}; server: #{last_words(err.path)}"
  ensure
    if pid
      kill_group(pid)
    end
    reader&.close
    err&.close!
  end

  # User + system CPU seconds of a live process (Linux /proc, clock ticks).
  def cpu_seconds(pid)
    fields = File.read("/proc/#{pid}/stat").split(') ', 2).last.split
    (fields[11].to_i + fields[12].to_i) / Etc.sysconf(Etc::SC_CLK_TCK).to_f
  end

  # --- what can run here --------------------------------------------------

  def polyphony_problem(backend = nil)
    @polyphony_problem ||= {}
    return @polyphony_problem[backend] if @polyphony_problem.key?(backend)

    probe = <<~RUBY
      require 'polyphony'
      f = spin { receive + 1 }
      f << 1
      raise 'await gave a wrong value' unless f.await == 2
      snooze
      want = ENV['POLYPHONY_BACKEND']
      if want && Polyphony.respond_to?(:backend)
        got = Polyphony.backend.to_s
        raise "backend is \#{got}, not \#{want}" unless got.include?(want)
      end
    RUBY
    out, status = capture([RUBY, '-e', probe], ruby_env(backend))
    @polyphony_problem[backend] = status ? nil : "runtime: #{out[0, 100]}"
  end

  def tracer_problem
    return 'tracer not built (no build/lib/polytrace.rb)' unless File.exist?(File.join(LIBDIR, 'polytrace.rb'))

    polyphony_problem
  end

  def gem_problem(name, lib)
    _, ok = capture([RUBY, '-e', "require '#{lib}'"], {})
    ok ? nil : "#{name} not installed"
  end

  def capture(argv, env)
    out = Tempfile.new('bench-probe')
    pid = Process.spawn(env, *argv, out: out.path, err: out.path, in: File::NULL, pgroup: true)
    status = wait_for(pid, 30)
    [last_words(out.path), status.success?]
  rescue NotAvailable => e
    [e.message, false]
  ensure
    out&.close!
  end

  def guard(problem)
    raise NotAvailable, problem if problem
  end

  # --- the benchmarks -----------------------------------------------------

  def breakpoint_lines
    file = File.join(WORK, 'fiber_calls.rb')
    File.readlines(file).each_with_index.select { |l, _| l.include?('# bp') && !l.include?('"bp"') }
        .map { |_, i| [file, i + 1] }.first(20)
  end

  def idle_group
    argv = [RUBY, File.join(WORK, 'fiber_calls.rb')]
    env = ruby_env.merge(SIZE[:fiber_calls])
    bps = breakpoint_lines
    long = env.merge('FC_ROUNDS' => (Integer(env['FC_ROUNDS']) * 10).to_s)
    cpu = Figure.new(key: 'cpu', label: 'CPU s', better: :lower, digits: 3)
    pt = lambda do |**kw|
      lambda do
        guard(tracer_problem)
        run_debugged(PtClient, argv, env: env, **kw)
      end
    end
    peer = lambda do |klass, problem, **kw|
      lambda do
        guard(polyphony_problem || problem.call)
        run_debugged(klass, argv, env: env, **kw)
      end
    end
    rdbg_problem = -> { gem_problem('debug gem (rdbg)', 'debug/session') }
    byebug_problem = -> { gem_problem('ruby-byebug', 'byebug/core') }
    contenders = [
      Contender.new(label: 'plain ruby (no debugger)', baseline: true,
                    run: -> { guard(polyphony_problem); run_plain(argv, env: env) }),
      Contender.new(label: 'polytrace: attached, continued', run: pt.call),
      Contender.new(label: 'polytrace --nonstop (never stopped)', run: pt.call(nonstop: true)),
      Contender.new(label: 'rdbg: attached, continued', run: peer.call(RdbgClient, rdbg_problem)),
      Contender.new(label: 'byebug: attached, continued', run: peer.call(ByebugClient, byebug_problem)),
      Contender.new(label: 'polytrace: + 20 breakpoints elsewhere', run: pt.call(breakpoints: bps)),
      Contender.new(label: 'rdbg: + 20 breakpoints elsewhere',
                    run: peer.call(RdbgClient, rdbg_problem, breakpoints: bps)),
      Contender.new(label: 'byebug: + 20 breakpoints elsewhere',
                    run: peer.call(ByebugClient, byebug_problem, breakpoints: bps)),
      Contender.new(label: 'polytrace: + op-event trace on', run: pt.call(trace_ops: true)),
      Contender.new(label: 'polytrace: + 20 breakpoints + op trace', run: pt.call(breakpoints: bps, trace_ops: true)),
      Contender.new(label: 'polytrace: + a watch set (watch $PROGRAM_NAME)',
                    run: pt.call(watch: '$PROGRAM_NAME')),
      Contender.new(label: 'polytrace: attached, continued, hog 50ms armed', run: pt.call(hog: 'report 50ms')),
      Contender.new(label: 'plain ruby, runtime counters off',
                    run: lambda {
                      guard(polyphony_problem)
                      run_plain(argv, env: env.merge('POLYPHONY_COUNTERS' => '0'))
                    }),
      Contender.new(label: 'ruby -rpolytrace, no debugger (10x rounds)',
                    run: -> { guard(tracer_problem); run_with_top(argv, env: long, delay: nil) }),
      Contender.new(label: 'ruby -rpolytrace + polytrace top (10x rounds)',
                    run: -> { guard(tracer_problem); run_with_top(argv, env: long, delay: 1) })
    ]
    relative = lambda do |label, base_label, limit|
      lambda do |m|
        base = m.dig(base_label, 'cpu')
        mine = m.dig(label, 'cpu')
        return [nil, 'n/a'] unless base && mine

        pct = (mine / base - 1) * 100
        [pct <= limit, format('%+.1f%% vs %s (<= %d%%)', pct, base_label, limit)]
      end
    end
    overhead = lambda do |label, limit, rivals|
      lambda do |m|
        base = m.dig('plain ruby (no debugger)', 'cpu')
        mine = m.dig(label, 'cpu')
        return [nil, 'n/a'] unless base && mine

        pct = (mine / base - 1) * 100
        beaten = rivals.map { |r| m.dig(r, 'cpu') }.compact
        ok = pct <= limit && beaten.all? { |r| mine < r }
        text = format('%+.1f%% (<= %d%%', pct, limit)
        text += rivals.empty? ? ')' : ', < rdbg & byebug)'
        text += " [#{beaten.size}/#{rivals.size} rivals measured]" if beaten.size < rivals.size
        [ok, text]
      end
    end
    Group.new(
      id: 'idle', title: '1. Debugger idle overhead (1,000 fibers, messages + method calls)',
      figures: [cpu], contenders: contenders,
      targets: [
        Target.new(contender: 'polytrace: attached, continued',
                   check: overhead.call('polytrace: attached, continued', 3,
                                        ['rdbg: attached, continued', 'byebug: attached, continued'])),
        Target.new(contender: 'polytrace: + 20 breakpoints elsewhere',
                   check: overhead.call('polytrace: + 20 breakpoints elsewhere', 5,
                                        ['rdbg: + 20 breakpoints elsewhere', 'byebug: + 20 breakpoints elsewhere'])),
        Target.new(contender: 'polytrace: + op-event trace on',
                   check: overhead.call('polytrace: + op-event trace on', 3, [])),
        Target.new(contender: 'polytrace: + 20 breakpoints + op trace',
                   check: ->(m) { info_overhead(m, 'polytrace: + 20 breakpoints + op trace') }),
        Target.new(contender: 'polytrace: + a watch set (watch $PROGRAM_NAME)',
                   check: ->(m) { info_overhead(m, 'polytrace: + a watch set (watch $PROGRAM_NAME)') }),
        Target.new(contender: 'polytrace --nonstop (never stopped)',
                   check: overhead.call('polytrace --nonstop (never stopped)', 3,
                                        ['rdbg: attached, continued', 'byebug: attached, continued'])),
        Target.new(contender: 'polytrace: attached, continued, hog 50ms armed',
                   check: relative.call('polytrace: attached, continued, hog 50ms armed',
                                        'polytrace: attached, continued', 1)),
        # The counters are always on, so the baseline has them: what they
        # cost is the baseline against the row without them.
        Target.new(contender: 'plain ruby, runtime counters off',
                   check: lambda { |m|
                     on = m.dig('plain ruby (no debugger)', 'cpu')
                     off = m.dig('plain ruby, runtime counters off', 'cpu')
                     next [nil, 'n/a'] unless on && off

                     pct = (on / off - 1) * 100
                     [pct <= 1, format('the counters cost %+.1f%% (plain ruby vs this row; <= 1%%)', pct)]
                   }),
        Target.new(contender: 'ruby -rpolytrace + polytrace top (10x rounds)',
                   check: relative.call('ruby -rpolytrace + polytrace top (10x rounds)',
                                        'ruby -rpolytrace, no debugger (10x rounds)', 1))
      ],
      notes: 'figure: process CPU seconds of the timed section (start-up and attach excluded); ' \
             '"attached, continued": stopped at the first line, client attached, continued; ' \
             '--nonstop: attached, never stopped (breakpoints need a stop to be set); ' \
             'rdbg and byebug have no op-event trace, so those rows are polytrace only; ' \
             'a watch is checked at every line of every fiber (a Proc call per line) while it is set; ' \
             'hog 50ms: the loop watchdog armed (SET hog report 50ms) before continuing; counters off: ' \
             'POLYPHONY_COUNTERS=0 (the counters are always on otherwise, the baseline included); ' \
             'top: `polytrace top -b` (a refresh a second, its default) attached before the timed ' \
             'section of a run 10 times as long (FC_ROUNDS x10, so that it sees refreshes), compared ' \
             'with the same run with the tracer loaded'
    )
  end

  def info_overhead(medians, label)
    base = medians.dig('plain ruby (no debugger)', 'cpu')
    mine = medians.dig(label, 'cpu')
    return [nil, 'n/a'] unless base && mine

    [nil, format('%+.1f%% (no target)', (mine / base - 1) * 100)]
  end

  def step_group
    count = SIZE[:steps]
    figs = [Figure.new(key: 'median_us', label: 'median us', better: :lower, digits: 1),
            Figure.new(key: 'p99_us', label: 'p99 us', better: :lower, digits: 1)]
    env = ruby_env
    Group.new(
      id: 'step', title: "2. Step latency (#{count} steps, request sent -> stop received)",
      figures: figs,
      contenders: [
        Contender.new(label: 'rdbg (remote socket)', baseline: true,
                      run: lambda {
                        guard(gem_problem('debug gem (rdbg)', 'debug/session'))
                        run_steps(RdbgClient, count, env: env)
                      }),
        Contender.new(label: 'polytrace (wire protocol)',
                      run: -> { guard(tracer_problem); run_steps(PtClient, count, env: env) }),
        # byebug answers a step in ~44 ms (its socket waits on delayed ACKs),
        # so it gets a tenth of the steps to keep the run short.
        Contender.new(label: "byebug (remote socket, #{[count / 10, 20].max} steps)",
                      run: lambda {
                        guard(gem_problem('ruby-byebug', 'byebug/core'))
                        run_steps(ByebugClient, [count / 10, 20].max, env: env)
                      })
      ],
      targets: [Target.new(contender: 'polytrace (wire protocol)', figure: 'p99_us',
                           check: lambda { |m|
                             v = m.dig('polytrace (wire protocol)', 'p99_us')
                             v ? [v <= 250, format('p99 %.0f us (<= 250 us)', v)] : [nil, 'n/a']
                           })],
      notes: 'each side of the socket in its own process; rdbg/byebug print one source line per stop'
    )
  end

  # The step as an editor sees it: a DAP stepIn until the stopped event,
  # through polytrace's adapter and through rdbg's; and the REPL's step
  # until its next prompt (the stop and its source lines printed).
  def dap_step_group
    count = SIZE[:steps]
    figs = [Figure.new(key: 'median_us', label: 'median us', better: :lower, digits: 1),
            Figure.new(key: 'p99_us', label: 'p99 us', better: :lower, digits: 1)]
    env = ruby_env
    Group.new(
      id: 'step-dap', title: "2b. Step latency through a front end (#{count} steps: DAP stepIn -> stopped " \
                             'event; REPL step -> next prompt)',
      figures: figs,
      contenders: [
        Contender.new(label: 'rdbg (DAP, its remote socket)', baseline: true,
                      run: lambda {
                        guard(gem_problem('debug gem (rdbg)', 'debug/session'))
                        run_steps(RdbgDapClient, count, env: env)
                      }),
        Contender.new(label: 'polytrace dap',
                      run: -> { guard(tracer_problem); run_steps(PtDapClient, count, env: env) }),
        Contender.new(label: 'polytrace REPL (pty)',
                      run: -> { guard(tracer_problem); run_steps(ReplClient, count, env: env) })
      ],
      targets: [],
      notes: 'the DAP clients take nothing but the stopped event (an editor then asks for threads and ' \
             'frames); the REPL prints the stop and five source lines to a pseudo-terminal'
    )
  end

  def polyphony_contenders(script, *args)
    BACKENDS.map do |backend|
      Contender.new(label: "polyphony (#{backend})",
                    run: lambda {
                      guard(polyphony_problem(backend))
                      run_plain([RUBY, File.join(WORK, script), 'polyphony', *args], env: ruby_env(backend))
                    })
    end
  end

  def peer(label, script, mode, *args, baseline: false, needs: nil)
    Contender.new(label: label, baseline: baseline,
                  run: lambda {
                    guard(needs && gem_problem(*needs))
                    run_plain([RUBY, File.join(WORK, script), mode, *args], env: ruby_env)
                  })
  end

  def ratio_target(label, other, factor, key = 'rate', name: other.split(' ').first)
    lambda do |m|
      mine = m.dig(label, key)
      theirs = m.dig(other, key)
      return [nil, 'n/a'] unless mine && theirs

      r = mine / theirs
      [r >= factor, format('%.2fx %s (>= %.1fx)', r, name, factor)]
    end
  end

  ASYNC = ['ruby-async', 'async'].freeze

  def switch_group
    n = SIZE[:switches].to_s
    rate = Figure.new(key: 'rate', label: 'switches/s', better: :higher)
    pc = polyphony_contenders('switch.rb', n)
    # The same with the runtime's counters off: what timing every run costs.
    off = BACKENDS.map do |backend|
      Contender.new(label: "polyphony (#{backend}), counters off",
                    run: lambda {
                      guard(polyphony_problem(backend))
                      run_plain([RUBY, File.join(WORK, 'switch.rb'), 'polyphony', n],
                                env: ruby_env(backend).merge('POLYPHONY_COUNTERS' => '0'))
                    })
    end
    Group.new(
      id: 'switch', title: "3a. Fiber switches (two fibers, #{n} switches)", figures: [rate],
      contenders: [peer('Fiber#transfer (raw floor)', 'switch.rb', 'transfer', n, baseline: true),
                   *pc, *off, peer('ruby-async (Task#yield)', 'switch.rb', 'async', n, needs: ASYNC),
                   peer('threads (Thread.pass)', 'switch.rb', 'threads', n)],
      targets: pc.flat_map do |c|
        [Target.new(contender: c.label, check: ratio_target(c.label, 'Fiber#transfer (raw floor)', 0.9)),
         Target.new(contender: c.label, check: ratio_target(c.label, 'ruby-async (Task#yield)', 2.0))]
      end + off.map do |c|
        on = c.label.sub(', counters off', '')
        Target.new(contender: c.label,
                   check: lambda { |m|
                     a = m.dig(on, 'rate')
                     b = m.dig(c.label, 'rate')
                     next [nil, 'n/a'] unless a && b

                     [nil, format('counters cost %.1f%% of the switch rate (no target)', (1 - a / b) * 100)]
                   })
      end,
      notes: 'counters off: POLYPHONY_COUNTERS=0; the counters read the CPU\'s time-stamp counter ' \
             'once per switch'
    )
  end

  def spin_group
    total = SIZE[:spin_total].to_s
    wave = '10000'
    rate = Figure.new(key: 'rate', label: 'fibers/s', better: :higher)
    Group.new(
      id: 'spin', title: "3b. Spin and await #{total} fibers (waves of #{wave})", figures: [rate],
      contenders: [peer('raw Fiber (resume x2)', 'spin_await.rb', 'fiber', total, wave, baseline: true),
                   *polyphony_contenders('spin_await.rb', total, wave),
                   peer('ruby-async', 'spin_await.rb', 'async', total, wave, needs: ASYNC)],
      targets: [],
      notes: 'waves: Ruby 3.1 holds ~30,000 live fibers at most (a guard page each; vm.max_map_count 65530); ' \
             'a full GC after each wave, not timed'
    )
  end

  def pingpong_group
    n = SIZE[:trips].to_s
    rate = Figure.new(key: 'rate', label: 'round trips/s', better: :higher)
    Group.new(
      id: 'pingpong', title: "3c. Message ping-pong between two fibers (#{n} round trips)", figures: [rate],
      contenders: [peer('ruby-async (Async::Queue)', 'pingpong.rb', 'async', n, baseline: true, needs: ASYNC),
                   *polyphony_contenders('pingpong.rb', n),
                   peer('threads (Thread::Queue)', 'pingpong.rb', 'threads', n)],
      targets: []
    )
  end

  # The runtime's echo against the floor, per backend (io_uring has more to give).
  ECHO_FLOOR = 'C epoll server (floor)'
  ECHO_FLOOR_TARGET = { 'io_uring' => 0.9, 'libev' => 0.7 }.freeze

  def echo_group
    rate = Figure.new(key: 'rate', label: 'round trips/s', better: :higher)
    cpu = Figure.new(key: 'cpu_us', label: 'server CPU us/trip', better: :lower, digits: 2)
    pcs = BACKENDS.map do |backend|
      Contender.new(label: "polyphony (#{backend})",
                    run: -> { guard(polyphony_problem(backend)); run_echo('polyphony', env: ruby_env(backend)) })
    end
    Group.new(
      id: 'echo',
      title: "3d. TCP echo, #{SIZE[:echo_conns]} connections, 64-byte messages, #{SIZE[:echo_seconds]} s",
      figures: [rate, cpu],
      contenders: [Contender.new(label: ECHO_FLOOR, baseline: true, run: -> { run_echo(:floor) }),
                   *pcs,
                   Contender.new(label: 'ruby-async (task per connection)',
                                 run: -> { guard(gem_problem(*ASYNC)); run_echo('async', env: ruby_env) }),
                   Contender.new(label: 'threads (thread per connection)', run: -> { run_echo('threads') })],
      targets: BACKENDS.zip(pcs).flat_map do |backend, c|
        [Target.new(contender: c.label, check: ratio_target(c.label, ECHO_FLOOR, ECHO_FLOOR_TARGET.fetch(backend, 0.7),
                                                                name: 'floor')),
         Target.new(contender: c.label, check: ratio_target(c.label, 'ruby-async (task per connection)', 1.5))]
      end,
      notes: 'load from bench/echo_client.c (one thread, epoll) on the same machine; the floor is ' \
             'bench/echo_floor.c (one thread, epoll, level-triggered, no runtime)'
    )
  end

  # The PostgreSQL and Redis servers (tests/lib/pt_servers.rb), started
  # once, when a group first needs them, and stopped when the run ends:
  # their addresses in the environment, as the tests get them.
  def db_env
    @db_env ||= PtServers.start(:postgres, :redis)
  rescue PtServers::Error, SystemCallError => e
    @db_problem = "servers: #{one_line(e.message)[0, 100]}"
    raise NotAvailable, @db_problem
  end

  def db_run(mode, env)
    raise NotAvailable, @db_problem if @db_problem

    guard(gem_problem('ruby-pg', 'pg') || gem_problem('ruby-redis', 'redis'))
    run_plain([RUBY, File.join(WORK, 'db_clients.rb'), mode, SIZE[:db_fibers].to_s, SIZE[:db_seconds].to_s],
              env: env.merge(db_env), timeout: 3 * SIZE[:db_seconds] + 120)
  end

  def db_group
    rates = [Figure.new(key: 'select1', label: 'SELECT 1 queries/s', better: :higher, digits: 0),
             Figure.new(key: 'sleep', label: 'pg_sleep(0.01) queries/s', better: :higher, digits: 0),
             Figure.new(key: 'redis', label: 'Redis round trips/s', better: :higher, digits: 0)]
    cpus = [%w[select1 query], %w[sleep query], %w[redis trip]].map do |key, per|
      Figure.new(key: "#{key}_cpu", label: "#{key}: client CPU us/#{per}", better: :lower, digits: 1)
    end
    pcs = BACKENDS.map do |backend|
      Contender.new(label: "polyphony (#{backend})",
                    run: -> { guard(polyphony_problem(backend)); db_run('polyphony', ruby_env(backend)) })
    end
    async = 'ruby-async (task per connection)'
    Group.new(
      id: 'db',
      title: "3e. PostgreSQL and Redis clients, #{SIZE[:db_fibers]} fibers with a connection each, " \
             "#{SIZE[:db_seconds]} s per figure",
      figures: rates + cpus,
      contenders: [Contender.new(label: async, baseline: true,
                                 run: -> { guard(gem_problem(*ASYNC)); db_run('async', ruby_env) }),
                   *pcs],
      targets: pcs.flat_map do |c|
        rates.map { |f| Target.new(contender: c.label, figure: f.key, check: ratio_target(c.label, async, 1.0, f.key)) }
      end,
      notes: 'bench/workloads/db_clients.rb: ruby-pg 1.4 (polyphony/adapters/postgres) and ruby-redis 4.8 ' \
             '(polyphony/adapters/redis), the same code under both runtimes; a Redis round trip is one SET or GET; ' \
             'PostgreSQL 15 and Redis 7 on loopback (tests/lib/pt_servers.rb) share the machine with the client; ' \
             'client CPU: the benchmark process\'s CPU time (all threads) per query or round trip'
    )
  end

  def memory_group
    n = SIZE[:idle_fibers].to_s
    figs = [Figure.new(key: 'delta_mb', label: 'RSS added MB', better: :lower, digits: 1),
            Figure.new(key: 'rss_mb', label: 'RSS MB', better: :lower, digits: 1)]
    script = File.join(WORK, 'idle_fibers.rb')
    with_tracer = lambda do
      guard(tracer_problem)
      run_debugged(PtClient, [RUBY, script, 'polyphony', n], env: ruby_env)
    end
    Group.new(
      id: 'memory', title: "4. Memory: #{n} idle fibers", figures: figs,
      contenders: [peer('raw Fiber', 'idle_fibers.rb', 'fiber', n, baseline: true),
                   *polyphony_contenders('idle_fibers.rb', n).first(1),
                   Contender.new(label: 'polyphony + polytrace attached', run: with_tracer),
                   peer('ruby-async', 'idle_fibers.rb', 'async', n, needs: ASYNC)],
      targets: [Target.new(contender: 'polyphony + polytrace attached', figure: 'rss_mb',
                           check: lambda { |m|
                             plain = m.dig("polyphony (#{BACKENDS.first})", 'rss_mb')
                             traced = m.dig('polyphony + polytrace attached', 'rss_mb')
                             plain && traced ? [nil, format('tracer adds %+.1f MB', traced - plain)] : [nil, 'n/a']
                           })],
      notes: 'RSS after GC; "RSS added" = after making the fibers minus before'
    )
  end

  # `fibers` at the prompt of a program with 10,000 fibers: the line sent
  # to the next prompt (the screenful, or the groups, printed in between),
  # next to `p 1` at the same stop (a round trip that lists no fiber).
  def fibers_group
    n = SIZE[:idle_fibers]
    count = QUICK ? 3 : 10
    figs = [Figure.new(key: 'median_ms', label: 'median ms', better: :lower, digits: 1),
            Figure.new(key: 'max_ms', label: 'slowest ms', better: :lower, digits: 1)]
    env = ruby_env
    command = ->(line) { -> { guard(tracer_problem); run_command(line, n, count, env: env) } }
    under_a_second = lambda do |label|
      Target.new(contender: label, figure: 'max_ms',
                 check: lambda { |m|
                   v = m.dig(label, 'max_ms')
                   v ? [v < 1000, format('slowest %.0f ms (< 1000 ms)', v)] : [nil, 'n/a']
                 })
    end
    labels = ['fibers', 'fibers -g state', 'fibers -g location', 'fibers ^1000[0-9] -']
    Group.new(
      id: 'fibers', title: "6. fibers at the prompt, #{n} waiting + 50 runnable fibers " \
                           "(#{count} times each: line sent -> next prompt)",
      figures: figs,
      contenders: [Contender.new(label: 'p 1 (the same stop)', baseline: true, run: command.call('p 1')),
                   *labels.map { |l| Contender.new(label: l, run: command.call(l)) }],
      targets: labels.map { |l| under_a_second.call(l) },
      notes: 'through a pseudo-terminal, as a user sees it; "slowest" is the slowest of the times in a round ' \
             '(the median over the rounds of that)'
    )
  end

  # Stops bench/workloads/many_fibers.rb with n fibers at its @stop line and
  # times line at the prompt count times (after one untimed run).
  def run_command(line, fibers, count, env:)
    script = File.join(WORK, 'many_fibers.rb')
    stop = File.readlines(script).index { |l| l.include?('# @stop') } + 1
    client = nil
    begin
      client = ReplClient.new([RUBY, script, fibers.to_s], build: BUILD, env: env, timeout: 60)
      client.timed_command("break #{script}:#{stop}")
      client.timed_command('continue', 120)
      client.timed_command(line, 60)
      times = Array.new(count) { client.timed_command(line, 60) }.sort
    rescue ClientFailure, SystemCallError, IOError => e
      raise NotAvailable, e.message[0, 120]
    ensure
      client&.kill
      client&.finish(5) rescue nil # rubocop:disable Style/RescueModifier
    end
    { 'median_ms' => percentile(times, 50) * 1e3, 'max_ms' => times.last * 1e3 }
  end

  def groups
    all = [idle_group, step_group, dap_step_group, switch_group, spin_group, pingpong_group, echo_group, db_group,
           memory_group, Web.hello_group, Web.pg_group, fibers_group]
    ONLY.empty? ? all : all.select { |g| g.id.include?(ONLY) }
  end

  # --- running and the table ----------------------------------------------

  def skipped?(contender)
    !SKIP.empty? && !contender.baseline && contender.label.include?(SKIP)
  end

  def run_group(group)
    results = Hash.new { |h, k| h[k] = [] }
    failures = {}
    list = group.contenders
    list = list.reject { |c| skipped?(c) }
    ROUNDS.times do |round|
      list.rotate(round % list.size).each do |c|
        next if failures.key?(c.label) && results[c.label].empty?

        t0 = clock
        begin
          results[c.label] << c.run.call
          status = 'ok'
        rescue NotAvailable => e
          failures[c.label] = one_line(e.message)
          status = "n/a: #{failures[c.label][0, 100]}"
        end
        warn format('  [%<g>s %<r>d/%<n>d] %-44<c>s %<s>s (%<t>.1fs)',
                    g: group.id, r: round + 1, n: ROUNDS, c: c.label, s: status, t: clock - t0)
      end
    end
    medians = group.contenders.to_h do |c|
      [c.label, group.figures.to_h { |f| [f.key, median(results[c.label].map { |r| r[f.key] }.compact)] }]
    end
    [medians, failures, results]
  end

  # (max - min) / median of a figure over the rounds, in percent.
  def spread(results, figure)
    values = results.map { |r| r[figure.key] }.compact
    return '' if values.size < 2

    format('%.1f%%', (values.max - values.min) / median(values) * 100)
  end

  def rows_for(group, medians, failures, results)
    base = group.contenders.find(&:baseline)
    group.contenders.flat_map do |c|
      group.figures.each_with_index.map do |f, fi|
        value = medians.dig(c.label, f.key)
        base_value = medians.dig(base.label, f.key)
        ratio = c.baseline ? 'baseline' : (value && base_value ? format('%.2f', value / base_value) : '')
        [fi.zero? ? c.label : '', f.label, shown_value(c, f, value, failures),
         value ? spread(results[c.label], f) : '', ratio,
         verdicts(group, c, f, fi, medians, value && results[c.label].size)]
      end
    end
  end

  def shown_value(contender, figure, value, failures)
    return figure.show(value) if value
    return 'skipped (BENCH_SKIP)' if skipped?(contender)

    "n/a (#{(failures[contender.label] || 'no figure')[0, 90]})"
  end

  # The target column: each target of this contender and figure, checked
  # against the medians; says how many rounds ran when some failed.
  def verdicts(group, contender, figure, index, medians, runs)
    texts = group.targets.select do |t|
      t.contender == contender.label && (t.figure.nil? ? index.zero? : t.figure == figure.key)
    end.map do |t|
      ok, text = t.check.call(medians)
      mark = { true => 'met: ', false => 'MISSED: ', nil => '' }.fetch(ok)
      "#{mark}#{text}"
    end
    texts << "(#{runs}/#{ROUNDS} runs)" if runs && runs < ROUNDS
    texts.join('; ')
  end

  def machine
    cpu = File.read('/proc/cpuinfo')[/^model name\s*:\s*(.+)$/, 1] rescue 'unknown cpu' # rubocop:disable Style/RescueModifier
    os = File.read('/etc/os-release')[/^PRETTY_NAME="?([^"\n]+)/, 1] rescue 'unknown os' # rubocop:disable Style/RescueModifier
    load = File.read('/proc/loadavg').split.first(3).join(' ') rescue '?' # rubocop:disable Style/RescueModifier
    "#{cpu}, #{Etc.nprocessors} CPUs, #{os}, kernel #{`uname -r`.strip}, " \
      "ruby #{RUBY_VERSION}; load average at start #{load}"
  end

  # One Markdown table for every benchmark; each benchmark's notes follow it.
  def render(sections, started)
    head = %w[benchmark contender figure median spread ratio target]
    lines = ["PolyTrace benchmarks — #{started.utc.iso8601}, #{ROUNDS} rounds#{QUICK ? ' (BENCH_QUICK)' : ''}",
             "machine: #{machine}", '',
             "| #{head.join(' | ')} |",
             "|#{head.map { |h| %w[median spread ratio].include?(h) ? '---:' : '---' }.join('|')}|"]
    sections.each do |group, rows|
      rows.each_with_index { |r, i| lines << "| #{[i.zero? ? group.title : '', *r].join(' | ')} |" }
    end
    lines << ''
    sections.each { |group, _| lines << "- #{group.title.split.first} #{group.notes}" if group.notes }
    lines.join("\n")
  end

  def main
    started = Time.now
    warn "bench: #{ROUNDS} rounds#{QUICK ? ' (quick)' : ''}, build #{BUILD}; progress on stderr, table on stdout"
    sections = groups.map do |g|
      warn "bench: #{g.title}"
      medians, failures, results = run_group(g)
      [g, rows_for(g, medians, failures, results)]
    end
    table = render(sections, started)
    puts table
    FileUtils.mkdir_p(File.dirname(OUTFILE))
    File.write(OUTFILE, "#{table}\n")
    warn "bench: table also written to #{OUTFILE}"
  end
end

Bench.main if $PROGRAM_NAME == __FILE__
