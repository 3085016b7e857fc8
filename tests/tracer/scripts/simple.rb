# A small program for tracer tests: a method, a loop, output and an exit status.
def double(n)
  m = n * 2
  m
end
total = 0
3.times { |i| total += double(i) }
at_exit { puts "at_exit ran" }
puts "total=#{total}"
exit Integer(ARGV[0] || 0)
