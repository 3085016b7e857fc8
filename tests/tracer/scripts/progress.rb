# A long-running program that shows its own pace: a ticker fiber prints
# "tick N T" every 0.05 s (T: its monotonic clock, seconds) from the
# runtime's timers while a second fiber waits on a queue. Prints "ready PID"
# first and "finished" once the file named by ARGV[0] exists.
require 'polyphony'

stop_file = ARGV[0]
clock = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }
waiter = spin { receive }
ticker = spin do
  n = 0
  until File.exist?(stop_file)
    n += 1
    puts format('tick %<n>d %<t>.3f', n: n, t: clock.call)
    $stdout.flush
    sleep 0.05
  end
end
puts "ready #{Process.pid}"
$stdout.flush
ticker.await
waiter << :done
waiter.await
puts 'finished'
