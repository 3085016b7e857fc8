# A runtime program idle in the event loop: the main fiber sleeps for long.
require 'polyphony'
spin(:sleeper) { sleep 60 }
puts 'ready'
$stdout.flush
sleep 60
