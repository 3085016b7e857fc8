# frozen_string_literal: true

# bench/workloads/echo_server.rb — a TCP echo server, for bench/echo_client.c.
#
# Usage: ruby echo_server.rb MODE
#   polyphony  a fiber per connection, plain IO calls (the runtime makes them
#              yield instead of blocking); the backend is POLYPHONY_BACKEND's
#   async      an Async task per connection (Ruby's fiber scheduler)
#   threads    a thread per connection
# Listens on 127.0.0.1 on a free port, prints "READY <port>" and serves until
# killed.

require 'socket'

mode = ARGV.fetch(0)

def serve(conn)
  while (data = conn.readpartial(16_384))
    conn.write(data)
  end
rescue EOFError, IOError, SystemCallError
  nil
ensure
  conn.close unless conn.closed?
end

def listen
  server = TCPServer.new('127.0.0.1', 0)
  $stdout.puts "READY #{server.addr[1]}"
  $stdout.flush
  server
end

case mode
when 'polyphony'
  require 'polyphony'
  server = listen
  loop do
    conn = server.accept
    spin { serve(conn) }
  end
when 'async'
  require 'async'
  Async do |task|
    server = listen
    loop do
      conn = server.accept
      task.async { serve(conn) }
    end
  end
when 'threads'
  server = listen
  loop do
    conn = server.accept
    Thread.new(conn) { |c| serve(c) }
  end
else
  abort "echo_server.rb: unknown mode #{mode}"
end
