# Writes a line, stops at a breakpoint (line 4), then writes for as long as
# the file named by ARGV[0] does not exist, and a last line at the end.
puts 'before'
$stdout.write("at 4\n")
200.times { |i| puts "line #{i}" }
sleep 0.01 until File.exist?(ARGV[0])
puts 'after'
File.write(ARGV[0], 'done')
