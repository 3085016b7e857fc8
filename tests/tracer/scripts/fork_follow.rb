# A program that forks one child: the child runs a line (where tests set a
# breakpoint) and exits 7; the parent waits and says how the child ended.
x = 1
pid = fork do
  y = x + 1 # @child
  puts "child #{y}"
  exit 7
end
Process.wait(pid)
puts "parent saw #{$?.exitstatus}"
