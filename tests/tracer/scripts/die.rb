# Ends badly: an uncaught exception ("raise") or a signal (its name).
puts 'dying'
raise 'boom' if ARGV[0] == 'raise'
Process.kill(ARGV[0], Process.pid)
sleep 5
