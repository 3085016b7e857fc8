# Reports at exit how often the tracer turned the global line hook on.
def twice(n)
  n * 2
end
x = twice(1)
y = twice(x)
puts "global line enables: #{PolyTrace.__global_line_enables} #{y}"
