# frozen_string_literal: true

# bench/workloads/step_target.rb — the program stepped by the step-latency
# benchmark: a loop of plain lines in the main fiber that never ends on its
# own (the harness kills it after its steps). The runtime is loaded when it
# is there, as the tracer needs it; the peers step the same lines. The
# harness preloads it (RUBYOPT=-rpolyphony) so that its warm-up steps reach
# the loop: this require is then a line like the others.

begin
  require 'polyphony'
rescue LoadError
  nil
end

counter = 0
loop do
  left = counter + 1
  right = left * 2
  counter = right - left
  counter = 0 if counter > 1_000_000
end
