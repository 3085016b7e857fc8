# frozen_string_literal: true

# tests/run.rb — runs every PolyTrace test suite and sums them.
#
# Suites: the check binaries in $BUILD/tests (C units), the minitest files
# under tests/runtime (once per runtime backend), tests/tracer, tests/e2e and
# tests/support (the test harness itself), and the DAP tests under tests/dap
# (node's test runner, TAP output).
# Each file runs in its own process with a time limit, JOBS at a time; a file
# that dies without a summary counts as one failure. The last line printed is
# "N passed, N failed, N skipped"; the exit status is non-zero on any failure.
#
# Environment: BUILD (default build), JOBS (default 2), ONLY (c|ruby|e2e|dap, or a
# substring of a test file's path), PT_BACKENDS (default "libev io_uring"),
# PT_TEST_TIMEOUT (seconds per file, default 300).
#
# Real servers: when a selected test file calls
# PtServers.ensure_running(:postgres, :redis) (tests/lib/pt_servers.rb), the
# run starts those servers once, before the first suite, tells every suite
# where they are (PT_PG_*, PT_REDIS_*), and stops them at the end, however
# the run ends.

require 'rbconfig'
require_relative 'lib/pt_servers'

# SIGINT as Ruby has it (an Interrupt), also when this run inherited it
# ignored (a background job of a shell without job control): the test
# programs inherit the default action from here, and the tests of
# Interrupt would otherwise see nothing.
trap('INT', 'DEFAULT')

ROOT     = File.expand_path('..', __dir__)
BUILD    = File.expand_path(ENV.fetch('BUILD', 'build'), ROOT)
JOBS     = Integer(ENV.fetch('JOBS', '2'))
ONLY     = ENV['ONLY'].to_s
BACKENDS = ENV.fetch('PT_BACKENDS', 'libev io_uring').split
TIMEOUT  = Integer(ENV.fetch('PT_TEST_TIMEOUT', '300'))

Suite  = Struct.new(:name, :argv, :env)
Result = Struct.new(:suite, :passed, :failed, :skipped, :log, :seconds)

def ruby_env
  {
    'RUBYLIB' => [File.join(BUILD, 'lib'), File.join(ROOT, 'tests', 'lib')].join(':'),
    'PATH' => "#{File.join(BUILD, 'bin')}:#{ENV.fetch('PATH', '/usr/bin:/bin')}",
    'PT_BUILD' => BUILD,
    'PT_ROOT' => ROOT
  }
end

def c_suites
  Dir[File.join(BUILD, 'tests', 'check_*')].sort.select { |f| File.executable?(f) }.map do |bin|
    Suite.new("c/#{File.basename(bin)}", [bin], {})
  end
end

def ruby_suites(dir, backends = [nil])
  Dir[File.join(ROOT, 'tests', dir, 'test_*.rb')].sort.flat_map do |file|
    backends.map do |backend|
      env = ruby_env
      env['POLYPHONY_BACKEND'] = backend if backend
      name = "#{dir}/#{File.basename(file)}#{backend ? " [#{backend}]" : ''}"
      Suite.new(name, [RbConfig.ruby, file], env)
    end
  end
end

# The DAP tests drive `polytrace dap` with the VS Code team's DebugClient
# (npm packages installed by `make deps` into tests/dap/node_modules).
def dap_suites
  Dir[File.join(ROOT, 'tests', 'dap', 'test_*.js')].sort.map do |file|
    Suite.new("dap/#{File.basename(file)}", ['node', '--test', '--test-reporter=tap', file], ruby_env)
  end
end

def selected_suites
  all = c_suites + ruby_suites('runtime', BACKENDS) + ruby_suites('tracer') + ruby_suites('e2e') +
        ruby_suites('support') + dap_suites
  case ONLY
  when '' then all
  when 'c' then all.select { |s| s.name.start_with?('c/') }
  when 'ruby' then all.reject { |s| s.name.start_with?('c/', 'e2e/', 'dap/') }
  when 'e2e' then all.select { |s| s.name.start_with?('e2e/') }
  else all.select { |s| s.name.include?(ONLY) }
  end
end

# Counts from check ("Checks: 5, Failures: 1, Errors: 0"), minitest
# ("5 runs, 9 assertions, 1 failures, 0 errors, 1 skips") or node's TAP
# summary ("# pass 5", "# fail 1", "# cancelled 0", "# skipped 1").
def parse_counts(log)
  if (pass = log[/^# pass (\d+)$/, 1])
    tap = ->(word) { log[/^# #{word} (\d+)$/, 1].to_i }
    return [pass.to_i, tap.call('fail') + tap.call('cancelled'), tap.call('skipped') + tap.call('todo')]
  end
  if (m = log.scan(/Checks: (\d+), Failures: (\d+), Errors: (\d+)/).last)
    total, failures, errors = m.map(&:to_i)
    return [total - failures - errors, failures + errors, 0]
  end
  if (m = log.scan(/(\d+) runs, \d+ assertions, (\d+) failures, (\d+) errors, (\d+) skips/).last)
    runs, failures, errors, skips = m.map(&:to_i)
    return [runs - failures - errors - skips, failures + errors, skips]
  end
  nil
end

# The servers the selected Ruby test files ask for.
def servers_needed(suites)
  suites.flat_map do |s|
    file = s.argv.last
    next [] unless file.end_with?('.rb')

    File.read(file).scan(/PtServers\.ensure_running\(([^)]*)\)/).flat_map do |(args)|
      args.scan(/:(\w+)/).flatten.map(&:to_sym)
    end
  end.uniq & PtServers::NAMES
end

SERVER_ENV = {} # rubocop:disable Style/MutableConstant

def run_suite(suite)
  started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  reader, writer = IO.pipe
  pid = Process.spawn(suite.env.merge(SERVER_ENV), *suite.argv, chdir: ROOT, in: File::NULL,
                                                                out: writer, err: writer, pgroup: true)
  writer.close
  log = +''
  timed_out = false
  deadline = started + TIMEOUT
  loop do
    left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
    if left <= 0
      timed_out = true
      break
    end
    ready = IO.select([reader], nil, nil, left)
    next unless ready

    chunk = reader.read_nonblock(65_536, exception: false)
    break if chunk.nil?

    log << chunk unless chunk == :wait_readable
  end
  if timed_out
    Process.kill('KILL', -pid) rescue nil # rubocop:disable Style/RescueModifier
    log << "\n*** timed out after #{TIMEOUT}s\n"
  end
  reader.close
  _, status = Process.wait2(pid)
  counts = parse_counts(log)
  passed, failed, skipped = counts || [0, 1, 0]
  failed = [failed, 1].max if timed_out || !status.success?
  log << "\n*** exited with #{status}\n" unless status.success?
  Result.new(suite, passed, failed, skipped, log,
             Process.clock_gettime(Process::CLOCK_MONOTONIC) - started)
end

suites = selected_suites
if suites.empty?
  warn "tests/run.rb: no test suites found under #{BUILD} and tests/ (ONLY=#{ONLY.inspect})"
  puts '0 passed, 1 failed'
  exit 1
end

unless (needed = servers_needed(suites)).empty?
  begin
    SERVER_ENV.update(PtServers.start(*needed))
  rescue PtServers::Error, SystemCallError => e
    warn "tests/run.rb: could not start the test servers (#{needed.join(', ')}): #{e.message}"
    puts '0 passed, 1 failed'
    exit 1
  end
end

queue = Queue.new
suites.each { |s| queue << s }
results = Queue.new
printer = Mutex.new
workers = Array.new([JOBS, 1].max) do
  Thread.new do
    while (suite = (queue.pop(true) rescue nil)) # rubocop:disable Style/RescueModifier
      r = run_suite(suite)
      printer.synchronize do
        mark = r.failed.zero? ? 'ok  ' : 'FAIL'
        line = format('%<mark>s %-48<name>s %<p>4d passed %<f>3d failed', mark: mark, name: suite.name,
                                                                            p: r.passed, f: r.failed)
        line += " #{r.skipped} skipped" if r.skipped.positive?
        puts format('%<line>s  (%<s>.1fs)', line: line, s: r.seconds)
        puts r.log.gsub(/^/, '    | ') unless r.failed.zero?
        $stdout.flush
      end
      results << r
    end
  end
end
workers.each(&:join)

all = Array.new(results.size) { results.pop }
passed = all.sum(&:passed)
failed = all.sum(&:failed)
skipped = all.sum(&:skipped)
summary = "#{passed} passed, #{failed} failed"
summary += ", #{skipped} skipped" if skipped.positive?
puts summary
exit(failed.zero? ? 0 : 1)
