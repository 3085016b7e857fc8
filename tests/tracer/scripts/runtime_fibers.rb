# Fibers of the runtime waiting on different things, for `fibers` and the
# fiber lock / loop suspend tests. ARGV[0]: how many extra fibers wait on
# receive.
require 'polyphony'
clock = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }
$count = 0
sleeper = spin(:sleeper) do
  start = clock.call
  sleep 1
  $woke = clock.call
  $slept = $woke - start
end
spin(:receiver) { receive }
spin(:counter) { loop { $count += 1; snooze } }
Integer(ARGV[0] || 0).times { spin { receive } }
snooze
breakpoint
$resumed = clock.call
snooze
snooze
x = $count
sleeper.await
puts format('after=%.3f slept=%.3f x=%d', $woke - $resumed, $slept, x)
exit!(0)
