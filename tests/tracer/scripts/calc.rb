class Calc
  def add(a, b)
    a + b
  end

  def self.make
    new
  end
end
c = Calc.make
total = 0
5.times do |i|
  total = c.add(total, i)
end
f = Fiber.new { total = c.add(total, 100) }
f.resume
require_relative ARGV[0] if ARGV[0]
puts "total=#{total}"
