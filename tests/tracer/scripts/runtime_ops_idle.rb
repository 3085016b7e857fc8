# A runtime program that does a few I/O ops, then waits in the event loop
# for long: its op events must reach the controller while it waits.
require 'polyphony'
r, w = IO.pipe
breakpoint
w.write('0123456789')
r.readpartial(10)
sleep 60
