# frozen_string_literal: true

# TCPServer/TCPSocket over IPv4 and IPv6 with accept_loop: several clients
# echo through fibers at once.
require 'minitest/autorun'
require 'socket'
require 'polyphony'

class TCPTest < Minitest::Test
  def echo_roundtrip(host)
    server = TCPServer.new(host, 0)
    port = server.addr[1]
    acceptor = spin do
      server.accept_loop do |conn|
        spin do
          while (line = conn.gets)
            conn.write("echo: #{line}")
          end
          conn.close
        end
      end
    end
    clients = Array.new(10) do |i|
      spin do
        sock = TCPSocket.new(host, port)
        sock << "hello #{i}\n"
        reply = sock.gets
        sock.close
        reply
      end
    end
    assert_equal Array.new(10) { |i| "echo: hello #{i}\n" }, clients.map(&:await)
    acceptor.stop
  ensure
    server&.close
  end

  def test_ipv4
    echo_roundtrip('127.0.0.1')
  end

  def test_ipv6
    begin
      TCPServer.new('::1', 0).close
    rescue SystemCallError
      skip 'no IPv6 loopback here'
    end
    echo_roundtrip('::1')
  end

  def test_accept_and_connect_cancelled
    server = TCPServer.new('127.0.0.1', 0)
    v = move_on_after(0.02, with_value: :none) { server.accept }
    assert_equal :none, v
    client = spin { TCPSocket.new('127.0.0.1', server.addr[1]) }
    conn = server.accept
    sock = client.await
    sock << 'ping'
    assert_equal 'ping', conn.readpartial(10)
    [conn, sock].each(&:close)
  ensure
    server&.close
  end

  def test_read_to_eof_over_tcp
    server = TCPServer.new('127.0.0.1', 0)
    spin do
      c = TCPSocket.new('127.0.0.1', server.addr[1])
      3.times { |i| c << "part#{i} "; snooze }
      c.close
    end
    conn = server.accept
    assert_equal 'part0 part1 part2 ', conn.read
    conn.close
  ensure
    server&.close
  end
end
