# Many small I/O ops between two stops, every op event counted by the
# program itself ($ops, through Polyphony::Trace): for the test of a
# controller that does not read the op trace while the program runs.
require 'polyphony'
$ops = 0
Polyphony::Trace.start { |ev| $ops += 1 if ev[:kind] == :op_submit || ev[:kind] == :op_complete }
n = Integer(ARGV.first || 20_000)
r, w = IO.pipe
breakpoint
reader = spin { got = 0; got += r.readpartial(8).bytesize while got < n * 8 }
n.times { w.write('01234567') }
reader.await
$stdout.puts 'flooded'
$stdout.flush
breakpoint
puts 'done'
