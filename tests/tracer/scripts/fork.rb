# A forked child hits a breakpoint: it must not talk on the parent's connection.
pid = fork { puts "child #{Process.pid}"; breakpoint; puts "child done" }
Process.wait(pid)
puts "parent done"
