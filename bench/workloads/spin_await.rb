# frozen_string_literal: true

# bench/workloads/spin_await.rb — create, run and await many fibers.
#
# Usage: ruby spin_await.rb MODE [TOTAL] [WAVE]
# TOTAL fibers (default 100,000) are made in waves of WAVE (default 10,000):
# Ruby 3.1 cannot hold 100,000 live fibers at once (each fiber stack has a
# guard page, i.e. its own mappings, and vm.max_map_count is 65,530), so each
# wave is awaited before the next starts. Each fiber yields once, so it is
# suspended and resumed once, then finishes.
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

elapsed =
  case mode
  when 'polyphony'
    require 'polyphony'
    started = clock
    waves.times do
      fibers = Array.new(wave) { spin { snooze } }
      fibers.each(&:await)
    end
    clock - started
  when 'async'
    require 'async'
    started = nil
    Async do |task|
      started = clock
      waves.times do
        tasks = Array.new(wave) { task.async { |t| t.yield } }
        tasks.each(&:wait)
      end
    end
    clock - started
  when 'fiber'
    started = clock
    waves.times do
      fibers = Array.new(wave) { Fiber.new { Fiber.yield } }
      fibers.each(&:resume)
      fibers.each(&:resume)
    end
    clock - started
  else
    abort "spin_await.rb: unknown mode #{mode}"
  end

puts format('BENCH rate=%<rate>.1f wall=%<wall>.6f', rate: (waves * wave) / elapsed, wall: elapsed)
