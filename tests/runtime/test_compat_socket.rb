# frozen_string_literal: true

# Polyphony 1.6 compatibility: recvmsg and sendmsg wait in the calling fiber
# (the main one too) instead of blocking the thread, with Ruby's arguments
# and results; the socket option setters dont_linger, no_delay, reuse_addr
# and reuse_port.
require 'minitest/autorun'
require 'socket'
require 'polyphony'

class CompatSocketTest < Minitest::Test
  # The main fiber waits in recvmsg while the fiber that answers runs: a
  # recvmsg that blocked the thread would never get the answer.
  def test_udp_recvmsg_and_sendmsg_wait_in_the_fiber
    u1 = UDPSocket.new
    u1.bind('127.0.0.1', 0)
    server = spin do
      msg, peer, = u1.recvmsg(256)
      u1.sendmsg(msg.upcase, 0, peer)
    end
    u2 = UDPSocket.new
    u2.bind('127.0.0.1', 0)
    ticks = 0
    ticker = spin_loop { ticks += 1; snooze }
    u2.send('foobar', 0, '127.0.0.1', u1.addr[1])
    msg, addr, = u2.recvmsg(256)
    assert_equal 'FOOBAR', msg
    assert_kind_of Addrinfo, addr
    assert_equal u1.addr[1], addr.ip_port
    assert_equal 6, server.await
    ticker.stop
    assert_operator ticks, :>, 0
  ensure
    [u1, u2].each { |s| s&.close }
  end

  def test_sendmsg_over_a_stream
    a, b = UNIXSocket.pair
    reader = spin { b.recvmsg(10)[0] }
    assert_equal 3, a.sendmsg('abc')
    assert_equal 'abc', reader.await
  ensure
    [a, b].each { |s| s&.close }
  end

  def test_option_setters
    server = TCPServer.new('127.0.0.1', 0)
    client = TCPSocket.new('127.0.0.1', server.addr[1])
    assert_same client, client.dont_linger.no_delay.reuse_addr.reuse_port
    refute client.getsockopt(:SOCKET, :LINGER).linger[0]
    assert client.getsockopt(:TCP, :NODELAY).bool
    assert client.getsockopt(:SOCKET, :REUSEADDR).bool
    assert client.getsockopt(:SOCKET, :REUSEPORT).bool
    sock = Socket.new(:INET, :STREAM)
    assert_same sock, sock.reuse_port
    assert sock.getsockopt(:SOCKET, :REUSEPORT).bool
  ensure
    [server, client, sock].each { |s| s&.close }
  end
end
