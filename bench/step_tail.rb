# frozen_string_literal: true

# bench/step_tail.rb — where the slow steps of the step-latency benchmark
# spend their time. Not part of `make bench`: a tool for reading its tail.
#
# Usage: ruby bench/step_tail.rb [STEPS]     (BUILD=build by default)
#
# Steps bench/workloads/step_target.rb through the wire protocol as
# `make bench` does (bench/lib/pt_client.rb) and, around every step, reads
# the kernel's scheduler counters (/proc/PID/schedstat: CPU time run and
# time spent runnable but waiting for a CPU, in ns) of the stepped program's
# main thread and of this client. For the middle 10% of the steps and the slowest
# 1% it prints the steps' mean time and, within it, the program's time running
# and waiting for a CPU and the client's (the two may overlap: two CPUs).
# A tail made of "waiting for a CPU" is the machine's load, not the
# debugger's work; "running" on a virtual machine includes time the host
# took the virtual CPU away.

require 'rbconfig'
require_relative 'lib/pt_client'

module Bench
  module StepTail
    ROOT = File.expand_path('..', __dir__)
    BUILD = File.expand_path(ENV.fetch('BUILD', 'build'), ROOT)

    module_function

    # [ns run, ns waiting for a CPU] of a task.
    def schedstat(path)
      File.read(path).split.first(2).map(&:to_i)
    end

    def main(steps)
      argv = [RbConfig.ruby, File.join(ROOT, 'bench', 'workloads', 'step_target.rb')]
      # The runtime preloaded, as `make bench` does, so the steps are the loop's.
      env = { 'RUBYLIB' => File.join(BUILD, 'lib'), 'RUBYOPT' => ['-rpolyphony', ENV['RUBYOPT']].compact.join(' ') }
      client = PtClient.new(argv, build: BUILD, env: env, out: File::NULL, err: File::NULL)
      client.wait_stopped
      prog = "/proc/#{client.pid}/task/#{client.pid}/schedstat"
      mine = "/proc/#{Process.pid}/task/#{Process.pid}/schedstat"
      20.times { client.timed_step }
      rows = Array.new(steps) do
        p0 = schedstat(prog)
        m0 = schedstat(mine)
        t = client.timed_step
        p1 = schedstat(prog)
        m1 = schedstat(mine)
        [t * 1e9, p1[0] - p0[0], p1[1] - p0[1], m1[0] - m0[0], m1[1] - m0[1]]
      end
      report(rows)
    ensure
      client&.kill
      client&.finish(5) rescue nil # rubocop:disable Style/RescueModifier
    end

    def report(rows)
      sorted = rows.sort_by(&:first)
      tail = sorted.last([sorted.size / 100, 1].max)
      mid = sorted[(sorted.size * 0.45).floor...(sorted.size * 0.55).ceil]
      puts format('%d steps: median %.1f us, p99 %.1f us, max %.1f us', rows.size,
                  sorted[sorted.size / 2][0] / 1e3, sorted[(sorted.size * 0.99).ceil - 1][0] / 1e3,
                  sorted.last[0] / 1e3)
      puts format('%-16s %9s %9s %9s %9s %9s', '(mean us)', 'step', 'prog run', 'prog wait',
                  'ctl run', 'ctl wait')
      { 'middle 10%' => mid, 'slowest 1%' => tail }.each do |label, set|
        avg = (0..4).map { |i| set.sum { |r| r[i] } / set.size / 1e3 }
        puts format('%-16s %9.1f %9.1f %9.1f %9.1f %9.1f', label, *avg)
      end
      load = File.read('/proc/loadavg').split.first(3).join(' ')
      puts "load average: #{load}"
    end
  end
end

Bench::StepTail.main(Integer(ARGV.fetch(0, '1000'))) if $PROGRAM_NAME == __FILE__
