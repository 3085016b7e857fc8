# frozen_string_literal: true

# A TCP echo server on the PolyTrace runtime: one fiber per connection, each
# reading lines and writing them back. Every blocking call (accept, gets,
# write) suspends only its own fiber.
#
#   RUBYLIB=build/lib ruby examples/echo_server.rb [port]     serve
#   RUBYLIB=build/lib ruby examples/echo_server.rb --demo     serve, run 10
#                                                             clients, exit
require 'polyphony'

def serve(server)
  server.accept_loop do |conn|
    spin do
      while (line = conn.gets)
        conn.write(line)
      end
    ensure
      conn.close
    end
  end
end

def client(port, id)
  sock = TCPSocket.new('127.0.0.1', port)
  3.times do |i|
    sock.write("client #{id} says #{i}\n")
    reply = sock.gets
    raise "client #{id}: bad echo #{reply.inspect}" unless reply == "client #{id} says #{i}\n"
  end
  sock.close
  id
end

demo = ARGV.delete('--demo')
server = TCPServer.new('127.0.0.1', Integer(ARGV[0] || (demo ? 0 : 1234)))
port = server.addr[1]
acceptor = spin(:acceptor) { serve(server) }

if demo
  clients = Array.new(10) { |id| spin(:"client#{id}") { client(port, id) } }
  done = move_on_after(5, with_value: :timeout) { Fiber.await(*clients) }
  abort "demo timed out" if done == :timeout
  puts "echo server: #{done.size} clients served on port #{port}"
  acceptor.stop
else
  puts "echo server listening on 127.0.0.1:#{port}"
  acceptor.await
end
