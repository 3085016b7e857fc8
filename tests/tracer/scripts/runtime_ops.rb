# Two fibers talking through a pipe, for `trace ops` and `switch` tests.
require 'polyphony'
r, w = IO.pipe
reader = spin(:reader) do
  3.times do
    line = r.gets
    $got = line
  end
end
snooze
breakpoint
3.times { |i| w.puts "line #{i}" }
reader.await
puts "got=#{$got.inspect}"
