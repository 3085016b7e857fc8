# Runs until the file named by ARGV[0] exists; a stray breakpoint first if
# ARGV[1] == "bp". Prints a line when ready and one when finished.
puts "ready #{Process.pid}"
$stdout.flush
breakpoint if ARGV[1] == 'bp'
rounds = 0
until File.exist?(ARGV[0])
  rounds += 1
  sleep 0.01
end
puts "finished"
