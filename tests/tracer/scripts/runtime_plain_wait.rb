# The main fiber resumed a plain fiber, which waits; a fiber spun from there
# ends, and with the main fiber not in a wait of its own the loop's wait
# runs on the ended fiber's stack (test_runtime.rb).
require 'polyphony'
r, _w = IO.pipe
Fiber.new do
  puts 'ready'
  $stdout.flush
  spin(:short) { :done }
  r.read(1)
end.resume
