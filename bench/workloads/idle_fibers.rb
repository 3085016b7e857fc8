# frozen_string_literal: true

# bench/workloads/idle_fibers.rb — resident memory of many idle fibers.
#
# Usage: ruby idle_fibers.rb MODE [COUNT]
# Makes COUNT (default 10,000) fibers that each start and then wait forever,
# lets them all reach their wait, and reports the process's RSS (VmRSS) before
# and after, after a full GC both times.
#   polyphony  spin { receive }   (under polytrace too, to see what the
#                                  tracer adds)
#   async      task.async { condition.wait } on one Async::Condition
#   fiber      raw Fiber.new { Fiber.yield }, resumed once
# Prints: BENCH rss_mb=<RSS after, MB> delta_mb=<after - before, MB>
#               kb_per_fiber=<delta per fiber, KB>

mode = ARGV.fetch(0)
count = Integer(ARGV.fetch(1, '10000'))

def rss_kb
  File.read('/proc/self/status')[/^VmRSS:\s+(\d+)/, 1].to_i
end

def settled_rss
  GC.start
  rss_kb
end

report = lambda do |before, after|
  puts format('BENCH rss_mb=%<rss>.2f delta_mb=%<delta>.2f kb_per_fiber=%<per>.2f',
              rss: after / 1024.0, delta: (after - before) / 1024.0,
              per: (after - before).to_f / count)
end

case mode
when 'polyphony'
  require 'polyphony'
  snooze
  before = settled_rss
  fibers = Array.new(count) { spin { receive } }
  snooze # every fiber runs up to its receive
  report.call(before, settled_rss)
  fibers.size
when 'async'
  require 'async'
  require 'async/condition'
  Async do |task|
    condition = Async::Condition.new
    task.yield
    before = settled_rss
    tasks = Array.new(count) { task.async { condition.wait } }
    task.yield
    report.call(before, settled_rss)
    tasks.each(&:stop)
  end
when 'fiber'
  before = settled_rss
  fibers = Array.new(count) { Fiber.new { Fiber.yield } }
  fibers.each(&:resume)
  report.call(before, settled_rss)
  fibers.size
else
  abort "idle_fibers.rb: unknown mode #{mode}"
end
$stdout.flush
exit!(0) # skip tearing down COUNT fibers; the figure is taken
