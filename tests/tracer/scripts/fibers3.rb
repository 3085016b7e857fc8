def helper(x)
  y = x + 1
  y * 2
end
fibers = (1..3).map do |i|
  Fiber.new do
    a = helper(i)
    Fiber.yield a
    b = a + 1
    Fiber.yield b
    b * 2
  end
end
3.times { fibers.each { |f| f.resume if f.alive? } }
puts 'done'
