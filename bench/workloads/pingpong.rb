# frozen_string_literal: true

# bench/workloads/pingpong.rb — message round trips between two fibers.
#
# Usage: ruby pingpong.rb MODE [ROUND_TRIPS]
#   polyphony  Fiber#<< and receive (the runtime's mailboxes)
#   async      two Async::Queue objects, one per direction
#   threads    two threads and two Thread::Queue objects
# Prints: BENCH rate=<round trips per second> wall=<seconds>

mode = ARGV.fetch(0)
trips = Integer(ARGV.fetch(1, '200000'))

def clock
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

elapsed =
  case mode
  when 'polyphony'
    require 'polyphony'
    started = clock
    ponger = spin do
      loop do
        sender, value = receive
        break if value.nil?

        sender << value
      end
    end
    me = Fiber.current
    trips.times do |i|
      ponger << [me, i]
      receive
    end
    ponger << [me, nil]
    ponger.await
    clock - started
  when 'async'
    require 'async'
    require 'async/queue'
    started = nil
    Async do |task|
      ping = Async::Queue.new
      pong = Async::Queue.new
      started = clock
      ponger = task.async do
        while (value = ping.dequeue)
          pong.enqueue(value)
        end
      end
      trips.times do |i|
        ping.enqueue(i + 1)
        pong.dequeue
      end
      ping.enqueue(nil)
      ponger.wait
    end
    clock - started
  when 'threads'
    ping = Thread::Queue.new
    pong = Thread::Queue.new
    started = clock
    ponger = Thread.new do
      while (value = ping.pop)
        pong << value
      end
    end
    trips.times do |i|
      ping << i + 1
      pong.pop
    end
    ping << nil
    ponger.join
    clock - started
  else
    abort "pingpong.rb: unknown mode #{mode}"
  end

puts format('BENCH rate=%<rate>.1f wall=%<wall>.6f', rate: trips / elapsed, wall: elapsed)
