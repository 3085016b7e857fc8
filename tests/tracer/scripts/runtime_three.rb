# Three runtime fibers taking turns (snooze), for stepping with the runtime.
require 'polyphony'
def helper(x)
  y = x + 1
  y * 2
end
fibers = (1..3).map do |i|
  spin(:"f#{i}") do
    a = helper(i)
    snooze
    b = a + 1
    snooze
    b * 2
  end
end
fibers.each(&:await)
puts 'done'
