# frozen_string_literal: true

# UNIXServer / UNIXSocket: accept_loop, line exchange, socketpair.
require 'minitest/autorun'
require 'socket'
require 'tmpdir'
require 'polyphony'

class UNIXTest < Minitest::Test
  def test_server_and_clients
    Dir.mktmpdir do |dir|
      path = File.join(dir, 'sock')
      server = UNIXServer.new(path)
      acceptor = spin do
        server.accept_loop do |conn|
          spin do
            line = conn.gets
            conn << line.upcase
            conn.close
          end
        end
      end
      clients = Array.new(5) do |i|
        spin do
          s = UNIXSocket.new(path)
          s << "client #{i}\n"
          reply = s.read
          s.close
          reply
        end
      end
      assert_equal Array.new(5) { |i| "CLIENT #{i}\n" }, clients.map(&:await)
      acceptor.stop
      server.close
    end
  end

  def test_socketpair
    a, b = UNIXSocket.pair
    reader = spin { b.readpartial(100) }
    snooze
    a << 'pair'
    assert_equal 'pair', reader.await
    a.send('sent', 0)
    assert_equal 'sent', b.recv(100)
  ensure
    a&.close
    b&.close
  end
end
