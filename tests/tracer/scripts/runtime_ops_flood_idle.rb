# Many small I/O ops, every op event counted by the program itself ($ops,
# through Polyphony::Trace), then the program goes idle for good: its loop
# waits with nothing due for an hour. For the test of a controller that
# reads the op trace only once the program has gone quiet.
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
sleep 3600
