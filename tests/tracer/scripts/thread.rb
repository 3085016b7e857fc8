# A breakpoint inside a second Ruby thread.
t = Thread.new do
  x = 41
  x + 1
end
puts t.value
