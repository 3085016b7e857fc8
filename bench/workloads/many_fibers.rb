# frozen_string_literal: true

# bench/workloads/many_fibers.rb — the program of the `fibers` benchmark:
# ARGV[0] fibers (default 10,000) waiting on receive and 50 runnable ones,
# then the line marked @stop, where the harness stops it and asks. It never
# ends on its own (the harness kills it).

require 'polyphony'

n = Integer(ARGV[0] || 10_000)
waiting = Array.new(n) { spin { receive } }
busy = Array.new(50) { spin { loop { snooze } } }
snooze
count = waiting.size + busy.size # @stop
sleep
