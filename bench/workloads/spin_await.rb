# frozen_string_literal: true

# bench/workloads/spin_await.rb — create, run and await many fibers.
#
# Usage: ruby spin_await.rb MODE [TOTAL] [WAVE]
# TOTAL fibers (default 100,000) are made in waves of WAVE (default 10,000):
# Ruby 3.1 cannot hold 100,000 live fibers at once (each fiber stack has a
# guard page, i.e. its own mappings, and vm.max_map_count is 65,530), so each
# wave is awaited before the next starts. Each fiber yields once, so it is
# suspended and resumed once, then finishes. Between waves a full GC runs,
# outside the timed part: the runtime's finished fibers keep their stacks
# (two mappings each) until collected, and without it the fourth wave fails
# with "can't set a guard page" (raw fibers give their stacks back when they
# finish; see docs/benchmarks.md).
#   polyphony  spin { snooze } ... then Fiber#await on each
#   async      task.async { |t| t.yield } ... then Async::Task#wait on each
#   fiber      raw Fiber.new { Fiber.yield }, resumed twice (the floor)
# Prints: BENCH rate=<fibers per second> wall=<seconds>

mode = ARGV.fetch(0)
total = Integer(ARGV.fetch(1, '100000'))
wave = Integer(ARGV.fetch(2, '10000'))
waves = total / wave

def clock
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

# Runs the block once per wave and returns the seconds spent in the waves,
# not counting a full GC after each.
def timed_waves(waves)
  total = 0.0
  waves.times do
    started = clock
    yield
    total += clock - started
    GC.start
  end
  total
end

elapsed =
  case mode
  when 'polyphony'
    require 'polyphony'
    timed_waves(waves) do
      fibers = Array.new(wave) { spin { snooze } }
      fibers.each(&:await)
    end
  when 'async'
    require 'async'
    elapsed = nil
    Async do |task|
      elapsed = timed_waves(waves) do
        tasks = Array.new(wave) { task.async { |t| t.yield } }
        tasks.each(&:wait)
      end
    end
    elapsed
  when 'fiber'
    timed_waves(waves) do
      fibers = Array.new(wave) { Fiber.new { Fiber.yield } }
      fibers.each(&:resume)
      fibers.each(&:resume)
    end
  else
    abort "spin_await.rb: unknown mode #{mode}"
  end

puts format('BENCH rate=%<rate>.1f wall=%<wall>.6f', rate: (waves * wave) / elapsed, wall: elapsed)
