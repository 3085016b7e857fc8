# frozen_string_literal: true

# bench/workloads/fiber_calls.rb — the debugger idle-overhead workload.
#
# FC_FIBERS fibers (default 1,000) in a ring, each starting with one
# message; every fiber FC_ROUNDS times takes a message, makes
# 3 x FC_CALLS method calls, and passes the message on to the next fiber.
# Beside the ring two fibers send FC_IO small messages over a socket pair,
# so that the op-event trace has I/O ops to report. Prints one line:
#   BENCH cpu=<process CPU seconds> wall=<seconds> calls=<method calls>
# timing only the work (not Ruby's or a debugger's start-up).
#
# The method `never_reached` is where the benchmark puts its 20 breakpoints:
# lines marked "bp" are never executed.

require 'polyphony'
require 'socket'

FIBERS = Integer(ENV.fetch('FC_FIBERS', '1000'))
ROUNDS = Integer(ENV.fetch('FC_ROUNDS', '20'))
CALLS  = Integer(ENV.fetch('FC_CALLS', '100'))
IO_MSGS = Integer(ENV.fetch('FC_IO', '2000'))

# Method calls to make a line-event and call-event heavy fiber.
class Worker
  def initialize(seed)
    @acc = seed
  end

  def work(count)
    i = 0
    while i < count
      @acc = step(@acc ^ i)
      i += 1
    end
    @acc
  end

  def step(value)
    add(mul(value, 3), 7)
  end

  def add(left, right)
    left + right
  end

  def mul(left, right)
    (left * right) & 0xffff
  end
end

def never_reached(value)
  value += 1 # bp
  value *= 2 # bp
  value -= 3 # bp
  value ^= 4 # bp
  value += 5 # bp
  value *= 6 # bp
  value -= 7 # bp
  value ^= 8 # bp
  value += 9 # bp
  value *= 10 # bp
  value -= 11 # bp
  value ^= 12 # bp
  value += 13 # bp
  value *= 14 # bp
  value -= 15 # bp
  value ^= 16 # bp
  value += 17 # bp
  value *= 18 # bp
  value -= 19 # bp
  value ^= 20 # bp
  value
end

def ring
  fibers = Array.new(FIBERS) do |index|
    spin do
      worker = Worker.new(index)
      neighbour = receive
      ROUNDS.times do |round|
        message = receive
        worker.work(CALLS)
        neighbour << (message + 1) if round < ROUNDS - 1
      end
    end
  end
  fibers.each_with_index { |f, i| f << fibers[(i + 1) % FIBERS] }
  fibers.each { |f| f << 0 }
  fibers
end

def socket_pair
  left, right = UNIXSocket.pair
  payload = 'x' * 32
  writer = spin do
    IO_MSGS.times { left.write(payload) }
    left.close
  end
  reader = spin do
    got = 0
    got += right.readpartial(4096).bytesize while got < IO_MSGS * payload.bytesize
    right.close
  end
  [writer, reader]
end

# FC_GO_FILE: say READY, then start only once that file exists (a watcher
# such as `polytrace top` attaches in between, outside the timed section).
if (go = ENV['FC_GO_FILE'])
  $stdout.puts 'READY'
  $stdout.flush
  sleep 0.005 until File.exist?(go)
end

cpu0 = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
wall0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
all = ring + socket_pair
all.each(&:await)
wall = Process.clock_gettime(Process::CLOCK_MONOTONIC) - wall0
cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu0
puts format('BENCH cpu=%<cpu>.6f wall=%<wall>.6f calls=%<calls>d',
            cpu: cpu, wall: wall, calls: FIBERS * ROUNDS * CALLS * 3)
