# frozen_string_literal: true

# bench/profile.rb — profile one benchmark scenario, to find why a target is
# missed.
#
# Usage: ruby bench/profile.rb SCENARIO [perf|callgrind]
# Scenarios:
#   idle-plain idle-pt idle-pt-bp idle-pt-ops   fiber_calls.rb plain, or under
#                    polytrace (attached and continued; + 20 breakpoints
#                    elsewhere; + op-event trace)
#   switch-polyphony switch-transfer            switch.rb
#   pingpong-polyphony spin-polyphony           pingpong.rb, spin_await.rb
#   echo-polyphony                              echo server under load
# Environment: BUILD, POLYPHONY_BACKEND, FC_* (fiber_calls.rb sizes),
# PROFILE_OUT (default $BUILD/bench/profile-SCENARIO.txt).
#
# perf: `perf record -g` of the Ruby process, then `perf report` by symbol
# (self time), top lines printed and the report saved. callgrind: the same
# under `valgrind --tool=callgrind`, then callgrind_annotate.

require 'fileutils'
require_relative 'run'

module Bench
  module Profile
    module_function

    def wrapper(tool, data)
      case tool
      when 'perf' then ['perf', 'record', '-F', '1999', '-g', '-o', data, '--']
      when 'callgrind' then ['valgrind', '--tool=callgrind', "--callgrind-out-file=#{data}"]
      else abort "profile.rb: unknown tool #{tool}"
      end
    end

    def fiber_calls(prefix, env, **kw)
      argv = [*prefix, RUBY, File.join(WORK, 'fiber_calls.rb')]
      if kw.empty? && !env[:traced]
        Bench.run_plain(argv, env: env[:env])
      else
        Bench.run_debugged(PtClient, argv, env: env[:env], **kw)
      end
    end

    def run(scenario, prefix)
      env = Bench.ruby_env(ENV['POLYPHONY_BACKEND']).merge(SIZE[:fiber_calls])
      traced = { env: env, traced: true }
      case scenario
      when 'idle-plain' then fiber_calls(prefix, { env: env })
      when 'idle-pt' then fiber_calls(prefix, traced)
      when 'idle-pt-bp' then fiber_calls(prefix, traced, breakpoints: Bench.breakpoint_lines)
      when 'idle-pt-ops' then fiber_calls(prefix, traced, trace_ops: true)
      when 'switch-polyphony' then Bench.run_plain([*prefix, RUBY, File.join(WORK, 'switch.rb'), 'polyphony'], env: env)
      when 'switch-transfer' then Bench.run_plain([*prefix, RUBY, File.join(WORK, 'switch.rb'), 'transfer'], env: env)
      when 'pingpong-polyphony' then Bench.run_plain([*prefix, RUBY, File.join(WORK, 'pingpong.rb'), 'polyphony'], env: env)
      when 'spin-polyphony' then Bench.run_plain([*prefix, RUBY, File.join(WORK, 'spin_await.rb'), 'polyphony'], env: env)
      when 'echo-polyphony' then echo(prefix, env)
      else abort "profile.rb: unknown scenario #{scenario}"
      end
    end

    # The echo server under the profiler; the load generator outside it.
    def echo(prefix, env)
      client = Bench.echo_client
      reader, writer = IO.pipe
      pid = Process.spawn(env, *prefix, RUBY, File.join(WORK, 'echo_server.rb'), 'polyphony',
                          out: writer, in: File::NULL)
      writer.close
      port = reader.gets if IO.select([reader], nil, nil, 60)
      abort 'profile.rb: echo server did not start' unless port =~ /\AREADY (\d+)/

      figures = Bench.run_plain([client, '127.0.0.1', Regexp.last_match(1), '100', '3'])
      Process.kill('INT', pid) # perf and valgrind write their data on a clean end
      Process.wait(pid)
      figures
    end

    def main
      scenario = ARGV.fetch(0) { abort 'usage: ruby bench/profile.rb SCENARIO [perf|callgrind]' }
      tool = ARGV.fetch(1, 'perf')
      dir = File.join(BUILD, 'bench')
      FileUtils.mkdir_p(dir)
      data = File.join(dir, "profile-#{scenario}.#{tool}.data")
      out = ENV.fetch('PROFILE_OUT', File.join(dir, "profile-#{scenario}.txt"))
      figures = run(scenario, wrapper(tool, data))
      # perf: where the time went by object file, then by symbol (libruby's
      # static functions have no symbols in Debian's build: they show as
      # addresses; our extensions' do).
      report = if tool == 'perf'
                 `perf report -i #{data} --stdio --no-children --sort dso -g none 2>/dev/null` +
                   `perf report -i #{data} --stdio --no-children --sort symbol,dso -g none --percent-limit 0.7 2>/dev/null`
               else
                 `callgrind_annotate --threshold=95 #{data} 2>/dev/null`
               end
      File.write(out, "# #{scenario} (#{tool}): #{figures.inspect}\n#{report}")
      puts "#{scenario}: #{figures.inspect}"
      puts report.lines.grep_v(/\A#|\A\s*\z/).first(30)
      puts "(full report: #{out})"
    end
  end
end

Bench::Profile.main if $PROGRAM_NAME == __FILE__
