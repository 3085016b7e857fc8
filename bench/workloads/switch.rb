# frozen_string_literal: true

# bench/workloads/switch.rb — fiber switches per second.
#
# Usage: ruby switch.rb MODE [SWITCHES]
#   polyphony  two fibers spun by the runtime, each calling snooze in a loop
#   transfer   two raw fibers handing control over with Fiber#transfer (the
#              floor: no scheduler at all)
#   async      two ruby-async tasks, each calling Async::Task#yield
#   threads    two threads, each calling Thread.pass (a GVL hand-over; not
#              every pass is a switch, so the figure is passes per second)
# Prints: BENCH rate=<switches per second> wall=<seconds>

mode = ARGV.fetch(0)
switches = Integer(ARGV.fetch(1, '1000000'))
half = switches / 2

def clock
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

elapsed =
  case mode
  when 'polyphony'
    require 'polyphony'
    started = clock
    fibers = Array.new(2) { spin { half.times { snooze } } }
    fibers.each(&:await)
    clock - started
  when 'transfer'
    started = clock
    left = right = nil
    main = Fiber.current
    left = Fiber.new do
      half.times { right.transfer }
      main.transfer
    end
    right = Fiber.new { loop { left.transfer } }
    left.transfer
    clock - started
  when 'async'
    require 'async'
    started = nil
    Async do |task|
      started = clock
      tasks = Array.new(2) { task.async { |t| half.times { t.yield } } }
      tasks.each(&:wait)
    end
    clock - started
  when 'threads'
    started = clock
    threads = Array.new(2) { Thread.new { half.times { Thread.pass } } }
    threads.each(&:join)
    clock - started
  else
    abort "switch.rb: unknown mode #{mode}"
  end

puts format('BENCH rate=%<rate>.1f wall=%<wall>.6f', rate: (half * 2) / elapsed, wall: elapsed)
