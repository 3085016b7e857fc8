# frozen_string_literal: true

# UDPSocket send / recv / recvfrom over IPv4 and IPv6, the receiver waiting
# in a fiber while others run.
require 'minitest/autorun'
require 'socket'
require 'polyphony'

class UDPTest < Minitest::Test
  def pair(family, host)
    a = UDPSocket.new(family)
    b = UDPSocket.new(family)
    a.bind(host, 0)
    b.bind(host, 0)
    [a, b]
  end

  def exchange(family, host)
    a, b = pair(family, host)
    receiver = spin { a.recvfrom(100) }
    snooze
    b.send('datagram', 0, host, a.addr[1])
    data, from = receiver.await
    assert_equal 'datagram', data
    assert_equal b.addr[1], from[1]
    b.connect(host, a.addr[1])
    b.send('connected', 0)
    assert_equal 'connected', a.recv(100)
    a.send('back', 0, host, b.addr[1])
    assert_equal 'back', b.recv(100)
  ensure
    a&.close
    b&.close
  end

  def test_ipv4
    exchange(Socket::AF_INET, '127.0.0.1')
  end

  def test_ipv6
    begin
      UDPSocket.new(Socket::AF_INET6).tap { |s| s.bind('::1', 0) }.close
    rescue SystemCallError
      skip 'no IPv6 loopback here'
    end
    exchange(Socket::AF_INET6, '::1')
  end

  def test_recv_cancelled
    a, b = pair(Socket::AF_INET, '127.0.0.1')
    v = move_on_after(0.02, with_value: :quiet) { a.recv(100) }
    assert_equal :quiet, v
    b.send('after', 0, '127.0.0.1', a.addr[1])
    assert_equal 'after', a.recv(100)
  ensure
    a&.close
    b&.close
  end
end
