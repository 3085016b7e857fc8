# Many small I/O ops between two stops, every op event counted by the
# program itself ($ops, through Polyphony::Trace): for the tests of a
# controller that does not read the op trace while the program runs.
# Usage: runtime_ops_flood.rb [N] [then]; then is "stop" (the default: a
# second breakpoint, then the program ends) or "idle" (the program goes
# idle for good: its loop waits with nothing due for an hour).
require 'polyphony'
$ops = 0
Polyphony::Trace.start { |ev| $ops += 1 if ev[:kind] == :op_submit || ev[:kind] == :op_complete }
n = Integer(ARGV[0] || 20_000)
idle = ARGV[1] == 'idle'
r, w = IO.pipe
breakpoint
reader = spin { got = 0; got += r.readpartial(8).bytesize while got < n * 8 }
n.times { w.write('01234567') }
reader.await
$stdout.puts 'flooded'
$stdout.flush
sleep 3600 if idle
breakpoint
puts 'done'
