# Waits for signals: prints "ready PID", then sleeps in a loop (on the
# runtime) until the file named by ARGV[0] exists, then prints "finished".
# Options after it: "trap-usr1" (a USR1 handler that prints "usr1"),
# "trap-term" (a TERM handler that prints "bye" and exits 3), "thread" (the
# loop runs in a second thread), "raiser" (a thread that raises in the main
# thread once the file named by ARGV[0] + ".raise" exists), "killer" (the
# same with Thread#kill), "bp" (a
# Kernel#breakpoint before the loop). The handlers write with syswrite: a
# trap handler should not wait, and a write through the runtime's io_uring
# backend from a trap that interrupted one of its ops does not return today.
require 'polyphony'

opts = ARGV.drop(1)
if opts.include?('trap-usr1')
  trap('USR1') { $stdout.syswrite("usr1\n") }
end
if opts.include?('trap-term')
  trap('TERM') do
    $stdout.syswrite("bye\n")
    exit 3
  end
end
if opts.include?('raiser') || opts.include?('killer')
  main = Thread.current
  Thread.new do
    sleep 0.01 until File.exist?("#{ARGV[0]}.raise")
    opts.include?('killer') ? main.kill : main.raise('raised from another thread')
  end
end
puts "ready #{Process.pid}"
$stdout.flush
breakpoint if opts.include?('bp')
work = lambda do
  sleep 0.01 until File.exist?(ARGV[0]) # @loop
end
opts.include?('thread') ? Thread.new(&work).join : work.call
puts 'finished'
